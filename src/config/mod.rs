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
mod env_file;
pub mod env_secret;
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
mod seed;
mod service;
pub(crate) mod source;
pub mod template;
mod validate;
pub mod variables;
pub mod watch;
pub(crate) mod yaml;

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
use interpolate::{Vars, interpolate_tree};
use source::{Source, Span};
use template::Templates;

/// The project file's name.
pub const PROJECT_FILE: &str = "gorae.yaml";
/// The file of variables beside the project file.
pub const DOTENV_FILE: &str = ".env";
/// The personal layer over `.env`, kept out of git (`gorae init` adds it to .gitignore).
pub const DOTENV_LOCAL_FILE: &str = ".env.local";
/// The variable that names the active profiles when `--profile` is not given.
pub const PROFILES_VAR: &str = "GORAE_PROFILES";

/// What the command line adds to loading the project file.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--profile` values; `None` (none given) reads [`PROFILES_VAR`] instead.
    pub profiles: Option<Vec<String>>,
}

impl LoadOptions {
    /// The active profiles and where they were named: `--profile`, else
    /// `GORAE_PROFILES` (comma-separated). Empty names are left out; order is kept,
    /// since a later profile's `.env.<profile>` overrides an earlier one's.
    fn active_profiles(&self, env: &dyn Fn(&str) -> Option<String>) -> (Vec<String>, &'static str) {
        let (raw, from) = match &self.profiles {
            Some(given) => (given.join(","), "--profile"),
            None => (env(PROFILES_VAR).unwrap_or_default(), PROFILES_VAR),
        };
        let mut profiles: Vec<String> = Vec::new();
        for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if !profiles.iter().any(|p| p == name) {
                profiles.push(name.to_string());
            }
        }
        (profiles, from)
    }
}
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
    /// `--profile` or `GORAE_PROFILES` names a profile no service has.
    #[error("{from} names profile `{name}`, which no service in {file} has\n  hint: {hint}")]
    UnknownProfile {
        name: String,
        from: &'static str,
        file: String,
        hint: String,
    },
}

impl LoadError {
    /// A profile the command line names and the file lacks is a command-line mistake;
    /// every other failure to load the project is a configuration error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            LoadError::UnknownProfile { .. } => ExitCode::Usage,
            _ => ExitCode::Config,
        }
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
    load_with(file, env, &LoadOptions::default())
}

/// Like [`load`], with the command line's profiles: the variable files read are
/// `.env`, `.env.local` and `.env.<profile>` for each active profile (see
/// [`variables`]).
pub fn load_with(
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    options: &LoadOptions,
) -> Result<Project, LoadError> {
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
    let (profiles, from) = options.active_profiles(env);
    let dir = absolute.parent().unwrap_or(Path::new("/"));
    let layers = read_layers(dir, display_dir(&display), &profiles)
        .map_err(|diagnostic| invalid(vec![diagnostic], &display))?;
    let project = load_parts(
        text,
        absolute,
        display.clone(),
        env,
        layers,
        profiles.clone(),
    )?;
    check_profiles(&project, &profiles, from, &display)?;
    Ok(project)
}

/// The variable files, lowest precedence first: `.env`, `.env.local`, then
/// `.env.<profile>` for each active profile; those that exist. `shown_dir` is how
/// messages show `dir`.
// A diagnostic is large, and these run a few times per command, never in a loop.
#[allow(clippy::result_large_err)]
fn read_layers(
    dir: &Path,
    shown_dir: &Path,
    profiles: &[String],
) -> Result<Vec<Source>, Diagnostic> {
    let mut names = vec![DOTENV_FILE.to_string(), DOTENV_LOCAL_FILE.to_string()];
    // A name that could leave the directory is not a profile; it is refused later.
    names.extend(
        profiles
            .iter()
            .filter(|p| is_profile_name(p))
            .map(|p| format!("{DOTENV_FILE}.{p}")),
    );
    let mut layers = Vec::new();
    for name in names {
        let shown = shown_dir.join(&name).display().to_string();
        if let Some(source) = read_text(&dir.join(&name), &shown)? {
            layers.push(source);
        }
    }
    Ok(layers)
}

/// Reads a text file the project uses beside gorae.yaml (`.env`, an `env_file`):
/// `None` when it does not exist, a diagnostic without a position when it is too
/// large, not UTF-8 or unreadable.
#[allow(clippy::result_large_err)]
pub(crate) fn read_text(path: &Path, shown: &str) -> Result<Option<Source>, Diagnostic> {
    match read_limited(path) {
        Ok(None) => Err(Diagnostic::new(
            format!(
                "{shown} is larger than {} MiB, the most gorae reads",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
            None,
            "keep only variables in it; it is read on every command",
        )),
        Ok(Some(bytes)) => match String::from_utf8(bytes) {
            Ok(text) => Ok(Some(Source::new(shown, text))),
            Err(error) => Err(not_utf8(shown, error.as_bytes(), error.utf8_error())),
        },
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(Diagnostic::new(
            format!("cannot read {shown}: {error}"),
            None,
            "check the file's permissions, or remove it",
        )),
    }
}

/// A profile's name, as Compose spells them: letters, digits, `_`, `.` and `-`,
/// starting with a letter or digit.
pub fn is_profile_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Every active profile must be one some service has: a typo would otherwise start
/// nothing more, silently.
fn check_profiles(
    project: &Project,
    active: &[String],
    from: &'static str,
    display: &str,
) -> Result<(), LoadError> {
    let declared: std::collections::BTreeSet<&str> = project
        .services
        .values()
        .flat_map(|s| s.profiles.iter().map(String::as_str))
        .collect();
    let Some(unknown) = active.iter().find(|p| !declared.contains(p.as_str())) else {
        return Ok(());
    };
    let hint = match fields::suggest(unknown, declared.iter().copied()) {
        Some(close) => format!("did you mean `{close}`?"),
        None if declared.is_empty() => {
            "no service has `profiles:`; add `profiles: [NAME]` to the services that should start only with it".to_string()
        }
        None => format!(
            "the profiles are: {}",
            declared.iter().copied().collect::<Vec<_>>().join(", ")
        ),
    };
    Err(LoadError::UnknownProfile {
        name: unknown.clone(),
        from,
        file: display.to_string(),
        hint,
    })
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
        Vec::new(),
        Vec::new(),
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
    layers: Vec<Source>,
    profiles: Vec<String>,
) -> Result<Project, LoadError> {
    let source = Source::new(display.clone(), text);
    let (mut root, mut diagnostics) = yaml::parse(&source);
    let syntax_failed = root.is_none() && !diagnostics.is_empty();

    let (file_values, variables) = variables::layer(&layers, env, &mut diagnostics);
    let vars = Vars {
        env,
        dotenv: file_values,
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
            display_dir: display_dir(&display).to_path_buf(),
            templates: &templates,
            env,
        };
        project = validate::validate(&mut check, root.as_ref(), &inputs);
        if let Some(project) = &mut project {
            project.profiles = profiles;
            project.variables = variables;
        }
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

#[cfg(test)]
mod layers_tests;
