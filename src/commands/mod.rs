//! One module per command; [`dispatch`] picks it. Shared steps (find and load the
//! project, connect to the engine) live here so every command does them the same way.

mod config;
mod down;
mod exec;
mod logs;
mod ps;
mod up;

use std::path::Path;

use crate::cli::{Cli, Command};
use crate::config::Project;
use crate::engine::{Engine, EngineError};

/// Ctrl-C ended the command.
#[derive(Debug, thiserror::Error)]
#[error(
    "interrupted; what was started is left as it is, and the next `gorae up` continues from there"
)]
pub struct Interrupted;

/// Runs the chosen command.
/// Runs the chosen command; returns the process exit code.
pub async fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    let file = cli.file.as_deref();
    let code = match &cli.command {
        Command::Up(args) => up::run(file, cli.verbose, args).await?,
        Command::Down(args) => down::run(file, args).await?,
        Command::Ps(args) => ps::run(file, args).await?,
        Command::Config(args) => config::run(file, args)?,
        // The command's own exit code is passed through as it is.
        Command::Exec(args) => return exec::run(file, args).await,
        Command::Logs(args) => logs::run(file, args).await?,
    };
    Ok(code.code())
}

/// Finds and loads the project file from the current directory.
pub fn load_project(file: Option<&Path>) -> anyhow::Result<Project> {
    let cwd = std::env::current_dir()?;
    let path = crate::config::find_project_file(file, &cwd)?;
    let env = |name: &str| std::env::var(name).ok();
    Ok(crate::config::load(&path, &env)?)
}

/// Connects to the engine.
pub async fn connect() -> Result<Engine, EngineError> {
    Engine::connect().await
}
