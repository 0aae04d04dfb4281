//! `gorae lock`: write gorae.lock, move entries with `--update`, or with `--check`
//! say whether it is stale or a locked tag has moved.

use crate::cli::LockArgs;
use crate::config::Project;
use crate::engine::Engine;
use crate::exit::ExitCode;
use crate::images::Images;
use crate::lock::{self, LockError, Lockfile, Refresh};
use crate::ui::{Mode, Ui};

pub async fn run(
    file: crate::commands::ProjectFile<'_>,
    args: &LockArgs,
) -> anyhow::Result<ExitCode> {
    let project = super::load_project(file)?;
    for name in args.update.iter().flatten() {
        super::known_service(&project, name)?;
    }
    let engine = super::connect().await?;
    let ui = Ui::new(Mode::detect(true, false), false);
    let path = lock::path_for(&project);
    if args.check {
        let locked = lock::read(&project)?;
        return check(&project, &engine, &ui, &locked).await;
    }
    let (locked, refresh) = match args.update.as_deref() {
        // Everything anew: a lock that cannot be read is replaced, not repaired.
        Some([]) => (
            lock::read_if_present(&project).unwrap_or(None),
            Refresh::All,
        ),
        Some(services) => (Some(lock::read(&project)?), Refresh::Services(services)),
        None => (lock::read_if_present(&project)?, Refresh::Nothing),
    };
    let images = Images::new(&engine, &ui, &project.name);
    let pinned = lock::pin(&project, &engine, &images, locked.as_ref(), refresh, false).await?;
    let shown = path.display();
    match &locked {
        Some(_) if pinned.changes.is_empty() => {
            ui.note(&format!("{shown} is up to date"));
            return Ok(ExitCode::Success);
        }
        Some(_) => ui.note(&format!("updated {shown}:\n{}", bullets(&pinned.changes))),
        None => {
            let count = pinned.lock.services.len();
            ui.note(&format!(
                "wrote {shown} ({count} service{}); commit it so every machine and CI run the same images",
                if count == 1 { "" } else { "s" }
            ))
        }
    }
    std::fs::write(&path, lock::render(&pinned.lock))
        .map_err(|err| anyhow::anyhow!("cannot write {shown}: {err}"))?;
    Ok(ExitCode::Success)
}

/// `--check`: gorae.yaml against the lock, then each locked tag against what its
/// registry names now. Nothing is pulled and nothing written.
async fn check(
    project: &Project,
    engine: &Engine,
    ui: &Ui,
    locked: &Lockfile,
) -> anyhow::Result<ExitCode> {
    let path = lock::path_for(project);
    let text = lock::project_text(project)?;
    let changed = lock::structure_changes(project, &text, locked);
    let moved = lock::moves(project, engine, locked).await?;
    if changed.is_empty() && moved.is_empty() {
        ui.note(&format!("{} is up to date", path.display()));
        return Ok(ExitCode::Success);
    }
    let hint = if changed.is_empty() {
        lock::MOVED_HINT
    } else {
        lock::STALE_HINT
    };
    let mut differences = changed;
    differences.extend(moved);
    Err(LockError::Stale {
        path,
        differences,
        hint,
    }
    .into())
}

fn bullets(lines: &[String]) -> String {
    lines
        .iter()
        .map(|line| format!("  - {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}
