//! Readiness, judged by gorae from the client side.
//!
//! The engine's own healthchecks tick at their interval (seconds); polling here
//! starts at a few milliseconds and backs off, so a service that is ready in 80 ms
//! is reported ready in about 80 ms.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::Probe;
use crate::engine::{Engine, EngineError};

const FIRST_POLL: Duration = Duration::from_millis(10);
const MAX_POLL: Duration = Duration::from_millis(250);
/// How many probe attempts share one look at the container's state.
const INSPECT_EVERY: usize = 4;
/// One probe attempt may not take longer than this.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a service did not become ready.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    #[error("exited with code {code}{}", if *oom { " (out of memory)" } else { "" })]
    Exited { code: i64, oom: bool },
    #[error("not ready after {}s{}", timeout.as_secs(), last.as_deref().map(|l| format!(" (last probe: {l})")).unwrap_or_default())]
    Timeout {
        timeout: Duration,
        last: Option<String>,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Polls `probe` against a started container until it passes, the container
/// exits, or `deadline` passes.
pub async fn wait_ready(
    engine: &Engine,
    container: &str,
    network: &str,
    probe: Option<&Probe>,
    deadline: Instant,
    timeout: Duration,
) -> Result<(), NotReady> {
    let mut delay = FIRST_POLL;
    let mut address: Option<String> = None;
    let mut last_failure: Option<String>;
    let mut attempts: usize = 0;
    loop {
        // The state is looked at on the first attempt (for the address), then on
        // every fourth and at the deadline: enough to notice a crash within a
        // second without doubling the engine calls of a tight poll.
        let now = Instant::now();
        if attempts.is_multiple_of(INSPECT_EVERY) || now >= deadline {
            let state = engine.inspect_state(container, network).await?;
            if !state.running {
                return Err(NotReady::Exited {
                    code: state.exit_code.unwrap_or(-1),
                    oom: state.oom_killed,
                });
            }
            if address.is_none() {
                address = state.ip;
            }
        }
        match attempt(engine, container, address.as_deref(), probe).await {
            Ok(()) => return Ok(()),
            Err(failure) => last_failure = Some(failure),
        }
        if now >= deadline {
            return Err(NotReady::Timeout {
                timeout,
                last: last_failure,
            });
        }
        tokio::time::sleep(delay.min(deadline.saturating_duration_since(Instant::now()))).await;
        delay = (delay * 3 / 2).min(MAX_POLL);
        attempts += 1;
    }
}

/// One probe of a container that is running now: ready or not.
pub async fn probe_once(
    engine: &Engine,
    container: &str,
    network: &str,
    probe: Option<&Probe>,
) -> bool {
    match engine.inspect_state(container, network).await {
        Ok(state) if state.running => attempt(engine, container, state.ip.as_deref(), probe)
            .await
            .is_ok(),
        _ => false,
    }
}

/// One probe with what is already known about the container (it runs, and has
/// this address), so that checking an unchanged service costs no inspect.
pub async fn attempt(
    engine: &Engine,
    container: &str,
    address: Option<&str>,
    probe: Option<&Probe>,
) -> Result<(), String> {
    match probe {
        None => Ok(()),
        Some(Probe::Command { command }) => command_probe(engine, container, command).await,
        Some(Probe::Tcp { port }) => tcp_probe(address, *port).await,
        Some(Probe::Http { port, path }) => http_probe(address, *port, path).await,
    }
}

async fn command_probe(engine: &Engine, container: &str, command: &[String]) -> Result<(), String> {
    let run = tokio::time::timeout(ATTEMPT_TIMEOUT, engine.exec(container, command));
    match run.await {
        Ok(Ok(output)) if output.exit_code == 0 => Ok(()),
        Ok(Ok(output)) => Err(format!(
            "`{}` exited {}: {}",
            command.join(" "),
            output.exit_code,
            output.output.trim()
        )),
        // The container stopped between inspect and exec; the next inspect says so.
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err(format!("`{}` took longer than 2s", command.join(" "))),
    }
}

async fn connect(address: Option<&str>, port: u16) -> Result<TcpStream, String> {
    let address = address.ok_or("container has no address on the project network yet")?;
    match tokio::time::timeout(ATTEMPT_TIMEOUT, TcpStream::connect((address, port))).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(err)) => Err(format!("port {port}: {err}")),
        Err(_) => Err(format!("port {port}: connection timed out")),
    }
}

async fn tcp_probe(address: Option<&str>, port: u16) -> Result<(), String> {
    connect(address, port).await.map(drop)
}

async fn http_probe(address: Option<&str>, port: u16, path: &str) -> Result<(), String> {
    let mut stream = connect(address, port).await?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    let exchange = async {
        stream.write_all(request.as_bytes()).await?;
        let mut head = vec![0; 64];
        let read = stream.read(&mut head).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&head[..read]).into_owned())
    };
    let head = match tokio::time::timeout(ATTEMPT_TIMEOUT, exchange).await {
        Ok(Ok(head)) => head,
        Ok(Err(err)) => return Err(format!("GET {path}: {err}")),
        Err(_) => return Err(format!("GET {path}: no answer within 2s")),
    };
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if status.starts_with('2') || status.starts_with('3') {
        Ok(())
    } else {
        Err(format!("GET {path} answered {status}"))
    }
}
