//! Readiness, judged by gorae from the client side.
//!
//! The engine's own healthchecks tick at their interval (seconds); polling here
//! starts at a few milliseconds and backs off, so a service that is ready in 80 ms
//! is reported ready in about 80 ms.
//!
//! A service with no probe (or `ready: { running: 2s }`) is ready once it has kept
//! running for its settle time ([`DEFAULT_SETTLE`], 1 s): a program that crashes right
//! after it starts must fail `up`, not be reported ready. `up` and `ps` judge it alike.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::config::{DEFAULT_SETTLE, Handshake, Probe};
use crate::engine::{Connection, ContainerAddress, Engine, EngineError};

const FIRST_POLL: Duration = Duration::from_millis(10);
/// While a service is young, polls stay this close: most services get ready within
/// seconds of their start, and a pause of up to MAX_POLL then is time lost (a
/// database ready at 0.9 s was seen up to 250 ms late).
const EARLY_MAX_POLL: Duration = Duration::from_millis(50);
/// A probe that only opens a connection from here costs the engine nothing, so
/// while the service is young it is repeated this often: an app ready 150 ms after
/// its start is seen within 10 ms, not up to 50 ms late. A command probe is three
/// engine calls and a process in the container, and backs off to EARLY_MAX_POLL.
const EARLY_CONNECT_POLL: Duration = Duration::from_millis(10);
/// How long polls stay close.
const EARLY: Duration = Duration::from_secs(5);
/// Past the early seconds, a slow service is polled at most this often.
const MAX_POLL: Duration = Duration::from_millis(250);
/// How often the container's state is looked at between probe attempts: a crash
/// is noticed within this, without an engine call per tight poll.
const INSPECT_EVERY: Duration = Duration::from_millis(200);
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

/// How long a container must keep running to count as ready, when that is the test:
/// no probe, or `running:`.
pub fn settle_time(probe: Option<&Probe>) -> Option<Duration> {
    match probe {
        None => Some(DEFAULT_SETTLE),
        Some(Probe::Running { settle }) => Some(*settle),
        Some(_) => None,
    }
}

/// How often a settling container is looked at, so a crash is noticed at once.
const SETTLE_POLL: Duration = Duration::from_millis(100);

/// Waits until the container has kept running for `settle` since gorae first saw it
/// running (gorae's own clock, so a remote engine's clock does not matter), it exits,
/// or `deadline` passes.
async fn wait_settled(
    engine: &Engine,
    container: &str,
    network: &str,
    settle: Duration,
    deadline: Instant,
    timeout: Duration,
) -> Result<(), NotReady> {
    let first = engine.inspect_state(container, network).await?;
    let seen = Instant::now();
    let mut state = first.clone();
    loop {
        if !state.running || state.started_at != first.started_at {
            return Err(NotReady::Exited {
                code: state.exit_code.unwrap_or(-1),
                oom: state.oom_killed,
            });
        }
        let now = Instant::now();
        if now >= seen + settle {
            return Ok(());
        }
        if now >= deadline {
            return Err(NotReady::Timeout {
                timeout,
                last: Some(format!(
                    "running for {:.1}s of the {:.1}s it must keep running",
                    now.duration_since(seen).as_secs_f64(),
                    settle.as_secs_f64()
                )),
            });
        }
        let until = (seen + settle).min(deadline);
        tokio::time::sleep(SETTLE_POLL.min(until.saturating_duration_since(now))).await;
        state = engine.inspect_state(container, network).await?;
    }
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
    if let Some(settle) = settle_time(probe) {
        return wait_settled(engine, container, network, settle, deadline, timeout).await;
    }
    let started = Instant::now();
    let connects_only = probe.is_some_and(|p| !matches!(p, Probe::Command { .. }));
    let mut delay = FIRST_POLL;
    let mut address = ContainerAddress::default();
    let mut last_failure: Option<String>;
    let mut inspected: Option<Instant> = None;
    loop {
        // The state is looked at on the first attempt (for the address), then every
        // INSPECT_EVERY and at the deadline.
        let now = Instant::now();
        if inspected.is_none_or(|at| now - at >= INSPECT_EVERY) || now >= deadline {
            inspected = Some(now);
            let state = engine.inspect_state(container, network).await?;
            if !state.running {
                return Err(NotReady::Exited {
                    code: state.exit_code.unwrap_or(-1),
                    oom: state.oom_killed,
                });
            }
            address = state.address;
        }
        match attempt(engine, container, &address, probe).await {
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
        delay = next_delay(delay, started.elapsed(), connects_only);
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
        Ok(state) if state.running => match settle_time(probe) {
            // The engine says when it started the container; with no clock of its own at
            // hand, this machine's is used (the same clock for a local engine).
            Some(settle) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64());
                running_for(&state.started_at, now).is_some_and(|age| age >= settle)
            }
            None => attempt(engine, container, &state.address, probe)
                .await
                .is_ok(),
        },
        _ => false,
    }
}

