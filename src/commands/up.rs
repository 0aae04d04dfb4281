//! `gorae up`: build, start in dependency order, wait until ready.

use std::path::Path;
use std::time::Duration;

use crate::apply::{self, UpOptions};
use crate::cli::UpArgs;
use crate::exit::ExitCode;

use crate::config::Project;
use crate::engine::Engine;
use crate::images::Images;
use crate::lock::{self, LockError, Lockfile, Refresh};
use crate::plan::{self, ImagePlan, Plan};
use crate::project_lock::ProjectLock;
use crate::ui::{Mode, Ui};

use super::Interrupted;

pub async fn run(file: Option<&Path>, verbose: bool, args: &UpArgs) -> anyhow::Result<ExitCode> {
    let project = super::load_project(file)?;
    for service in &args.services {
        super::known_service(&project, service)?;
    }
    let mut plan = plan::desired(&project);
    let engine = super::connect().await?;
    let ui = Ui::new(Mode::detect(args.ci, args.json), verbose)
        .with_services(plan.services.iter().map(|s| s.name.as_str()));
    let _lock = lock_project(&project, &ui).await?;
    follow_lock(&project, &engine, &ui, &mut plan, args.frozen).await?;
    let options = UpOptions {
        timeout: args.timeout.map(Duration::from_secs),
        only: (!args.services.is_empty()).then(|| args.services.clone()),
        rerun: Vec::new(),
    };
    bring_up(&project, &engine, &plan, &ui, &options).await
}

/// Takes the project's lock, saying so when another gorae holds it.
pub(super) async fn lock_project(project: &Project, ui: &Ui) -> std::io::Result<ProjectLock> {
    ProjectLock::acquire(&project.name, || {
        ui.note(&format!(
            "another gorae is changing project `{}`; waiting for it to finish",
            project.name
        ))
    })
    .await
}

/// Applies the plan (stopping cleanly on Ctrl-C) and prints the summary. The caller
/// holds the project's lock.
pub(super) async fn bring_up(
    project: &Project,
    engine: &Engine,
    plan: &Plan,
    ui: &Ui,
    options: &UpOptions,
) -> anyhow::Result<ExitCode> {
    let outcome = tokio::select! {
        outcome = apply::up(engine, plan, ui, options) => outcome,
        _ = tokio::signal::ctrl_c() => {
            ui.finish();
            return Err(Interrupted.into());
        }
    };
    ui.finish();
    let report = outcome?;
    let services = report.created.len() + report.unchanged.len();
    let mut details = Vec::new();
    for (count, what) in [
        (report.built.len(), "built"),
        (report.created.len(), "started"),
        (report.unchanged.len(), "unchanged"),
        (report.removed.len(), "removed"),
    ] {
        if count > 0 {
            details.push(format!("{count} {what}"));
        }
    }
    ui.note(&format!(
        "{}: {services} service{} ready in {:.1}s ({})",
        project.name,
        if services == 1 { "" } else { "s" },
        ui.elapsed().as_secs_f64(),
        details.join(", ")
    ));
    Ok(ExitCode::Success)
}

/// Like Cargo.lock: whenever gorae.lock exists, it decides the images of every
/// command that creates containers (`up`, `restart`, `run`); `frozen` also refuses a
/// missing lock and any change to it.
pub(super) async fn follow_lock(
    project: &Project,
    engine: &Engine,
    ui: &Ui,
    plan: &mut Plan,
    frozen: bool,
) -> anyhow::Result<()> {
    let locked = lock::read_if_present(project)?;
    if frozen || locked.is_some() {
        pin_to_lock(project, engine, ui, plan, locked.as_ref(), frozen).await?;
    }
    Ok(())
}

/// Makes the plan run the images gorae.lock names, by id, so a tag that moves
/// changes nothing: pulled services are created from the locked image and builds use
/// the locked base images. Entries for services that changed in gorae.yaml are
/// updated (and said so); with `frozen`, any change to the lock is refused instead.
async fn pin_to_lock(
    project: &Project,
    engine: &Engine,
    ui: &Ui,
    plan: &mut Plan,
    locked: Option<&Lockfile>,
    frozen: bool,
) -> anyhow::Result<()> {
    let images = Images::new(engine, ui, &project.name);
    let pinned = lock::pin(project, engine, &images, locked, Refresh::Nothing, frozen).await?;
    if !pinned.changes.is_empty() {
        if frozen {
            return Err(LockError::Stale {
                path: lock::path_for(project),
                differences: pinned.changes,
                hint: lock::STALE_HINT,
            }
            .into());
        }
        let path = lock::path_for(project);
        std::fs::write(&path, lock::render(&pinned.lock))
            .map_err(|err| anyhow::anyhow!("cannot write {}: {err}", path.display()))?;
        ui.note(&format!(
            "updated {} for what changed in gorae.yaml (review and commit it):\n{}",
            path.display(),
            pinned
                .changes
                .iter()
                .map(|c| format!("  - {c}"))
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    for service in &mut plan.services {
        if let ImagePlan::Pull { reference } = &mut service.image
            && let Some(id) = pinned.ids.get(&(service.name.clone(), reference.clone()))
        {
            *reference = id.clone();
        }
    }
    plan.pinned_bases = pinned.ids;
    Ok(())
}
