//! `gorae env`: the connection variables (`DATABASE_URL`, `REDIS_URL`, ...) for
//! programs on the host, pointing at the services' published ports, so that
//! `eval "$(gorae env)"` lets the app run outside containers. Secrets are printed
//! here on purpose: the output is meant for a shell or a `.env` file, not a log.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use super::Failure;
use crate::cli::{EnvArgs, EnvFormat};
use crate::config::env_secret::placeholders_in;
use crate::config::{Project, Service};
use crate::exit::ExitCode;
use crate::plan;

/// The variables of one service.
struct Group {
    service: String,
    address: String,
    /// The published port on the engine's machine.
    port: u16,
    vars: BTreeMap<String, String>,
}

pub async fn run(
    file: crate::commands::ProjectFile<'_>,
    args: &EnvArgs,
) -> anyhow::Result<ExitCode> {
    let project = super::load_project(file)?;
    if args.explain {
        let env = |name: &str| std::env::var(name).ok();
        super::print_stdout(&crate::explain::explain(&project, &args.services, &env))?;
        return Ok(ExitCode::Success);
    }
    for service in &args.services {
        super::known_service(&project, service)?;
    }
    let engine = super::connect().await?;
    let containers = super::observe(&engine, &project).await?.containers;

    let mut groups: Vec<Group> = Vec::new();
    let mut notes = Vec::new();
    let mut not_running = false;
    for service in exporters(&project, &args.services, &mut notes)? {
        let Some(port) = service.port.filter(|_| !service.exports.is_empty()) else {
            continue;
        };
        let name = plan::container_name(&project.name, &service.name);
        let Some(container) = containers.iter().find(|c| c.name == name && c.is_running()) else {
            not_running = true;
            notes.push(format!(
                "`{}` is not running, so its variables are left out; `gorae up` starts it",
                service.name
            ));
            continue;
        };
        let Some((host, host_port)) = host_address(&container.ports, port) else {
            notes.push(format!(
                "`{0}` publishes no port, so programs on this machine cannot reach it; add `ports: [\"{port}\"]` to `{0}` in {1} and run `gorae up`",
                service.name,
                file_name(&project.file)
            ));
            continue;
        };
        let vars = service.exported_env(&host, host_port);
        for name in vars.keys() {
            if let Some(other) = groups.iter().find(|g| g.vars.contains_key(name)) {
                return Err(Failure::new(
                    format!(
                        "`{}` and `{}` both export {name}\n  hint: pick one: `gorae env {}` or `gorae env {}`",
                        other.service, service.name, other.service, service.name
                    ),
                    ExitCode::Failure,
                )
                .into());
            }
        }
        groups.push(Group {
            service: service.name.clone(),
            address: format!("{host}:{host_port}"),
            port: host_port,
            vars,
        });
    }

    // Values built from an env secret (a password read from a command) get the
    // value, read once for every service that needs one, as `up` gave it.
    let built_from_secrets: Vec<String> = groups
        .iter()
        .filter(|g| g.vars.values().any(|v| !placeholders_in(v).is_empty()))
        .map(|g| g.service.clone())
        .collect();
    if !built_from_secrets.is_empty() {
        let revealed = super::read_secrets(&project, Some(&built_from_secrets)).await?;
        for group in &mut groups {
            for value in group.vars.values_mut() {
                *value = revealed.fill_text(value);
            }
        }
    }

    // Asked for services by name, an empty answer is a failure that says why.
    if !args.services.is_empty() && groups.is_empty() {
        let code = if not_running {
            ExitCode::ServiceFailed
        } else {
            ExitCode::Failure
        };
        return Err(Failure::new(
            format!(
                "no variables to print for {}\n  hint: {}",
                args.services.join(", "),
                notes.join("\n  hint: ")
            ),
            code,
        )
        .into());
    }
    let ports: Vec<u16> = groups.iter().map(|g| g.port).collect();
    notes.extend(super::remote_ports_note(&engine, &ports));
    for note in &notes {
        crate::output::stderr_line(&format!("note: {note}"));
    }
    let text = match args.format {
        EnvFormat::Shell => lines(&groups, shell_line),
        EnvFormat::Dotenv => lines(&groups, dotenv_line),
        EnvFormat::Json => {
            let all: BTreeMap<&String, &String> = groups.iter().flat_map(|g| &g.vars).collect();
            format!("{}\n", serde_json::to_string_pretty(&all)?)
        }
    };
    super::print_stdout(&text)?;
    Ok(ExitCode::Success)
}

/// The services whose exports to print, in name order: without names, every
/// service. A named service stands for what it exports itself (`db`: DATABASE_URL)
/// and for what it receives from its dependencies (`web`: DATABASE_URL, REDIS_URL),
/// the variables wired into its container, here with the host's addresses. A named
/// service that gets no variables at all is a failure that says how to wire one.
fn exporters<'a>(
    project: &'a Project,
    names: &[String],
    notes: &mut Vec<String>,
) -> Result<Vec<&'a Service>, Failure> {
    if names.is_empty() {
        return Ok(project.services.values().collect());
    }
    let mut chosen: BTreeMap<&str, &Service> = BTreeMap::new();
    for name in names {
        let service = &project.services[name];
        let mut found = !service.exports.is_empty();
        if found {
            chosen.insert(&service.name, service);
        }
        for dependency in &service.depends_on {
            let dependency = &project.services[dependency];
            if dependency.exports.is_empty() {
                continue;
            }
            found = true;
            chosen.insert(&dependency.name, dependency);
            for variable in dependency.exports.keys() {
                if service.env.contains_key(variable) {
                    notes.push(format!(
                        "`{name}` sets {variable} itself in {}, and that value wins inside its container",
                        file_name(&project.file)
                    ));
                }
            }
        }
        if !found {
            let exporters: Vec<&str> = project
                .services
                .values()
                .filter(|s| !s.exports.is_empty())
                .map(|s| s.name.as_str())
                .collect();
            let wire = match exporters.first() {
                Some(first) => format!(
                    "add `depends_on: [{first}]` to `{name}` in {} to wire it (services that export: {})",
                    file_name(&project.file),
                    exporters.join(", ")
                ),
                None => "services from the redis and postgres templates export connection variables; add one and list it in `depends_on`".to_string(),
            };
            return Err(Failure::new(
                format!(
                    "`{name}` receives no connection variables: it exports none and depends on no service that does\n  hint: {wire}"
                ),
                ExitCode::Failure,
            ));
        }
    }
    Ok(chosen.into_values().collect())
}

