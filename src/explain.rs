//! `gorae env --explain`: for each variable, its value (secrets masked), where that
//! value came from and what it overrode: as a project variable for `${VAR}` (the
//! `.env` files and the process environment) and in each service that receives it
//! (template defaults, wired dependencies, `env_file`, `env`, secrets). Pure: what
//! it prints follows from the loaded project and the environment alone.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::config::variables::{Given, Origin};
use crate::config::{MASK, Project, Service, is_secret_name, mask_value};

/// The report for `names` (every variable the project sets when empty).
pub fn explain(
    project: &Project,
    names: &[String],
    env: &dyn Fn(&str) -> Option<String>,
) -> String {
    let names: Vec<String> = if names.is_empty() {
        let mut all: BTreeSet<String> = project.variables.trails.keys().cloned().collect();
        for service in project.services.values() {
            all.extend(trails(project, service).into_iter().map(|(name, _)| name));
        }
        all.into_iter().collect()
    } else {
        names.to_vec()
    };
    let width = project
        .services
        .keys()
        .map(String::len)
        .max()
        .unwrap_or(0)
        .max("project".len());
    let mut out = String::new();
    for name in &names {
        let _ = writeln!(out, "{name}");
        let mut found = false;
        let project_trail = match project.variables.trails.get(name) {
            Some(trail) => Some(trail.clone()),
            None => env(name).map(|value| {
                vec![Given {
                    value,
                    origin: Origin::Process,
                }]
            }),
        };
        if let Some(trail) = project_trail {
            found = true;
            let secret = is_secret_name(name) || feeds_a_secret(project, &trail);
            let show = |value: &str| {
                if secret {
                    MASK.to_string()
                } else {
                    mask_value(name, value, &[])
                }
            };
            line(&mut out, "project", width, &trail, &show);
        }
        for service in project.services.values() {
            let Some((_, trail)) = trails(project, service)
                .into_iter()
                .find(|(n, _)| n == name)
            else {
                continue;
            };
            found = true;
            let show = |value: &str| mask_value(name, value, &service.secret_env);
            line(&mut out, &service.name, width, &trail, &show);
            if !project.is_active(service) {
                out.pop();
                let _ = writeln!(
                    out,
                    "  (profile {}, not active)",
                    service.profiles.join(", ")
                );
            }
        }
        if !found {
            let _ = writeln!(
                out,
                "  not set: no .env file, the process environment or service sets it"
            );
        }
    }
    out
}

/// One line: where `trail` ends (the value used), then what it overrode, latest first.
fn line(
    out: &mut String,
    label: &str,
    width: usize,
    trail: &[Given],
    show: &dyn Fn(&str) -> String,
) {
    let Some((used, overridden)) = trail.split_last() else {
        return;
    };
    let _ = write!(
        out,
        "  {label:<width$}  {}  {}",
        show(&used.value),
        used.origin
    );
    if !overridden.is_empty() {
        let earlier: Vec<String> = overridden
            .iter()
            .rev()
            .map(|given| format!("{} ({})", given.origin, show(&given.value)))
            .collect();
        let _ = write!(out, ", overriding {}", earlier.join(", "));
    }
    out.push('\n');
}

/// Whether a project variable's value ends up in a variable some service keeps
/// secret: then it is masked here too, whatever its own name.
fn feeds_a_secret(project: &Project, trail: &[Given]) -> bool {
    let Some(used) = trail.last().filter(|g| !g.value.is_empty()) else {
        return false;
    };
    project.services.values().any(|service| {
        service
            .secret_env
            .iter()
            .any(|secret| service.env.get(secret) == Some(&used.value))
    })
}

/// Each variable `service`'s container receives, with its trail: what dependencies
/// hand over first (lowest), then the service's own trail.
fn trails(project: &Project, service: &Service) -> Vec<(String, Vec<Given>)> {
    let mut all: std::collections::BTreeMap<String, Vec<Given>> = Default::default();
    for dependency in &service.depends_on {
        let Some(dependency) = project.services.get(dependency) else {
            continue;
        };
        let Some(port) = dependency.port else {
            continue;
        };
        for (name, value) in dependency.exported_env(&dependency.name, port) {
            all.entry(name).or_default().push(Given {
                value,
                origin: Origin::Wired(dependency.name.clone()),
            });
        }
    }
    for (name, trail) in &service.env_trail {
        all.entry(name.clone())
            .or_default()
            .extend(trail.iter().cloned());
    }
    all.into_iter().collect()
}
