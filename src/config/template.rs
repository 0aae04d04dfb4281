//! Templates: the built-in ones embedded from `templates/`, project-local ones from
//! `.gorae/templates/NAME/`, and rendering of their placeholders and Dockerfiles.
//!
//! A template is a folder with `template.yaml` and, for app templates (which build the
//! service's `build:` directory), a `Dockerfile`. `template.yaml`:
//!
//! ```yaml
//! revision: 1                       # bump on every change; recorded in gorae.lock
//! description: Redis key-value store
//! image: "redis:{version}"          # image to run; for app templates, the Dockerfile's base
//! default_version: "7"              # used when the service gives no version
//! port: 6379                        # the main container port, `{port}` in exports
//! ready: { command: ["redis-cli", "ping"] }   # or { tcp: 6379 } or { http: /health }
//!                                   #   or { http: { port: 8080, path: /health } }
//! data: /data                       # kept in a named volume across re-creation
//! snapshot: archive                 # `gorae snapshot`: stop briefly, archive `data`
//! sql_seed: [psql, -f]              # runs a `seed: { sql: FILE }`; the file's path is added
//! throwaway_command: [postgres, -c, fsync=off]  # the command when data need not survive
//! conf: /etc/nginx/conf.d/default.conf  # where a service's `conf:` file is mounted, read-only
//! env: {}                           # defaults; the service's `env` merges over them
//! secret_env: []                    # names in env never printed
//! client_env:                       # set in the container so its own client tools
//!   PGUSER: "{env.POSTGRES_USER}"   #   connect with no flags (`gorae exec db -- psql`)
//! exports:                          # handed to services that depend on this one
//!   REDIS_URL: "redis://{host}:{port}"
//! command: ["node", "."]            # default command (app templates)
//! manifests: [package.json]         # app templates: dependency files copied before the source
//! ```
//!
//! Placeholders: `{version}` everywhere; `{env.NAME}` (a variable of the template's
//! `env`, with the service's value) in `command`, `ready`, `client_env` and `exports`; `{host}` and
//! `{port}` in `exports` only, filled in by the plan. In the Dockerfile: `{image}` (the
//! base image, image prefix applied), `{version}`, and a line `{copy_manifests}` that
//! becomes a `COPY` of the manifests present in the build context — a `COPY` naming a
//! missing file fails on the classic builder, so only existing ones are listed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

use super::diagnostic::Diagnostic;
use super::fields::{Checker, ProbeSpec};
use super::source::{Source, Span};
use super::yaml;

static BUILTIN: Dir = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// Where project-local templates live, relative to the project directory.
pub const PROJECT_TEMPLATES: &str = ".gorae/templates";

/// Where a template came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Builtin,
    /// From the project's `.gorae/templates/`.
    Project,
}

impl Origin {
    /// The name recorded in labels and the lock.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Builtin => "builtin",
            Origin::Project => "project",
        }
    }
}

/// A parsed, checked template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub name: String,
    pub origin: Origin,
    pub revision: u32,
    pub description: String,
    /// Image for a version (`redis:{version}`); for app templates, the base image.
    pub image: String,
    pub default_version: Option<String>,
    pub port: Option<u16>,
    pub ready: Option<ProbeSpec>,
    pub data: Option<String>,
    /// How `gorae snapshot` copies the data directory; `None`: it cannot.
    pub snapshot: Option<SnapshotMethod>,
    /// The command that runs a SQL seed file in the container, whose path is added.
    pub sql_seed: Option<Vec<String>>,
    /// The command in throw-away mode (`throwaway: true`): durability switched off.
    pub throwaway_command: Option<Vec<String>>,
    /// Where the file a service names in `conf:` is mounted, read-only.
    pub conf: Option<String>,
    pub env: BTreeMap<String, String>,
    pub secret_env: Vec<String>,
    /// Variables for the service's own container that make its client tools
    /// (psql, redis-cli) connect with no flags; the service's `env` wins.
    pub client_env: BTreeMap<String, String>,
    pub exports: BTreeMap<String, String>,
    pub command: Option<Vec<String>>,
    pub manifests: Vec<String>,
    /// The Dockerfile text of an app template.
    pub dockerfile: Option<String>,
}

