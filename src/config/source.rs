//! A user file's text and display name; turns spans into [`Location`]s for diagnostics.

use super::diagnostic::{Diagnostic, Location};

/// A position in a source file: 1-based line and column (in characters) and a width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Span {
    pub line: usize,
    pub col: usize,
    pub len: usize,
}

impl Span {
    pub fn new(line: usize, col: usize, len: usize) -> Self {
        Span { line, col, len }
    }

    /// A span `offset` characters further right on the same line.
    pub fn shifted(self, offset: usize, len: usize) -> Self {
        Span {
            line: self.line,
            col: self.col + offset,
            len,
        }
    }
}

/// One file being checked.
#[derive(Debug, Clone)]
pub struct Source {
    /// How the file is named in messages.
    pub display: String,
    pub text: String,
    /// Byte offset where each line starts, so looking a line up is cheap even in a big file.
    line_starts: Vec<usize>,
}

impl Source {
    pub fn new(display: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(index, _)| index + 1))
            .collect();
        Source {
            display: display.into(),
            text,
            line_starts,
        }
    }

    /// The text of a 1-based line, without its line break; empty past the end.
    pub fn line(&self, line: usize) -> &str {
        let Some(&start) = line
            .checked_sub(1)
            .and_then(|index| self.line_starts.get(index))
        else {
            return "";
        };
        let rest = self.text.get(start..).unwrap_or("");
        let text = rest.split('\n').next().unwrap_or("");
        text.strip_suffix('\r').unwrap_or(text)
    }

    pub fn locate(&self, span: Span) -> Location {
        Location {
            file: self.display.clone(),
            line: span.line.max(1),
            col: span.col.max(1),
            len: span.len,
            text: self.line(span.line).to_string(),
        }
    }

    /// A diagnostic at `span` of this file.
    pub fn error(
        &self,
        span: Span,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::new(message, Some(self.locate(span)), help)
    }
}
