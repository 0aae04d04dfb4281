//! `gorae ci github|gitlab`: writes the CI file ([`crate::ci`]) at the root of the
//! git repository holding the project, so the CI system finds it; never replaces an
//! existing one without `--force`. Reads the project for what the file depends on:
//! the app services (where the tests run, which toolchain) and the variables that
//! only an uncommitted `.env` gives.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::Failure;
use crate::ci::{App, Install, Options, System, TestPlace};
use crate::cli::{CiArgs, CiSystem};
use crate::config::{ImageSource, Project, ServiceKind};
use crate::exit::ExitCode;
use crate::lock::LOCK_FILE;
use crate::ui::{Mode, Ui};

pub fn run(file: Option<&Path>, args: &CiArgs) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir()?;
    let project_file = crate::config::find_project_file(file, &cwd)?;
    let project_dir = project_file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| cwd.clone());
    let project_dir = project_dir.canonicalize().unwrap_or(project_dir);
    let root = repository_root(&project_dir).unwrap_or(&project_dir);
    let system = match args.system {
        CiSystem::Github => System::GitHub,
        CiSystem::Gitlab => System::GitLab,
    };
    let (project, secrets) = load_recording_dotenv(&project_file)?;
    let options = Options {
        version: env!("CARGO_PKG_VERSION").to_string(),
        install: install_source(args)?,
        test_command: args.test_command.clone(),
        test_place: test_place(&project, args.test_in.as_deref())?,
        project_dir: relative_dir(&project_dir, root),
        secrets,
        project: project.name.clone(),
    };

    let path = root.join(system.path());
    let path_shown = shown(&path, &cwd);
    if path.exists() && !args.force {
        return Err(Failure::new(
            format!(
                "{path_shown} already exists; nothing was written\n  hint: run `gorae ci {} --force` to replace it (your changes to it are lost), or add gorae's steps to it by hand",
                system_name(system)
            ),
            ExitCode::Conflict,
        )
        .into());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", shown(parent, &cwd)))?;
    }
    std::fs::write(&path, crate::ci::render(system, &options))
        .with_context(|| format!("cannot write {path_shown}"))?;

    let ui = Ui::new(Mode::Plain, false);
    ui.note(&format!(
        "wrote {path_shown}; commit it together with {LOCK_FILE}"
    ));
    if !project_dir.join(LOCK_FILE).is_file() {
        ui.note(&format!(
            "note: there is no {LOCK_FILE} yet; run `gorae lock` and commit it, since CI runs `gorae up --frozen`"
        ));
    }
    if !options.secrets.is_empty() {
        ui.note(&format!(
            "warning: gorae.yaml reads {} from .env, which CI does not have; the file reads {} from the CI system's secrets: add {} there",
            options.secrets.join(", "),
            if options.secrets.len() == 1 { "it" } else { "them" },
            if options.secrets.len() == 1 { "it" } else { "them" },
        ));
    }
    if args.test_command.is_none() {
        ui.note(&format!(
            "note: without --test-command the job checks that the environment starts and becomes ready; `gorae ci {} --test-command CMD --force` adds your tests",
            system_name(system)
        ));
    }
    Ok(ExitCode::Success)
}

/// Loads the project as `up` would, and names the variables it took from `.env`
/// rather than from the environment, unless `.env` is committed.
fn load_recording_dotenv(file: &Path) -> anyhow::Result<(Project, Vec<String>)> {
    let asked = std::cell::RefCell::new(std::collections::BTreeSet::new());
    let env = |name: &str| {
        let value = std::env::var(name).ok();
        if value.is_none() {
            asked.borrow_mut().insert(name.to_string());
        }
        value
    };
    let project = crate::config::load(file, &env)?;
    let dotenv_path = project.dir.join(".env");
    let dotenv = std::fs::read_to_string(&dotenv_path).unwrap_or_default();
    if dotenv.is_empty() || committed(&project.dir, ".env") {
        return Ok((project, Vec::new()));
    }
    let (values, _) = crate::config::interpolate::parse_dotenv(&dotenv);
    let secrets = asked
        .borrow()
        .iter()
        .filter(|name| values.contains_key(*name))
        .cloned()
        .collect();
    Ok((project, secrets))
}

