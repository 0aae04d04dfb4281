//! Importing a Compose file: each Compose service becomes a gorae service, keeping
//! its meaning where gorae can express it, and every key it cannot translate becomes a
//! [`Skipped`] item with the reason and what to do instead.
//!
//! The file is read with gorae's own YAML tree (positions kept), so a broken compose
//! file is reported like a broken gorae.yaml. Merge keys (`<<: *defaults`), common in
//! compose files, are resolved here; aliases are resolved by the parser.

use std::collections::BTreeMap;

use super::{Draft, DraftService, SecretFrom, Skipped, sanitize_name};
use crate::config::LoadError;
use crate::config::diagnostic::{Diagnostic, render_all};
use crate::config::source::{Source, Span};
use crate::config::template::Templates;
use crate::config::yaml::{self, Entry, Kind, Node, Value};
use crate::yaml_out::{quoted_list, scalar};

/// The draft for a compose file's text. `file` is its name, for messages.
pub(super) fn import(file: &str, text: &str, templates: &Templates) -> Result<Draft, LoadError> {
    let source = Source::new(file, text);
    let (root, diagnostics) = yaml::parse(&source);
    if !diagnostics.is_empty() {
        return Err(invalid(diagnostics, file));
    }
    let whole_file = |message: &str| {
        invalid(
            vec![source.error(
                Span::new(1, 1, 1),
                message,
                "gorae imports a compose file's `services:` map; fix the file, or move it aside and run `gorae init` again to detect the project instead",
            )],
            file,
        )
    };
    let Some(top) = root.as_ref().and_then(merged_entries) else {
        return Err(whole_file(&format!("{file} is not a map of Compose keys")));
    };

    let mut draft = Draft {
        imported_from: Some(file.to_string()),
        ..Draft::default()
    };
    let mut services_node = None;
    let mut secret_files: BTreeMap<String, Result<SecretFrom, String>> = BTreeMap::new();
    for entry in &top {
        let key = entry.key.as_str();
        let skip = |reason: &str| Skipped {
            path: key.to_string(),
            reason: reason.to_string(),
        };
        match key {
            "services" => services_node = Some(&entry.value),
            // Obsolete in Compose itself, which ignores it.
            "version" => {}
            "name" => match text_of(&entry.value).and_then(|n| sanitize_name(&n)) {
                Some(name) => draft.name = Some(name),
                None => draft
                    .skipped
                    .push(skip("not a valid project name; gorae uses the directory's name")),
            },
            "volumes" => {
                for (name, options) in merged_entries(&entry.value)
                    .unwrap_or_default()
                    .iter()
                    .map(|e| (&e.key, &e.value))
                {
                    let plain = options.is_null() || options.as_map().is_some_and(<[_]>::is_empty);
                    if !plain {
                        draft.skipped.push(Skipped {
                            path: format!("volumes.{name}"),
                            reason: "gorae creates named volumes itself, with the engine's default options".into(),
                        });
                    }
                }
            }
            "networks" => draft.skipped.push(skip(
                "gorae puts every service on one project network, where each is reachable by its service name",
            )),
            // Read with the services that use them.
            "secrets" => {
                secret_files = merged_entries(&entry.value)
                    .unwrap_or_default()
                    .iter()
                    .map(|e| (e.key.clone(), secret_source(&e.value)))
                    .collect()
            }
            "configs" => draft.skipped.push(skip(
                "mount each file with `volumes: [\"./FILE:/PATH:ro\"]` in the services that use it",
            )),
            "include" => draft.skipped.push(skip(
                "import the included files' services by hand",
            )),
            _ if key.starts_with("x-") => draft.skipped.push(skip(
                "an extension field; what services took from it through anchors was imported with them",
            )),
            _ => draft.skipped.push(skip("not a Compose key gorae knows")),
        }
    }
    let Some(services) = services_node
        .and_then(merged_entries)
        .filter(|s| !s.is_empty())
    else {
        return Err(whole_file(&format!("{file} has no services")));
    };

    // Names first: gorae's are stricter (`Web.API` -> `web-api`), and `depends_on`
    // must follow a renamed service.
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut taken: Vec<String> = Vec::new();
    for entry in &services {
        let base = sanitize_name(&entry.key).unwrap_or_else(|| "service".to_string());
        let mut name = base.clone();
        let mut n = 2;
        while taken.contains(&name) {
            // Shortened so the suffix keeps the name within gorae's 63 characters.
            let suffix = format!("-{n}");
            let stem: String = base.chars().take(63 - suffix.len()).collect();
            name = format!("{}{suffix}", stem.trim_end_matches('-'));
            n += 1;
        }
        taken.push(name.clone());
        names.insert(entry.key.clone(), name);
    }

    let mut tasks: Vec<String> = Vec::new();
    for entry in &services {
        let name = names.get(&entry.key).cloned().unwrap_or_default();
        let (service, needs_tasks) = import_service(
            &entry.key,
            name,
            &entry.value,
            &names,
            &secret_files,
            templates,
        );
        tasks.extend(needs_tasks);
        draft.services.push(service);
    }
    // Compose's `condition: service_completed_successfully` is gorae's `kind: task`.
    for service in &mut draft.services {
        if tasks.contains(&service.name) {
            service.task = true;
        }
    }
    Ok(draft)
}

fn invalid(diagnostics: Vec<Diagnostic>, file: &str) -> LoadError {
    let rendered = render_all(&diagnostics, file);
    LoadError::Invalid {
        diagnostics,
        rendered,
    }
}

