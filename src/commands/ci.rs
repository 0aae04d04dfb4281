//! `gorae ci github|gitlab`: writes the CI file ([`crate::ci`]) at the root of the
//! git repository holding the project, so the CI system finds it; never replaces an
//! existing one without `--force`.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::Failure;
use crate::ci::{Options, System};
use crate::cli::{CiArgs, CiSystem};
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
    let options = Options {
        version: env!("CARGO_PKG_VERSION").to_string(),
        test_command: args.test_command.clone(),
        project_dir: relative_dir(&project_dir, root),
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
    if args.test_command.is_none() {
        ui.note(&format!(
            "note: without --test-command the job checks that the environment starts and becomes ready; `gorae ci {} --test-command CMD --force` adds your tests",
            system_name(system)
        ));
    }
    Ok(ExitCode::Success)
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