/// How long a container has run, from the engine's RFC 3339 start time and the time
/// now in seconds since 1970; `None` when the start time cannot be read.
fn running_for(started_at: &str, now: f64) -> Option<Duration> {
    let started = unix_seconds(started_at)?;
    (now >= started).then(|| Duration::from_secs_f64(now - started))
}

/// Seconds since 1970 of `2026-11-30T22:49:13.123456789Z` (UTC, as the engine writes it).
fn unix_seconds(text: &str) -> Option<f64> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut date = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (date.next()??, date.next()??, date.next()??);
    let mut time = time.splitn(3, ':');
    let hour: f64 = time.next()?.parse().ok()?;
    let minute: f64 = time.next()?.parse().ok()?;
    let second: f64 = time.next()?.parse().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days as f64 * 86_400.0 + hour * 3600.0 + minute * 60.0 + second)
}

/// One probe with what is already known about the container (it runs, and has
/// this address), so that checking an unchanged service costs no inspect.
pub async fn attempt(
    engine: &Engine,
    container: &str,
    address: &ContainerAddress,
    probe: Option<&Probe>,
) -> Result<(), String> {
    match probe {
        // Judged by how long it has run (see `settle_time`), not by a probe.
        None | Some(Probe::Running { .. }) => Ok(()),
        Some(Probe::Command { command }) => command_probe(engine, container, command).await,
        Some(Probe::Tcp { port }) => tcp_probe(engine, address, *port).await,
        Some(Probe::Http { port, path }) => http_probe(engine, address, *port, path).await,
        Some(Probe::Handshake { protocol, port }) => {
            handshake_probe(engine, address, *protocol, *port).await
        }
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

async fn connect(
    engine: &Engine,
    address: &ContainerAddress,
    port: u16,
) -> Result<Connection, String> {
    engine
        .connect_to(address, port, ATTEMPT_TIMEOUT)
        .await
        .map_err(|err| format!("port {port}: {err}"))
}

async fn tcp_probe(engine: &Engine, address: &ContainerAddress, port: u16) -> Result<(), String> {
    let mut connection = connect(engine, address, port).await?;
    let Some(settle) = connection.unconfirmed_for else {
        return Ok(());
    };
    let mut byte = [0; 1];
    match tokio::time::timeout(settle, connection.stream.read(&mut byte)).await {
        // Still open, or already talking: the port answered.
        Err(_) | Ok(Ok(1..)) => Ok(()),
        Ok(Ok(0)) => Err(format!(
            "port {port}: connection refused on the engine's machine"
        )),
        Ok(Err(err)) => Err(format!("port {port}: {err}")),
    }
}

/// The probe's request. The path was checked when the file was loaded; it is encoded
/// here again so that no path, from any template, can end the request line early or
/// add a header.
fn http_request(path: &str) -> String {
    let mut target = String::with_capacity(path.len());
    for c in path.chars() {
        if crate::config::fields::is_url_char(c) {
            target.push(c);
        } else {
            let mut bytes = [0; 4];
            for byte in c.encode_utf8(&mut bytes).bytes() {
                target.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    format!("GET {target} HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n")
}

async fn http_probe(
    engine: &Engine,
    address: &ContainerAddress,
    port: u16,
    path: &str,
) -> Result<(), String> {
    let mut stream = connect(engine, address, port).await?.stream;
    let request = http_request(path);
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

/// What the client says first: MySQL's server speaks first, the others wait.
fn handshake_opening(protocol: Handshake) -> &'static [u8] {
    match protocol {
        Handshake::Mysql => b"",
        // The protocol header of AMQP 0-9-1.
        Handshake::Amqp => b"AMQP\x00\x00\x09\x01",
        Handshake::Memcached => b"version\r\n",
    }
}

/// Judges what the server has sent so far: `None` while more is needed.
fn judge_handshake(protocol: Handshake, got: &[u8]) -> Option<Result<(), String>> {
    match protocol {
        Handshake::Mysql => {
            // A packet: 3 bytes of length, a sequence number, then the payload, whose
            // first byte is 10 for the greeting and 0xff for an error packet.
            let payload = got.get(4..)?;
            match payload.first()? {
                10 => Some(Ok(())),
                0xff => {
                    let length =
                        usize::from(got[0]) | usize::from(got[1]) << 8 | usize::from(got[2]) << 16;
                    let body = payload.get(3..length.min(payload.len()))?;
                    // `#` and a five-letter SQL state come before the message.
                    let message = body
                        .strip_prefix(b"#")
                        .map_or(body, |rest| rest.get(5..).unwrap_or(b""));
                    Some(Err(format!(
                        "the server refused: {}",
                        String::from_utf8_lossy(message)
                    )))
                }
                other => Some(Err(format!("not a MySQL greeting (first byte {other})"))),
            }
        }
        Handshake::Amqp => {
            // A method frame (type 1) on channel 0 whose method is Connection.Start
            // (class 10, method 10); a server of another version answers with its
            // own protocol header instead.
            if got.starts_with(b"AMQP") {
                return Some(Err("the server speaks another AMQP version".to_string()));
            }
            let frame = got.get(..11)?;
            if frame[0] == 1 && frame[1..3] == [0, 0] && frame[7..11] == [0, 10, 0, 10] {
                Some(Ok(()))
            } else {
                Some(Err("no AMQP Connection.Start".to_string()))
            }
        }
        Handshake::Memcached => {
            let end = got.windows(2).position(|w| w == b"\r\n")?;
            let line = String::from_utf8_lossy(&got[..end]);
            if line.starts_with("VERSION ") {
                Some(Ok(()))
            } else {
                Some(Err(format!("`version` answered {line:?}")))
            }
        }
    }
}

async fn handshake_probe(
    engine: &Engine,
    address: &ContainerAddress,
    protocol: Handshake,
    port: u16,
) -> Result<(), String> {
    let mut stream = connect(engine, address, port).await?.stream;
    let name = protocol.name();
    let exchange = async {
        stream.write_all(handshake_opening(protocol)).await?;
        let mut got = Vec::new();
        let mut buf = [0; 256];
        loop {
            let read = stream.read(&mut buf).await?;
            got.extend_from_slice(&buf[..read]);
            if let Some(verdict) = judge_handshake(protocol, &got) {
                return Ok::<_, std::io::Error>(verdict);
            }
            // Closed before a verdict, or far more than any greeting's start.
            if read == 0 || got.len() > 4096 {
                return Ok(Err("the server closed the connection".to_string()));
            }
        }
    };
    match tokio::time::timeout(ATTEMPT_TIMEOUT, exchange).await {
        Ok(Ok(verdict)) => verdict.map_err(|why| format!("{name} on port {port}: {why}")),
        Ok(Err(err)) => Err(format!("{name} on port {port}: {err}")),
        Err(_) => Err(format!("{name} on port {port}: no handshake within 2s")),
    }
}

/// The pause after `delay`, `elapsed` into the wait: half as long again, up to
/// [`EARLY_MAX_POLL`] ([`EARLY_CONNECT_POLL`] for a probe that only connects) in
/// the early seconds and [`MAX_POLL`] after them.
fn next_delay(delay: Duration, elapsed: Duration, connects_only: bool) -> Duration {
    let cap = match (elapsed < EARLY, connects_only) {
        (true, true) => EARLY_CONNECT_POLL,
        (true, false) => EARLY_MAX_POLL,
        (false, _) => MAX_POLL,
    };
    (delay * 3 / 2).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_back_off_to_50_ms_in_the_early_seconds_and_to_250_ms_after() {
        let mut delay = FIRST_POLL;
        let mut seen = vec![delay.as_millis()];
        for _ in 0..6 {
            delay = next_delay(delay, Duration::from_millis(900), false);
            seen.push(delay.as_millis());
        }
        assert_eq!(seen, [10, 15, 22, 33, 50, 50, 50]);
        let mut late = Vec::new();
        for _ in 0..6 {
            delay = next_delay(delay, EARLY, false);
            late.push(delay.as_millis());
        }
        assert_eq!(late, [75, 112, 168, 250, 250, 250]);
        assert_eq!(
            next_delay(
                Duration::from_millis(40),
                EARLY - Duration::from_millis(1),
                false
            ),
            EARLY_MAX_POLL
        );
    }

    #[test]
    fn a_probe_that_only_connects_polls_every_10_ms_in_the_early_seconds() {
        let mut delay = FIRST_POLL;
        for _ in 0..5 {
            delay = next_delay(delay, Duration::from_millis(900), true);
            assert_eq!(delay, EARLY_CONNECT_POLL);
        }
        assert_eq!(next_delay(delay, EARLY, true), Duration::from_millis(15));
    }

    #[test]
    fn engine_times_are_read_as_unix_seconds() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(unix_seconds("2000-03-01T00:00:01.5Z"), Some(951_868_801.5));
        let now = unix_seconds("2026-12-01T00:00:01Z").unwrap();
        assert_eq!(
            running_for("2026-11-30T23:59:59.5Z", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(unix_seconds("0001-01-01T00:00:00"), None);
    }

    #[test]
    fn handshakes_are_judged_once_enough_has_arrived() {
        use Handshake::*;
        let greeting = b"\x4a\0\0\0\x0a8.4.3\0";
        assert_eq!(judge_handshake(Mysql, &greeting[..4]), None);
        assert_eq!(judge_handshake(Mysql, greeting), Some(Ok(())));
        let refused = b"\x1d\0\0\0\xff\x10\x04#08004Too many connections";
        assert_eq!(
            judge_handshake(Mysql, refused),
            Some(Err("the server refused: Too many connections".to_string()))
        );
        let start = b"\x01\x00\x00\x00\x00\x01\xf4\x00\x0a\x00\x0a\x00\x09";
        assert_eq!(judge_handshake(Amqp, &start[..10]), None);
        assert_eq!(judge_handshake(Amqp, start), Some(Ok(())));
        assert!(matches!(
            judge_handshake(Amqp, b"AMQP\x00\x00\x09\x01"),
            Some(Err(_))
        ));
        assert_eq!(judge_handshake(Memcached, b"VERSION 1.6"), None);
        assert_eq!(
            judge_handshake(Memcached, b"VERSION 1.6.18\r\n"),
            Some(Ok(()))
        );
        assert!(matches!(
            judge_handshake(Memcached, b"ERROR\r\n"),
            Some(Err(_))
        ));
        assert_eq!(handshake_opening(Amqp), b"AMQP\x00\x00\x09\x01");
    }

    #[test]
    fn no_probe_path_can_add_a_header() {
        for path in ["/a\r\nX-Evil: 1", "/a b", "/\n\nGET /", "/é\u{85}"] {
            let request = http_request(path);
            assert_eq!(request.matches("\r\n").count(), 4, "{request:?}");
            assert!(
                request.lines().next().unwrap().split(' ').count() == 3,
                "{request:?}"
            );
        }
        assert!(http_request("/health?x=1").starts_with("GET /health?x=1 HTTP/1.0\r\n"));
    }
}