/// One compose service. Also returns the services it waits to complete (which become
/// tasks).
fn import_service(
    compose_name: &str,
    name: String,
    node: &Node,
    names: &BTreeMap<String, String>,
    secret_files: &BTreeMap<String, Result<SecretFrom, String>>,
    templates: &Templates,
) -> (DraftService, Vec<String>) {
    let mut service = DraftService {
        name,
        ..DraftService::default()
    };
    if service.name != compose_name {
        service.about.push(format!(
            "`{compose_name}` in the compose file; gorae names are lowercase letters, digits, `-` and `_`."
        ));
    }
    let path = |key: &str| format!("services.{compose_name}.{key}");
    let Some(entries) = merged_entries(node) else {
        service.skipped.push(Skipped {
            path: format!("services.{compose_name}"),
            reason: "not a map of Compose keys".into(),
        });
        return (service, Vec::new());
    };
    let has_build = entries.iter().any(|e| e.key == "build");
    let mut tasks = Vec::new();
    let mut ports = PortsNote::default();
    let mut volumes_node = None;
    for entry in &entries {
        let key = entry.key.as_str();
        let value = &entry.value;
        let skip = |reason: &str| Skipped {
            path: path(key),
            reason: reason.to_string(),
        };
        match key {
            // Beside `build`, `image` names the built image; gorae tags it so too.
            "image" if has_build => match text_of(value).map(|image| translate(&image, false)) {
                Some(Ok(image)) if !image.contains('$') => service.image = Some(image),
                Some(Err(why)) => service.skipped.push(skip(&why)),
                _ => service.skipped.push(skip(
                    "uses a variable; gorae tags the built image with its content hash, so a name is only for sharing: write it out if you need one",
                )),
            },
            "image" => {
                let Some(image) = text_of(value) else {
                    continue;
                };
                let image = match translate(&image, false) {
                    Ok(image) => image,
                    Err(why) => {
                        service.skipped.push(skip(&why));
                        continue;
                    }
                };
                match template_for(&image, templates) {
                    Some((template, version)) => {
                        if version.is_none() {
                            service.about.push(format!(
                                "`{image}` names no version; gorae pins the template's default."
                            ));
                        }
                        service.version = version.or_else(|| {
                            templates
                                .get(&template)
                                .and_then(|t| t.default_version.clone())
                        });
                        service.template = Some(template);
                    }
                    None => service.image = Some(image),
                }
            }
            "build" => import_build(&mut service, value, &path(key)),
            "command" => match command(value).map(|words| {
                words
                    .iter()
                    .map(|word| translate(word, true))
                    .collect::<Result<Vec<_>, _>>()
            }) {
                Some(Ok(words)) => service.command = Some(words),
                Some(Err(why)) => service.skipped.push(skip(&why)),
                None => service
                    .skipped
                    .push(skip("not a string or a list of words")),
            },
            "environment" => import_env(&mut service, value, &path(key)),
            "healthcheck" => import_healthcheck(&mut service, value, &path(key)),
            "secrets" => import_secrets(&mut service, value, &path(key), secret_files),
            "stop_signal" | "user" | "working_dir" | "platform" => {
                match text_of(value).map(|text| translate(&text, false)) {
                    Some(Ok(text)) => service.process.push((key.to_string(), scalar(&text))),
                    Some(Err(why)) => service.skipped.push(skip(&why)),
                    None => service.skipped.push(skip("not a string")),
                }
            }
            "entrypoint" => match command(value).map(|words| {
                words
                    .iter()
                    .map(|word| translate(word, true))
                    .collect::<Result<Vec<_>, _>>()
            }) {
                Some(Ok(words)) if !words.is_empty() => service
                    .process
                    .push((key.to_string(), quoted_list(&words))),
                Some(Err(why)) => service.skipped.push(skip(&why)),
                _ => service.skipped.push(skip(
                    "not a string or a non-empty list of words; an empty entrypoint has no gorae equivalent: put the whole command in `command:`",
                )),
            },
            "extra_hosts" => match extra_hosts(value) {
                Ok(hosts) => service
                    .process
                    .push((key.to_string(), quoted_list(&hosts))),
                Err(why) => service.skipped.push(skip(&why)),
            },
            "ports" => {
                // Compose wants a list; one string is read as a list of one.
                let items = match value.as_seq() {
                    Some(items) => items,
                    None => std::slice::from_ref(value),
                };
                for (index, item) in items.iter().enumerate() {
                    match port(item) {
                        Ok(translated) => {
                            if translated.random {
                                ports.random.push(translated.container);
                            }
                            service.port_comments.push(translated.comment);
                            service.ports.push(translated.text);
                        }
                        Err(reason) => service.skipped.push(Skipped {
                            path: format!("{}[{index}]", path(key)),
                            reason,
                        }),
                    }
                }
            }
            // After the loop: whether a volume is the template's data directory
            // depends on `image`, which may come later in the map.
            "volumes" => volumes_node = Some(value),
            "depends_on" => {
                for (dependency, completes) in depends_on(value) {
                    let renamed = names.get(&dependency).cloned().unwrap_or(dependency);
                    if completes {
                        tasks.push(renamed.clone());
                    }
                    service.depends_on.push(renamed);
                }
            }
            _ => service.skipped.push(skip(reason(key))),
        }
    }
    if let Some(volumes) = volumes_node {
        import_volumes(&mut service, volumes, &path("volumes"), templates);
    }
    service.ports_note = ports.text();
    (service, tasks)
}

