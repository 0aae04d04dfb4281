//! One module per command; [`dispatch`] picks it. Shared steps (find and load the
//! project, connect to the engine) live here so every command does them the same way.

mod ci;
mod completions;
mod config;
mod doctor;
mod down;
mod env;
mod exec;
mod export;
mod graph;
mod init;
mod lock;
pub mod logs;
mod plan;
mod ps;
mod restart;
mod run;
mod schema;
mod seed;
mod snapshot;
mod stop;
mod tunnel;
pub(crate) mod up;

use std::path::Path;

use crate::cli::{Cli, Command};
use crate::config::{Project, Service};
use crate::engine::{Engine, EngineError};
use crate::exit::ExitCode;

/// Ctrl-C ended the command.
#[derive(Debug, thiserror::Error)]
#[error(
    "interrupted; what was started is left as it is, and the next `gorae up` continues from there"
)]
pub struct Interrupted;

impl Interrupted {
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::Interrupted
    }
}

/// A failure a command finds itself (an unknown service, a stopped one), with the
/// documented exit code it ends with.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub message: String,
    pub code: ExitCode,
}

impl Failure {
    pub fn new(message: impl Into<String>, code: ExitCode) -> Failure {
        Failure {
            message: message.into(),
            code,
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        self.code
    }
}

/// The service named on the command line; a wrong name is a command-line error
/// that lists the names there are.
pub fn known_service<'a>(project: &'a Project, name: &str) -> Result<&'a Service, Failure> {
    project.services.get(name).ok_or_else(|| {
        let names: Vec<&str> = project.services.keys().map(String::as_str).collect();
        Failure::new(
            format!(
                "no service `{name}` in {}\n  hint: the services are: {}",
                project.file.display(),
                names.join(", ")
            ),
            ExitCode::Usage,
        )
    })
}

/// Which project a command works on: the file `-f` names (else the nearest
/// gorae.yaml) and the profiles `--profile` names (else `GORAE_PROFILES`).
#[derive(Debug, Clone, Copy)]
pub struct ProjectFile<'a> {
    pub path: Option<&'a Path>,
    pub profiles: Option<&'a [String]>,
}

/// Runs the chosen command; returns the process exit code.
pub async fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    let project_file = ProjectFile {
        path: cli.file.as_deref(),
        profiles: (!cli.profiles.is_empty()).then_some(cli.profiles.as_slice()),
    };
    let file = project_file;
    let code = match &cli.command {
        Command::Up(args) if args.dry_run => {
            plan::run(
                file,
                &crate::cli::PlanArgs {
                    services: args.services.clone(),
                    json: args.json,
                    docker: false,
                    frozen: args.frozen,
                },
            )
            .await?
        }
        Command::Up(args) => up::run(file, cli.verbose, args).await?,
        Command::Plan(args) => plan::run(file, args).await?,
        Command::Stop(args) => stop::run(file, args).await?,
        Command::Restart(args) => restart::run(file, cli.verbose, args).await?,
        Command::Run(args) => run::run(file, cli.verbose, args).await?,
        Command::Snapshot(args) => snapshot::run(file, cli.verbose, args).await?,
        Command::Down(args) => down::run(file, args).await?,
        Command::Ps(args) => ps::run(file, args).await?,
        Command::Config(args) => config::run(file, args).await?,
        // The command's own exit code is passed through as it is.
        Command::Exec(args) => return exec::run(file, args).await,
        Command::Logs(args) => logs::run(file, args).await?,
        Command::Env(args) => env::run(file, args).await?,
        Command::Tunnel(args) => tunnel::run(file, args).await?,
        Command::Doctor(args) => doctor::run(file, args).await?,
        Command::Init(args) => init::run(file.path, args)?,
        Command::Schema => schema::run()?,
        Command::Completions(args) => completions::run(args)?,
        Command::Ci(args) => ci::run(file.path, args)?,
        Command::Lock(args) => lock::run(file, args).await?,
        Command::Graph(args) => graph::run(file, args)?,
        Command::Export(args) => export::run(file, args).await?,
    };
    Ok(code.code())
}

/// Finds and loads the project file from the current directory.
pub fn load_project(file: ProjectFile) -> anyhow::Result<Project> {
    let cwd = std::env::current_dir()?;
    let path = crate::config::find_project_file(file.path, &cwd)?;
    let env = |name: &str| std::env::var(name).ok();
    let options = crate::config::LoadOptions {
        profiles: file.profiles.map(<[String]>::to_vec),
    };
    Ok(crate::config::load_with(&path, &env, &options)?)
}

/// Reads the `env` secrets (`{ secret: ... }`) of the services `only` selects (every
/// active one without), before anything is pulled, built or started.
pub(crate) async fn read_secrets(
    project: &Project,
    only: Option<&[String]>,
) -> anyhow::Result<crate::reveal::Revealed> {
    if project.services.values().all(|s| s.env_secrets.is_empty()) {
        return Ok(crate::reveal::Revealed::default());
    }
    let selected = crate::plan::selection(&crate::plan::desired(project), only);
    let env = |name: &str| std::env::var(name).ok();
    Ok(crate::reveal::reveal(project, &selected, &env).await?)
}

/// This project's containers, networks and volumes; fails (exit 8) when another
/// directory uses the project's name. Every command reads the engine through here.
pub async fn observe(engine: &Engine, project: &Project) -> anyhow::Result<crate::scope::Owned> {
    Ok(crate::scope::observe(engine, &crate::plan::scope_of(project)).await?)
}

/// On an engine on another machine, published `ports` are open there, not here:
/// the ssh command that brings them here. `None` for a local engine or no ports.
pub fn remote_ports_note(engine: &Engine, ports: &[u16]) -> Option<String> {
    if ports.is_empty() {
        return None;
    }
    let endpoint = engine.endpoint();
    let host = endpoint.remote_host()?;
    let tunnel = endpoint.tunnel_command(ports)?;
    Some(format!(
        "the engine runs on {host}: these ports are open on that machine; to reach them from here, run `gorae tunnel` (or `{tunnel}`)"
    ))
}

/// Connects to the engine.
pub async fn connect() -> Result<Engine, EngineError> {
    Engine::connect().await
}

/// Writes a command's output to stdout (see [`crate::output`]).
pub fn print_stdout(text: &str) -> Result<(), crate::output::OutputError> {
    crate::output::stdout(text)
}
