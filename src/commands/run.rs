//! `gorae run TASK`: run a `kind: task` service again now (a migration, a seed),
//! after bringing up what it depends on. Without this, `gorae up` runs a task only
//! when its inputs changed.

use std::time::Duration;

use super::Failure;
use crate::apply::UpOptions;
use crate::cli::RunArgs;
use crate::config::ServiceKind;
use crate::exit::ExitCode;
use crate::images::Images;
use crate::plan;
use crate::ui::{Mode, Ui};

pub async fn run(
    file: crate::commands::ProjectFile<'_>,
    verbose: bool,
    args: &RunArgs,
) -> anyhow::Result<ExitCode> {
    let project = super::load_project(file)?;
    let service = super::known_service(&project, &args.task)?;
    if service.kind != ServiceKind::Task {
        let tasks: Vec<&str> = project
            .services
            .values()
            .filter(|s| s.kind == ServiceKind::Task)
            .map(|s| s.name.as_str())
            .collect();
        let hint = if tasks.is_empty() {
            format!(
                "`gorae restart {0}` restarts it; a service with `kind: task` runs once and is what `gorae run` runs",
                args.task
            )
        } else {
            format!(
                "`gorae restart {}` restarts it; the tasks are: {}",
                args.task,
                tasks.join(", ")
            )
        };
        return Err(Failure::new(
            format!(
                "`{}` is a service, not a task (`kind: task`), so it has nothing to run once\n  hint: {hint}",
                args.task
            ),
            ExitCode::Usage,
        )
        .into());
    }
    let secrets = super::read_secrets(&project, Some(std::slice::from_ref(&args.task))).await?;
    let engine = super::connect().await?;
    let ui = Ui::new(Mode::detect(args.ci, false), verbose)
        .with_services(project.services.keys().map(String::as_str));
    let _lock = super::up::lock_project(&project, &ui).await?;
    let images = Images::new(&engine, &ui, &project.name);
    let pins = super::up::follow_lock(&project, &engine, &images, &ui, false).await?;
    let mut plan = plan::desired_pinned(&project, &pins);
    secrets.fill(&mut plan);
    let options = UpOptions {
        timeout: args.timeout.map(Duration::from_secs),
        only: Some(vec![args.task.clone()]),
        rerun: vec![args.task.clone()],
        ..UpOptions::default()
    };
    let code = super::up::bring_up(&project, &engine, &plan, &ui, &options, &images).await?;
    ui.note(&format!("`gorae logs {}` shows what it printed", args.task));
    Ok(code)
}
