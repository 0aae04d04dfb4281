//! `secrets:` of a service, at `/run/secrets/NAME` as in Compose: files of the
//! project mounted read-only (only the path is part of gorae.yaml's meaning; the
//! content is read by the container, never by gorae), or values from variables
//! (`{ value: "${TOKEN}" }`) written into the container before it starts. Neither
//! reaches an image, gorae.lock or any output.

use super::fields::Checker;
use super::model::Mount;
use super::paths::{Expect, ProjectDir};
use super::service::KeyOf;
use super::source::Span;
use super::yaml::{Node, Value};
use crate::secret::Secret;

/// Where secrets appear in the container.
pub const DIR: &str = "/run/secrets";

/// Whether a mount's container path is a secret's (`/run/secrets/NAME`).
pub fn is_secret_mount(target: &str) -> bool {
    target
        .strip_prefix(DIR)
        .is_some_and(|name| name.starts_with('/'))
}

/// `secrets: { NAME: PATH }` and `{ NAME: { value: TEXT } }`: one mount per secret,
/// with its position.
pub fn read(
    check: &mut Checker,
    project: &ProjectDir,
    node: &Node,
    service: &str,
) -> Vec<(Mount, Span)> {
    let what = KeyOf {
        key: "secrets",
        service,
    };
    let Some(entries) = check.map(node, what) else {
        return Vec::new();
    };
    let mut mounts = Vec::new();
    for entry in entries {
        let name = &entry.key;
        let valid = name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !valid {
            check.error(
                entry.key_span,
                format!("secret name `{name}` of service `{service}` is not a file name"),
                "use letters, digits, `_`, `.` and `-`: it becomes /run/secrets/NAME",
            );
            continue;
        }
        let target = format!("{DIR}/{name}");
        if let Value::Map(fields) = &entry.value.value {
            if let Some(value) = read_value(check, fields, name, entry.value.span) {
                mounts.push((Mount::Secret { target, value }, entry.value.span));
            }
            continue;
        }
        let Some(text) = check.string(&entry.value, format_args!("secret `{name}`")) else {
            continue;
        };
        let Some(source) =
            project.inside(check, &text, entry.value.span, "secret file", Expect::File)
        else {
            continue;
        };
        mounts.push((
            Mount::Bind {
                source,
                target,
                read_only: true,
            },
            entry.value.span,
        ));
    }
    mounts
}

/// `{ value: TEXT }`: the secret's content, usually `${VAR}` (interpolated by now).
fn read_value(
    check: &mut Checker,
    fields: &[super::yaml::Entry],
    name: &str,
    span: Span,
) -> Option<Secret> {
    let help = format!(
        "write `{name}: ./FILE` for a file of the project, or `{name}: {{ value: \"${{VARIABLE}}\" }}`"
    );
    let mut value = None;
    for field in fields {
        if field.key == "value" {
            value = check.any_string(&field.value, format_args!("the value of secret `{name}`"));
        } else {
            check.error(
                field.key_span,
                format!("unknown key `{}` in secret `{name}`", field.key),
                help.clone(),
            );
            return None;
        }
    }
    if value.is_none() && fields.is_empty() {
        check.error(span, format!("secret `{name}` has no `value`"), help);
    }
    value.map(Secret::new)
}
