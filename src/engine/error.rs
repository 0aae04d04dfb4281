//! Engine failures in terms a user can act on.

use bollard::errors::Error as BollardError;

use crate::exit::ExitCode;

/// What went wrong talking to the engine.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    #[error(
        "cannot reach the Docker engine at {endpoint} ({reason})\n  hint: {}",
        unreachable_hint(endpoint, reason)
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

/// What to do about an unreachable engine, from where it was looked for and why
/// it failed: ssh and Podman fail in their own ways, and a local socket we may not
/// open needs permissions rather than a running engine.
fn unreachable_hint(endpoint: &str, reason: &str) -> String {
    let reason = reason.to_ascii_lowercase();
    let mentions = |words: &[&str]| words.iter().any(|word| reason.contains(word));
    if let Some(destination) = ssh_destination(endpoint) {
        return if mentions(&["too long for unix domain socket"]) {
            "ssh's control socket would be too long a path: set XDG_STATE_HOME to a shorter directory".into()
        } else if mentions(&["permission denied", "authentication"]) {
            format!(
                "ssh could not log in to {destination}: `ssh {destination} true` must work without a password prompt (add the key with `ssh-add`, or set IdentityFile for that host in ~/.ssh/config)"
            )
        } else if mentions(&[
            "could not resolve",
            "connection refused",
            "timed out",
            "no route",
            "unreachable",
        ]) {
            format!(
                "ssh cannot reach {destination}: check the host name and port, and that sshd runs there (`ssh {destination} true`)"
            )
        } else {
            format!(
                "`ssh {destination} docker system dial-stdio` must work: check that you can log in and that Docker runs there"
            )
        };
    }
    if endpoint.contains("podman") && mentions(&["no socket", "no such file", "connection refused"])
    {
        return "start Podman's API service: `systemctl --user start podman.socket` for your own (rootless) Podman, `sudo systemctl start podman.socket` for the system's, or `podman system service --time=0` by hand".into();
    }
    if mentions(&["permission denied"]) {
        "the engine runs but this user may not use its socket: add yourself to the `docker` group (`sudo usermod -aG docker $USER`, then log in again)".into()
    } else if mentions(&["scheme is not supported"]) {
        "gorae reaches engines over unix://, tcp:// (with TLS when DOCKER_TLS_VERIFY is set) and ssh://: forward any other kind of socket (`ssh -NL /tmp/docker.sock:/var/run/docker.sock user@host`) and set DOCKER_HOST=unix:///tmp/docker.sock".into()
    } else if mentions(&["certificate", "tls", "handshake", "alert"]) {
        "the TLS handshake failed: the engine's certificate must be signed by ca.pem and name the host in DOCKER_HOST, and the engine must accept cert.pem; check DOCKER_CERT_PATH (or the context's certificates)".into()
    } else {
        "start Docker (`sudo systemctl start docker`, or open Docker Desktop), or point DOCKER_HOST at a running engine".into()
    }
}

/// `user@host` of an `ssh://` engine named in `endpoint` (`DOCKER_HOST=ssh://…`,
/// `ssh://… (Docker context `x`)`).
fn ssh_destination(endpoint: &str) -> Option<&str> {
    let start = endpoint.find("ssh://")? + "ssh://".len();
    let rest = &endpoint[start..];
    let end = rest.find(['/', ' ']).unwrap_or(rest.len());
    Some(&rest[..end])
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
    fn ssh_and_podman_failures_get_their_own_hints() {
        let hint = |endpoint: &str, reason: &str| {
            EngineError::Unreachable {
                endpoint: endpoint.into(),
                reason: reason.into(),
            }
            .to_string()
        };
        let refused = hint(
            "DOCKER_HOST=ssh://dev@box:2222",
            "root@box: Permission denied (publickey).",
        );
        assert!(
            refused.contains("ssh could not log in to dev@box:2222"),
            "{refused}"
        );
        assert!(!refused.contains("docker` group"), "{refused}");
        let unreachable = hint(
            "ssh://dev@box (Docker context `far`)",
            "ssh: connect to host box port 22: Connection refused",
        );
        assert!(
            unreachable.contains("ssh cannot reach dev@box"),
            "{unreachable}"
        );
        let podman = hint(
            "DOCKER_HOST=unix:///run/user/1000/podman/podman.sock",
            "no socket at /run/user/1000/podman/podman.sock",
        );
        assert!(
            podman.contains("systemctl --user start podman.socket"),
            "{podman}"
        );
        let tls = hint(
            "DOCKER_HOST=tcp://box:2376 over TLS",
            "invalid peer certificate: UnknownIssuer",
        );
        assert!(tls.contains("DOCKER_CERT_PATH"), "{tls}");
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
