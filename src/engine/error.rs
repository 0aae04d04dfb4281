//! Engine failures in terms a user can act on.

use bollard::errors::Error as BollardError;

use crate::exit::ExitCode;

/// What went wrong talking to the engine.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    #[error(
        "cannot reach the Docker engine at {endpoint} ({reason})\n  hint: {}",
        unreachable_hint(reason)
    )]
    Unreachable { endpoint: String, reason: String },
    /// The settings that say where the engine is cannot be used (a context that is
    /// not there, TLS); the reason says what to do.
    #[error("cannot use {endpoint}: {reason}")]
    Misconfigured { endpoint: String, reason: String },
    /// The engine's own words, which already name what is missing ("No such
    /// container: web").
    #[error("{0}")]
    NotFound(String),
    #[error("engine refused: {0}")]
    Conflict(String),
    #[error("engine error: {0}")]
    Api(String),
}

/// What to do about an unreachable engine: a socket we may not open needs
/// permissions, anything else a running engine.
fn unreachable_hint(reason: &str) -> &'static str {
    let reason = reason.to_ascii_lowercase();
    if reason.contains("permission denied") {
        "the engine runs but this user may not use its socket: add yourself to the `docker` group (`sudo usermod -aG docker $USER`, then log in again)"
    } else if reason.contains("scheme is not supported") {
        "gorae reaches engines over unix:// and tcp:// today: forward the remote socket (`ssh -NL /tmp/docker.sock:/var/run/docker.sock user@host`) and set DOCKER_HOST=unix:///tmp/docker.sock"
    } else {
        "start Docker (`sudo systemctl start docker`, or open Docker Desktop), or point DOCKER_HOST at a running engine"
    }
}

impl From<BollardError> for EngineError {
    fn from(err: BollardError) -> Self {
        match err {
            BollardError::DockerResponseServerError {
                status_code: 404,
                message,
            } => EngineError::NotFound(message),
            BollardError::DockerResponseServerError {
                status_code: 409,
                message,
            } => EngineError::Conflict(message),
            BollardError::DockerResponseServerError { message, .. } => EngineError::Api(message),
            other if is_connection_error(&other) => EngineError::Unreachable {
                endpoint: super::endpoint_description(),
                reason: short_reason(&other),
            },
            other => EngineError::Api(other.to_string()),
        }
    }
}

fn is_connection_error(err: &BollardError) -> bool {
    matches!(
        err,
        BollardError::SocketNotFoundError(_)
            | BollardError::HyperResponseError { .. }
            | BollardError::IOError { .. }
            | BollardError::HttpClientError { .. }
            | BollardError::HyperLegacyError { .. }
    )
}

/// The innermost cause of a connection failure: "No such file or directory", not a chain.
pub(super) fn short_reason(err: &BollardError) -> String {
    let mut source: &dyn std::error::Error = err;
    while let Some(next) = source.source() {
        source = next;
    }
    match err {
        BollardError::SocketNotFoundError(path) => format!("no socket at {path}"),
        _ => source.to_string(),
    }
}

impl EngineError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, EngineError::NotFound(_))
    }

    /// Only an unreachable engine has a code of its own; the rest are plain failures.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            EngineError::Unreachable { .. } | EngineError::Misconfigured { .. } => {
                ExitCode::EngineUnreachable
            }
            EngineError::NotFound(_) | EngineError::Conflict(_) | EngineError::Api(_) => {
                ExitCode::Failure
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_engine_hint_fits_the_reason() {
        let denied = EngineError::Unreachable {
            endpoint: "unix:///var/run/docker.sock".into(),
            reason: "Permission denied (os error 13)".into(),
        };
        assert!(denied.to_string().contains("`docker` group"), "{denied}");
        let missing = EngineError::Unreachable {
            endpoint: "unix:///var/run/docker.sock".into(),
            reason: "No such file or directory (os error 2)".into(),
        };
        assert!(missing.to_string().contains("start Docker"), "{missing}");
    }

    #[test]
    fn a_missing_object_is_reported_in_the_engines_words_once() {
        // What bollard hands over for the engine's 404 on `POST /containers/x/start`.
        let err = EngineError::from(BollardError::DockerResponseServerError {
            status_code: 404,
            message: "No such container: x".into(),
        });
        assert!(err.is_not_found());
        assert_eq!(err.to_string(), "No such container: x");
        assert_eq!(err.exit_code(), ExitCode::Failure);
    }
}
