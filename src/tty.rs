//! The local terminal: whether a session is interactive, its size, and raw mode
//! that is undone however the session ends.

use std::io::IsTerminal;

use rustix::termios::{self, OptionalActions, Termios};

/// Rows and columns of a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    pub rows: u16,
    pub cols: u16,
}

/// Whether both stdin and stdout are a terminal: only then does a command in a
/// container get a TTY of its own. With either one redirected, the bytes must pass
/// through untouched (no `\r\n`, no echo), as `docker exec` without `-t` does.
pub fn is_interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// The size of the terminal on stdout, if it is one and reports a size.
pub fn size() -> Option<Size> {
    let size = termios::tcgetwinsize(std::io::stdout()).ok()?;
    (size.ws_row > 0 && size.ws_col > 0).then_some(Size {
        rows: size.ws_row,
        cols: size.ws_col,
    })
}

/// The terminal on stdin in raw mode: keys go to the container as they are typed
/// (Ctrl-C included), and the container's TTY does the echoing. The previous
/// settings come back when this is dropped: on return, on error, and on panic.
pub struct RawMode {
    saved: Termios,
}

impl RawMode {
    pub fn enable() -> std::io::Result<RawMode> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(&stdin)?;
        let mut raw = saved.clone();
        raw.make_raw();
        termios::tcsetattr(&stdin, OptionalActions::Now, &raw)?;
        Ok(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // Drain: output still queued for the terminal is written with the raw
        // settings it was produced for, then the user's settings return.
        let _ = termios::tcsetattr(std::io::stdin(), OptionalActions::Drain, &self.saved);
    }
}
