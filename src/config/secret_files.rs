//! `secrets:` of a service: files of the project mounted read-only at
//! `/run/secrets/NAME`, as Compose does. Only the path is part of gorae.yaml's
//! meaning; the content is read by the container, never by gorae, so it cannot
//! reach an image, gorae.lock or any output.

use super::fields::Checker;
use super::model::Mount;
use super::paths::{Expect, ProjectDir};
use super::service::KeyOf;
use super::source::Span;
use super::yaml::Node;

/// Where secrets appear in the container.
pub const DIR: &str = "/run/secrets";

/// Whether a mount's container path is a secret's (`/run/secrets/NAME`).
pub fn is_secret_mount(target: &str) -> bool {
    target
        .strip_prefix(DIR)
        .is_some_and(|name| name.starts_with('/'))
}

/// `secrets: { NAME: PATH }`: one read-only bind mount per secret, with its position.
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
                target: format!("{DIR}/{name}"),
                read_only: true,
            },
            entry.value.span,
        ));
    }
    mounts
}
