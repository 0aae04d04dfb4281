//! The project file's top level (`name`, `image_prefix`, `services`) and the checks
//! across services, turning the spanned tree into the validated [`Project`].

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::fields::Checker;
use super::graph::{check_dependencies, check_exports};
use super::model::Project;
use super::paths::{ProjectDir, check_volume_names};
use super::ports::check_collisions;
use super::service::{Context, Draft, read_service};
use super::source::Span;
use super::template::{Templates, is_template_name};
use super::yaml::{Entry, Node, Value};

/// The top-level keys. Keys starting with `x-` are also allowed and ignored: they are a
/// place for YAML anchors (`x-env: &env {...}`) that services then reuse.
pub const KEYS: [&str; 3] = ["name", "image_prefix", "services"];

/// The environment variable that overrides `image_prefix:`.
pub const IMAGE_PREFIX_VAR: &str = "GORAE_IMAGE_PREFIX";

/// Inputs of validation besides the tree.
pub struct Inputs<'a> {
    /// Absolute path of the project file.
    pub file: PathBuf,
    /// The project directory as messages show it (`` for the current one).
    pub display_dir: PathBuf,
    pub templates: &'a Templates,
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// Checks the whole file. Returns the project when the file had no error; all errors
/// are in `check.diagnostics`.
pub fn validate(check: &mut Checker, root: Option<&Node>, inputs: &Inputs) -> Option<Project> {
    let Some(root) = root else {
        check.error(
            Span::new(1, 1, 1),
            format!("{} declares no services", check.source.display),
            "add `services:` with at least one service, such as `services: { redis: \"7\" }`",
        );
        return None;
    };
    let Some(entries) = root.as_map() else {
        check.error(
            root.span,
            format!(
                "the top level of the file must be a map, found {}",
                root.describe()
            ),
            "start with `services:` (and optionally `name:`) at the beginning of a line",
        );
        return None;
    };
    let get = |key: &str| entries.iter().find(|e| e.key == key);
    let services_entries = get("services")
        .and_then(|e| e.value.as_map())
        .unwrap_or(&[]);
    let (services, misplaced) = indent_fixes(services_entries, entries);
    for fix in &misplaced {
        fix.report(check);
    }
    let known = entries
        .iter()
        .filter(|e| !e.key.starts_with("x-"))
        .filter(|e| !misplaced.iter().any(|fix| fix.moved_top_level(&e.key)));
    check.known_keys(known, &KEYS, &[], "the top level");

    let dir = inputs
        .file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    let project_dir = ProjectDir::new(dir);

    let name = match get("name") {
        Some(entry) => check.string(&entry.value, "`name`").and_then(|name| {
            if is_template_name(&name) && name.len() <= 63 {
                Some(name)
            } else {
                check.error(
                    entry.value.span,
                    format!("project name `{name}` is not valid"),
                    "use lowercase letters, digits, `-` and `_`, starting with a letter or digit, at most 63 characters",
                );
                None
            }
        }),
        None => Some(default_name(&project_dir.canonical)),
    };

    let image_prefix = image_prefix(check, get("image_prefix").map(|e| &e.value), inputs.env);

    let ctx = Context {
        project: &project_dir,
        templates: inputs.templates,
        image_prefix: image_prefix.as_deref(),
        home: (inputs.env)("HOME"),
        display_dir: &inputs.display_dir,
    };
    // Collected first and made a map at once: the map is then built from sorted
    // entries with full nodes, where inserting one by one leaves them half empty
    // (a draft is large, so that is megabytes for a big file).
    let mut read: Vec<(String, Draft)> = Vec::new();
    match get("services") {
        None => check.error(
            root.span,
            "no `services:` in the file",
            "add `services:` with at least one service, such as `services: { redis: \"7\" }`",
        ),
        Some(entry) => {
            if check.map(&entry.value, "`services`").is_some() {
                if services.is_empty() {
                    check.error(
                        entry.key_span,
                        "`services` is empty",
                        "add at least one service, such as `redis: \"7\"`",
                    );
                }
                for service in &services {
                    let draft =
                        read_service(check, &ctx, &service.key, service.key_span, &service.value);
                    read.push((service.key.clone(), draft));
                }
            }
        }
    }

    // Service names are unique (the YAML reader drops a repeated key).
    let drafts: BTreeMap<String, Draft> = read.into_iter().collect();
    check_dependencies(check, &drafts);
    super::seed::check_seed_tasks(check, &drafts);
    check_exports(check, &drafts);
    // Ports in file order, so the second of two publications is the one reported.
    let mut published: Vec<(&str, &super::model::PortMapping, Span)> = drafts
        .iter()
        .flat_map(|(name, draft)| {
            draft
                .service
                .ports
                .iter()
                .zip(&draft.port_spans)
                .map(move |(port, span)| (name.as_str(), port, *span))
        })
        .collect();
    published.sort_by_key(|(_, _, span)| *span);
    check_collisions(check, &published);
    check_volume_names(check, &drafts);

    if !check.diagnostics.is_empty() {
        return None;
    }
    Some(Project {
        name: name?,
        dir: project_dir.canonical.clone(),
        file: inputs.file.clone(),
        image_prefix,
        services: drafts
            .into_iter()
            .map(|(name, draft)| (name, draft.service))
            .collect(),
        profiles: Vec::new(),
        variables: Default::default(),
    })
}

/// Service keys written at the indentation of the service above them, a classic
/// first mistake:
///
/// ```yaml
/// services:
///   app:
///   build: ./app      # meant under `app:`
/// ```
///
/// One error says so; the keys are then read as the service's own, so the rest of the
/// report is about what the user meant rather than about services named `build`.
struct IndentFix {
    service: String,
    /// The keys that belong under the service, with where they are.
    keys: Vec<(String, Span)>,
    /// Whether they were written at the top level (under `services:` otherwise).
    top_level: bool,
}

