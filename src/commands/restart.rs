//! `gorae restart [SERVICE...]`: stop services and bring them up again, waiting
//! until they are ready. A task named here runs again.

use std::time::Duration;

use crate::apply::UpOptions;
use crate::cli::RestartArgs;
use crate::config::ServiceKind;
use crate::exit::ExitCode;
use crate::images::Images;
use crate::plan;
use crate::ui::{Mode, Ui};

pub async fn run(
    file: crate::commands::ProjectFile<'_>,
    verbose: bool,
    args: &RestartArgs,
) -> anyhow::Result<ExitCode> {
    let project = super::load_project(file)?;
    for service in &args.services {
        super::known_service(&project, service)?;
    }
    // Without names: the services a plain `up` brings up (not another profile's).
    let named: Vec<String> = if args.services.is_empty() {
        plan::selection(&plan::desired(&project), None)
            .into_iter()
            .collect()
    } else {
        args.services.clone()
    };
    let secrets = super::read_secrets(&project, Some(&named)).await?;
    let engine = super::connect().await?;
    let ui = Ui::new(Mode::detect(args.ci, false), verbose)
        .with_services(project.services.keys().map(String::as_str));
    let _lock = super::up::lock_project(&project, &ui).await?;
    let images = Images::new(&engine, &ui, &project.name);
    let pins = super::up::follow_lock(&project, &engine, &images, &ui, false).await?;
    let mut plan = plan::desired_pinned(&project, &pins);
    secrets.fill(&mut plan);
    super::stop::stop(&engine, &project, &named, &ui).await?;
    // A throw-away service comes back empty, and is seeded again.
    let seeds =
        super::seed::prepare(&project, &engine, &plan, &images, &ui, Some(&named), &[]).await?;
    let mut options = UpOptions {
        timeout: args.timeout.map(Duration::from_secs),
        only: Some(named),
        // Only a task named on the command line runs again: a plain `restart` of
        // everything must not repeat a migration by surprise.
        rerun: args
            .services
            .iter()
            .filter(|name| project.services[*name].kind == ServiceKind::Task)
            .cloned()
            .collect(),
        ..UpOptions::default()
    };
    super::seed::include(&mut options, seeds);
    super::up::bring_up(&project, &engine, &plan, &ui, &options, &images).await
}
