//! The Engine API version both sides speak, from the engine's `/_ping` answer on a
//! local socket: its `Api-Version` header. bollard asks `/version` instead, which
//! makes Podman collect the versions of all its parts first (half a second on every
//! gorae command); `/_ping` answers at once on Docker and Podman alike.

use std::path::Path;

use bollard::{API_DEFAULT_VERSION, ClientVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// At most this much of the answer is read: the headers come first and are short.
const MAX_ANSWER: u64 = 16 * 1024;

/// The version to speak to the engine on `socket`: the lower of its own and
/// bollard's. `None` when the ping does not say, so that the caller falls back to
/// bollard's negotiation and its error messages.
pub(super) async fn over_unix_socket(socket: &Path) -> Option<ClientVersion> {
    let mut stream = UnixStream::connect(socket).await.ok()?;
    stream
        .write_all(b"GET /_ping HTTP/1.0\r\nHost: engine\r\n\r\n")
        .await
        .ok()?;
    let mut answer = Vec::new();
    stream
        .take(MAX_ANSWER)
        .read_to_end(&mut answer)
        .await
        .ok()?;
    let engine = api_version(&String::from_utf8_lossy(&answer))?;
    Some(if engine < *API_DEFAULT_VERSION {
        engine
    } else {
        *API_DEFAULT_VERSION
    })
}

/// The `Api-Version` header of an HTTP answer (`1.41` -> 1.41).
fn api_version(answer: &str) -> Option<ClientVersion> {
    let head = answer.split("\r\n\r\n").next()?;
    if !head.starts_with("HTTP/1.") || head.split_whitespace().nth(1) != Some("200") {
        return None;
    }
    let value = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("api-version")
            .then(|| value.trim())
    })?;
    let (major, minor) = value.split_once('.')?;
    Some(ClientVersion {
        major_version: major.parse().ok()?,
        minor_version: minor.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_is_read_from_the_ping_headers_of_docker_and_podman() {
        let docker =
            "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nServer: Docker/20.10.24 (linux)\r\n\r\nOK";
        let podman = "HTTP/1.1 200 OK\r\napi-version: 1.41\r\nLibpod-Api-Version: 4.3.1\r\n\r\nOK";
        for answer in [docker, podman] {
            assert_eq!(
                api_version(answer),
                Some(ClientVersion {
                    major_version: 1,
                    minor_version: 41
                })
            );
        }
        for unusable in [
            "HTTP/1.1 500 Internal Server Error\r\nApi-Version: 1.41\r\n\r\n",
            "HTTP/1.1 200 OK\r\n\r\nOK",
            "HTTP/1.1 200 OK\r\nApi-Version: one\r\n\r\n",
            "garbage",
        ] {
            assert_eq!(api_version(unusable), None, "{unusable}");
        }
    }
}