impl IndentFix {
    fn report(&self, check: &mut Checker) {
        let names: Vec<String> = self.keys.iter().map(|(k, _)| format!("`{k}`")).collect();
        let (noun, these) = if names.len() == 1 {
            ("key", "this key")
        } else {
            ("keys", "these keys")
        };
        let span = self
            .keys
            .first()
            .map_or(Span::new(1, 1, 1), |(_, span)| *span);
        check.error(
            span,
            format!(
                "service {noun} {} {} not indented under `{}:`",
                names.join(", "),
                if names.len() == 1 { "is" } else { "are" },
                self.service
            ),
            format!(
                "indent {these} under `{}:`, two spaces further right than `{}:` itself",
                self.service, self.service
            ),
        );
    }

    fn moved_top_level(&self, key: &str) -> bool {
        self.top_level && self.keys.iter().any(|(k, _)| k == key)
    }
}

/// Whether a key is one a service has (or a Compose name for one), and so, written
/// beside services, was probably meant inside one.
fn is_service_key(key: &str) -> bool {
    super::service::KEYS.contains(&key)
        || super::service::ALIASES
            .iter()
            .any(|(alias, _)| *alias == key)
}

/// The services as the user meant them: a service with an empty value followed by
/// entries that are service keys (under `services:`, or after it at the top level)
/// gets those keys; the fixes are returned so each can be reported once. Services
/// as written are borrowed, not copied: a big file's tree is not doubled.
fn indent_fixes<'a>(
    services: &'a [Entry],
    top: &'a [Entry],
) -> (Vec<Cow<'a, Entry>>, Vec<IndentFix>) {
    let empty = |entry: &Entry| {
        entry.value.is_null()
            && entry
                .value
                .as_scalar()
                .is_some_and(|s| s.written().is_empty())
    };
    let mut out: Vec<Cow<Entry>> = Vec::new();
    let mut fixes = Vec::new();
    let mut index = 0;
    while index < services.len() {
        let entry = &services[index];
        index += 1;
        let moved: Vec<&Entry> = if empty(entry) {
            services[index..]
                .iter()
                .take_while(|e| is_service_key(&e.key))
                .collect()
        } else {
            Vec::new()
        };
        if moved.is_empty() {
            out.push(Cow::Borrowed(entry));
            continue;
        }
        index += moved.len();
        fixes.push(IndentFix {
            service: entry.key.clone(),
            keys: moved.iter().map(|e| (e.key.clone(), e.key_span)).collect(),
            top_level: false,
        });
        out.push(Cow::Owned(adopt(entry, &moved)));
    }
    // `services:` ending in an empty service, followed by service keys at the top.
    if let Some(last) = out.last_mut().filter(|last| empty(last)) {
        let after_services = top.iter().skip_while(|e| e.key != "services").skip(1);
        let moved: Vec<&Entry> = after_services
            .take_while(|e| is_service_key(&e.key))
            .collect();
        if !moved.is_empty() {
            fixes.push(IndentFix {
                service: last.key.clone(),
                keys: moved.iter().map(|e| (e.key.clone(), e.key_span)).collect(),
                top_level: true,
            });
            *last = Cow::Owned(adopt(last, &moved));
        }
    }
    (out, fixes)
}

/// `service` with `keys` as its map.
fn adopt(service: &Entry, keys: &[&Entry]) -> Entry {
    Entry {
        key: service.key.clone(),
        key_span: service.key_span,
        value: Node {
            span: keys.first().map_or(service.key_span, |e| e.key_span),
            value: Value::Map(keys.iter().map(|e| (*e).clone()).collect()),
        },
    }
}

/// The project's name when the file gives none: the directory's name, lowercased, with
/// characters a name cannot have replaced by `-`.
pub fn default_name(dir: &Path) -> String {
    let raw = dir
        .file_name()
        .map(|name| name.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let cleaned: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed: String = cleaned
        .trim_start_matches(['-', '_'])
        .trim_end_matches('-')
        .chars()
        .take(63)
        .collect();
    if trimmed.is_empty() {
        "project".to_string()
    } else {
        trimmed
    }
}

/// `GORAE_IMAGE_PREFIX` if set (even to empty, which turns the prefix off), else
/// `image_prefix:`; normalised to end in exactly one `/`.
fn image_prefix(
    check: &mut Checker,
    node: Option<&Node>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let (raw, span) = match (env(IMAGE_PREFIX_VAR), node) {
        (Some(value), _) => (value, None),
        (None, Some(node)) => (check.string(node, "`image_prefix`")?, Some(node.span)),
        (None, None) => return None,
    };
    let trimmed = raw.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        return None;
    }
    if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) || trimmed.contains("//") {
        let help = "write a registry path such as mirror.corp/ or gorae-test/";
        match span {
            Some(span) => check.error(
                span,
                format!("image prefix `{raw}` is not a registry path"),
                help,
            ),
            None => check.push(super::diagnostic::Diagnostic::new(
                format!("{IMAGE_PREFIX_VAR}=`{raw}` is not a registry path"),
                None,
                help,
            )),
        }
        return None;
    }
    Some(format!("{trimmed}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_name_is_the_directory_name_cleaned() {
        assert_eq!(default_name(Path::new("/home/a/My Shop")), "my-shop");
        assert_eq!(default_name(Path::new("/x/.hidden")), "hidden");
        assert_eq!(default_name(Path::new("/x/web_app-2")), "web_app-2");
        assert_eq!(default_name(Path::new("/")), "project");
        assert_eq!(default_name(Path::new("/x/ünï")), "n");
    }
}
