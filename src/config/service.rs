//! One service: from what the file says (shorthand or full form) and its template to a
//! model [`Service`], plus the positions the cross-service checks point at.

use std::collections::BTreeMap;
use std::time::Duration;

use super::fields::{Checker, ProbeSpec, suggest};
use super::image::{ImageFrom, check_image_name, image_source, source_of_image};
use super::model::{
    ImageSource, Mount, PortMapping, Probe, Protocol, Seed, Service, ServiceKind, Snapshotting,
    TemplateRef,
};
use super::paths::{ProjectDir, read_volumes};
use super::ports::read_ports;
use super::secrets::is_secret_name;
use super::source::Span;
use super::template::{Templates, is_template_name};
use super::variables::{Given, Origin};
use super::yaml::{Entry, Kind, Node, Value};

/// `` `key` of service `name` ``, for messages about a service's value.
#[derive(Clone, Copy)]
pub struct KeyOf<'a> {
    pub key: &'a str,
    pub service: &'a str,
}

impl std::fmt::Display for KeyOf<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "`{}` of service `{}`", self.key, self.service)
    }
}

/// How long `up` waits for a service to be ready, unless `timeout:` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `up` waits for a task to finish; tasks (migrations, seeds) take longer.
pub const DEFAULT_TASK_TIMEOUT: Duration = Duration::from_secs(300);

/// The keys of a service's full form.
pub const KEYS: [&str; 27] = [
    "template",
    "version",
    "image",
    "dockerfile",
    "build",
    "command",
    "env",
    "env_file",
    "profiles",
    "ports",
    "volumes",
    "conf",
    "seed",
    "throwaway",
    "depends_on",
    "kind",
    "ready",
    "timeout",
    "inputs",
    "watch",
    "entrypoint",
    "user",
    "working_dir",
    "stop_signal",
    "extra_hosts",
    "platform",
    "secrets",
];

/// Keys people bring from Compose, and gorae's name for them.
pub const ALIASES: [(&str, &str); 6] = [
    ("environment", "env"),
    ("healthcheck", "ready"),
    ("depends", "depends_on"),
    ("dependencies", "depends_on"),
    ("context", "build"),
    ("tag", "version"),
];

/// What the project needs to resolve services.
pub struct Context<'a> {
    pub project: &'a ProjectDir,
    pub templates: &'a Templates,
    pub image_prefix: Option<&'a str>,
    /// `$HOME`, for `~` in bind mounts.
    pub home: Option<String>,
    /// The project directory as messages show it, for files such as `env_file`.
    pub display_dir: &'a std::path::Path,
}

/// A resolved service with the positions of what other services refer to.
pub struct Draft {
    pub service: Service,
    pub name_span: Span,
    /// Dependencies as written (possibly unknown or repeated), for the graph checks.
    pub depends_on: Vec<(String, Span)>,
    /// The position of each entry of `service.ports`.
    pub port_spans: Vec<Span>,
    /// The position of each entry of `service.volumes`.
    pub volume_spans: Vec<Span>,
    /// The task `seed:` names, for the check that it is one.
    pub seed_task: Option<(String, Span)>,
}

