//! `gorae down`: stop and remove the project's containers and network; volumes
//! only when asked.

use futures_util::future::try_join_all;

use crate::cli::DownArgs;
use crate::exit::ExitCode;
use crate::project_lock::ProjectLock;
use crate::scope;
use crate::ui::{Event, Mode, Ui};

pub async fn run(
    file: crate::commands::ProjectFile<'_>,
    args: &DownArgs,
) -> anyhow::Result<ExitCode> {
    let project = super::load_project(file)?;
    let engine = super::connect().await?;
    let ui = Ui::new(Mode::detect(false, false), false);
    // Taken before listing, so an `up` running now cannot add containers unseen.
    let _lock = ProjectLock::acquire(&project.name, || {
        ui.note(&format!(
            "another gorae is changing project `{}`; waiting",
            project.name
        ))
    })
    .await?;
    // Only what carries this directory's label: another directory may use the name.
    let owned = scope::observe(&engine, &crate::plan::scope_of(&project)).await?;
    let containers = owned.containers;
    let ui = ui.with_services(containers.iter().map(|c| c.service.as_str()));

    // Stop everything at once: each container's stop time overlaps the others'.
    try_join_all(containers.iter().map(|container| {
        let (engine, ui) = (&engine, &ui);
        async move {
            ui.service(&container.service, Event::Stopping);
            engine.stop_and_remove(&container.id).await?;
            ui.service(&container.service, Event::Removed);
            Ok::<_, crate::engine::EngineError>(())
        }
    }))
    .await?;
    for network in &owned.networks {
        engine.remove_network(network).await?;
    }
    let volumes = owned.volumes;
    ui.finish();
    if containers.is_empty() {
        ui.note(&format!("project `{}` has no containers", project.name));
    }
    if args.volumes {
        try_join_all(volumes.iter().map(|volume| engine.remove_volume(volume))).await?;
        if !volumes.is_empty() {
            ui.note(&format!("deleted data volumes: {}", volumes.join(", ")));
        }
    } else if !volumes.is_empty() {
        ui.note(&format!(
            "kept data volumes: {} (`gorae down --volumes` deletes them)",
            volumes.join(", ")
        ));
    }
    Ok(ExitCode::Success)
}