/// The names of the built-in templates, sorted.
pub fn builtin_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = BUILTIN
        .dirs()
        .filter_map(|dir| dir.path().file_name()?.to_str())
        .collect();
    names.sort_unstable();
    names
}

/// Every template a project can use.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    by_name: BTreeMap<String, Template>,
    /// Project templates that failed to load (their errors are reported); services using
    /// them are not told again that the template does not exist.
    broken: Vec<String>,
}

impl Templates {
    /// The built-in templates, then the project's own from `<project_dir>/.gorae/templates/`,
    /// which override built-ins of the same name. `display_dir` is how the project
    /// directory is shown in messages. Problems in any template are returned as
    /// diagnostics; the templates that parsed are still returned.
    pub fn load(project_dir: &Path, display_dir: &Path) -> (Templates, Vec<Diagnostic>) {
        let mut templates = Templates::default();
        let mut diagnostics = Vec::new();
        for dir in BUILTIN.dirs() {
            let Some(name) = dir.path().file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let yaml = dir
                .get_file(dir.path().join("template.yaml"))
                .and_then(|f| f.contents_utf8())
                .unwrap_or("");
            let dockerfile = dir
                .get_file(dir.path().join("Dockerfile"))
                .and_then(|f| f.contents_utf8())
                .map(str::to_string);
            let source = Source::new(format!("<built-in>/{name}/template.yaml"), yaml);
            templates.add(
                parse(name, Origin::Builtin, &source, dockerfile),
                &mut diagnostics,
            );
        }
        for (name, dir) in project_template_dirs(project_dir) {
            let display = display_dir.join(PROJECT_TEMPLATES).join(&name);
            let parsed = read_project_template(&name, &dir, &display);
            if parsed.is_err() {
                // A broken override must not silently fall back to the built-in.
                templates.by_name.remove(&name);
                templates.broken.push(name);
            }
            templates.add(parsed, &mut diagnostics);
        }
        (templates, diagnostics)
    }

    fn add(
        &mut self,
        parsed: Result<Template, Vec<Diagnostic>>,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        match parsed {
            Ok(template) => {
                self.by_name.insert(template.name.clone(), template);
            }
            Err(errors) => diagnostics.extend(errors),
        }
    }

    /// Whether a project template of this name exists but failed to load.
    pub fn is_broken(&self, name: &str) -> bool {
        self.broken.iter().any(|broken| broken == name)
    }

    pub fn get(&self, name: &str) -> Option<&Template> {
        self.by_name.get(name)
    }

    /// All template names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }
}

/// The folders under `.gorae/templates/`, sorted by name.
fn project_template_dirs(project_dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(project_dir.join(PROJECT_TEMPLATES)) else {
        return Vec::new();
    };
    let mut dirs: Vec<(String, PathBuf)> = entries
        .flatten()
        .filter(|entry| entry.path().is_dir())
        .map(|entry| {
            (
                entry.file_name().to_string_lossy().into_owned(),
                entry.path(),
            )
        })
        .collect();
    dirs.sort();
    dirs
}

fn read_project_template(
    name: &str,
    dir: &Path,
    display: &Path,
) -> Result<Template, Vec<Diagnostic>> {
    let yaml_display = display.join("template.yaml");
    let whole_file = |message: String, help: &str| vec![Diagnostic::new(message, None, help)];
    if !is_template_name(name) {
        return Err(whole_file(
            format!(
                "template folder `{}` has an invalid name",
                display.display()
            ),
            "name template folders with lowercase letters, digits, `-` and `_`",
        ));
    }
    let yaml = match std::fs::read(dir.join("template.yaml")) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| {
            whole_file(
                format!("{} is not UTF-8 text", yaml_display.display()),
                "save the file as UTF-8",
            )
        })?,
        Err(error) => {
            return Err(whole_file(
                format!("cannot read {}: {error}", yaml_display.display()),
                "every template folder needs a template.yaml (see gorae's built-in templates for the format)",
            ));
        }
    };
    let dockerfile = match std::fs::read(dir.join("Dockerfile")) {
        Ok(bytes) => Some(String::from_utf8(bytes).map_err(|_| {
            whole_file(
                format!("{} is not UTF-8 text", display.join("Dockerfile").display()),
                "save the file as UTF-8",
            )
        })?),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => {
            return Err(whole_file(
                format!(
                    "cannot read {}: {error}",
                    display.join("Dockerfile").display()
                ),
                "check the file's permissions",
            ));
        }
    };
    let source = Source::new(yaml_display.display().to_string(), yaml);
    parse(name, Origin::Project, &source, dockerfile)
}

