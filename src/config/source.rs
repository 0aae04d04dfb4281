//! A user file's text and display name; turns spans into [`Location`]s for diagnostics.
//!
//! Lines end where YAML says they do: at `\n`, `\r\n` or a lone `\r`, so a file saved
//! with any editor's line endings gets the same line numbers from the parser and from
//! the snippets. A byte-order mark at the start is dropped (editors do not show it).
//! Looking up a line, or a column on it, costs the same on a one-line 1 MB file as on
//! a short one: positions are found through precomputed offsets, never by re-reading
//! the text, and a snippet copies only a window of the line around the fault.

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

/// A byte offset is remembered for every this many characters, so a column is turned
/// into a byte offset by a short scan from the nearest one.
const CHECKPOINT: usize = 256;
/// At most this many characters of a line are shown in a snippet; a longer line is cut
/// around the caret, with `…` where text was left out.
pub const SNIPPET_CHARS: usize = 120;
/// How many characters of context a cut snippet keeps before the caret.
const SNIPPET_BEFORE: usize = 40;

/// One file being checked.
#[derive(Debug, Clone)]
pub struct Source {
    /// How the file is named in messages.
    pub display: String,
    /// The text, without a leading byte-order mark.
    pub text: String,
    /// Each line's start and end (before its line break), in bytes.
    lines: Vec<(usize, usize)>,
    /// The character index at which each line starts.
    line_chars: Vec<usize>,
    /// `checkpoints[k]` is the byte offset of character `k * CHECKPOINT`.
    checkpoints: Vec<usize>,
}

impl Source {
    pub fn new(display: impl Into<String>, text: impl Into<String>) -> Self {
        let mut text = text.into();
        if text.starts_with('\u{feff}') {
            text.drain(..'\u{feff}'.len_utf8());
        }
        let mut lines = Vec::new();
        let mut line_chars = vec![0];
        let mut checkpoints = Vec::with_capacity(text.len() / CHECKPOINT + 1);
        let mut start = 0;
        let mut after_cr = false;
        // Bytes, not decoded characters: a character starts at every byte that is not
        // a UTF-8 continuation byte, and line breaks are single bytes. Several times
        // faster on a big file than decoding each character.
        let mut index = 0;
        for (byte, &b) in text.as_bytes().iter().enumerate() {
            if b & 0xC0 == 0x80 {
                continue;
            }
            if index % CHECKPOINT == 0 {
                checkpoints.push(byte);
            }
            match b {
                // The `\n` of a `\r\n` ends no second line: the line that the `\r`
                // ended starts after it.
                b'\n' if after_cr => {
                    start = byte + 1;
                    if let Some(first) = line_chars.last_mut() {
                        *first = index + 1;
                    }
                }
                b'\n' | b'\r' => {
                    lines.push((start, byte));
                    start = byte + 1;
                    line_chars.push(index + 1);
                }
                _ => {}
            }
            after_cr = b == b'\r';
            index += 1;
        }
        lines.push((start, text.len()));
        Source {
            display: display.into(),
            text,
            lines,
            line_chars,
            checkpoints,
        }
    }

    /// The text of a 1-based line, without its line break; empty past the end.
    pub fn line(&self, line: usize) -> &str {
        line.checked_sub(1)
            .and_then(|index| self.lines.get(index))
            .and_then(|&(start, end)| self.text.get(start..end))
            .unwrap_or("")
    }

    /// How many lines the file has.
    pub fn line_count(&self) -> usize {
        self.lines.len()
    }

    /// The byte offsets of a 1-based line's start and end (before its line break).
    pub fn line_bounds(&self, line: usize) -> Option<(usize, usize)> {
        line.checked_sub(1)
            .and_then(|index| self.lines.get(index))
            .copied()
    }

    /// The byte offset of a 1-based column on a 1-based line, clamped to the line's end.
    pub fn byte_at(&self, line: usize, col: usize) -> usize {
        let Some(&(start, end)) = line.checked_sub(1).and_then(|i| self.lines.get(i)) else {
            return self.text.len();
        };
        let first_char = self.line_chars.get(line - 1).copied().unwrap_or(0);
        let target = first_char + col.max(1) - 1;
        let mark = target / CHECKPOINT;
        let (mut byte, mut index) = match self.checkpoints.get(mark) {
            Some(&byte) if byte >= start => (byte, mark * CHECKPOINT),
            _ => (start, first_char),
        };
        for c in self.text[byte..end].chars() {
            if index == target {
                break;
            }
            byte += c.len_utf8();
            index += 1;
        }
        byte.min(end)
    }

