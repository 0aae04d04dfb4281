//! A unix-socket proxy in front of the engine that notes the request line of every
//! Engine API call passing through it, so tests can pin how many calls a command makes
//! (as `benches/run` does with its own counting proxy).

use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;

const METHODS: [&str; 5] = ["GET ", "POST ", "PUT ", "DELETE ", "HEAD "];

/// The proxy; dropped, it stops accepting.
pub struct CountingProxy {
    path: PathBuf,
    _dir: tempfile::TempDir,
    calls: Arc<Mutex<Vec<String>>>,
}

impl CountingProxy {
    /// Listens on a fresh socket and forwards to the engine's local socket.
    pub fn start() -> Self {
        let upstream = match std::env::var("DOCKER_HOST") {
            Ok(host) if host.starts_with("unix://") => PathBuf::from(&host["unix://".len()..]),
            _ => PathBuf::from("/var/run/docker.sock"),
        };
        let dir = tempfile::tempdir().expect("a temp dir for the proxy socket");
        let path = dir.path().join("engine.sock");
        let listener = UnixListener::bind(&path).expect("bind the proxy socket");
        let calls = Arc::new(Mutex::new(Vec::new()));
        let noted = Arc::clone(&calls);
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(engine) = UnixStream::connect(&upstream) else {
                    return;
                };
                let (client_out, engine_out) = match (client.try_clone(), engine.try_clone()) {
                    (Ok(c), Ok(e)) => (c, e),
                    _ => return,
                };
                let noted = Arc::clone(&noted);
                thread::spawn(move || pump(client, engine_out, Some(noted)));
                thread::spawn(move || pump(engine, client_out, None));
            }
        });
        Self {
            path,
            _dir: dir,
            calls,
        }
    }

    /// `DOCKER_HOST` for a command whose calls are to be counted.
    pub fn docker_host(&self) -> String {
        format!("unix://{}", self.path.display())
    }

    /// The calls so far, as `METHOD /path` without the API version and query, and
    /// forgets them.
    pub fn take(&self) -> Vec<String> {
        // The pumps may still be noting the last request of a finished command.
        thread::sleep(std::time::Duration::from_millis(50));
        std::mem::take(&mut *self.calls.lock().expect("calls lock"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Copies `from` to `to`; with `calls`, notes every request line seen on the way.
fn pump(mut from: UnixStream, mut to: UnixStream, calls: Option<Arc<Mutex<Vec<String>>>>) {
    let mut buffer = [0u8; 65536];
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some(calls) = &calls {
            pending.extend_from_slice(&buffer[..n]);
            let mut consumed = 0;
            while let Some(end) = find(&pending[consumed..], b"\r\n") {
                let line = String::from_utf8_lossy(&pending[consumed..consumed + end]);
                if let Some(call) = request_line(&line) {
                    calls.lock().expect("calls lock").push(call);
                }
                consumed += end + 2;
            }
            pending.drain(..consumed);
            // Bodies (build contexts, tar uploads) need not be kept.
            if pending.len() > 4096 {
                let keep = pending.len() - 512;
                pending.drain(..keep);
            }
        }
        if to.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `GET /v1.41/containers/json?all=true HTTP/1.1` -> `GET /containers/json`.
fn request_line(line: &str) -> Option<String> {
    let method = METHODS.iter().find(|m| line.starts_with(*m))?;
    let rest = line
        .strip_suffix(" HTTP/1.1")
        .or(line.strip_suffix(" HTTP/1.0"))?;
    let path = &rest[method.len()..];
    let path = path.split('?').next().unwrap_or(path);
    let path = match path.strip_prefix("/v") {
        Some(versioned) => versioned
            .find('/')
            .map_or(path, |slash| &versioned[slash..]),
        None => path,
    };
    Some(format!("{}{path}", method))
}
