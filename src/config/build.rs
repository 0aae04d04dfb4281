//! `build:` as a directory (`build: ./web`) or as a map with the stage and arguments
//! of the build (`build: { context: ./web, target: dev, args: { NODE_ENV: development } }`).

use super::fields::Checker;
use super::model::BuildOptions;
use super::service::KeyOf;
use super::source::Span;
use super::yaml::Node;

/// The keys of `build:`'s map form.
pub const KEYS: [&str; 3] = ["context", "target", "args"];

/// The build directory as written, with its position, and the options. `None` for
/// the directory when the value was wrong (already reported).
pub fn read(
    check: &mut Checker,
    node: &Node,
    key_span: Span,
    service: &str,
) -> (Option<(String, Span)>, BuildOptions) {
    let what = KeyOf {
        key: "build",
        service,
    };
    let mut options = BuildOptions::default();
    if node.as_map().is_none() {
        return (
            check.string(node, what).map(|dir| (dir, node.span)),
            options,
        );
    }
    let Some(entries) = check.map(node, what) else {
        return (None, options);
    };
    check.known_keys(
        entries,
        &KEYS,
        &[],
        format_args!("`build` of service `{service}`"),
    );
    // Compose's default: the directory of the file.
    let mut dir = Some((".".to_string(), key_span));
    for entry in entries {
        let value = &entry.value;
        let what = |key| KeyOf { key, service };
        match entry.key.as_str() {
            "context" => {
                dir = check
                    .string(value, what("build.context"))
                    .map(|d| (d, value.span))
            }
            "target" => {
                options.target = check.string(value, what("build.target"));
                if let Some(target) = &options.target
                    && !is_stage_name(target)
                {
                    check.error(
                        value.span,
                        format!("build target `{target}` of service `{service}` is not a stage name"),
                        "write the name after AS in the Dockerfile's FROM line, such as `FROM node:20 AS dev` -> target: dev",
                    );
                }
            }
            "args" => {
                options.args = check
                    .env(value, what("build.args"))
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(name, value, _)| (name, value))
                    .collect()
            }
            _ => {}
        }
    }
    (dir, options)
}

/// A Dockerfile stage name: letters, digits, `-`, `_` and `.`, starting with a letter.
fn is_stage_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}