/// Whether git tracks `name` in `dir` (without git, taken as not committed).
fn committed(dir: &Path, name: &str) -> bool {
    std::process::Command::new("git")
        .args(["ls-files", "--error-unmatch", name])
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn install_source(args: &CiArgs) -> Result<Install, Failure> {
    match (&args.git, &args.rev, &args.archive, &args.sha256) {
        (Some(url), Some(rev), _, _) => Ok(Install::Git {
            url: url.clone(),
            rev: rev.clone(),
        }),
        (_, _, Some(url), Some(sha256)) => {
            let sha256 = sha256.trim().to_ascii_lowercase();
            if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Failure::new(
                    format!(
                        "--sha256 `{sha256}` is not a sha256 (64 hex digits)\n  hint: `sha256sum gorae.tar.gz` prints it"
                    ),
                    ExitCode::Usage,
                ));
            }
            Ok(Install::Archive {
                url: url.clone(),
                sha256,
            })
        }
        _ => Ok(Install::Crates {
            version: env!("CARGO_PKG_VERSION").to_string(),
        }),
    }
}

/// The app services: built from a template whose toolchain CI can set up.
fn apps(project: &Project) -> Vec<App> {
    project
        .services
        .values()
        .filter_map(|service| {
            let ImageSource::Build { context, .. } = &service.image else {
                return None;
            };
            let template = service.template.as_ref()?.name.clone();
            let (_, bases) = crate::lock::references(service).ok()?;
            let base = crate::lock::unprefix(project, bases.first()?);
            let (_, version) = crate::engine::split_tag(&base);
            let dir = relative_dir(context, &project.dir).unwrap_or_else(|| ".".to_string());
            Some(App {
                service: service.name.clone(),
                template,
                version: version.to_string(),
                dir,
            })
        })
        .collect()
}

/// Where the tests run: `--test-in`, else inside the only built service, else on
/// the runner.
fn test_place(project: &Project, test_in: Option<&str>) -> Result<TestPlace, Failure> {
    let apps = apps(project);
    match test_in {
        Some("runner") => Ok(TestPlace::Runner { apps }),
        Some(name) => {
            super::known_service(project, name)?;
            Ok(TestPlace::Service(name.to_string()))
        }
        None => {
            let built: Vec<&str> = project
                .services
                .values()
                .filter(|s| {
                    matches!(s.image, ImageSource::Build { .. }) && s.kind == ServiceKind::Service
                })
                .map(|s| s.name.as_str())
                .collect();
            match built.as_slice() {
                [only] => Ok(TestPlace::Service(only.to_string())),
                _ => Ok(TestPlace::Runner { apps }),
            }
        }
    }
}

/// The nearest directory at or above `dir` holding `.git` (a directory, or a file in
/// a worktree or submodule).
fn repository_root(dir: &Path) -> Option<&Path> {
    dir.ancestors().find(|d| d.join(".git").exists())
}

/// `dir` relative to `root` with forward slashes, or `None` when it is the root.
fn relative_dir(dir: &Path, root: &Path) -> Option<String> {
    let rest = dir.strip_prefix(root).ok()?;
    let parts: Vec<String> = rest
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

fn system_name(system: System) -> &'static str {
    match system {
        System::GitHub => "github",
        System::GitLab => "gitlab",
    }
}

/// `path` relative to the current directory when it is below it.
fn shown(path: &Path, cwd: &Path) -> String {
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    path.strip_prefix(&cwd)
        .map(PathBuf::from)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_directory_is_named_relative_to_the_repository() {
        let root = Path::new("/r");
        assert_eq!(relative_dir(Path::new("/r"), root), None);
        assert_eq!(
            relative_dir(Path::new("/r/services/shop"), root).as_deref(),
            Some("services/shop")
        );
    }
}