/// What the file says about a service, each value with its position.
#[derive(Default)]
pub struct Written {
    pub template: Option<(String, Span)>,
    pub version: Option<(String, Span)>,
    pub image: Option<(String, Span)>,
    pub dockerfile: Option<(String, Span)>,
    pub build: Option<(String, Span)>,
    /// `build:`'s target and arguments.
    pub build_options: super::model::BuildOptions,
    pub command: Option<Vec<String>>,
    pub env: Vec<(String, String, Span)>,
    /// What `env_file:` sets, file by file, with each value's line.
    pub env_files: Vec<super::env_file::FileVar>,
    /// `env` entries read only at `up` (`{ secret: ... }`).
    pub env_secrets: Vec<(String, super::env_secret::EnvSecret, Span)>,
    /// `profiles:`, sorted, unique.
    pub profiles: Vec<String>,
    pub ports: Vec<(PortMapping, Span)>,
    pub volumes: Vec<(Mount, Span)>,
    /// `conf:`, a project file mounted where the template says.
    pub conf: Option<(String, Span)>,
    /// `seed:`, what an empty data volume starts with.
    pub seed: Option<(super::seed::WrittenSeed, Span)>,
    /// `throwaway: true`, with where it is written.
    pub throwaway: Option<(bool, Span)>,
    pub depends_on: Vec<(String, Span)>,
    pub kind: Option<ServiceKind>,
    pub ready: Option<(ProbeSpec, Span)>,
    pub timeout: Option<Duration>,
    /// A task's inputs: paths in its build context.
    pub inputs: Option<(Vec<(String, Span)>, Span)>,
    /// `watch:` rules, with the key's position.
    pub watch: Option<(super::watch::WatchRules, Span)>,
    /// Entrypoint, user, stop signal and the like ([`super::process`]).
    pub run: super::model::RunOptions,
    /// Where the image comes from was already reported as wrong; don't report it again.
    pub source_reported: bool,
    /// Keys that an unknown key probably meant (`biuld` -> `build`); their absence is
    /// not reported again.
    pub misspelt: Vec<String>,
}

/// Resolves one service. Always returns a draft, with stand-in values where something
/// was wrong, so that other services' checks (dependencies, ports) still run; the
/// diagnostics decide whether the project is valid.
pub fn read_service(
    check: &mut Checker,
    ctx: &Context,
    name: &str,
    name_span: Span,
    node: &Node,
) -> Draft {
    if !is_template_name(name) || name.len() > 63 {
        check.error(
            name_span,
            format!("service name `{name}` is not valid"),
            "use lowercase letters, digits, `-` and `_`, starting with a letter or digit, at most 63 characters (it becomes the container's host name)",
        );
    }
    let written = match &node.value {
        Value::Map(entries) => read_full_form(check, ctx, name, entries),
        Value::Scalar(scalar) if scalar.kind() == Kind::Null => Written::default(),
        Value::Scalar(_) => read_shorthand(check, ctx, name, node),
        Value::Seq(_) => {
            check.error(
                node.span,
                format!("service `{name}` must be a map or a version, found a list"),
                format!("write {name}: \"VERSION\" for a template's shorthand, or keys such as `image:` indented under `{name}:`"),
            );
            Written {
                source_reported: true,
                ..Written::default()
            }
        }
    };
    resolve(check, ctx, name, name_span, written)
}

/// `redis: "7"`: template `redis`, version 7.
fn read_shorthand(check: &mut Checker, ctx: &Context, name: &str, node: &Node) -> Written {
    let text = node.as_scalar().map(|s| s.written()).unwrap_or("");
    if ctx.templates.is_broken(name) {
        return Written {
            source_reported: true,
            ..Written::default()
        };
    }
    if ctx.templates.get(name).is_none() {
        let help = match suggest(name, ctx.templates.names()) {
            Some(template) => {
                format!("write {name}: {{ template: {template}, version: \"{text}\" }}")
            }
            None => format!(
                "the shorthand works for services named after a template ({}); otherwise write {name}: {{ image: NAME:TAG }}",
                ctx.templates.names().collect::<Vec<_>>().join(", ")
            ),
        };
        check.error(
            node.span,
            format!(
                "`{name}: \"{text}\"` is shorthand for template `{name}`, and there is no such template"
            ),
            help,
        );
        return Written {
            source_reported: true,
            ..Written::default()
        };
    }
    Written {
        version: check.version(node, "version").map(|v| (v, node.span)),
        ..Written::default()
    }
}

