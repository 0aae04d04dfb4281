//! gorae.yaml: finding it, reading it, and turning it into the validated [`Project`].
//!
//! The steps, one module each: `yaml` parses into a tree that keeps positions;
//! `interpolate` expands `${VAR}` (from the environment and `.env`); `validate`, with
//! `service`, `ports`, `paths` and `graph`, checks everything and builds the model.
//! Every problem becomes a [`Diagnostic`] (`file:line:col`, the line, carets, a fix),
//! and all of a file's problems are reported together. `template` reads the built-in
//! and project templates a service may name; it lives here because templates are
//! parsed and checked with the same YAML and diagnostics layer.
//!
//! The YAML crates (yaml-rust2 to read, serde_yaml to write) are used only in this
//! module, so replacing either is a change here alone. `block_yaml` writes what
//! serde_yaml would, faster, for the data it is sure of.

mod block_yaml;
mod build;
pub mod diagnostic;
pub(crate) mod fields;
mod graph;
mod image;
pub mod interpolate;
pub mod model;
mod normalize;
mod paths;
mod ports;
mod process;
pub mod schema;
mod secret_files;
pub mod secrets;
mod service;
pub(crate) mod source;
pub mod template;
mod validate;
pub mod watch;
pub(crate) mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use diagnostic::{Diagnostic, Location, Note};
pub use image::apply_image_prefix;
pub use model::*;
pub use normalize::{to_normalized_json, to_normalized_yaml, to_yaml};
pub use paths::{anonymous_volume_name, data_volume_name, show_relative};
pub use ports::parse_port_mapping;
pub use secret_files::is_secret_mount;
pub use secrets::{MASK, is_secret_name, mask_env, mask_secrets, mask_url_passwords, mask_value};
pub use service::{DEFAULT_TASK_TIMEOUT, DEFAULT_TIMEOUT};
pub use validate::IMAGE_PREFIX_VAR;

use crate::exit::ExitCode;
use fields::Checker;
use interpolate::{Vars, interpolate_tree, parse_dotenv};
use source::{Source, Span};
use template::Templates;

/// The project file's name.
pub const PROJECT_FILE: &str = "gorae.yaml";
/// The file of variables beside the project file.
pub const DOTENV_FILE: &str = ".env";
/// gorae.yaml and .env larger than this are refused before they are parsed: a project
/// file of a few KB is normal, and the limit keeps a wrong `-f` (`/dev/zero`, a disk
/// image) from costing time and memory.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Why a project could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(
        "no {PROJECT_FILE} in {} or any parent directory; `gorae init` creates one, and `-f FILE` picks another file",
        searched_from.display()
    )]
    NotFound { searched_from: PathBuf },
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{} is larger than {} MiB, the most gorae reads\n  hint: a project file is a few KB; check that `-f` names the right file",
        path.display(), MAX_FILE_BYTES / (1024 * 1024)
    )]
    TooLarge { path: PathBuf },
    /// The file was read but has errors; `rendered` is the full report, every error of
    /// the file followed by a summary line (`gorae.yaml: 3 errors`).
    #[error("{rendered}")]
    Invalid {
        diagnostics: Vec<Diagnostic>,
        rendered: String,
    },
}

impl LoadError {
    /// Every failure to load the project is a configuration error.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::Config
    }
}

/// Finds the project file: `explicit` if given (relative to `cwd`; a directory means the
/// gorae.yaml in it), else `gorae.yaml` in `cwd` or its nearest parent that has one.
pub fn find_project_file(explicit: Option<&Path>, cwd: &Path) -> Result<PathBuf, LoadError> {
    if let Some(explicit) = explicit {
        let path = cwd.join(explicit);
        let path = if path.is_dir() {
            path.join(PROJECT_FILE)
        } else {
            path
        };
        return match std::fs::metadata(&path) {
            Ok(_) => Ok(path),
            Err(source) => Err(LoadError::Read { path, source }),
        };
    }
    cwd.ancestors()
        .map(|dir| dir.join(PROJECT_FILE))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| LoadError::NotFound {
            searched_from: cwd.to_path_buf(),
        })
}

/// Reads, interpolates, parses and validates the project file, with `.env` beside it.
/// `env` looks up process environment variables. Messages name the file relative to the
/// current directory.
pub fn load(file: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Project, LoadError> {
    let bytes = match read_limited(file) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return Err(LoadError::TooLarge {
                path: file.to_path_buf(),
            });
        }
        Err(source) => {
            return Err(LoadError::Read {
                path: file.to_path_buf(),
                source,
            });
        }
    };
    let absolute = file
        .canonicalize()
        .or_else(|_| std::path::absolute(file))
        .unwrap_or_else(|_| file.to_path_buf());
    let display = match std::env::current_dir() {
        Ok(cwd) if file.is_absolute() => paths::relative_to(&absolute, &cwd).display().to_string(),
        _ => file.display().to_string(),
    };
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            return Err(invalid(
                vec![not_utf8(&display, error.as_bytes(), error.utf8_error())],
                &display,
            ));
        }
    };
    let dotenv_display = display_dir(&display)
        .join(DOTENV_FILE)
        .display()
        .to_string();
    let dotenv = match absolute
        .parent()
        .map(|dir| read_limited(&dir.join(DOTENV_FILE)))
    {
        Some(Ok(None)) => {
            let diagnostic = Diagnostic::new(
                format!(
                    "{dotenv_display} is larger than {} MiB, the most gorae reads",
                    MAX_FILE_BYTES / (1024 * 1024)
                ),
                None,
                "keep only variables in .env; it is read on every command",
            );
            return Err(invalid(vec![diagnostic], &display));
        }
        Some(Ok(Some(bytes))) => match String::from_utf8(bytes) {
            Ok(text) => Some(Source::new(dotenv_display, text)),
            Err(error) => {
                let diagnostic = not_utf8(&dotenv_display, error.as_bytes(), error.utf8_error());
                return Err(invalid(vec![diagnostic], &display));
            }
        },
        Some(Err(error)) if error.kind() != std::io::ErrorKind::NotFound => {
            let diagnostic = Diagnostic::new(
                format!("cannot read {dotenv_display}: {error}"),
                None,
                "check the file's permissions, or remove it",
            );
            return Err(invalid(vec![diagnostic], &display));
        }
        _ => None,
    };
    load_parts(text, absolute, display, env, dotenv)
}

