//! `gorae exec SERVICE [-- CMD...]`: run a command in a running service and pass
//! its exit code through. A person at a terminal gets a TTY (raw mode, resized with
//! the window); pipes get the bytes untouched. Without a command: a shell.

use std::io::IsTerminal;

use anyhow::Context;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use super::Failure;
use crate::cli::ExecArgs;
use crate::config::{Project, ServiceKind};
use crate::engine::{Engine, ExecIo, ExecStreams, ExistingContainer};
use crate::exit::ExitCode;
use crate::{plan, tty};

/// Run when no command is given: bash where the image has it, else the POSIX sh
/// every image has. One exec, so no extra round trip to find out.
const SHELL: [&str; 3] = [
    "sh",
    "-c",
    "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi",
];

/// Size assumed when the terminal reports none.
const DEFAULT_SIZE: (u16, u16) = (24, 80);

/// Returns the command's own exit code.
pub async fn run(file: crate::commands::ProjectFile<'_>, args: &ExecArgs) -> anyhow::Result<i32> {
    let project = super::load_project(file)?;
    super::known_service(&project, &args.service)?;
    let engine = super::connect().await?;
    let container = running_container(&engine, &project, &args.service).await?;
    let command = if args.command.is_empty() {
        SHELL.iter().map(ToString::to_string).collect()
    } else {
        args.command.clone()
    };
    let code = if tty::is_interactive() {
        with_tty(&engine, &container.id, &command).await?
    } else {
        // Forward stdin only when something is piped in: `gorae exec db -- psql -c
        // ...` from a terminal, output redirected, must not wait for typed input.
        let stdin = !std::io::stdin().is_terminal();
        engine
            .exec_attached(
                &container.id,
                &command,
                ExecIo::Pipes { stdin },
                process_streams(),
            )
            .await?
    };
    Ok(i32::try_from(code).unwrap_or(ExitCode::Failure.code()))
}

/// This process's own streams. The bytes pass through as they come, not through
/// `output`, which writes whole results.
fn process_streams() -> ExecStreams<tokio::io::Stdin, tokio::io::Stdout, tokio::io::Stderr> {
    ExecStreams {
        stdin: tokio::io::stdin(),
        stdout: tokio::io::stdout(),
        stderr: tokio::io::stderr(),
    }
}

/// The service's container, if it is running.
async fn running_container(
    engine: &Engine,
    project: &Project,
    service: &str,
) -> anyhow::Result<ExistingContainer> {
    let name = plan::container_name(&project.name, service);
    let containers = super::observe(engine, project).await?.containers;
    let is_task = project
        .services
        .get(service)
        .is_some_and(|s| s.kind == ServiceKind::Task);
    let message = match containers.into_iter().find(|c| c.name == name) {
        Some(container) if container.is_running() => return Ok(container),
        Some(container) if is_task => {
            let outcome = match container.exit_code() {
                Some(0) => "it finished (exit code 0)".to_string(),
                Some(code) => format!("it failed (exit code {code})"),
                None => container.status.to_lowercase(),
            };
            format!(
                "task `{service}` is not running: {outcome}, and a task runs once\n  hint: `gorae run {service}` runs it again; `gorae logs {service}` shows what it printed"
            )
        }
        Some(container) => format!(
            "service `{service}` is not running ({})\n  hint: start it with `gorae up`; `gorae logs {service}` shows why it stopped",
            container.status.to_lowercase()
        ),
        None if is_task => format!(
            "task `{service}` has not run\n  hint: `gorae run {service}` runs it (`gorae up` does too)"
        ),
        None => format!("service `{service}` is not running\n  hint: start it with `gorae up`"),
    };
    Err(Failure::new(message, ExitCode::ServiceFailed).into())
}

/// Runs the command on a TTY with the local terminal in raw mode. The terminal's
/// settings come back on every way out: the command ends, the engine fails, or
/// gorae itself is told to stop (SIGTERM, SIGHUP).
async fn with_tty(engine: &Engine, id: &str, command: &[String]) -> anyhow::Result<i64> {
    let size = tty::size().map_or(DEFAULT_SIZE, |s| (s.rows, s.cols));
    let (sizes, size) = watch::channel(size);
    let mut resized = signal(SignalKind::window_change())?;
    let mut terminated = signal(SignalKind::terminate())?;
    let mut hung_up = signal(SignalKind::hangup())?;
    let _raw = tty::RawMode::enable().context("cannot put the terminal into raw mode")?;
    let session = engine.exec_attached(id, command, ExecIo::Tty { size }, process_streams());
    tokio::pin!(session);
    loop {
        tokio::select! {
            code = &mut session => return Ok(code?),
            Some(()) = resized.recv() => {
                if let Some(now) = tty::size() {
                    sizes.send_replace((now.rows, now.cols));
                }
            }
            // Shells report death by a signal as 128 + its number.
            Some(()) = terminated.recv() => return Ok(128 + 15),
            Some(()) = hung_up.recv() => return Ok(128 + 1),
        }
    }
}