/// `build: ./dir` or `build: { context, dockerfile }`.
fn import_build(service: &mut DraftService, node: &Node, path: &str) {
    let skip = |service: &mut DraftService, key: String, reason: &str| {
        service.skipped.push(Skipped {
            path: key,
            reason: reason.to_string(),
        })
    };
    let (context, dockerfile) = if let Some(text) = text_of(node) {
        (text, None)
    } else if let Some(entries) = merged_entries(node) {
        let mut context = ".".to_string();
        let mut dockerfile = None;
        for entry in &entries {
            match entry.key.as_str() {
                "context" => context = text_of(&entry.value).unwrap_or(context),
                "dockerfile" => dockerfile = text_of(&entry.value),
                "target" => match text_of(&entry.value).map(|t| translate(&t, false)) {
                    Some(Ok(target)) => service.build_target = Some(target),
                    Some(Err(why)) => skip(service, format!("{path}.target"), &why),
                    None => skip(service, format!("{path}.target"), "not a stage name"),
                },
                "args" => import_build_args(service, &entry.value, &format!("{path}.args")),
                other => skip(service, format!("{path}.{other}"), build_reason(other)),
            }
        }
        (context, dockerfile)
    } else {
        skip(service, path.to_string(), "not a path or a map");
        return;
    };
    let (context, dockerfile) = match (
        translate(&context, false),
        dockerfile.map(|d| translate(&d, false)).transpose(),
    ) {
        (Ok(context), Ok(dockerfile))
            if !context.contains('$')
                && !dockerfile.as_deref().is_some_and(|d| d.contains('$')) =>
        {
            (context, dockerfile)
        }
        (Err(why), _) | (_, Err(why)) => {
            skip(service, path.to_string(), &why);
            return;
        }
        _ => {
            skip(
                service,
                path.to_string(),
                "uses a variable; gorae needs the path written out",
            );
            return;
        }
    };
    if context.contains("://") || context.starts_with("git@") {
        skip(
            service,
            path.to_string(),
            "a remote build context; clone it into the project and build from there",
        );
        return;
    }
    let context = relative(&context);
    if let Some(dockerfile) = dockerfile.filter(|d| d != "Dockerfile") {
        // Compose reads `dockerfile` relative to the context; gorae relative to gorae.yaml.
        // An absolute path is kept as it is: it names the same file for both.
        let joined = if context == "." || dockerfile.starts_with('/') {
            relative(&dockerfile)
        } else {
            format!(
                "{}/{}",
                context.trim_end_matches('/'),
                dockerfile.trim_start_matches("./")
            )
        };
        service.dockerfile = Some(joined);
    }
    service.build = Some(context);
}

/// `./x` for a relative path written without it; other paths unchanged.
fn relative(path: &str) -> String {
    if path.starts_with(['.', '/', '~', '$']) {
        path.to_string()
    } else {
        format!("./{path}")
    }
}

/// `environment:` as a map or a list of `KEY=value`. A variable without a value takes
/// the host's (Compose's meaning), written as `${KEY:-}`. Values keep Compose's
/// meaning of `$VAR` and `${VAR}` (see [`translate`]).
fn import_env(service: &mut DraftService, node: &Node, path: &str) {
    let pass_through = |key: &str| format!("${{{key}:-}}");
    let mut pairs: Vec<(String, String)> = Vec::new();
    match &node.value {
        Value::Map(entries) => {
            for entry in entries {
                let value = match text_of(&entry.value) {
                    Some(value) => value,
                    None => pass_through(&entry.key),
                };
                pairs.push((entry.key.clone(), value));
            }
        }
        Value::Seq(items) => {
            for item in items {
                let Some(text) = text_of(item) else {
                    continue;
                };
                match text.split_once('=') {
                    Some((key, value)) => pairs.push((key.to_string(), value.to_string())),
                    None => pairs.push((text.clone(), pass_through(&text))),
                }
            }
        }
        Value::Scalar(_) => service.skipped.push(Skipped {
            path: path.to_string(),
            reason: "not a map or a list".into(),
        }),
    }
    for (key, value) in pairs {
        let value = match translate(&value, false) {
            Ok(value) => value,
            Err(why) => {
                service.skipped.push(Skipped {
                    path: format!("{path}.{key}"),
                    reason: why,
                });
                continue;
            }
        };
        if crate::config::interpolate::is_env_name(&key) {
            service.env.push((key, value));
        } else {
            service.skipped.push(Skipped {
                path: format!("{path}.{key}"),
                reason: "not a variable name: it is empty or has `=`".into(),
            });
        }
    }
}

/// What the ports of one service need explained above `ports:`.
#[derive(Default)]
struct PortsNote {
    /// Container ports Compose published on a host port of its choosing.
    random: Vec<String>,
}

impl PortsNote {
    fn text(&self) -> Option<String> {
        (!self.random.is_empty()).then(|| {
            format!(
                "Compose picked a free host port for {}; gorae publishes the same number on the host.",
                self.random.join(", ")
            )
        })
    }
}

/// One translated port.
struct Port {
    text: String,
    /// Said beside the port: Compose published it on every interface, gorae does not.
    comment: Option<String>,
    /// Compose would have chosen the host port; gorae uses the container port's number.
    random: bool,
    container: String,
}