/// Reads a file of at most [`MAX_FILE_BYTES`]; `None` when it is larger. Reads one
/// byte past the limit rather than trusting the file's size, which special files
/// (`/dev/zero`, pipes) do not report.
pub fn read_limited(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= MAX_FILE_BYTES).then_some(bytes))
}

/// Like [`load`], from text: `file` is only a name (shown as given in messages; its
/// directory is the project directory). No `.env` is read; the filesystem is touched only
/// to check build paths, bind mounts and project-local templates.
pub fn load_str(
    text: &str,
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Project, LoadError> {
    let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    load_parts(
        text.to_string(),
        absolute,
        file.display().to_string(),
        env,
        None,
    )
}

/// The directory part of a displayed file name (`` for `gorae.yaml`).
fn display_dir(display: &str) -> &Path {
    Path::new(display).parent().unwrap_or(Path::new(""))
}

fn load_parts(
    text: String,
    file: PathBuf,
    display: String,
    env: &dyn Fn(&str) -> Option<String>,
    dotenv: Option<Source>,
) -> Result<Project, LoadError> {
    let source = Source::new(display.clone(), text);
    let (mut root, mut diagnostics) = yaml::parse(&source);
    let syntax_failed = root.is_none() && !diagnostics.is_empty();

    let mut dotenv_vars = BTreeMap::new();
    if let Some(dotenv) = &dotenv {
        let (vars, errors) = parse_dotenv(&dotenv.text);
        diagnostics.extend(
            errors
                .into_iter()
                .map(|e| dotenv.error(e.span, e.message, e.help)),
        );
        dotenv_vars = vars;
    }
    let vars = Vars {
        env,
        dotenv: dotenv_vars,
    };
    // Diagnostics past `fields::MAX_KEPT` are counted, not kept.
    let mut dropped = 0;
    if let Some(root) = &mut root {
        interpolate_tree(root, &vars, &source, &mut diagnostics, &mut dropped);
    }

    let project_dir = file.parent().unwrap_or(Path::new("/"));
    let (templates, template_errors) = Templates::load(project_dir, display_dir(&display));
    diagnostics.extend(template_errors);

    let mut project = None;
    if !syntax_failed {
        let mut check = Checker::new(&source);
        let inputs = validate::Inputs {
            file,
            templates: &templates,
            env,
        };
        project = validate::validate(&mut check, root.as_ref(), &inputs);
        diagnostics.extend(check.diagnostics);
        dropped += check.dropped;
    }
    match project {
        Some(project) if diagnostics.is_empty() => Ok(project),
        _ => {
            if diagnostics.is_empty() {
                diagnostics.push(source.error(
                    Span::new(1, 1, 1),
                    "the file could not be loaded",
                    "this is a bug in gorae; please report it with the file",
                ));
            }
            Err(invalid_counting(diagnostics, dropped, &display))
        }
    }
}

/// The error for a file with problems: diagnostics in reading order (the project file
/// first, then other files such as templates), rendered.
fn invalid(diagnostics: Vec<Diagnostic>, display: &str) -> LoadError {
    invalid_counting(diagnostics, 0, display)
}

/// Like [`invalid`], with `dropped` more errors that were counted but not kept.
fn invalid_counting(mut diagnostics: Vec<Diagnostic>, dropped: usize, display: &str) -> LoadError {
    diagnostics.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            d.location
                .as_ref()
                .map(|l| (l.file != display, l.file.clone(), l.line, l.col))
        };
        key(a).cmp(&key(b))
    });
    let rendered = diagnostic::render_counting(&diagnostics, dropped, display);
    LoadError::Invalid {
        diagnostics,
        rendered,
    }
}

/// A file that is not UTF-8 text, pointing at the first bad byte.
fn not_utf8(display: &str, bytes: &[u8], error: std::str::Utf8Error) -> Diagnostic {
    let valid = String::from_utf8_lossy(&bytes[..error.valid_up_to()]);
    let source = Source::new(display, valid);
    let line = source.line_count();
    let col = source.line(line).chars().count() + 1;
    Diagnostic::new(
        format!("{display} is not UTF-8 text"),
        Some(source.locate(Span::new(line, col, 1))),
        "save the file as UTF-8; gorae reads text files only",
    )
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod interpolate_tests;

#[cfg(test)]
mod graph_tests;
