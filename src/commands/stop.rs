//! `gorae stop [SERVICE...]`: stop services and keep their containers, so that
//! `gorae up` or `gorae restart` starts the same containers again.

use futures_util::future::try_join_all;

use crate::cli::StopArgs;
use crate::config::Project;
use crate::engine::{Engine, EngineError, ExistingContainer, STOP_TIMEOUT_SECS};
use crate::exit::ExitCode;
use crate::ui::{Event, Mode, Ui};

pub async fn run(
    file: crate::commands::ProjectFile<'_>,
    args: &StopArgs,
) -> anyhow::Result<ExitCode> {
    let project = super::load_project(file)?;
    for service in &args.services {
        super::known_service(&project, service)?;
    }
    let engine = super::connect().await?;
    let ui = Ui::new(Mode::detect(false, false), false)
        .with_services(project.services.keys().map(String::as_str));
    let _lock = super::up::lock_project(&project, &ui).await?;
    let stopped = stop(&engine, &project, &args.services, &ui).await?;
    ui.finish();
    if stopped.is_empty() {
        ui.note(&format!(
            "nothing to stop: {} not running",
            if args.services.is_empty() {
                "no service of this project is".to_string()
            } else if args.services.len() == 1 {
                format!("{} is", args.services[0])
            } else {
                format!("{} are", args.services.join(", "))
            }
        ));
    } else {
        ui.note(&format!(
            "stopped {}; `gorae up` starts {} again",
            stopped.join(", "),
            if stopped.len() == 1 { "it" } else { "them" }
        ));
    }
    Ok(ExitCode::Success)
}

/// Stops the running containers of `services` (every service when empty), all at
/// once; returns the services stopped, sorted. The caller holds the project's lock.
pub(super) async fn stop(
    engine: &Engine,
    project: &Project,
    services: &[String],
    ui: &Ui,
) -> anyhow::Result<Vec<String>> {
    let running: Vec<ExistingContainer> = super::observe(engine, project)
        .await?
        .containers
        .into_iter()
        .filter(|c| c.is_running() && (services.is_empty() || services.contains(&c.service)))
        .collect();
    try_join_all(running.iter().map(|container| async move {
        ui.service(&container.service, Event::Stopping);
        engine
            .stop_container(&container.id, STOP_TIMEOUT_SECS)
            .await?;
        ui.service(&container.service, Event::Stopped);
        Ok::<_, EngineError>(())
    }))
    .await?;
    let mut stopped: Vec<String> = running.into_iter().map(|c| c.service).collect();
    stopped.sort();
    Ok(stopped)
}