/// A compose port (`3000`, `"8080:80"`, `"127.0.0.1:8080:80/udp"`, or the long form)
/// as a gorae port. Where Compose had no address it published on every interface;
/// gorae's safe default, 127.0.0.1, is kept, and a comment on the port says what to
/// write to open it as Compose did. A port with a variable is kept as written
/// (gorae reads `${VAR:-default}` too) when its default is a port gorae understands.
fn port(node: &Node) -> Result<Port, String> {
    let text = match merged_entries(node) {
        Some(entries) => long_port(&entries)?,
        None => text_of(node).ok_or("not a port")?,
    };
    let text = translate(&text, false)?;
    if text.contains('$') {
        let expanded = crate::config::interpolate::interpolate(
            &text,
            &crate::config::interpolate::Vars {
                env: &|_| None,
                dotenv: Default::default(),
            },
        )
        .map_err(|e| e.message)?;
        crate::config::parse_port_mapping(&expanded).map_err(|(message, _)| {
            format!("`{text}` uses a variable without a usable default ({message}); add the port by hand")
        })?;
        return Ok(Port {
            container: text.clone(),
            comment: Some(
                "uses a variable; gorae publishes on 127.0.0.1 unless the value names an address"
                    .into(),
            ),
            text,
            random: false,
        });
    }
    if text.starts_with('[') {
        // An IPv6 address is already explicit.
        return Ok(Port {
            container: text.clone(),
            text,
            comment: None,
            random: false,
        });
    }
    let (body, protocol) = match text.rsplit_once('/') {
        Some((body, protocol)) => (body, format!("/{protocol}")),
        None => (text.as_str(), String::new()),
    };
    let parts: Vec<&str> = body.split(':').collect();
    if parts.iter().any(|p| p.contains('-')) {
        return Err(format!(
            "`{text}` is a port range; gorae publishes single ports, so list each one"
        ));
    }
    let (address, host, container) = match parts.as_slice() {
        [container] => (None, "", *container),
        [host, container] => (None, *host, *container),
        [address, host, container] => (Some(*address), *host, *container),
        _ => return Err(format!("`{text}` is not a port gorae understands")),
    };
    let random = host.is_empty();
    let host = if random { container } else { host };
    let translated = match address {
        Some(address) => format!("{address}:{host}:{container}{protocol}"),
        None => format!("{host}:{container}{protocol}"),
    };
    crate::config::parse_port_mapping(&translated)
        .map_err(|(message, _)| format!("{message}; add the port by hand"))?;
    let comment = address.is_none().then(|| {
        format!("Compose: every interface; write \"0.0.0.0:{host}:{container}{protocol}\" for that")
    });
    Ok(Port {
        text: translated,
        comment,
        random,
        container: container.to_string(),
    })
}

/// The long port syntax as the short one.
fn long_port(entries: &[Entry]) -> Result<String, String> {
    let get = |key: &str| {
        entries
            .iter()
            .find(|e| e.key == key)
            .and_then(|e| text_of(&e.value))
    };
    let target = get("target").ok_or("a port without `target`")?;
    let published = get("published").unwrap_or_default();
    let mut text = match get("host_ip") {
        Some(ip) => format!("{ip}:{published}:{target}"),
        None if published.is_empty() => target,
        None => format!("{published}:{target}"),
    };
    if let Some(protocol) = get("protocol") {
        text.push('/');
        text.push_str(&protocol);
    }
    Ok(text)
}

/// `volumes:` entries: project paths and named volumes are kept; a named volume on the
/// template's data directory is dropped, since gorae keeps that directory in a volume
/// of its own.
fn import_volumes(service: &mut DraftService, node: &Node, path: &str, templates: &Templates) {
    let data_dir = service
        .template
        .as_deref()
        .and_then(|t| templates.get(t))
        .and_then(|t| t.data.clone());
    for (index, item) in node.as_seq().unwrap_or_default().iter().enumerate() {
        let skip = |reason: String| Skipped {
            path: format!("{path}[{index}]"),
            reason,
        };
        let parsed = match merged_entries(item) {
            Some(entries) => long_volume(&entries),
            None => text_of(item)
                .ok_or_else(|| "not a volume".to_string())
                .and_then(|text| short_volume(&text)),
        };
        let volume = match parsed.and_then(|v| {
            Ok(Volume {
                source: translate(&v.source, false)?,
                target: translate(&v.target, false)?,
                read_only: v.read_only,
            })
        }) {
            Ok(volume) if volume.source.contains('$') || volume.target.contains('$') => {
                service.skipped.push(skip(format!(
                    "`{}:{}` uses a variable; gorae needs the path written out",
                    volume.source, volume.target
                )));
                continue;
            }
            Ok(volume) => volume,
            Err(reason) => {
                service.skipped.push(skip(reason));
                continue;
            }
        };
        let named = !volume.source.starts_with(['.', '/', '~', '$']);
        let on_data_dir = data_dir.as_deref().map(|d| d.trim_end_matches('/'))
            == Some(volume.target.trim_end_matches('/'));
        if named && on_data_dir {
            service.notes.push(format!(
                "Volume `{}` on {} was dropped: gorae keeps that directory in a volume of its own (data in the old Compose volume is not copied).",
                volume.source, volume.target
            ));
            continue;
        }
        if volume.source.is_empty() {
            // gorae's anonymous volume: a project volume named after the service and
            // the path, filled from the image's content there on first use.
            service.volumes.push(volume.target);
            continue;
        }
        let mode = if volume.read_only { ":ro" } else { "" };
        service
            .volumes
            .push(format!("{}:{}{mode}", volume.source, volume.target));
    }
}

struct Volume {
    source: String,
    target: String,
    read_only: bool,
}

/// `SOURCE:TARGET[:MODE]`; of the mode only `ro` matters to gorae (SELinux and
/// consistency flags such as `z` or `cached` have no meaning for it).
fn short_volume(text: &str) -> Result<Volume, String> {
    let parts: Vec<&str> = text.split(':').collect();
    match parts.as_slice() {
        // An anonymous volume: gorae keeps it in a project volume of the service.
        [target] => Ok(Volume {
            source: String::new(),
            target: target.to_string(),
            read_only: false,
        }),
        [source, target] => Ok(Volume {
            source: source.to_string(),
            target: target.to_string(),
            read_only: false,
        }),
        [source, target, mode] => Ok(Volume {
            source: source.to_string(),
            target: target.to_string(),
            read_only: mode.split(',').any(|flag| flag == "ro"),
        }),
        _ => Err(format!("`{text}` is not a volume gorae understands")),
    }
}

