//! gorae: reproduce a project's development environment from one declarative file.
//!
//! The pipeline is config (file -> validated model) -> plan (desired state, pure) ->
//! apply (difference against the engine). Commands in [`commands`] wire the steps.

pub mod apply;
pub mod ci;
pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod engine;
pub mod exit;
pub mod graph_view;
pub mod images;
pub mod init;
pub mod lock;
pub mod output;
pub mod plan;
pub mod ports;
pub mod project_lock;
pub mod readiness;
pub mod resolved;
pub use engine::scope;
pub mod task_inputs;
pub mod template;
pub mod tty;
pub mod ui;
pub mod watch;
pub mod yaml_out;

#[cfg(test)]
mod fuzz_tests;

use exit::ExitCode;

/// Runs one command line to completion; returns the process exit code.
pub fn run(cli: cli::Cli) -> i32 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            output::stderr_line(&format!("error: cannot start the async runtime: {err}"));
            return ExitCode::Failure.code();
        }
    };
    let outcome = runtime.block_on(commands::dispatch(cli));
    // A stdin copy may still be blocked reading; don't wait for it.
    runtime.shutdown_background();
    match outcome {
        Ok(code) => code,
        // The reader closed the pipe: it has what it wanted.
        Err(err)
            if err
                .downcast_ref::<output::OutputError>()
                .is_some_and(output::OutputError::is_closed_pipe) =>
        {
            ExitCode::Success.code()
        }
        Err(err) => {
            report(&err);
            exit_code_for(&err).code()
        }
    }
}

/// Prints an error for a person: the config report as it is (it carries its own
/// `error:` lines), anything else as one `error:` chain.
fn report(err: &anyhow::Error) {
    if let Some(config::LoadError::Invalid { .. }) = err.downcast_ref::<config::LoadError>() {
        output::stderr_line(&err.to_string());
    } else {
        output::stderr_line(&format!("error: {err:#}"));
    }
}

/// Maps a failure to its documented exit code.
fn exit_code_for(err: &anyhow::Error) -> ExitCode {
    use apply::UpError;
    use images::ImageError;
    if err.downcast_ref::<config::LoadError>().is_some()
        || err.downcast_ref::<lock::LockError>().is_some()
    {
        return ExitCode::Config;
    }
    let engine_code = |err: &engine::EngineError| match err {
        engine::EngineError::Unreachable { .. } => ExitCode::EngineUnreachable,
        _ => ExitCode::Failure,
    };
    let image_code = |err: &ImageError| match err {
        ImageError::Pull { .. }
        | ImageError::Registry { .. }
        | ImageError::LockedOnlyById { .. } => ExitCode::ImageUnavailable,
        ImageError::LockedIdMismatch { .. } => ExitCode::Config,
        ImageError::Build { .. } | ImageError::Context { .. } => ExitCode::BuildFailed,
        ImageError::Engine(err) => engine_code(err),
    };
    if let Some(err) = err.downcast_ref::<engine::EngineError>() {
        return engine_code(err);
    }
    if let Some(err) = err.downcast_ref::<scope::ObserveError>() {
        return match err {
            scope::ObserveError::Clash(_) => ExitCode::Conflict,
            scope::ObserveError::Engine(err) => engine_code(err),
        };
    }
    if let Some(err) = err.downcast_ref::<ImageError>() {
        return image_code(err);
    }
    if let Some(err) = err.downcast_ref::<UpError>() {
        return match err {
            UpError::NameClash(_) | UpError::PortsTaken(_) => ExitCode::Conflict,
            UpError::Image(err) => image_code(err),
            UpError::Engine(err) => engine_code(err),
            UpError::Services { failures, .. } if failures.iter().all(|f| f.timed_out) => {
                ExitCode::Timeout
            }
            UpError::Services { .. } => ExitCode::ServiceFailed,
        };
    }
    if err.downcast_ref::<scope::NameClash>().is_some() {
        return ExitCode::Conflict;
    }
    if let Some(failure) = err.downcast_ref::<commands::Failure>() {
        return failure.code;
    }
    if err.downcast_ref::<commands::Interrupted>().is_some() {
        return ExitCode::Interrupted;
    }
    ExitCode::Failure
}