fn read_full_form(check: &mut Checker, ctx: &Context, name: &str, entries: &[Entry]) -> Written {
    check.known_keys(entries, &KEYS, &ALIASES, format_args!("service `{name}`"));
    let mut w = Written {
        misspelt: Checker::probably_meant(entries, &KEYS, &ALIASES),
        ..Written::default()
    };
    for entry in entries {
        let value = &entry.value;
        let span = value.span;
        // Written out only when a message needs it.
        let what = |key| KeyOf { key, service: name };
        match entry.key.as_str() {
            "template" => w.template = check.string(value, what("template")).map(|t| (t, span)),
            "version" => w.version = check.version(value, "version").map(|v| (v, span)),
            "image" => w.image = check.string(value, what("image")).map(|i| (i, span)),
            "dockerfile" => {
                w.dockerfile = check.string(value, what("dockerfile")).map(|d| (d, span))
            }
            "build" => {
                (w.build, w.build_options) = super::build::read(check, value, entry.key_span, name)
            }
            "command" => w.command = check.command(value, what("command")),
            "env" => {
                (w.env, w.env_secrets) = read_env(check, ctx, value, name);
            }
            "env_file" => {
                w.env_files =
                    super::env_file::read(check, &ctx.project.dir, ctx.display_dir, value, name)
            }
            "profiles" => w.profiles = read_profiles(check, value, name),
            "ports" => w.ports = read_ports(check, value, name),
            "volumes" => {
                // Extended: `secrets:` adds its mounts to the same list.
                w.volumes.extend(read_volumes(
                    check,
                    ctx.project,
                    ctx.home.as_deref(),
                    value,
                    name,
                ))
            }
            "conf" => w.conf = check.string(value, what("conf")).map(|c| (c, value.span)),
            "throwaway" => {
                w.throwaway = check
                    .bool(value, what("throwaway"))
                    .map(|b| (b, value.span))
            }
            "seed" => {
                w.seed = super::seed::read(check, ctx.project, value, name).map(|s| (s, value.span))
            }
            "depends_on" => {
                w.depends_on = check.names(value, what("depends_on")).unwrap_or_default()
            }
            // Problems with a probe as a whole read best pointing at the `ready` key.
            "ready" => {
                w.ready = check
                    .probe(value, what("ready"))
                    .map(|p| (p, entry.key_span))
            }
            "kind" => {
                w.kind = match check.string(value, what("kind")).as_deref() {
                    Some("service") => Some(ServiceKind::Service),
                    Some("task") => Some(ServiceKind::Task),
                    Some(other) => {
                        check.error(
                            span,
                            format!("unknown kind `{other}` in service `{name}`"),
                            "write kind: service (runs until stopped) or kind: task (runs once; done when it exits 0)",
                        );
                        None
                    }
                    None => None,
                }
            }
            "timeout" => w.timeout = read_timeout(check, value, name),
            "inputs" => {
                w.inputs = check
                    .names(value, what("inputs"))
                    .map(|paths| (paths, entry.key_span))
            }
            "watch" => {
                w.watch =
                    super::watch::read(check, value, name).map(|rules| (rules, entry.key_span))
            }
            // Mounts like any volume, so a clash with one is reported the same way.
            "secrets" => {
                w.volumes
                    .extend(super::secret_files::read(check, ctx.project, value, name))
            }
            key if super::process::KEYS.contains(&key) => {
                super::process::read(check, &mut w.run, key, value, name)
            }
            _ => {}
        }
    }
    if let Some((image, span)) = &w.image {
        check_image_name(check, image, *span);
    }
    // A key saying where the image comes from was written but its value was reported as
    // wrong: saying the service has no image would only repeat that.
    // A misspelt one counts the same way.
    w.source_reported = entries.iter().any(|e| match e.key.as_str() {
        "template" => w.template.is_none(),
        "image" => w.image.is_none(),
        "dockerfile" => w.dockerfile.is_none(),
        "build" => w.build.is_none(),
        _ => false,
    }) || w
        .misspelt
        .iter()
        .any(|key| matches!(key.as_str(), "template" | "image" | "dockerfile" | "build"));
    w
}