/// The long volume syntax (`type`, `source`, `target`, `read_only`).
fn long_volume(entries: &[Entry]) -> Result<Volume, String> {
    let get = |key: &str| {
        entries
            .iter()
            .find(|e| e.key == key)
            .and_then(|e| text_of(&e.value))
    };
    let kind = get("type").unwrap_or_else(|| "volume".to_string());
    if kind != "bind" && kind != "volume" {
        return Err(format!(
            "a `{kind}` mount; gorae mounts named volumes and project paths only"
        ));
    }
    let target = get("target").ok_or("a volume without `target`")?;
    // No source: an anonymous volume, which gorae keeps in a project volume.
    let source = get("source").unwrap_or_default();
    Ok(Volume {
        source,
        target,
        read_only: get("read_only").is_some_and(|v| v == "true"),
    })
}

/// `depends_on` as a list, or a map whose `condition` may say the dependency must
/// complete (`service_completed_successfully`). Returns names and whether each must
/// complete.
fn depends_on(node: &Node) -> Vec<(String, bool)> {
    match &node.value {
        Value::Seq(items) => items
            .iter()
            .filter_map(text_of)
            .map(|n| (n, false))
            .collect(),
        Value::Map(entries) => entries
            .iter()
            .map(|entry| {
                let completes = merged_entries(&entry.value)
                    .unwrap_or_default()
                    .iter()
                    .any(|e| {
                        e.key == "condition"
                            && text_of(&e.value).as_deref()
                                == Some("service_completed_successfully")
                    });
                (entry.key.clone(), completes)
            })
            .collect(),
        Value::Scalar(_) => Vec::new(),
    }
}

/// `command:` as words: a list as it is, a string split like a shell would (Compose's
/// meaning), or run by `sh -c` when it cannot be split (an unclosed quote).
fn command(node: &Node) -> Option<Vec<String>> {
    match &node.value {
        Value::Seq(items) => items.iter().map(text_of).collect(),
        Value::Scalar(_) => {
            let text = text_of(node)?;
            Some(shlex::split(&text).unwrap_or_else(|| vec!["sh".into(), "-c".into(), text]))
        }
        Value::Map(_) => None,
    }
}

/// The template an image stands for, with its version (the tag; `None` for no tag or
/// `latest`): `redis:7` -> (`redis`, `7`) when the `redis` template's image is
/// `redis:{version}`. App templates (node, python, go, ruby, php) build, so an image never maps to them.
fn template_for(image: &str, templates: &Templates) -> Option<(String, Option<String>)> {
    if image.contains('@') {
        return None;
    }
    let short = image.strip_prefix("docker.io/").unwrap_or(image);
    let short = short.strip_prefix("library/").unwrap_or(short);
    let (repository, tag) = match short.rsplit_once(':') {
        Some((repository, tag)) if !tag.contains('/') => (repository, Some(tag)),
        _ => (short, None),
    };
    templates.names().find_map(|name| {
        let template = templates.get(name)?;
        let prefix = template.image.strip_suffix("{version}")?;
        (!template.is_app() && prefix == format!("{repository}:")).then(|| {
            let version = tag.filter(|t| *t != "latest").map(str::to_string);
            (name.to_string(), version)
        })
    })
}

/// Why a service key is not imported, and what to do instead.
fn reason(key: &str) -> &'static str {
    match key {
        "restart" => "gorae restarts nothing; `gorae up` starts what is not running",
        "networks" | "network_mode" => {
            "every service is on the project network, reachable by its service name"
        }
        "deploy" | "scale" | "mem_limit" | "cpus" => {
            "replicas and resource limits are not part of gorae.yaml"
        }
        "profiles" => "gorae starts every service in the file",
        "extends" => "copy the keys of the extended service into this one",
        "configs" => "mount each file with `volumes: [\"./FILE:/PATH:ro\"]`",
        "stdin_open" | "tty" => {
            "`gorae run SERVICE` gives a terminal; `up` runs services in the background"
        }
        "logging" => "gorae reads the engine's default logs: `gorae logs`",
        "ulimits" | "sysctls" | "shm_size" | "oom_score_adj" | "mem_reservation"
        | "memswap_limit" => {
            "resource limits are not part of gorae.yaml; development runs with the engine's defaults"
        }
        "pull_policy" => "gorae pulls a missing image and pins what it pulled in gorae.lock",
        "stop_grace_period" => {
            "gorae stops with the engine's grace period; `stop_signal` picks the signal"
        }
        "dns" | "dns_search" | "mac_address" => {
            "services use the project network's DNS, which resolves every service by name"
        }
        "labels" => "gorae labels what it creates with its own labels",
        "container_name" => "gorae names containers after the project and the service",
        "hostname" | "domainname" => "a service's host name is its service name",
        "expose" | "links" | "external_links" => {
            "services reach each other by service name on the project network"
        }
        "env_file" => {
            "gorae reads .env beside gorae.yaml for ${VAR}; copy what the service needs into `env:`"
        }
        "init" => "gorae always runs containers with an init process",
        "privileged" | "cap_add" | "security_opt" | "devices" | "userns_mode" | "pid" | "ipc" => {
            "gorae runs containers without extra privileges or host namespaces"
        }
        _ => "gorae has no equivalent",
    }
}

/// Where a top-level secret's content comes from, or why gorae cannot have it.
fn secret_source(node: &Node) -> Result<SecretFrom, String> {
    let entries = merged_entries(node).ok_or("not a map")?;
    let get = |key: &str| {
        entries
            .iter()
            .find(|e| e.key == key)
            .and_then(|e| text_of(&e.value))
    };
    if let Some(file) = get("file") {
        let file = translate(&file, false)?;
        if file.contains('$') {
            return Err("its file uses a variable; write the path out in `secrets:`".into());
        }
        return Ok(SecretFrom::File(relative(&file)));
    }
    if let Some(variable) = get("environment") {
        if !crate::config::interpolate::is_var_name(&variable) {
            return Err(format!(
                "read from `{variable}`, which is not a variable name gorae can read"
            ));
        }
        return Ok(SecretFrom::Variable(variable));
    }
    Err("an external secret; write it to a file of the project and list that in `secrets:`".into())
}

