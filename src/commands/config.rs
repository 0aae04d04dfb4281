//! `gorae config`: validate the project file and print it resolved, secrets masked.
//! Never contacts the engine, so it works in editors, hooks and CI anywhere.

use std::path::Path;

use crate::cli::ConfigArgs;
use crate::exit::ExitCode;

pub fn run(file: Option<&Path>, args: &ConfigArgs) -> anyhow::Result<ExitCode> {
    let project = super::load_project(file)?;
    if args.json {
        println!("{}", crate::config::to_normalized_json(&project));
    } else {
        print!("{}", crate::config::to_normalized_yaml(&project));
    }
    Ok(ExitCode::Success)
}
