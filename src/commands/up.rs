//! `gorae up`: build, start in dependency order, wait until ready.

use std::path::Path;
use std::time::Duration;

use crate::apply::{self, UpOptions};
use crate::cli::UpArgs;
use crate::exit::ExitCode;
use crate::plan;
use crate::project_lock::ProjectLock;
use crate::ui::{Mode, Ui};

use super::Interrupted;

pub async fn run(file: Option<&Path>, verbose: bool, args: &UpArgs) -> anyhow::Result<ExitCode> {
    let project = super::load_project(file)?;
    let plan = plan::desired(&project);
    let engine = super::connect().await?;
    let ui = Ui::new(Mode::detect(args.ci, args.json), verbose)
        .with_services(plan.services.iter().map(|s| s.name.as_str()));
    let _lock = ProjectLock::acquire(&project.name, || {
        ui.note(&format!(
            "another gorae is changing project `{}`; waiting for it to finish",
            project.name
        ))
    })
    .await?;
    let options = UpOptions {
        timeout: args.timeout.map(Duration::from_secs),
    };
    let outcome = tokio::select! {
        outcome = apply::up(&engine, &plan, &ui, &options) => outcome,
        _ = tokio::signal::ctrl_c() => {
            ui.finish();
            return Err(Interrupted.into());
        }
    };
    ui.finish();
    let report = outcome?;
    let services = report.created.len() + report.unchanged.len();
    ui.note(&format!(
        "{}: {services} service{} ready in {:.1}s",
        project.name,
        if services == 1 { "" } else { "s" },
        ui.elapsed().as_secs_f64()
    ));
    Ok(ExitCode::Success)
}
