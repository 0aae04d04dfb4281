//! The one way a command writes its result to stdout. A reader that closed the pipe
//! (`gorae config | head -1`) has what it wanted: gorae stops quietly with exit 0, as
//! ripgrep does. Any other write error (`> /dev/full`) becomes [`OutputError`], one
//! `error:` line and exit 1, never a panic.

use std::io::Write;

/// Writing the command's output failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the output")]
pub struct OutputError {
    #[source]
    pub source: std::io::Error,
}

impl OutputError {
    /// The reader went away (a closed pipe): not a failure of gorae's.
    pub fn is_closed_pipe(&self) -> bool {
        self.source.kind() == std::io::ErrorKind::BrokenPipe
    }
}

/// Writes `text` to stdout and flushes it.
pub fn stdout(text: &str) -> Result<(), OutputError> {
    write_to(&mut std::io::stdout().lock(), text)
}

/// Writes to stdout with `write`, holding stdout for the whole batch so that lines
/// written together (`gorae logs` of several services) are not interleaved, then
/// flushes.
pub fn stdout_with(
    write: impl FnOnce(&mut std::io::StdoutLock<'static>) -> std::io::Result<()>,
) -> Result<(), OutputError> {
    let mut out = std::io::stdout().lock();
    write(&mut out)
        .and_then(|()| out.flush())
        .map_err(|source| OutputError { source })
}

/// Writes `text` to `out` and flushes it; split out so the error paths can be tested.
pub fn write_to(out: &mut impl Write, text: &str) -> Result<(), OutputError> {
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|source| OutputError { source })
}

/// Writes a line to stderr, ignoring failure: if stderr itself is gone there is no one
/// left to tell, and panicking (as `eprintln!` does) would only add a backtrace.
pub fn stderr_line(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Failing(std::io::ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from(self.0))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_told_apart_from_other_write_errors() {
        let closed = write_to(&mut Failing(std::io::ErrorKind::BrokenPipe), "x").unwrap_err();
        assert!(closed.is_closed_pipe());
        let full = write_to(&mut Failing(std::io::ErrorKind::StorageFull), "x").unwrap_err();
        assert!(!full.is_closed_pipe());
        assert_eq!(full.to_string(), "cannot write the output");
    }
}
