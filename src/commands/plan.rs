//! `gorae plan` (and `gorae up --dry-run`): what `up` would do now and why, read
//! from the engine and the project's files, changing nothing.

use crate::apply::{self, UpOptions};
use crate::cli::PlanArgs;
use crate::exit::ExitCode;
use crate::images::Images;
use crate::lock::{self, LockError};
use crate::plan::{self, Pins};
use crate::ui::{Mode, Ui};

pub async fn run(
    file: crate::commands::ProjectFile<'_>,
    args: &PlanArgs,
) -> anyhow::Result<ExitCode> {
    let project = super::load_project(file)?;
    for service in &args.services {
        super::known_service(&project, service)?;
    }
    // Like `up`, gorae.lock decides the images when there is one; unlike `up`, an
    // entry it lacks is not looked up in a registry nor written: that image is
    // planned by its tag, as `up` would lock it.
    let locked = lock::read_if_present(&project)?;
    if args.frozen && locked.is_none() {
        return Err(LockError::Missing {
            project_file: project.file.clone(),
        }
        .into());
    }
    let pins = match &locked {
        Some(locked) => lock::locked_ids(&project, locked),
        None => Pins::new(),
    };
    let only = (!args.services.is_empty()).then(|| args.services.clone());
    // The secrets' values decide whether a container is re-created, as in `up`.
    let secrets = super::read_secrets(&project, only.as_deref()).await?;
    let mut plan = plan::desired_pinned(&project, &pins);
    secrets.fill(&mut plan);
    let engine = super::connect().await?;
    // Observing never pulls or builds, so this prints nothing.
    let ui = Ui::new(Mode::Plain, false);
    let images = Images::new(&engine, &ui, &project.name);
    if locked.is_some() {
        images.prefetch_all().await?;
    }
    let options = UpOptions {
        only,
        ..UpOptions::default()
    };
    let decision = apply::observe_and_decide(&engine, &plan, &options, &images).await?;
    let text = if args.json {
        serde_json::to_string_pretty(&decision)? + "\n"
    } else if args.docker {
        plan::show::docker(&project, &plan, &decision)
    } else {
        plan::show::text(&project.name, &decision)
    };
    super::print_stdout(&text)?;
    Ok(ExitCode::Success)
}
