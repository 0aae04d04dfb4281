//! `env_file:` of a service, as in Compose: files of `KEY=VALUE` lines (the `.env`
//! format, same parser) whose values go into the container as written, with no
//! `${}` interpolation. `env_file: ./web.env`, a list of paths, or entries
//! `{ path: ./local.env, required: false }` for a file that may be missing. A later
//! file overrides an earlier one; the service's own `env:` overrides them all.

use std::path::Path;

use super::fields::Checker;
use super::interpolate::parse_dotenv_entries;
use super::service::KeyOf;
use super::source::Span;
use super::variables::Origin;
use super::yaml::{Kind, Node, Value};

/// One variable an env file sets, with its line.
pub type FileVar = (String, String, Origin);

/// Reads every file `node` names. `project_dir` resolves relative paths;
/// `display_dir` is how that directory is shown in messages.
pub fn read(
    check: &mut Checker,
    project_dir: &Path,
    display_dir: &Path,
    node: &Node,
    service: &str,
) -> Vec<FileVar> {
    let what = KeyOf {
        key: "env_file",
        service,
    };
    let items: Vec<&Node> = match &node.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    let mut vars = Vec::new();
    for item in items {
        let Some((path, required, span)) = entry(check, item, what) else {
            continue;
        };
        vars.extend(read_one(
            check,
            project_dir,
            display_dir,
            &path,
            required,
            span,
            service,
        ));
    }
    vars
}

/// A path, or `{ path: PATH, required: BOOL }`.
fn entry(check: &mut Checker, node: &Node, what: KeyOf) -> Option<(String, bool, Span)> {
    let help =
        "write env_file: ./web.env, a list of paths, or { path: ./local.env, required: false }";
    let Value::Map(fields) = &node.value else {
        return check.string(node, what).map(|path| (path, true, node.span));
    };
    let mut path = None;
    let mut required = true;
    for field in fields {
        match field.key.as_str() {
            "path" => {
                path = check
                    .string(&field.value, what)
                    .map(|p| (p, field.value.span))
            }
            "required" => match field.value.as_scalar().map(|s| (s.kind(), s.text.as_str())) {
                Some((Kind::Bool, text)) => required = text == "true",
                _ => check.error(
                    field.value.span,
                    format!("`required` in {what} must be true or false"),
                    "write required: false for a file that may be missing",
                ),
            },
            other => check.error(
                field.key_span,
                format!("unknown key `{other}` in {what}"),
                help,
            ),
        }
    }
    match path {
        Some((path, span)) => Some((path, required, span)),
        None => {
            if !fields.iter().any(|f| f.key == "path") {
                check.error(node.span, format!("an entry of {what} has no `path`"), help);
            }
            None
        }
    }
}

fn read_one(
    check: &mut Checker,
    project_dir: &Path,
    display_dir: &Path,
    path: &str,
    required: bool,
    span: Span,
    service: &str,
) -> Vec<FileVar> {
    let full = project_dir.join(path);
    let shown = display_dir
        .join(path.trim_start_matches("./"))
        .display()
        .to_string();
    match std::fs::metadata(&full) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if required {
                check.error(
                    span,
                    format!("env_file `{path}` of service `{service}` does not exist"),
                    format!(
                        "create it, or write {{ path: {path}, required: false }} to read it only when it is there; it is relative to the directory of gorae.yaml"
                    ),
                );
            }
            return Vec::new();
        }
        Ok(meta) if meta.is_dir() => {
            check.error(
                span,
                format!("env_file `{path}` of service `{service}` is a directory"),
                "name a file of KEY=VALUE lines",
            );
            return Vec::new();
        }
        _ => {}
    }
    let source = match super::read_text(&full, &shown) {
        Ok(Some(source)) => source,
        Ok(None) => return Vec::new(),
        Err(diagnostic) => {
            let at = check.source.locate(span);
            check.push(diagnostic.with_note("named here", Some(at)));
            return Vec::new();
        }
    };
    let (entries, errors) = parse_dotenv_entries(&source.text);
    for error in errors {
        let message = error.message.replace("in .env ", "");
        check.push(source.error(error.span, message, error.help));
    }
    entries
        .into_iter()
        .map(|entry| {
            let origin = Origin::Line {
                file: shown.clone(),
                line: entry.span.line,
            };
            (entry.key, entry.value, origin)
        })
        .collect()
}