/// The project file as a person knows it: `gorae.yaml`, not the whole path.
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

/// The address programs on the host use for `container_port`, from the container's
/// published ports `(host ip, host port, container port)`. IPv4 first: the engine
/// lists a `0.0.0.0` binding twice, once as `::`. A binding on every interface is
/// reached through loopback.
fn host_address(ports: &[(String, u16, u16)], container_port: u16) -> Option<(String, u16)> {
    let mut candidates: Vec<(&str, u16)> = ports
        .iter()
        .filter(|(_, _, inside)| *inside == container_port)
        .map(|(ip, host, _)| (ip.as_str(), *host))
        .collect();
    candidates.sort_by_key(|(ip, host)| (ip.parse::<IpAddr>().is_ok_and(|ip| ip.is_ipv6()), *host));
    let (ip, host_port) = candidates.first()?;
    let reachable = match ip.parse::<IpAddr>() {
        Ok(ip) if !ip.is_unspecified() => ip.to_string(),
        _ => "127.0.0.1".to_string(),
    };
    Some((reachable, *host_port))
}

/// Each service's variables under a comment naming it, services in name order.
fn lines(groups: &[Group], line: fn(&str, &str) -> String) -> String {
    let mut out = String::new();
    for group in groups {
        out.push_str(&format!("# {} at {}\n", group.service, group.address));
        for (name, value) in &group.vars {
            out.push_str(&line(name, value));
            out.push('\n');
        }
    }
    out
}

/// `export NAME='value'`: single quotes keep every character literal; a quote
/// inside is closed, escaped and reopened.
fn shell_line(name: &str, value: &str) -> String {
    if !crate::config::interpolate::is_var_name(name) {
        // The engine takes `discovery.type`; a shell cannot export it, and a line
        // that tried would be a syntax error for the whole `eval`.
        return format!(
            "# {name} is not a name a shell can export; set it in the program's own configuration"
        );
    }
    format!("export {name}='{}'", value.replace('\'', r"'\''"))
}

/// `NAME=value`, quoted when a dotenv reader could take a character for syntax
/// (space, `#`, quotes, `$`, backslash): single quotes keep it literal in every
/// common reader; double quotes with escapes only when the value has a `'` itself.
fn dotenv_line(name: &str, value: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./:@%+,=-?&~!*()[]{}<>;|^".contains(c);
    if value.chars().all(plain) {
        format!("{name}={value}")
    } else if !value.contains('\'') && !value.contains('\n') {
        format!("{name}='{value}'")
    } else {
        let escaped = value
            .replace('\\', r"\\")
            .replace('"', "\\\"")
            .replace('\n', r"\n");
        format!("{name}=\"{escaped}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::interpolate::parse_dotenv;

    #[test]
    fn every_interface_is_reached_through_loopback_and_ipv4_comes_first() {
        let ports = vec![
            ("::".to_string(), 5001, 5432),
            ("0.0.0.0".to_string(), 5001, 5432),
            ("127.0.0.1".to_string(), 7000, 6379),
        ];
        assert_eq!(
            host_address(&ports, 5432),
            Some(("127.0.0.1".to_string(), 5001))
        );
        assert_eq!(
            host_address(&ports, 6379),
            Some(("127.0.0.1".to_string(), 7000))
        );
        assert_eq!(host_address(&ports, 80), None);
        let written_out = vec![("192.168.1.5".to_string(), 8080, 80)];
        assert_eq!(
            host_address(&written_out, 80),
            Some(("192.168.1.5".to_string(), 8080))
        );
    }

    #[test]
    fn shell_lines_keep_quotes_and_dollars_literal() {
        assert_eq!(shell_line("A", "it's $HOME"), r"export A='it'\''s $HOME'");
        assert!(shell_line("discovery.type", "x").starts_with("# discovery.type is not"));
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "{}; printf %s \"$A\"",
                shell_line("A", "it's $HOME `x` \\n")
            ))
            .output()
            .expect("run sh");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "it's $HOME `x` \\n");
    }

    #[test]
    fn dotenv_lines_read_back_as_written() {
        let values = [
            "postgres://app:pw@127.0.0.1:5432/app?sslmode=disable",
            "pass word # not a comment",
            "it's \"quoted\" and \\ back",
            "$HOME",
            "",
        ];
        for value in values {
            let line = dotenv_line("V", value);
            let (vars, errors) = parse_dotenv(&line);
            assert!(errors.is_empty(), "{line}: {errors:?}");
            assert_eq!(vars["V"], value, "{line}");
        }
        assert_eq!(
            dotenv_line("REDIS_URL", "redis://127.0.0.1:6379"),
            "REDIS_URL=redis://127.0.0.1:6379"
        );
    }
}
