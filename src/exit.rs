//! Exit codes: one documented number per kind of failure, so scripts and CI can
//! tell them apart. README.md lists the same table.

/// What `gorae` exits with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Everything asked for was done.
    Success = 0,
    /// A failure that fits no other code.
    Failure = 1,
    /// The command line was wrong (clap's own code), or named a service the project lacks.
    Usage = 2,
    /// gorae.yaml (or a template, or the lock) is invalid or missing.
    Config = 3,
    /// The Docker engine could not be reached.
    EngineUnreachable = 4,
    /// An image build failed.
    BuildFailed = 5,
    /// A service crashed, a task failed, or a command run in a service failed to start.
    ServiceFailed = 6,
    /// A service was not ready (or a task not finished) within its timeout.
    Timeout = 7,
    /// Something else holds what gorae needs: a host port, the project name, or the
    /// file `init` or `ci` would write (which they replace only with `--force`).
    Conflict = 8,
    /// An image is missing and could not be pulled.
    ImageUnavailable = 9,
    /// Interrupted by Ctrl-C.
    Interrupted = 130,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }
}
