//! `env` values read only when a container is made: `NAME: { secret: { file: PATH } }`
//! or `NAME: { secret: { command: [pass, show, db] } }` (a password manager's CLI).
//! Loading the project reads neither: the variable holds a placeholder, which
//! template values built from it (`DATABASE_URL` from `POSTGRES_PASSWORD`) carry
//! along, and `up` replaces every placeholder with the value ([`crate::reveal`]).
//! Everything printed masks a placeholder like a secret.

use std::path::PathBuf;

use serde::Serialize;

use super::fields::Checker;
use super::secrets::MASK;
use super::service::KeyOf;
use super::yaml::{Entry, Value};

/// Where a secret variable's value is read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvSecret {
    /// A file's content, less one final line break. Absolute path.
    File { path: PathBuf },
    /// What a command prints on stdout, less one final line break. Run without a
    /// shell, in the project directory.
    Command { command: Vec<String> },
}

impl EnvSecret {
    /// How it is named in messages: `file ./secrets/db` or `command `pass show db``.
    pub fn describe(&self, project_dir: &std::path::Path) -> String {
        match self {
            EnvSecret::File { path } => {
                format!("secret file {}", super::show_relative(path, project_dir))
            }
            EnvSecret::Command { command } => format!("secret command `{}`", command.join(" ")),
        }
    }
}

/// The marks around a placeholder: control characters, which gorae.yaml refuses in
/// values, so a placeholder can never be text a user wrote.
const MARK: char = '\u{1}';

/// What `NAME` of `service` holds until `up` reads its secret.
pub fn placeholder(service: &str, name: &str) -> String {
    format!("{MARK}gorae-secret:{service}:{name}{MARK}")
}

/// The text with every placeholder shown as the mask.
pub fn hide(text: &str) -> String {
    replace_each(text, |_, _| MASK.to_string())
}

/// The text with each placeholder replaced by what `with(service, name)` gives for
/// it: a mask, or a reference an exported file resolves later.
pub fn replace_each(text: &str, with: impl Fn(&str, &str) -> String) -> String {
    if !text.contains(MARK) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut parts = text.split(MARK);
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    // Parts alternate: a placeholder's inside, then plain text.
    for (index, part) in parts.enumerate() {
        if index % 2 == 0 {
            let (service, name) = service_and_name(part);
            out.push_str(&with(service, name));
        } else {
            out.push_str(part);
        }
    }
    out
}

/// The (service, variable) of every placeholder in `text`, in order.
pub fn placeholders_in(text: &str) -> Vec<(String, String)> {
    text.split(MARK)
        .skip(1)
        .step_by(2)
        .map(|inside| {
            let (service, name) = service_and_name(inside);
            (service.to_string(), name.to_string())
        })
        .collect()
}

/// `gorae-secret:SERVICE:NAME`, the inside of a placeholder, read back.
fn service_and_name(inside: &str) -> (&str, &str) {
    let inside = inside.strip_prefix("gorae-secret:").unwrap_or(inside);
    inside.split_once(':').unwrap_or(("", inside))
}

/// Whether an `env` entry is a secret (`NAME: { secret: ... }`) rather than a value.
pub fn is_secret_entry(entry: &Entry) -> bool {
    matches!(&entry.value.value, Value::Map(fields) if fields.iter().any(|f| f.key == "secret"))
}

/// Reads `{ secret: { file: PATH } }` or `{ secret: { command: [...] } }`.
pub fn read(
    check: &mut Checker,
    project_dir: &std::path::Path,
    entry: &Entry,
    service: &str,
) -> Option<EnvSecret> {
    let name = &entry.key;
    let help = format!(
        "write {name}: {{ secret: {{ file: ./secrets/{} }} }} or {name}: {{ secret: {{ command: [pass, show, {}] }} }}",
        name.to_lowercase(),
        name.to_lowercase()
    );
    let what = KeyOf {
        key: "env",
        service,
    };
    let fields = check.map(&entry.value, format_args!("variable `{name}` in {what}"))?;
    if let Some(other) = fields.iter().find(|f| f.key != "secret") {
        check.error(
            other.key_span,
            format!("unknown key `{}` in variable `{name}` of {what}", other.key),
            help,
        );
        return None;
    }
    let secret = &fields.first()?.value;
    let kinds = check.map(secret, format_args!("the secret of `{name}`"))?;
    let [kind] = kinds else {
        check.error(
            secret.span,
            format!("the secret of `{name}` must have exactly one of `file` and `command`"),
            help,
        );
        return None;
    };
    match kind.key.as_str() {
        "file" => {
            let path = check.string(&kind.value, format_args!("the secret file of `{name}`"))?;
            Some(EnvSecret::File {
                path: project_dir.join(path),
            })
        }
        "command" => {
            let command =
                check.command(&kind.value, format_args!("the secret command of `{name}`"))?;
            if command.is_empty() {
                check.error(
                    kind.value.span,
                    format!("the secret command of `{name}` is empty"),
                    help,
                );
                return None;
            }
            Some(EnvSecret::Command { command })
        }
        other => {
            check.error(
                kind.key_span,
                format!("unknown key `{other}` in the secret of `{name}`"),
                help,
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_found_and_replaced_with_what_an_export_refers_to() {
        let url = format!(
            "postgres://app:{}@db/{}",
            placeholder("db", "POSTGRES_PASSWORD"),
            placeholder("db", "POSTGRES_DB")
        );
        assert_eq!(
            placeholders_in(&url),
            vec![
                ("db".to_string(), "POSTGRES_PASSWORD".to_string()),
                ("db".to_string(), "POSTGRES_DB".to_string())
            ]
        );
        assert_eq!(
            replace_each(&url, |service, name| format!("${{{service}.{name}}}")),
            "postgres://app:${db.POSTGRES_PASSWORD}@db/${db.POSTGRES_DB}"
        );
        assert!(placeholders_in("plain").is_empty());
    }

    #[test]
    fn placeholders_are_hidden_wherever_they_are_and_other_text_stays() {
        let password = placeholder("db", "POSTGRES_PASSWORD");
        let url = format!("postgres://app:{password}@db:5432/app");
        assert_eq!(hide(&url), "postgres://app:********@db:5432/app");
        assert_eq!(hide(&format!("{password}-{password}")), "********-********");
        assert_eq!(hide("plain"), "plain");
    }
}
