//! Real-engine tests of the everyday commands: `env`, `logs`, `exec`, `doctor`, `lock`,
//! and plain output without escape codes. Each test uses its own project (see
//! `support`), so they run in parallel against one engine and clean up after
//! themselves even when they fail.

#[path = "../support/mod.rs"]
mod support;

mod doctor;
mod env;
mod exec;
mod lock;
mod logs;
mod plain;

use std::time::{Duration, Instant};

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
