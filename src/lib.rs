//! gorae: reproduce a project's development environment from one declarative file.
//!
//! The pipeline runs one way: config (file -> validated model) -> plan::desired (the
//! wanted state, with gorae.lock's pins) -> observe (what the engine has, read once)
//! -> plan::decide (every action with its reason, pure) -> apply (carries it out).
//! `gorae plan` prints the decision instead of applying it. Commands in
//! [`commands`] wire the steps.

pub mod apply;
pub mod ci;
pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod dockerfile;
pub mod engine;
pub mod exit;
pub mod explain;
pub mod export;
pub mod graph_view;
pub mod hash;
pub mod images;
pub mod init;
pub mod lock;
pub mod mount;
pub mod observe;
pub mod output;
pub mod plan;
pub mod ports;
pub mod project_lock;
pub mod readiness;
pub mod resolved;
pub mod reveal;
pub mod secret;
pub mod snapshot;
pub use engine::scope;
pub mod task_inputs;
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

/// Maps a failure to its documented exit code: that of the first error in its chain
/// (outermost first, through any `context`) whose type knows one, else 1.
fn exit_code_for(err: &anyhow::Error) -> ExitCode {
    err.chain()
        .find_map(known_exit_code)
        .unwrap_or(ExitCode::Failure)
}

/// The exit code of `err` if it is one of the error types that carry one.
fn known_exit_code(err: &(dyn std::error::Error + 'static)) -> Option<ExitCode> {
    macro_rules! first_of {
        ($($ty:ty),+ $(,)?) => {
            $(if let Some(err) = err.downcast_ref::<$ty>() {
                return Some(err.exit_code());
            })+
        };
    }
    first_of!(
        config::LoadError,
        lock::LockError,
        engine::EngineError,
        scope::ObserveError,
        scope::NameClash,
        images::ImageError,
        apply::UpError,
        commands::Failure,
        commands::Interrupted,
        reveal::RevealError,
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    fn code_of(err: impl Into<anyhow::Error>) -> ExitCode {
        exit_code_for(&err.into())
    }

    #[test]
    fn each_error_type_gives_its_own_exit_code() {
        let unreachable = || engine::EngineError::Unreachable {
            endpoint: "unix:///var/run/docker.sock".into(),
            reason: "no socket".into(),
        };
        let build = || images::ImageError::Build {
            service: "web".into(),
            reason: "step 2 failed".into(),
            output: String::new(),
        };
        assert_eq!(code_of(unreachable()), ExitCode::EngineUnreachable);
        assert_eq!(code_of(build()), ExitCode::BuildFailed);
        assert_eq!(
            code_of(apply::UpError::Image(build())),
            ExitCode::BuildFailed
        );
        assert_eq!(
            code_of(scope::ObserveError::Engine(unreachable())),
            ExitCode::EngineUnreachable
        );
        let failure = |timed_out| apply::ServiceFailure {
            service: "web".into(),
            reason: "failed".into(),
            logs: String::new(),
            timed_out,
        };
        let services = |failures| apply::UpError::Services {
            failures,
            running: Vec::new(),
        };
        assert_eq!(code_of(services(vec![failure(true)])), ExitCode::Timeout);
        assert_eq!(
            code_of(services(vec![failure(true), failure(false)])),
            ExitCode::ServiceFailed
        );
        assert_eq!(
            code_of(commands::Failure::new("no service", ExitCode::Usage)),
            ExitCode::Usage
        );
        assert_eq!(code_of(commands::Interrupted), ExitCode::Interrupted);
        assert_eq!(code_of(anyhow::anyhow!("anything else")), ExitCode::Failure);
    }

    #[test]
    fn the_exit_code_is_found_under_context_and_as_a_source() {
        let missing = || config::LoadError::NotFound {
            searched_from: "/projects/shop".into(),
        };
        let wrapped = Err::<(), _>(missing())
            .context("while locking")
            .unwrap_err();
        assert_eq!(exit_code_for(&wrapped), ExitCode::Config);

        /// An error of no known type that keeps one as its source.
        #[derive(Debug, thiserror::Error)]
        #[error("cannot watch")]
        struct Outer(#[source] engine::EngineError);
        let unreachable = engine::EngineError::Unreachable {
            endpoint: "unix:///var/run/docker.sock".into(),
            reason: "no socket".into(),
        };
        assert_eq!(code_of(Outer(unreachable)), ExitCode::EngineUnreachable);
    }
}
