//! `gorae up`: build, start in dependency order, wait until ready.

use std::path::Path;
use std::time::Duration;

use crate::apply::{self, UpOptions};
use crate::cli::UpArgs;
use crate::exit::ExitCode;

use crate::config::Project;
use crate::engine::Engine;
use crate::images::Images;
use crate::lock::{self, LockError};
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
    if args.frozen {
        pin_to_lock(&project, &engine, &ui, &mut plan).await?;
    }
    let options = UpOptions {
        timeout: args.timeout.map(Duration::from_secs),
        only: (!args.services.is_empty()).then(|| args.services.clone()),
        rerun: Vec::new(),
    };
    let code = bring_up(&project, &engine, &plan, &ui, &options).await?;
    if !args.watch {
        return Ok(code);
    }
    // Other gorae commands may run while watching; each applied change locks again.
    drop(_lock);
    let mode = Mode::detect(args.ci, args.json);
    crate::watch::run(project, &engine, mode, verbose, args.logs).await?;
    Ok(code)
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

/// Checks gorae.lock against what the images resolve to now and makes the plan use
/// the locked images by id, so a tag that moves later changes nothing.
async fn pin_to_lock(
    project: &Project,
    engine: &Engine,
    ui: &Ui,
    plan: &mut Plan,
) -> anyhow::Result<()> {
    let locked = lock::read(project)?;
    let images = Images::new(engine, ui, &project.name);
    let resolved = lock::resolve(project, &images, Some(&locked)).await?;
    let differences = lock::differences(&locked, &resolved.lock);
    if !differences.is_empty() {
        return Err(LockError::Stale {
            path: lock::path_for(project),
            differences,
        }
        .into());
    }
    for service in &mut plan.services {
        if let ImagePlan::Pull { reference } = &mut service.image
            && let Some(info) = resolved.images.get(reference.as_str())
        {
            *reference = info.id.clone();
        }
    }
    Ok(())
}
