//! Real-engine tests of the everyday commands: `env`, `logs`, `exec`, `doctor`, and
//! plain output without escape codes. Each test uses its own project (see
//! `support`), so they run in parallel against one engine and clean up after
//! themselves even when they fail.

#[path = "../support/mod.rs"]
mod support;

mod doctor;
mod env;
mod exec;
mod logs;
mod plain;

use std::net::TcpListener;
use std::process::Output;
use std::time::{Duration, Instant};

use support::TestProject;

/// A gorae.yaml with the project's unique name and these services.
fn services_yaml(project: &TestProject, services: &str) -> String {
    project.project_yaml(&format!("services:\n{services}"))
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Polls `check` every 100 ms until it returns `Some`, or panics after `limit`
/// naming `what` was awaited.
fn wait_for<T>(what: &str, limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `'text'` for sh: safe for paths with spaces or quotes.
fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