/// A service's `secrets:` (names, or `{ source, target }`) as gorae's
/// `secrets: { NAME: FILE }`, mounted at /run/secrets/NAME as in Compose.
fn import_secrets(
    service: &mut DraftService,
    node: &Node,
    path: &str,
    files: &BTreeMap<String, Result<SecretFrom, String>>,
) {
    for (index, item) in node.as_seq().unwrap_or_default().iter().enumerate() {
        let here = format!("{path}[{index}]");
        let (source, target) = match merged_entries(item) {
            Some(entries) => {
                let get = |key: &str| {
                    entries
                        .iter()
                        .find(|e| e.key == key)
                        .and_then(|e| text_of(&e.value))
                };
                let Some(source) = get("source") else {
                    service.skipped.push(Skipped {
                        path: here,
                        reason: "no `source`".into(),
                    });
                    continue;
                };
                let target = get("target").unwrap_or_else(|| source.clone());
                (source, target)
            }
            None => match text_of(item) {
                Some(name) => (name.clone(), name),
                None => continue,
            },
        };
        if target.contains('/') {
            service.skipped.push(Skipped {
                path: here,
                reason: format!("mounted at {target}, outside /run/secrets; write `volumes: [\"FILE:{target}:ro\"]`"),
            });
            continue;
        }
        match files.get(&source) {
            Some(Ok(from)) => service.secrets.push((target, from.clone())),
            Some(Err(reason)) => service.skipped.push(Skipped {
                path: here,
                reason: reason.clone(),
            }),
            None => service.skipped.push(Skipped {
                path: here,
                reason: format!("no top-level secret `{source}`"),
            }),
        }
    }
}

/// Why a key of `build:` is not imported.
fn build_reason(key: &str) -> &'static str {
    match key {
        "secrets" | "ssh" => {
            "gorae sends the engine no build secrets: put what the build needs in `args`, or fetch it at run time"
        }
        "cache_from" | "cache_to" | "no_cache" | "pull" => {
            "gorae's content-hash tags decide when to build; the engine's layer cache does the rest"
        }
        "labels" => "gorae labels the images it builds with its own labels",
        "tags" => "write one name as the service's `image:`; gorae tags the build with it",
        "platforms" => "gorae builds for one platform: write it as the service's `platform:`",
        "network" | "extra_hosts" | "shm_size" | "isolation" | "privileged" => {
            "gorae builds with the engine's defaults"
        }
        _ => "gorae has no equivalent",
    }
}

/// `build.args` as a map or a list of `NAME=value`. An argument without a value
/// takes the host's in Compose; gorae writes it as `${NAME}`, which is an error at
/// load when unset instead of a silent empty value.
fn import_build_args(service: &mut DraftService, node: &Node, path: &str) {
    let mut pairs: Vec<(String, String)> = Vec::new();
    match &node.value {
        Value::Map(entries) => {
            for entry in entries {
                let value = text_of(&entry.value).unwrap_or_else(|| format!("${{{}}}", entry.key));
                pairs.push((entry.key.clone(), value));
            }
        }
        Value::Seq(items) => {
            for text in items.iter().filter_map(text_of) {
                match text.split_once('=') {
                    Some((name, value)) => pairs.push((name.to_string(), value.to_string())),
                    None => pairs.push((text.clone(), format!("${{{text}}}"))),
                }
            }
        }
        Value::Scalar(_) => service.skipped.push(Skipped {
            path: path.to_string(),
            reason: "not a map or a list".into(),
        }),
    }
    for (name, value) in pairs {
        match translate(&value, false) {
            Ok(value) => service.build_args.push((name, value)),
            Err(reason) => service.skipped.push(Skipped {
                path: format!("{path}.{name}"),
                reason,
            }),
        }
    }
}

/// `healthcheck:` as gorae's `ready: { command }`: `[CMD, prog, args...]` runs the
/// program, `[CMD-SHELL, "text"]` and a plain string run through `sh -c`. gorae polls
/// the command itself until the service's `timeout`, so Compose's interval, timeout,
/// retries and start period do not carry over; a comment says so.
fn import_healthcheck(service: &mut DraftService, node: &Node, path: &str) {
    let Some(entries) = merged_entries(node) else {
        service.skipped.push(Skipped {
            path: path.to_string(),
            reason: "not a map".into(),
        });
        return;
    };
    let get = |key: &str| entries.iter().find(|e| e.key == key).map(|e| &e.value);
    if get("disable").and_then(text_of).as_deref() == Some("true") {
        service.notes.push(
            "The healthcheck was disabled in Compose; gorae uses its own readiness check.".into(),
        );
        return;
    }
    let Some(test) = get("test") else {
        service.skipped.push(Skipped {
            path: path.to_string(),
            reason: "no `test`; gorae uses its own readiness check".into(),
        });
        return;
    };
    let words: Option<Vec<String>> = match &test.value {
        Value::Seq(items) => items.iter().map(text_of).collect(),
        Value::Scalar(_) => text_of(test).map(|text| vec!["CMD-SHELL".to_string(), text]),
        Value::Map(_) => None,
    };
    let command = match words.as_deref() {
        Some([first, rest @ ..]) if first == "CMD" && !rest.is_empty() => rest.to_vec(),
        Some([first, script]) if first == "CMD-SHELL" => {
            vec!["sh".to_string(), "-c".to_string(), script.clone()]
        }
        Some([first]) if first == "NONE" => {
            service.notes.push(
                "The healthcheck was disabled in Compose; gorae uses its own readiness check."
                    .into(),
            );
            return;
        }
        _ => {
            service.skipped.push(Skipped {
                path: format!("{path}.test"),
                reason: "not [CMD, ...], [CMD-SHELL, \"...\"] or a string; write `ready: { command: [...] }` by hand".into(),
            });
            return;
        }
    };
    match command
        .iter()
        .map(|word| translate(word, true))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(command) => {
            service.ready = Some(command);
            service.ready_note = Some(
                "From the Compose healthcheck. gorae runs it until it passes, polling on its own schedule (so interval, retries and start_period do not apply) for up to the service's `timeout:`.".into(),
            );
        }
        Err(reason) => service.skipped.push(Skipped {
            path: format!("{path}.test"),
            reason,
        }),
    }
}

