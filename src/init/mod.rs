//! `gorae init`'s detection: a project directory turned into a draft gorae.yaml.
//!
//! `scan` reads the directory; a compose file there is imported (`compose`);
//! otherwise each `package.json` (`node`) and Python manifest (`python`) becomes
//! an app service, and the client libraries and connection variables it uses
//! (`clients`) add the backing services it depends on. [`render()`] writes the draft
//! as a commented file. Only `scan` touches the filesystem. [`detect`] runs the steps.

mod clients;
mod compose;
pub mod dockerignore;
mod hints;
mod langs;
mod node;
mod python;
mod render;
mod scan;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::config::LoadError;
use crate::config::template::Templates;

pub use render::render;
pub use scan::MAX_DEPTH;

/// What `init` proposes to write.
#[derive(Debug, Default)]
pub struct Draft {
    /// `name:`, only when an imported compose file named the project.
    pub name: Option<String>,
    /// The compose file the services were imported from, if any.
    pub imported_from: Option<String>,
    pub services: Vec<DraftService>,
    /// Top-level parts of a compose file that have no place in gorae.yaml.
    pub skipped: Vec<Skipped>,
}

/// One service as it will be written.
#[derive(Debug, Default, Clone)]
pub struct DraftService {
    pub name: String,
    /// Comment lines above the service: what was found and what was guessed.
    pub about: Vec<String>,
    pub template: Option<String>,
    pub version: Option<String>,
    pub image: Option<String>,
    pub dockerfile: Option<String>,
    pub build: Option<String>,
    /// `build:`'s stage and arguments, written in its map form when set.
    pub build_target: Option<String>,
    pub build_args: Vec<(String, String)>,
    pub command: Option<Vec<String>>,
    /// `ready: { command: [...] }`, from a Compose healthcheck.
    pub ready: Option<Vec<String>>,
    /// A comment line written above `ready:`.
    pub ready_note: Option<String>,
    /// Keys of how the process runs (`stop_signal`, `user`, `entrypoint`...), each
    /// with its value already written as YAML.
    pub process: Vec<(String, String)>,
    /// `secrets:`: name in /run/secrets and where its content comes from.
    pub secrets: Vec<(String, SecretFrom)>,
    pub env: Vec<(String, String)>,
    pub ports: Vec<String>,
    /// A comment beside each port of `ports` (same order), if any.
    pub port_comments: Vec<Option<String>>,
    /// A comment line written above `ports:`.
    pub ports_note: Option<String>,
    pub volumes: Vec<String>,
    pub depends_on: Vec<String>,
    /// A comment line written above `depends_on:`.
    pub depends_note: Option<String>,
    /// `kind: task`: something else waits for it to exit 0.
    pub task: bool,
    /// Comment lines at the end of the service.
    pub notes: Vec<String>,
    /// Keys of this service that were not imported.
    pub skipped: Vec<Skipped>,
}

/// Something in a compose file that gorae cannot express.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Where it was: `services.web.restart`.
    pub path: String,
    /// Why, and what to do instead.
    pub reason: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not imported: {} ({})", self.path, self.reason)
    }
}

impl Draft {
    /// Every skipped item, top level first, then per service in file order.
    pub fn all_skipped(&self) -> Vec<&Skipped> {
        self.skipped
            .iter()
            .chain(self.services.iter().flat_map(|s| s.skipped.iter()))
            .collect()
    }
}

/// Why `init` found nothing to write.
#[derive(Debug, thiserror::Error)]
#[error(
    "found nothing to run in {dir}: no package.json, requirements.txt, pyproject.toml or compose file within {MAX_DEPTH} levels\n  hint: write gorae.yaml by hand; the smallest is `services: {{ redis: \"7\" }}` (README.md explains every key)"
)]
pub struct NothingFound {
    pub dir: String,
}

/// Looks at `dir` and drafts its gorae.yaml. A compose file in `dir` is imported
/// instead of detecting the apps; a compose file with YAML errors is an error.
pub fn detect(dir: &Path) -> Result<Draft, anyhow::Error> {
    let tree = scan::Tree::scan(dir);
    // Project-local templates count too: a compose `mysql:8` becomes `template: mysql`
    // when the project has one. Their own errors are for `gorae config` to report.
    let (templates, _) = Templates::load(dir, Path::new(""));
    if let Some(file) = tree.compose_file() {
        let text = tree.read(Path::new(file)).ok_or_else(|| LoadError::Read {
            path: dir.join(file),
            source: std::io::Error::other("not a UTF-8 text file of at most 1 MiB"),
        })?;
        let mut draft = compose::import(file, &text, &templates)?;
        explain_dependencies(&mut draft, &templates);
        drop_missing_bind_sources(&mut draft, dir);
        make_loadable(&mut draft, dir);
        return Ok(draft);
    }
    let mut draft = detect_apps(&tree, &templates);
    if draft.services.is_empty() {
        return Err(NothingFound {
            dir: dir.display().to_string(),
        }
        .into());
    }
    explain_dependencies(&mut draft, &templates);
    make_loadable(&mut draft, dir);
    Ok(draft)
}