/// Names of templates and services: `[a-z0-9][a-z0-9_-]*`.
pub fn is_template_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

const KEYS: [&str; 17] = [
    "revision",
    "description",
    "image",
    "default_version",
    "port",
    "ready",
    "data",
    "snapshot",
    "sql_seed",
    "throwaway_command",
    "conf",
    "env",
    "secret_env",
    "client_env",
    "exports",
    "command",
    "manifests",
];

/// Parses and checks one `template.yaml`.
fn parse(
    name: &str,
    origin: Origin,
    source: &Source,
    dockerfile: Option<String>,
) -> Result<Template, Vec<Diagnostic>> {
    let (root, mut diagnostics) = yaml::parse(source);
    let Some(root) = root else {
        if diagnostics.is_empty() {
            diagnostics.push(Diagnostic::new(
                format!("{} is empty", source.display),
                None,
                "a template needs at least `revision` and `image`",
            ));
        }
        return Err(diagnostics);
    };
    let mut check = Checker::new(source);
    check.diagnostics = diagnostics;
    let template = read_fields(&mut check, name, origin, &root, dockerfile);
    match template {
        Some(template) if check.diagnostics.is_empty() => Ok(template),
        _ => Err(check.diagnostics),
    }
}

fn read_fields(
    check: &mut Checker,
    name: &str,
    origin: Origin,
    root: &yaml::Node,
    dockerfile: Option<String>,
) -> Option<Template> {
    let entries = check.map(root, "a template file")?;
    check.known_keys(entries, &KEYS, &[], "template.yaml");
    let get = |key: &str| entries.iter().find(|e| e.key == key);

    let revision = match get("revision") {
        Some(entry) => {
            let text = check.string(&entry.value, "`revision`")?;
            match text.parse::<u32>() {
                Ok(revision) if revision > 0 => Some(revision),
                _ => {
                    check.error(
                        entry.value.span,
                        format!("revision `{text}` is not a positive whole number"),
                        "write revision: 1, and add one on every change",
                    );
                    None
                }
            }
        }
        None => {
            check.error(
                root.span,
                "template.yaml has no `revision`",
                "add revision: 1, and add one on every change",
            );
            None
        }
    };
    let description = match get("description") {
        Some(entry) => check
            .string(&entry.value, "`description`")
            .unwrap_or_default(),
        None => String::new(),
    };
    let only_version = Placeholders {
        env: &[],
        host_port: false,
    };
    let env: BTreeMap<String, String> = get("env")
        .and_then(|entry| check.env(&entry.value, "`env`"))
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, value, span)| check_placeholders(check, value, *span, &only_version))
        .map(|(key, value, _)| (key, value))
        .collect();
    let env_names: Vec<&str> = env.keys().map(String::as_str).collect();
    let with_env = Placeholders {
        env: &env_names,
        host_port: false,
    };
    let with_all = Placeholders {
        env: &env_names,
        host_port: true,
    };

    let image = match get("image") {
        Some(entry) => check
            .string(&entry.value, "`image`")
            .filter(|image| check_placeholders(check, image, entry.value.span, &only_version)),
        None => {
            check.error(
                root.span,
                "template.yaml has no `image`",
                "add image: \"NAME:{version}\"",
            );
            None
        }
    };
    let default_version =
        get("default_version").and_then(|e| check.version(&e.value, "`default_version`"));
    let port = get("port").and_then(|e| check.port(&e.value, "`port`"));
    let ready = get("ready").and_then(|e| check.probe(&e.value, "`ready`"));
    if let (Some(ProbeSpec::Command(words)), Some(entry)) = (&ready, get("ready")) {
        for word in words {
            check_placeholders(check, word, entry.value.span, &with_env);
        }
    }
    if let (Some(ProbeSpec::Http { port: None, .. }), None, Some(entry)) =
        (&ready, port, get("ready"))
    {
        check.error(
            entry.value.span,
            "an http probe needs a port, and the template has none",
            "add `port:` to the template or write http: { port: 8080, path: /health }",
        );
    }
    let data = get("data").and_then(|e| {
        let data = check.string(&e.value, "`data`")?;
        if !data.starts_with('/') {
            check.error(
                e.value.span,
                format!("data directory `{data}` is not an absolute path"),
                "write the directory inside the container, such as /data",
            );
            return None;
        }
        Some(data)
    });
    let snapshot = get("snapshot").and_then(|e| {
        let method = check.string(&e.value, "`snapshot`")?;
        let parsed = SnapshotMethod::from_name(&method);
        if parsed.is_none() {
            check.error(
                e.value.span,
                format!("unknown snapshot method `{method}`"),
                "write snapshot: archive (stop the service briefly and archive its data directory)",
            );
        }
        if data.is_none() {
            check.error(
                e.key_span,
                "`snapshot` without a data directory",
                "add `data:` (the directory kept in a volume), or remove `snapshot`",
            );
        }
        parsed
    });
    let sql_seed = get("sql_seed").and_then(|e| check.command(&e.value, "`sql_seed`"));
    let throwaway_command = get("throwaway_command").and_then(|e| {
        let command = check.command(&e.value, "`throwaway_command`")?;
        if data.is_none() {
            check.error(
                e.key_span,
                "`throwaway_command` without a data directory",
                "add `data:`, or remove `throwaway_command`",
            );
        }
        Some(command)
    });
    let conf = get("conf").and_then(|e| {
        let conf = check.string(&e.value, "`conf`")?;
        if !conf.starts_with('/') || conf.trim_end_matches('/').is_empty() {
            check.error(
                e.value.span,
                format!("config path `{conf}` is not an absolute file path"),
                "write the file inside the container, such as /etc/nginx/conf.d/default.conf",
            );
            return None;
        }
        Some(conf)
    });
    let secret_env: Vec<String> = get("secret_env")
        .and_then(|e| check.names(&e.value, "`secret_env`"))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(secret, span)| {
            if env.contains_key(&secret) {
                Some(secret)
            } else {
                check.error(
                    span,
                    format!("secret `{secret}` is not a variable of the template's `env`"),
                    "list only names that `env` sets",
                );
                None
            }
        })
        .collect();
    let exports: BTreeMap<String, String> = get("exports")
        .and_then(|e| check.env(&e.value, "`exports`"))
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, value, span)| check_placeholders(check, value, *span, &with_all))
        .map(|(key, value, _)| (key, value))
        .collect();
    let client_env: BTreeMap<String, String> = get("client_env")
        .and_then(|e| check.env(&e.value, "`client_env`"))
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, value, span)| check_placeholders(check, value, *span, &with_env))
        .map(|(key, value, _)| (key, value))
        .collect();
    let command = get("command").and_then(|e| {
        let words = check.command(&e.value, "`command`")?;
        let ok = words
            .iter()
            .all(|w| check_placeholders(check, w, e.value.span, &with_env));
        ok.then_some(words)
    });
    let manifests = match get("manifests") {
        Some(entry) => {
            if dockerfile.is_none() {
                check.error(
                    entry.key_span,
                    "`manifests` without a Dockerfile",
                    "add a Dockerfile beside template.yaml, or remove `manifests`",
                );
            }
            let names = check.names(&entry.value, "`manifests`").unwrap_or_default();
            for (manifest, span) in &names {
                if manifest.is_empty()
                    || manifest.contains(['/', '\\', '*', '?', '['])
                    || matches!(manifest.as_str(), "." | "..")
                {
                    check.error(
                        *span,
                        format!("manifest `{manifest}` is not a plain file name"),
                        "list file names at the top of the build context, such as package.json",
                    );
                }
            }
            names.into_iter().map(|(name, _)| name).collect()
        }
        None => Vec::new(),
    };
    Some(Template {
        name: name.to_string(),
        origin,
        revision: revision?,
        description,
        image: image?,
        default_version,
        port,
        ready,
        data,
        snapshot,
        sql_seed,
        throwaway_command,
        conf,
        env,
        secret_env,
        client_env,
        exports,
        command,
        manifests,
        dockerfile,
    })
}