/// `extra_hosts` as a list of `HOST:IP` (Compose also takes `HOST=IP`) or a map.
fn extra_hosts(node: &Node) -> Result<Vec<String>, String> {
    let pairs: Vec<String> = match &node.value {
        Value::Seq(items) => items
            .iter()
            .filter_map(text_of)
            .map(|text| match text.split_once('=') {
                Some((host, ip)) => format!("{host}:{ip}"),
                None => text,
            })
            .collect(),
        Value::Map(entries) => entries
            .iter()
            .filter_map(|e| text_of(&e.value).map(|ip| format!("{}:{ip}", e.key)))
            .collect(),
        Value::Scalar(_) => return Err("not a list or a map".into()),
    };
    pairs.iter().map(|text| translate(text, false)).collect()
}

/// A map's entries with merge keys (`<<: *base`, `<<: [*a, *b]`) resolved: keys written
/// in the map win over merged ones, earlier merged maps over later ones. `None` when
/// the node is not a map.
fn merged_entries(node: &Node) -> Option<Vec<Entry>> {
    let map = node.as_map()?;
    let mut out: Vec<Entry> = map.iter().filter(|e| e.key != "<<").cloned().collect();
    for merge in map.iter().filter(|e| e.key == "<<") {
        let sources: Vec<&Node> = match &merge.value.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![&merge.value],
        };
        for source in sources {
            for entry in merged_entries(source).unwrap_or_default() {
                if !out.iter().any(|o| o.key == entry.key) {
                    out.push(entry);
                }
            }
        }
    }
    Some(out)
}

/// A scalar's text as written (numbers and booleans too); `None` for null and
/// collections.
/// A compose value as gorae must write it to mean the same, or why it cannot be
/// written. Compose replaces `$VAR` and `${VAR}` with the variable, or with nothing
/// when it is unset; gorae reads `${VAR}` only and refuses an unset one, so both
/// become `${VAR:-}`. `${VAR:-default}` is kept (its default translated too); `$$`
/// stays a literal `$`. Compose's `${VAR-x}`, `${VAR:?err}` and `${VAR:+x}` have no
/// equal and are reported. Control characters are refused (line breaks too, except in
/// a command's arguments), as gorae would refuse them when loading the file.
fn translate(text: &str, line_breaks: bool) -> Result<String, String> {
    if let Some(c) = text
        .chars()
        .find(|&c| c.is_control() && c != '\t' && !(line_breaks && c == '\n'))
    {
        return Err(format!(
            "holds the control character U+{:04X}, which gorae refuses",
            c as u32
        ));
    }
    let chars: Vec<char> = text.chars().collect();
    let mut index = 0;
    let out = translate_until(&chars, &mut index, false)?;
    Ok(out)
}

fn translate_until(chars: &[char], index: &mut usize, in_default: bool) -> Result<String, String> {
    let name_char = |c: &char| c.is_ascii_alphanumeric() || *c == '_';
    let mut out = String::new();
    while let Some(&c) = chars.get(*index) {
        if c == '}' && in_default {
            return Ok(out);
        }
        if c != '$' {
            out.push(c);
            *index += 1;
            continue;
        }
        match chars.get(*index + 1) {
            Some('$') => {
                out.push_str("$$");
                *index += 2;
            }
            Some('{') => {
                let start = *index + 2;
                let mut end = start;
                while chars.get(end).is_some_and(name_char) {
                    end += 1;
                }
                let name: String = chars[start..end].iter().collect();
                if !crate::config::interpolate::is_var_name(&name) {
                    return Err(format!("`${{{name}...` is not a variable gorae can read"));
                }
                match (chars.get(end), chars.get(end + 1)) {
                    (Some('}'), _) => {
                        out.push_str(&format!("${{{name}:-}}"));
                        *index = end + 1;
                    }
                    (Some(':'), Some('-')) => {
                        *index = end + 2;
                        let default = translate_until(chars, index, true)?;
                        if chars.get(*index) != Some(&'}') {
                            return Err(format!("`${{{name}:-` is never closed"));
                        }
                        *index += 1;
                        out.push_str(&format!("${{{name}:-{default}}}"));
                    }
                    _ => {
                        return Err(format!(
                            "`${{{name}` uses a Compose form gorae does not have (only ${{VAR}} and ${{VAR:-default}}); write the value by hand"
                        ));
                    }
                }
            }
            Some(c) if c.is_ascii_alphabetic() || *c == '_' => {
                let start = *index + 1;
                let mut end = start;
                while chars.get(end).is_some_and(name_char) {
                    end += 1;
                }
                let name: String = chars[start..end].iter().collect();
                out.push_str(&format!("${{{name}:-}}"));
                *index = end;
            }
            _ => {
                // A lone `$` is literal in gorae; `$$` says so unambiguously.
                out.push_str("$$");
                *index += 1;
            }
        }
    }
    Ok(out)
}

