//! `gorae lock`: write gorae.lock, or with `--check` say whether it is stale.

use std::path::Path;

use crate::cli::LockArgs;
use crate::exit::ExitCode;
use crate::images::Images;
use crate::lock::{self, LockError};
use crate::ui::{Mode, Ui};

pub async fn run(file: Option<&Path>, args: &LockArgs) -> anyhow::Result<ExitCode> {
    let project = super::load_project(file)?;
    let engine = super::connect().await?;
    let ui = Ui::new(Mode::detect(true, false), false);
    let images = Images::new(&engine, &ui, &project.name);
    let resolved = lock::resolve(&project, &images, None).await?;
    let path = lock::path_for(&project);
    if args.check {
        let locked = lock::read(&project)?;
        let differences = lock::differences(&locked, &resolved.lock);
        if !differences.is_empty() {
            return Err(LockError::Stale { path, differences }.into());
        }
        ui.note(&format!("{} is up to date", path.display()));
        return Ok(ExitCode::Success);
    }
    std::fs::write(&path, lock::render(&resolved.lock))
        .map_err(|err| anyhow::anyhow!("cannot write {}: {err}", path.display()))?;
    ui.note(&format!(
        "wrote {} ({} services); commit it so CI runs the same images with `gorae up --frozen`",
        path.display(),
        resolved.lock.services.len()
    ));
    Ok(ExitCode::Success)
}