/// How a template's data is copied by `gorae snapshot`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotMethod {
    /// Stop the service (so the files on disk are consistent), archive the data
    /// directory, start it again. Restoring unpacks the archive into a fresh volume:
    /// for a database, far faster than replaying a dump.
    Archive,
}

impl SnapshotMethod {
    pub fn name(self) -> &'static str {
        match self {
            SnapshotMethod::Archive => "archive",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [SnapshotMethod::Archive]
            .into_iter()
            .find(|m| m.name() == name)
    }
}

/// Which placeholders a field may use.
struct Placeholders<'a> {
    /// Names `{env.NAME}` may refer to (empty: `{env.*}` not allowed).
    env: &'a [&'a str],
    /// Whether `{host}` and `{port}` are allowed.
    host_port: bool,
}

/// Reports unknown placeholders in `text`; returns whether all were fine.
fn check_placeholders(check: &mut Checker, text: &str, span: Span, allowed: &Placeholders) -> bool {
    let mut ok = true;
    for placeholder in placeholders(text) {
        let fine = match placeholder {
            "version" => true,
            "host" | "port" => allowed.host_port,
            other => other
                .strip_prefix("env.")
                .is_some_and(|name| allowed.env.contains(&name)),
        };
        if !fine {
            ok = false;
            let help = if let Some(name) = placeholder.strip_prefix("env.") {
                format!("add {name} to the template's `env`, or use a variable it sets")
            } else if allowed.host_port || !matches!(placeholder, "host" | "port") {
                "placeholders are {version}, {env.NAME}, and in exports {host} and {port}"
                    .to_string()
            } else {
                "{host} and {port} are only known in `exports`".to_string()
            };
            check.error(
                span,
                format!("unknown placeholder `{{{placeholder}}}`"),
                help,
            );
        }
    }
    ok
}