/// `env:`: values (for [`Checker::env`]) and `{ secret: ... }` entries, apart.
#[allow(clippy::type_complexity)]
fn read_env(
    check: &mut Checker,
    ctx: &Context,
    node: &Node,
    service: &str,
) -> (
    Vec<(String, String, Span)>,
    Vec<(String, super::env_secret::EnvSecret, Span)>,
) {
    let what = KeyOf {
        key: "env",
        service,
    };
    let Value::Map(entries) = &node.value else {
        return (check.env(node, what).unwrap_or_default(), Vec::new());
    };
    let (secret, plain): (Vec<&Entry>, Vec<&Entry>) = entries
        .iter()
        .partition(|entry| super::env_secret::is_secret_entry(entry));
    let secrets = secret
        .into_iter()
        .filter_map(|entry| {
            super::env_secret::read(check, &ctx.project.dir, entry, service)
                .map(|secret| (entry.key.clone(), secret, entry.key_span))
        })
        .collect();
    // Only secrets: no plain map to check (an empty map is fine).
    let plain = Node {
        span: node.span,
        value: Value::Map(plain.into_iter().cloned().collect()),
    };
    (check.env(&plain, what).unwrap_or_default(), secrets)
}

/// `profiles: [debug, tools]`: names as Compose spells them.
fn read_profiles(check: &mut Checker, node: &Node, service: &str) -> Vec<String> {
    let what = KeyOf {
        key: "profiles",
        service,
    };
    let mut profiles = Vec::new();
    for (name, span) in check.names(node, what).unwrap_or_default() {
        if super::is_profile_name(&name) {
            profiles.push(name);
        } else {
            check.error(
                span,
                format!("profile name `{name}` of service `{service}` is not valid"),
                "use letters, digits, `_`, `.` and `-`, starting with a letter or digit",
            );
        }
    }
    profiles.sort();
    profiles.dedup();
    profiles
}

/// Sets `key` in `env`, recording where the value came from after what it replaced.
fn give(
    env: &mut BTreeMap<String, String>,
    trail: &mut BTreeMap<String, Vec<Given>>,
    key: &str,
    value: String,
    origin: Origin,
) {
    env.insert(key.to_string(), value.clone());
    trail
        .entry(key.to_string())
        .or_default()
        .push(Given { value, origin });
}

/// The longest timeout: waiting longer than a day is a mistake, and the bound keeps
/// every deadline computed from a timeout far from overflowing.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// `60s`, `2m`, `500ms`, `1h`; at most [`MAX_TIMEOUT`].
pub fn parse_duration(text: &str) -> Option<Duration> {
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map(|index| text.split_at(index))?;
    let value: u64 = number.parse().ok().filter(|&n| n > 0)?;
    let duration = match unit {
        "ms" => Duration::from_millis(value),
        "s" => Duration::from_secs(value),
        "m" => Duration::from_secs(value.checked_mul(60)?),
        "h" => Duration::from_secs(value.checked_mul(3600)?),
        _ => return None,
    };
    (duration <= MAX_TIMEOUT).then_some(duration)
}

fn read_timeout(check: &mut Checker, node: &Node, service: &str) -> Option<Duration> {
    let text = check.string(
        node,
        KeyOf {
            key: "timeout",
            service,
        },
    )?;
    let duration = parse_duration(&text);
    if duration.is_none() {
        let help = if text.chars().all(|c| c.is_ascii_digit()) && !text.is_empty() {
            format!("give a unit: {text}s")
        } else if text.ends_with(['s', 'm', 'h']) && text.starts_with(|c: char| c.is_ascii_digit())
        {
            "a timeout is at most 24h".to_string()
        } else {
            "write a whole number with a unit: 500ms, 60s, 2m or 1h".to_string()
        };
        check.error(
            node.span,
            format!("timeout `{text}` of service `{service}` is not a duration"),
            help,
        );
    }
    duration
}

