//! `gorae export compose`: writes the environment as a Compose file (see
//! [`crate::export::compose`]). Reads gorae.yaml and gorae.lock, never the engine.

use std::path::Path;

use crate::cli::{ExportArgs, ExportFormat};
use crate::exit::ExitCode;
use crate::{export, lock, plan};

pub fn run(file: Option<&Path>, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let project = super::load_project(file)?;
    let locked = lock::read_if_present(&project)?;
    let plan = plan::desired(&project);
    let text = match args.format {
        ExportFormat::Compose => export::compose::compose_file(&project, &plan, locked.as_ref()),
    };
    super::print_stdout(&text)?;
    Ok(ExitCode::Success)
}