/// The names of the `{name}` placeholders in `text`, where a name is letters, digits,
/// `_` and `.`. Other braces (JSON, shell `${VAR}`) are plain text.
fn placeholders(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(after.len());
        if name_len > 0 && after[name_len..].starts_with('}') {
            // `${NAME}` is the user's shell syntax, not a template placeholder.
            if !rest[..open].ends_with('$') {
                found.push(&after[..name_len]);
            }
            rest = &after[name_len + 1..];
        } else {
            rest = after;
        }
    }
    found
}

impl Template {
    /// Whether the template builds the service's `build:` directory.
    pub fn is_app(&self) -> bool {
        self.dockerfile.is_some()
    }

    /// Fills `{version}` and `{env.NAME}`; `{host}` and `{port}` stay for the plan.
    pub fn render(&self, text: &str, version: &str, env: &BTreeMap<String, String>) -> String {
        render(text, version, env)
    }

    /// The Dockerfile of an app template for one service. `base_image` is the template's
    /// image with the prefix applied; `context` is the build context, checked for the
    /// dependency manifests it holds.
    pub fn render_dockerfile(
        &self,
        base_image: &str,
        version: &str,
        context: &Path,
    ) -> Option<String> {
        let text = self.dockerfile.as_ref()?;
        let present: Vec<&str> = self
            .manifests
            .iter()
            .map(String::as_str)
            .filter(|name| context.join(name).is_file())
            .collect();
        let copy = if present.is_empty() {
            "# (no dependency manifests in the build context)".to_string()
        } else {
            let sources: Vec<String> = present.iter().map(|name| format!("{name:?}")).collect();
            format!("COPY [{}, \"./\"]", sources.join(", "))
        };
        let lines: Vec<String> = text
            .lines()
            .map(|line| {
                if line.trim() == "{copy_manifests}" {
                    copy.clone()
                } else {
                    line.replace("{image}", base_image)
                        .replace("{version}", version)
                }
            })
            .collect();
        Some(lines.join("\n") + "\n")
    }
}