fn resolve(check: &mut Checker, ctx: &Context, name: &str, name_span: Span, w: Written) -> Draft {
    let from = source_of_image(check, ctx, name, name_span, &w);
    let kind = w.kind.unwrap_or(ServiceKind::Service);
    let template = match &from {
        ImageFrom::Template(template, _) => Some(*template),
        _ => None,
    };

    let version = match (template, &w.version) {
        (Some(_), Some((version, _))) => version.clone(),
        (Some(template), None) => template.default_version.clone().unwrap_or_else(|| {
            if w.misspelt.iter().any(|key| key == "version") {
                return String::new();
            }
            check.error(
                name_span,
                format!(
                    "service `{name}` needs a version: template `{}` has no default",
                    template.name
                ),
                format!("add version: \"...\" to service `{name}`"),
            );
            String::new()
        }),
        (None, _) => String::new(),
    };

    // Lowest first: the template's defaults (which may mention `{version}`, and
    // nothing else: the service's env is not known yet), then `env_file:` file by
    // file, then `env:`. A later one wins.
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    let mut trail: BTreeMap<String, Vec<Given>> = BTreeMap::new();
    if let Some(t) = template {
        for (key, value) in &t.env {
            let value = value.replace("{version}", &version);
            give(
                &mut env,
                &mut trail,
                key,
                value,
                Origin::Template(t.name.clone()),
            );
        }
    }
    for (key, value, origin) in &w.env_files {
        give(&mut env, &mut trail, key, value.clone(), origin.clone());
    }
    let yaml_file = check.source.display.clone();
    for (key, value, span) in &w.env {
        let origin = Origin::Line {
            file: yaml_file.clone(),
            line: span.line,
        };
        give(&mut env, &mut trail, key, value.clone(), origin);
    }
    for (key, secret, _) in &w.env_secrets {
        let origin = Origin::Secret(secret.describe(&ctx.project.dir));
        let value = super::env_secret::placeholder(name, key);
        give(&mut env, &mut trail, key, value, origin);
    }
    // Client defaults follow the final user, password and database; an entry the
    // service writes itself wins.
    let client_env: Vec<(String, String)> = template
        .map(|t| {
            t.client_env
                .iter()
                .filter(|(key, _)| !env.contains_key(*key))
                .map(|(key, value)| (key.clone(), t.render(value, &version, &env)))
                .collect()
        })
        .unwrap_or_default();
    for (key, value) in client_env {
        let origin = Origin::Template(template.map(|t| t.name.clone()).unwrap_or_default());
        give(&mut env, &mut trail, &key, value, origin);
    }
    let render = |text: &str| match template {
        Some(template) => template.render(text, &version, &env),
        None => text.to_string(),
    };

    let image = image_source(check, ctx, name, name_span, &w, &from, &version, &render);

    let ports: Vec<PortMapping> = w.ports.iter().map(|(port, _)| port.clone()).collect();
    let first_tcp_port = ports
        .iter()
        .find(|p| p.protocol == Protocol::Tcp)
        .map(|p| p.container_port);
    let port = template
        .and_then(|t| t.port)
        .or_else(|| ports.first().map(|p| p.container_port));

    let ready = match kind {
        ServiceKind::Task => {
            if let Some((_, span)) = &w.ready {
                check.error(
                    *span,
                    format!("`ready` has no meaning for task `{name}`"),
                    "a task is done when it exits 0; remove `ready`, or make it kind: service",
                );
            }
            None
        }
        ServiceKind::Service => {
            let written = w.ready.as_ref().map(|(probe, span)| (probe.clone(), *span));
            let from_template = template
                .and_then(|t| t.ready.clone())
                .map(|probe| (probe, name_span));
            match written.or(from_template) {
                Some((probe, span)) => resolve_probe(check, name, probe, port, span, &render),
                // Something publishing a TCP port is ready when it accepts connections;
                // anything else once it has kept running for a moment (`ready: None`).
                None => first_tcp_port.map(|port| Probe::Tcp { port }),
            }
        }
    };

    let command = w
        .command
        .clone()
        .or_else(|| template.and_then(|t| t.command.clone()))
        .map(|words| words.iter().map(|word| render(word)).collect());

    let mut data_dir = template.and_then(|t| t.data.clone());
    let mut written_volumes = w.volumes.clone();
    if let Some((conf, span)) = &w.conf {
        match template.and_then(|t| t.conf.as_deref()) {
            // The file is mounted like a read-only volume, with its checks (in the
            // project, exists) and their messages.
            Some(target) if !conf.contains(':') => {
                let text = format!("{conf}:{target}:ro");
                let home = ctx.home.as_deref();
                if let Some(mount) = super::paths::read_volume(check, ctx.project, home, name, &text, *span) {
                    written_volumes.push((mount, *span));
                }
            }
            Some(_) => check.error(
                *span,
                format!("config path `{conf}` of service `{name}` holds a `:`"),
                "rename the file, or mount it with `volumes:`",
            ),
            None => check.error(
                *span,
                format!("service `{name}` has `conf`, and its template takes no config file"),
                "mount the file with volumes: [\"./FILE:/PATH/IN/CONTAINER:ro\"] instead (nginx takes `conf`)",
            ),
        }
    }
    let volumes = check_mount_targets(check, name, &written_volumes, &mut data_dir);

    // A value from an env file is never printed either: such files hold what
    // people keep out of gorae.yaml.
    let from_env_file = |key: &String| {
        let files: Vec<&Origin> = w.env_files.iter().map(|(_, _, origin)| origin).collect();
        trail
            .get(key)
            .and_then(|t| t.last())
            .is_some_and(|last| files.contains(&&last.origin))
    };
    let mut secret_env: Vec<String> = env
        .keys()
        .filter(|key| {
            is_secret_name(key)
                || template.is_some_and(|t| t.secret_env.contains(key))
                || w.env_secrets.iter().any(|(name, _, _)| name == *key)
                || from_env_file(key)
        })
        .cloned()
        .collect();
    secret_env.sort();

    let exports = template
        .map(|t| {
            t.exports
                .iter()
                .map(|(key, value)| (key.clone(), render(value)))
                .collect()
        })
        .unwrap_or_default();

    let inputs = task_inputs(check, name, kind, &image, template, command.as_deref(), &w);
    // Judged by what is written, so a wrong `build:` is not reported twice.
    let built = w.build.is_some() || w.dockerfile.is_some();
    let watch = match w.watch.clone() {
        Some((rules, _)) if built && kind == ServiceKind::Service => Some(rules),
        Some((_, span)) => {
            check.error(
                span,
                format!("`watch` has no meaning for `{name}`"),
                "`up --watch` syncs only long-running services built from your code (`build:` or `dockerfile:`); remove it here",
            );
            None
        }
        None => None,
    };

    // Only a long-running template service whose data stays in gorae's volume can be
    // snapshotted: a task has no data, and a user's own mount over the data
    // directory is not gorae's to copy.
    let snapshot = match (template, &data_dir, kind) {
        (Some(t), Some(dir), ServiceKind::Service) => t.snapshot.map(|method| Snapshotting {
            template: t.name.clone(),
            version: version.clone(),
            method,
            data_dir: dir.clone(),
        }),
        _ => None,
    };

    let seed = w.seed.as_ref().and_then(|(written, span)| {
        use super::seed::WrittenSeed;
        if snapshot.is_none() {
            check.error(
                *span,
                format!("`seed` of service `{name}` has no data volume to fill"),
                "only a service that keeps its data with gorae (postgres, mysql, mariadb, redis, rabbitmq) takes a seed; remove `seed`",
            );
            return None;
        }
        match written {
            WrittenSeed::Sql(path) => match template.and_then(|t| t.sql_seed.clone()) {
                Some(command) => Some(Seed::Sql {
                    path: path.clone(),
                    command,
                }),
                None => {
                    check.error(
                        *span,
                        format!(
                            "service `{name}` runs no SQL: template `{}` takes no SQL seed",
                            template.map(|t| t.name.as_str()).unwrap_or_default()
                        ),
                        "seed it from a snapshot (seed: { snapshot: NAME }) or a task (seed: { task: TASK })",
                    );
                    None
                }
            },
            WrittenSeed::Snapshot(snapshot) => Some(Seed::Snapshot {
                name: snapshot.clone(),
            }),
            WrittenSeed::Task(task) => Some(Seed::Task { name: task.clone() }),
        }
    });
    let seed_task = match (&seed, &w.seed) {
        (Some(Seed::Task { name: task }), Some((_, span))) => Some((task.clone(), *span)),
        _ => None,
    };

    let throwaway_command = match (&data_dir, kind) {
        (Some(_), ServiceKind::Service) => template.and_then(|t| t.throwaway_command.clone()),
        _ => None,
    };
    if let Some((true, span)) = w.throwaway
        && throwaway_command.is_none()
    {
        check.error(
            span,
            format!("service `{name}` has no throw-away mode"),
            "only a service from a template that keeps data and says how to run without it (postgres, redis) has one; remove `throwaway`",
        );
    }

    let mut depends_on: Vec<String> = w.depends_on.iter().map(|(dep, _)| dep.clone()).collect();
    depends_on.sort();
    depends_on.dedup();

    let service = Service {
        name: name.to_string(),
        kind,
        image,
        template: template.map(|t| TemplateRef {
            name: t.name.clone(),
            revision: t.revision,
            origin: t.origin.as_str().to_string(),
        }),
        command,
        env,
        secret_env,
        env_secrets: w
            .env_secrets
            .iter()
            .map(|(key, secret, _)| (key.clone(), secret.clone()))
            .collect(),
        env_trail: trail,
        profiles: w.profiles.clone(),
        ports,
        volumes,
        depends_on,
        ready,
        ready_timeout: w.timeout.unwrap_or(match kind {
            ServiceKind::Service => DEFAULT_TIMEOUT,
            ServiceKind::Task => DEFAULT_TASK_TIMEOUT,
        }),
        data_dir,
        snapshot: snapshot.map(Box::new),
        seed: seed.map(Box::new),
        throwaway: false,
        throwaway_command,
        port,
        exports,
        inputs,
        watch: watch.map(Box::new),
        run: Box::new(w.run.clone()),
    };
    let mut service = service;
    if matches!(w.throwaway, Some((true, _))) {
        service.make_throwaway();
    }
    Draft {
        service,
        name_span,
        port_spans: w.ports.iter().map(|(_, span)| *span).collect(),
        volume_spans: written_volumes.iter().map(|(_, span)| *span).collect(),
        seed_task,
        depends_on: w.depends_on,
    }
}

