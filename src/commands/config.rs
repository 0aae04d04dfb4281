//! `gorae config`: validate the project file and print it resolved, secrets masked.
//! Without `--resolved` it never contacts the engine, so it works in editors, hooks
//! and CI anywhere.

use crate::cli::ConfigArgs;
use crate::exit::ExitCode;
use crate::images::Images;
use crate::ui::{Mode, Ui};
use crate::{plan, resolved};

pub async fn run(
    file: crate::commands::ProjectFile<'_>,
    args: &ConfigArgs,
) -> anyhow::Result<ExitCode> {
    let project = super::load_project(file)?;
    if !args.resolved {
        if args.json {
            super::print_stdout(&format!(
                "{}\n",
                crate::config::to_normalized_json(&project)
            ))?;
        } else {
            super::print_stdout(&crate::config::to_normalized_yaml(&project))?;
        }
        return Ok(ExitCode::Success);
    }
    let engine = super::connect().await?;
    let plan = plan::desired(&project);
    let ui = Ui::new(Mode::detect(true, false), false);
    let images = Images::new(&engine, &ui, &project.name);
    // What `up` runs: the locked images when there is a lock.
    let locked = crate::lock::read_if_present(&project)?;
    let view = resolved::resolve(&project, &plan, &images, locked.as_ref()).await?;
    let masked = view.masked(&project);
    if args.json {
        super::print_stdout(&format!("{}\n", serde_json::to_string_pretty(&masked)?))?;
    } else {
        // The fingerprint is the last line, easy to compare across machines.
        super::print_stdout(&crate::config::to_yaml(&masked))?;
    }
    Ok(ExitCode::Success)
}