/// Fills `{version}` and `{env.NAME}` in a template value.
fn render(text: &str, version: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = text.replace("{version}", version);
    for name in placeholders(text) {
        if let Some(var) = name.strip_prefix("env.") {
            let value = env.get(var).map(String::as_str).unwrap_or("");
            out = out.replace(&format!("{{{name}}}"), value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtins() -> Templates {
        let (templates, diagnostics) = Templates::load(Path::new("/nonexistent"), Path::new(""));
        assert!(diagnostics.is_empty(), "{diagnostics:#?}");
        templates
    }

    fn parse_text(text: &str) -> Result<Template, Vec<Diagnostic>> {
        parse(
            "t",
            Origin::Project,
            &Source::new("t/template.yaml", text),
            None,
        )
    }

    #[test]
    fn builtin_templates_parse_and_are_listed() {
        let templates = builtins();
        assert_eq!(
            builtin_names(),
            [
                "go",
                "mariadb",
                "memcached",
                "mysql",
                "nginx",
                "node",
                "php",
                "postgres",
                "python",
                "rabbitmq",
                "redis",
                "ruby"
            ]
        );
        assert_eq!(templates.names().collect::<Vec<_>>(), builtin_names());
        let postgres = templates.get("postgres").unwrap();
        assert_eq!(postgres.port, Some(5432));
        assert_eq!(postgres.secret_env, ["POSTGRES_PASSWORD"]);
        assert!(templates.get("node").unwrap().is_app());
        assert!(!templates.get("redis").unwrap().is_app());
    }

    #[test]
    fn render_fills_version_and_env_but_keeps_host_and_port() {
        let env = BTreeMap::from([("U".to_string(), "app".to_string())]);
        assert_eq!(
            render(
                "x://{env.U}@{host}:{port}/{version} ${SHELL} {\"a\": 1}",
                "7",
                &env
            ),
            "x://app@{host}:{port}/7 ${SHELL} {\"a\": 1}"
        );
    }

    #[test]
    fn dockerfile_copies_only_manifests_that_exist() {
        let templates = builtins();
        let node = templates.get("node").unwrap();
        let context = tempfile::tempdir().unwrap();
        let without = node
            .render_dockerfile("mirror/node:20", "20", context.path())
            .unwrap();
        assert!(without.starts_with("FROM mirror/node:20\n"));
        assert!(!without.contains("COPY [\"package"));
        std::fs::write(context.path().join("package.json"), "{}").unwrap();
        let with = node
            .render_dockerfile("node:20", "20", context.path())
            .unwrap();
        assert!(with.contains("COPY [\"package.json\", \"./\"]\n"));
        assert!(!with.contains("package-lock.json\", \""));
    }

    #[test]
    fn rendered_dockerfiles_are_pinned() {
        let templates = builtins();
        for name in ["go", "node", "php", "python", "ruby"] {
            let template = templates.get(name).unwrap();
            let context = tempfile::tempdir().unwrap();
            for manifest in &template.manifests {
                std::fs::write(context.path().join(manifest), "").unwrap();
            }
            let image = format!("gorae-test/{name}:1");
            let text = template
                .render_dockerfile(&image, "1", context.path())
                .unwrap();
            insta::assert_snapshot!(format!("dockerfile_{name}"), text);
        }
    }

    /// A built-in template's revision is recorded in gorae.lock, so changing its files
    /// must raise it. This pins each revision with a digest of the files: a change to a
    /// template shows up here, and the reviewer checks that the revision went up.
    #[test]
    fn builtin_template_files_are_pinned_with_their_revision() {
        use sha2::{Digest, Sha256};
        let templates = builtins();
        let mut lines = Vec::new();
        for name in builtin_names() {
            let dir = BUILTIN.get_dir(name).unwrap();
            let mut files: Vec<_> = dir.files().collect();
            files.sort_by_key(|file| file.path());
            let mut hasher = Sha256::new();
            for file in files {
                hasher.update(file.path().to_string_lossy().as_bytes());
                hasher.update(file.contents());
            }
            let revision = templates.get(name).unwrap().revision;
            lines.push(format!(
                "{name} revision {revision} files {:x}",
                hasher.finalize()
            ));
        }
        insta::assert_snapshot!("builtin_template_revisions", lines.join("\n"));
    }

    #[test]
    fn unknown_placeholders_are_errors_at_their_value() {
        let errors = parse_text(
            "revision: 1\nimage: \"x:{verison}\"\nexports:\n  A: \"{env.NOPE}\"\n  B: \"{host}\"\n",
        )
        .unwrap_err();
        let messages: Vec<&str> = errors.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "unknown placeholder `{verison}`",
                "unknown placeholder `{env.NOPE}`"
            ]
        );
        assert_eq!(errors[0].location.as_ref().unwrap().line, 2);
    }

    #[test]
    fn host_and_port_are_only_allowed_in_exports() {
        let errors = parse_text("revision: 1\nimage: \"x:{port}\"\n").unwrap_err();
        assert_eq!(
            errors[0].help,
            "{host} and {port} are only known in `exports`"
        );
    }

    #[test]
    fn handshake_probes_parse_with_their_port() {
        use super::super::model::Handshake;
        for (key, protocol) in [
            ("mysql", Handshake::Mysql),
            ("amqp", Handshake::Amqp),
            ("memcached", Handshake::Memcached),
        ] {
            let template = parse_text(&format!(
                "revision: 1\nimage: x\nready: {{ {key}: 1234 }}\n"
            ))
            .unwrap();
            assert_eq!(template.ready, Some(ProbeSpec::Handshake(protocol, 1234)));
        }
        let errors = parse_text("revision: 1\nimage: x\nready: { amqp: seven }\n").unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!(errors[0].location.as_ref().unwrap().line, 3);
        let errors =
            parse_text("revision: 1\nimage: x\nready: { amqp: 5672, tcp: 5672 }\n").unwrap_err();
        assert!(errors[0].message.contains("exactly one of"), "{errors:#?}");
    }

    #[test]
    fn template_needs_revision_and_image() {
        let errors = parse_text("description: x\n").unwrap_err();
        assert_eq!(errors.len(), 2);
    }

    #[test]
    fn project_templates_override_builtins_and_report_their_own_file() {
        let project = tempfile::tempdir().unwrap();
        let dir = project.path().join(".gorae/templates");
        std::fs::create_dir_all(dir.join("redis")).unwrap();
        std::fs::write(
            dir.join("redis/template.yaml"),
            "revision: 9\nimage: \"my/redis:{version}\"\ndefault_version: \"7\"\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.join("broken")).unwrap();
        std::fs::write(
            dir.join("broken/template.yaml"),
            "revision: 1\nimage: x\nprot: 1\n",
        )
        .unwrap();
        let (templates, diagnostics) = Templates::load(project.path(), Path::new(""));
        let redis = templates.get("redis").unwrap();
        assert_eq!((redis.revision, redis.origin), (9, Origin::Project));
        assert_eq!(diagnostics.len(), 1);
        let location = diagnostics[0].location.as_ref().unwrap();
        assert_eq!(location.file, ".gorae/templates/broken/template.yaml");
        assert_eq!((location.line, location.col), (3, 1));
        assert_eq!(diagnostics[0].help, "did you mean `port`?");
    }
}