/// A task's inputs: the paths in its build context whose content decides whether
/// `up` runs it again (see [`Service::inputs`]). Written `inputs:` replace the
/// default: the template's dependency manifests and the words of the command that
/// may name files (`migrate.js`, `scripts/seed.py`, `/app/manage.py`).
fn task_inputs(
    check: &mut Checker,
    name: &str,
    kind: ServiceKind,
    image: &ImageSource,
    template: Option<&super::template::Template>,
    command: Option<&[String]>,
    w: &Written,
) -> Vec<String> {
    let built = matches!(image, ImageSource::Build { .. });
    if let Some((paths, key_span)) = &w.inputs {
        if kind != ServiceKind::Task || !built {
            check.error(
                *key_span,
                format!("`inputs` has no meaning for `{name}`"),
                "`inputs` lists the files a `kind: task` built from your code reads (its migrations, seeds); remove it here",
            );
            return Vec::new();
        }
        let mut inputs = Vec::new();
        for (path, span) in paths {
            let clean = path.trim_start_matches("./").trim_end_matches('/');
            if clean.is_empty() || clean.starts_with('/') || clean.split('/').any(|p| p == "..") {
                check.error(
                    *span,
                    format!("input `{path}` is not a path inside the build context"),
                    "write a path relative to the service's `build:` directory, such as migrations/",
                );
                continue;
            }
            inputs.push(clean.to_string());
        }
        inputs.sort();
        inputs.dedup();
        return inputs;
    }
    if kind != ServiceKind::Task || !built {
        return Vec::new();
    }
    let mut inputs: Vec<String> = template.map(|t| t.manifests.clone()).unwrap_or_default();
    for word in command.unwrap_or_default() {
        for part in word.split(|c: char| c.is_whitespace() || ";&|<>()'\"`=".contains(c)) {
            let part = part.strip_prefix("/app/").unwrap_or(part);
            let part = part.trim_start_matches("./").trim_end_matches('/');
            let plausible = !part.is_empty()
                && !part.starts_with('-')
                && !part.starts_with('/')
                && !part.contains('$')
                && !part.split('/').any(|p| p == "..");
            if plausible {
                inputs.push(part.to_string());
            }
        }
    }
    inputs.sort();
    inputs.dedup();
    inputs
}