/// Where a secret's content comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretFrom {
    /// A file of the project, relative to it.
    File(String),
    /// An environment variable (Compose's `environment:` secret).
    Variable(String),
}

/// Compose creates a missing bind-mount directory; gorae refuses it. Such a volume is
/// left out, with a `not imported:` line saying what to create, rather than written
/// into a file that would not load.
fn drop_missing_bind_sources(draft: &mut Draft, dir: &Path) {
    for service in &mut draft.services {
        let volumes = std::mem::take(&mut service.volumes);
        for (index, volume) in volumes.into_iter().enumerate() {
            let source = volume.split(':').next().unwrap_or("");
            // A path alone is a volume of the service, not a host path.
            let anonymous = !volume.contains(':');
            if !anonymous && source.starts_with(['.', '/']) && !dir.join(source).exists() {
                service.skipped.push(Skipped {
                    path: format!("services.{}.volumes[{index}]", service.name),
                    reason: format!(
                        "{source} does not exist here; create it (mkdir -p {source}) and add \"{volume}\" to `volumes:`"
                    ),
                });
            } else {
                service.volumes.push(volume);
            }
        }
        let secrets = std::mem::take(&mut service.secrets);
        for (name, from) in secrets {
            let SecretFrom::File(file) = &from else {
                service.secrets.push((name, from));
                continue;
            };
            if dir.join(file).is_file() {
                service.secrets.push((name, from));
            } else {
                service.skipped.push(Skipped {
                    path: format!("services.{}.secrets.{name}", service.name),
                    reason: format!(
                        "{file} does not exist here; create it and add `secrets: {{ {name}: {file} }}`"
                    ),
                });
            }
        }
    }
}

/// Leaves out the services gorae would refuse, so that what `init` writes always
/// loads: the draft is rendered and loaded as `gorae config` would (with no variables
/// set), and each service an error points into becomes a `not imported:` line with
/// the reason. Dependencies on it are dropped too. The values were translated with
/// care already; this is the guarantee for whatever that missed (a build directory
/// that is not there, a dependency cycle, a name two dependencies export).
fn make_loadable(draft: &mut Draft, dir: &Path) {
    let file = dir.join(crate::config::PROJECT_FILE);
    let shown = file.display().to_string();
    // Each round drops at least one service, or stops.
    for _ in 0..=draft.services.len() {
        let text = render(draft);
        let Err(LoadError::Invalid { diagnostics, .. }) =
            crate::config::load_str(&text, &file, &|_| None)
        else {
            return;
        };
        let lines: Vec<&str> = text.lines().collect();
        let headers: Vec<(String, String)> = draft
            .services
            .iter()
            .map(|s| {
                (
                    format!("  {}:", crate::yaml_out::scalar(&s.name)),
                    s.name.clone(),
                )
            })
            .collect();
        let mut refused: BTreeMap<String, String> = BTreeMap::new();
        for diagnostic in &diagnostics {
            let Some(location) = diagnostic.location.as_ref().filter(|l| l.file == shown) else {
                continue;
            };
            let owner = lines[..location.line.min(lines.len())]
                .iter()
                .rev()
                .find_map(|line| {
                    headers
                        .iter()
                        .find(|(header, _)| line.starts_with(header.as_str()))
                        .map(|(_, name)| name.clone())
                });
            if let Some(name) = owner {
                refused
                    .entry(name)
                    .or_insert_with(|| diagnostic.message.clone());
            }
        }
        if refused.is_empty() {
            return;
        }
        draft
            .services
            .retain(|service| !refused.contains_key(&service.name));
        for service in &mut draft.services {
            service.depends_on.retain(|dep| !refused.contains_key(dep));
        }
        for (name, why) in refused {
            draft.skipped.push(Skipped {
                path: format!("services.{name}"),
                reason: format!("gorae would refuse it: {why}"),
            });
        }
    }
}

/// Says above each `depends_on` what it brings: the wait, and the connection
/// variables of template dependencies (their `*_URL` ones, which is what apps read).
fn explain_dependencies(draft: &mut Draft, templates: &Templates) {
    let exports: BTreeMap<String, Vec<String>> = draft
        .services
        .iter()
        .filter_map(|service| {
            let template = templates.get(service.template.as_deref()?)?;
            let mut names: Vec<String> = template
                .exports
                .keys()
                .filter(|name| name.ends_with("_URL"))
                .cloned()
                .collect();
            if names.is_empty() {
                names = template.exports.keys().cloned().collect();
            }
            Some((service.name.clone(), names))
        })
        .collect();
    for service in &mut draft.services {
        if service.depends_on.is_empty() {
            continue;
        }
        let variables: Vec<String> = service
            .depends_on
            .iter()
            .filter_map(|dependency| exports.get(dependency))
            .flatten()
            .cloned()
            .collect();
        let mut note = "Starts once these are ready".to_string();
        if !variables.is_empty() {
            note.push_str(&format!(", and gets {} from them", variables.join(", ")));
        }
        note.push('.');
        service.depends_note = Some(note);
    }
}

