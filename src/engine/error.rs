//! Engine failures in terms a user can act on.

use bollard::errors::Error as BollardError;

/// What went wrong talking to the engine.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    #[error(
        "cannot reach the Docker engine at {endpoint} ({reason})\n  hint: start Docker (`sudo systemctl start docker`, or open Docker Desktop), or point DOCKER_HOST at a running engine"
    )]
    Unreachable { endpoint: String, reason: String },
    #[error("{0} not found")]
    NotFound(String),
    #[error("engine refused: {0}")]
    Conflict(String),
    #[error("engine error: {0}")]
    Api(String),
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
}