fn text_of(node: &Node) -> Option<String> {
    let scalar = node.as_scalar()?;
    (scalar.kind() != Kind::Null).then(|| scalar.text.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(text: &str) -> Node {
        let (root, diagnostics) = yaml::parse(&Source::new("t.yaml", text));
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        root.unwrap()
    }

    #[test]
    fn ports_publish_on_127_0_0_1_unless_compose_named_an_address() {
        let cases = [
            ("3000", Ok("3000:3000")),
            ("\"8080:80\"", Ok("8080:80")),
            ("\"127.0.0.1:5432:5432\"", Ok("127.0.0.1:5432:5432")),
            ("\"127.0.0.1::80\"", Ok("127.0.0.1:80:80")),
            ("\"53:53/udp\"", Ok("53:53/udp")),
            ("\"[::1]:80:80\"", Ok("[::1]:80:80")),
            ("\"${WEB_PORT:-8080}:80\"", Ok("${WEB_PORT:-8080}:80")),
            ("\"${WEB_PORT}:80\"", Err(())),
            ("{ target: 80, published: 8080 }", Ok("8080:80")),
            (
                "{ target: 80, published: \"8080\", host_ip: 127.0.0.1, protocol: tcp }",
                Ok("127.0.0.1:8080:80/tcp"),
            ),
            ("\"3000-3005:3000-3005\"", Err(())),
        ];
        for (text, expected) in cases {
            let got = port(&node(text)).map(|p| p.text).map_err(|_| ());
            assert_eq!(
                got.as_deref(),
                expected.as_deref().map_err(|_| &()),
                "{text}"
            );
        }
    }

    #[test]
    fn compose_variables_keep_their_meaning_or_are_refused() {
        for (compose, gorae) in [
            ("plain", Ok("plain")),
            ("$HOME/x", Ok("${HOME:-}/x")),
            ("${A}", Ok("${A:-}")),
            ("${A:-${B:-b}}", Ok("${A:-${B:-b}}")),
            ("$$A", Ok("$$A")),
            ("cost: 5$", Ok("cost: 5$$")),
            ("${A-b}", Err(())),
            ("${A:?required}", Err(())),
            ("${A:+x}", Err(())),
            ("a\u{0}b", Err(())),
            ("a\nb", Err(())),
        ] {
            assert_eq!(
                translate(compose, false).map_err(|_| ()).as_deref(),
                gorae.as_ref().map(|s| *s).map_err(|_| &()),
                "{compose:?}"
            );
        }
    }

    #[test]
    fn absolute_dockerfile_paths_are_kept_as_they_are() {
        let mut service = DraftService::default();
        import_build(
            &mut service,
            &node("{ context: ./web, dockerfile: /srv/docker/web.Dockerfile }"),
            "services.web.build",
        );
        assert_eq!(
            service.dockerfile.as_deref(),
            Some("/srv/docker/web.Dockerfile")
        );
        assert_eq!(service.build.as_deref(), Some("./web"));
    }

    #[test]
    fn commands_split_like_a_shell() {
        assert_eq!(
            command(&node("npm run dev -- --host 0.0.0.0")).unwrap(),
            ["npm", "run", "dev", "--", "--host", "0.0.0.0"]
        );
        assert_eq!(
            command(&node("'python -c \"print(1)\"'")).unwrap(),
            ["python", "-c", "print(1)"]
        );
        assert_eq!(
            command(&node("[redis-server, --save, '']")).unwrap(),
            ["redis-server", "--save", ""]
        );
        assert_eq!(
            command(&node("\"echo 'unclosed\"")).unwrap(),
            ["sh", "-c", "echo 'unclosed"]
        );
    }

    #[test]
    fn images_of_service_templates_become_templates() {
        let (templates, _) = Templates::load(std::path::Path::new("/nonexistent"), "".as_ref());
        let t = |image: &str| template_for(image, &templates);
        assert_eq!(t("redis:7"), Some(("redis".into(), Some("7".into()))));
        assert_eq!(
            t("docker.io/library/postgres:16-alpine"),
            Some(("postgres".into(), Some("16-alpine".into())))
        );
        assert_eq!(t("redis"), Some(("redis".into(), None)));
        assert_eq!(t("redis:latest"), Some(("redis".into(), None)));
        assert_eq!(
            t("node:20"),
            None,
            "app templates build, they are not images"
        );
        for (image, template, version) in [
            ("mysql:8.0", "mysql", "8.0"),
            ("mariadb:10.11", "mariadb", "10.11"),
            ("rabbitmq:3-management", "rabbitmq", "3-management"),
            ("memcached:1.6-alpine", "memcached", "1.6-alpine"),
            ("nginx:1.27", "nginx", "1.27"),
        ] {
            assert_eq!(t(image), Some((template.into(), Some(version.into()))));
        }
        for app in ["golang:1.22", "ruby:3.3", "php:8.3-fpm"] {
            assert_eq!(t(app), None, "app templates build, they are not images");
        }
        assert_eq!(t("bitnami/redis:7"), None);
        assert_eq!(t("redis@sha256:abc"), None);
    }

    #[test]
    fn merge_keys_fill_in_what_the_map_does_not_say() {
        let root = node("base: &base { a: 1, b: 2 }\nuse: { <<: *base, b: 3 }\n");
        let top = merged_entries(&root).unwrap();
        let used = merged_entries(&top[1].value).unwrap();
        let pairs: Vec<(String, String)> = used
            .iter()
            .map(|e| (e.key.clone(), text_of(&e.value).unwrap()))
            .collect();
        assert_eq!(pairs, [("b".into(), "3".into()), ("a".into(), "1".into())]);
    }
}