/// Turns a probe as written into a model probe, filling the service's port where the
/// probe does not name one.
fn resolve_probe(
    check: &mut Checker,
    name: &str,
    probe: ProbeSpec,
    port: Option<u16>,
    span: Span,
    render: &dyn Fn(&str) -> String,
) -> Option<Probe> {
    match probe {
        ProbeSpec::Command(words) => Some(Probe::Command {
            command: words.iter().map(|word| render(word)).collect(),
        }),
        ProbeSpec::Tcp(port) => Some(Probe::Tcp { port }),
        ProbeSpec::Handshake(protocol, port) => Some(Probe::Handshake { protocol, port }),
        ProbeSpec::Running(settle) => Some(Probe::Running { settle }),
        ProbeSpec::Http {
            port: Some(port),
            path,
        } => Some(Probe::Http { port, path }),
        ProbeSpec::Http { port: None, path } => match port {
            Some(port) => Some(Probe::Http { port, path }),
            None => {
                check.error(
                    span,
                    format!("the http probe of service `{name}` needs a port"),
                    format!("write ready: {{ http: {{ port: 8080, path: {path} }} }}, or publish the port with `ports:`"),
                );
                None
            }
        },
    }
}

/// Reports two mounts at one container path. A mount at the template's data directory
/// replaces the data volume (the user chose where the data lives).
fn check_mount_targets(
    check: &mut Checker,
    name: &str,
    volumes: &[(Mount, Span)],
    data_dir: &mut Option<String>,
) -> Vec<Mount> {
    let target = |mount: &Mount| mount.target().trim_end_matches('/').to_string();
    let mut mounted: std::collections::HashMap<String, Span> = std::collections::HashMap::new();
    for (mount, span) in volumes {
        let this = target(mount);
        if let Some(first) = mounted.get(&this) {
            let diagnostic = check
                .source
                .error(
                    *span,
                    format!("two volumes mount at `{this}` in service `{name}`"),
                    "mount each container path once",
                )
                .with_note("first mounted here", Some(check.source.locate(*first)));
            check.push(diagnostic);
        } else {
            mounted.insert(this.clone(), *span);
        }
        if data_dir.as_deref().map(|d| d.trim_end_matches('/')) == Some(this.as_str()) {
            *data_dir = None;
        }
    }
    volumes.iter().map(|(mount, _)| mount.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_need_a_unit() {
        assert_eq!(parse_duration("60s"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("24h"), Some(MAX_TIMEOUT));
        for bad in [
            "60",
            "s",
            "0s",
            "1.5s",
            "-1s",
            "5 s",
            "1d",
            "",
            "25h",
            "1441m",
            "18446744073709551615ms",
            "18446744073709551615s",
            "99999999999999999999999s",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