    /// The 1-based line and column of a byte offset.
    pub fn position_of(&self, byte: usize) -> (usize, usize) {
        let index = self
            .lines
            .partition_point(|&(start, _)| start <= byte)
            .max(1);
        let start = self.lines[index - 1].0;
        let col = self.text.get(start..byte).map_or(0, |s| s.chars().count()) + 1;
        (index, col)
    }

    /// The text of `line` from column `col` on.
    pub fn rest_of_line(&self, line: usize, col: usize) -> &str {
        let Some(&(_, end)) = line.checked_sub(1).and_then(|i| self.lines.get(i)) else {
            return "";
        };
        self.text.get(self.byte_at(line, col)..end).unwrap_or("")
    }

    pub fn locate(&self, span: Span) -> Location {
        // The parser puts the end of a file without a final line break on a line after
        // the last one; that is the end of the last line.
        let (line, col) = if span.line > self.line_count() {
            let last = self.line_count();
            (last, self.line(last).chars().count() + 1)
        } else {
            (span.line.max(1), span.col.max(1))
        };
        let full = self.line(line);
        // Short lines (nearly all) are copied whole; a long one only around the caret.
        let (text, skipped, cut_end) = if full.len() <= SNIPPET_CHARS {
            (full.to_string(), 0, false)
        } else {
            let skipped = col.saturating_sub(1 + SNIPPET_BEFORE);
            let from = self.byte_at(line, skipped + 1);
            let window: String = self.text[from..]
                .chars()
                .take_while(|c| *c != '\n' && *c != '\r')
                .take(SNIPPET_CHARS + 1)
                .collect();
            let cut_end = window.chars().count() > SNIPPET_CHARS;
            let window = window.chars().take(SNIPPET_CHARS).collect();
            (window, skipped, cut_end)
        };
        Location {
            file: self.display.clone(),
            line,
            col,
            len: span.len.min(SNIPPET_CHARS),
            text,
            skipped,
            cut_end,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_editor_line_ending_counts_one_line() {
        for text in [
            "a\nb\nc",
            "a\r\nb\r\nc",
            "a\rb\rc",
            "a\r\nb\rc",
            "a\nb\r\nc",
        ] {
            let source = Source::new("t", text);
            assert_eq!(source.line_count(), 3, "{text:?}");
            assert_eq!(
                (source.line(1), source.line(2), source.line(3)),
                ("a", "b", "c"),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_byte_order_mark_is_dropped() {
        let source = Source::new("t", "\u{feff}a: 1\n");
        assert_eq!(source.line(1), "a: 1");
    }

    #[test]
    fn columns_become_byte_offsets_past_many_checkpoints() {
        let line: String = "é".repeat(1000) + "x";
        let source = Source::new("t", format!("first\n{line}\n"));
        let byte = source.byte_at(2, 1001);
        assert_eq!(&source.text[byte..byte + 1], "x");
        assert_eq!(source.rest_of_line(2, 1001), "x");
    }

    #[test]
    fn multibyte_text_over_mixed_line_endings_keeps_every_column() {
        // Three- and two-byte characters before and after each kind of line break.
        let text = format!("a€é\r\n{}x\rü€\nend", "€".repeat(600));
        let source = Source::new("t", text.as_str());
        assert_eq!(source.line_count(), 4);
        assert_eq!(source.line(2).chars().count(), 601);
        let x = source.byte_at(2, 601);
        assert_eq!(&source.text[x..x + 1], "x");
        let euro = source.byte_at(3, 2);
        assert_eq!(&source.text[euro..euro + 3], "€");
        assert_eq!(source.position_of(source.byte_at(4, 3)), (4, 3));
        assert_eq!(source.rest_of_line(1, 3), "é");
    }

    #[test]
    fn long_lines_are_cut_around_the_caret() {
        let line = format!("{}X{}", "a".repeat(5000), "b".repeat(5000));
        let source = Source::new("t", line);
        let location = source.locate(Span::new(1, 5001, 1));
        assert!(location.text.chars().count() <= SNIPPET_CHARS);
        assert_eq!(
            location.text.chars().nth(5000 - location.skipped),
            Some('X')
        );
        assert!(location.cut_end);
    }
}