/// The apps in `tree` and the backing services they use: backing services first
/// (sorted, one per template), then the apps in path order.
fn detect_apps(tree: &scan::Tree, templates: &Templates) -> Draft {
    let mut apps = node::detect_all(tree, templates);
    apps.extend(python::detect_all(tree, templates));
    apps.extend(langs::detect_all(tree, templates));

    // Two apps may want one name (a root package.json and a root pyproject.toml):
    // the later one gets its template's name appended.
    let mut taken: Vec<String> = Vec::new();
    let mut backing: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for app in &apps {
        for used in &app.uses {
            backing
                .entry(used.template.clone())
                .or_default()
                .push(used.because.clone());
        }
    }
    taken.extend(backing.keys().cloned());

    let mut services = Vec::new();
    for (template, reasons) in &backing {
        let mut about: Vec<String> = reasons.iter().map(|r| format!("{r}.")).collect();
        about.dedup();
        services.push(DraftService {
            name: template.clone(),
            about,
            template: Some(template.clone()),
            version: templates
                .get(template)
                .and_then(|t| t.default_version.clone()),
            ..DraftService::default()
        });
    }
    for mut app in apps {
        if taken.contains(&app.service.name) {
            let suffix = app.service.template.clone().unwrap_or_default();
            app.service.name = format!("{}-{suffix}", app.service.name);
        }
        taken.push(app.service.name.clone());
        let mut depends_on: Vec<String> = app.uses.iter().map(|u| u.template.clone()).collect();
        depends_on.sort();
        depends_on.dedup();
        app.service.depends_on = depends_on;
        services.push(app.service);
    }
    Draft {
        services,
        ..Draft::default()
    }
}

/// An app found in the tree and what it connects to.
#[derive(Debug)]
struct App {
    service: DraftService,
    uses: Vec<Use>,
}

/// At most this many source files are read per app.
const MAX_SOURCES: usize = 200;

/// Adds the backing services the app's source files (with these extensions) read
/// connection variables of, then keeps one reason per template: the first found.
fn finish_uses(
    tree: &scan::Tree,
    dir: &Path,
    extensions: &[&str],
    templates: &Templates,
    mut uses: Vec<Use>,
) -> Vec<Use> {
    for path in tree.sources_under(dir, extensions).take(MAX_SOURCES) {
        let Some(text) = tree.read(path) else {
            continue;
        };
        for (template, variable) in clients::templates_read_by(&text, templates) {
            uses.push(Use {
                template,
                because: format!("{} reads {variable}", shown(path)),
            });
        }
    }
    let mut seen: Vec<String> = Vec::new();
    uses.retain(|used| {
        let new = !seen.contains(&used.template);
        seen.push(used.template.clone());
        new
    });
    uses
}

/// A backing service an app needs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Use {
    /// The template (and service name) of the backing service: `redis`, `postgres`.
    template: String,
    /// Why, for a comment: `web/package.json depends on ioredis`.
    because: String,
}

/// A service name for an app in `dir` (relative to the project): the directory's name,
/// made valid, or `app` for the project directory itself.
fn service_name(dir: &Path) -> String {
    let raw = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match sanitize_name(&raw) {
        Some(name) => name,
        None => "app".to_string(),
    }
}

/// `raw` as a gorae name (`[a-z0-9][a-z0-9_-]*`, at most 63 characters), or `None`
/// when nothing usable is left.
pub(crate) fn sanitize_name(raw: &str) -> Option<String> {
    let mapped: String = raw
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = mapped.trim_start_matches(['-', '_']);
    let name: String = trimmed.chars().take(63).collect();
    let name = name.trim_end_matches('-').to_string();
    (!name.is_empty()).then_some(name)
}

/// `dir` (relative to the project) as a `build:` path: `./web`, or `.`.
fn build_path(dir: &Path) -> String {
    if dir.as_os_str().is_empty() {
        ".".to_string()
    } else {
        format!("./{}", dir.to_string_lossy().replace('\\', "/"))
    }
}

/// `path` for comments: forward slashes.
fn shown(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_valid() {
        for (raw, expected) in [
            ("web", Some("web")),
            ("Web.API", Some("web-api")),
            ("_private", Some("private")),
            ("my app", Some("my-app")),
            ("...", None),
            ("", None),
        ] {
            assert_eq!(sanitize_name(raw).as_deref(), expected, "{raw:?}");
        }
        assert_eq!(service_name(Path::new("")), "app");
        assert_eq!(service_name(Path::new("apps/Api")), "api");
        assert_eq!(build_path(Path::new("")), ".");
        assert_eq!(build_path(Path::new("apps/api")), "./apps/api");
    }
}
