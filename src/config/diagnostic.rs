//! Positioned errors about a user's file, rendered like rustc and just:
//! what is wrong, `file:line:col`, the source line with carets, how to fix it.

use std::fmt::Write as _;

/// A place in a source file, with the source line copied in so a diagnostic can be
/// rendered long after the file's text is gone (and for files other than gorae.yaml:
/// `.env`, project-local templates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file as shown to the user (relative to the current directory where possible).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// How many characters the carets cover (at least one is drawn).
    pub len: usize,
    /// The source line without its line break; for a long line, only a window of it
    /// around the fault (see `skipped` and `cut_end`).
    pub text: String,
    /// How many characters of the line were left out before `text`.
    pub skipped: usize,
    /// Whether the line goes on after `text`.
    pub cut_end: bool,
}

/// A secondary remark, optionally pointing at another place ("first published here").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub message: String,
    pub location: Option<Location>,
}

/// One error in a user's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// What is wrong, in one line.
    pub message: String,
    /// Where; `None` only for faults of the whole file (e.g. it is not UTF-8 text).
    pub location: Option<Location>,
    /// How to fix it. Every diagnostic has one: an error the user cannot act on is a bug.
    pub help: String,
    pub notes: Vec<Note>,
}

impl Diagnostic {
    pub fn new(
        message: impl Into<String>,
        location: Option<Location>,
        help: impl Into<String>,
    ) -> Self {
        Diagnostic {
            message: message.into(),
            location,
            help: help.into(),
            notes: Vec::new(),
        }
    }

    /// Adds a note pointing at another place.
    pub fn with_note(mut self, message: impl Into<String>, location: Option<Location>) -> Self {
        self.notes.push(Note {
            message: message.into(),
            location,
        });
        self
    }

    /// Renders this diagnostic as plain text, ending with a newline.
    pub fn render(&self) -> String {
        let gutter = std::iter::once(&self.location)
            .chain(self.notes.iter().map(|n| &n.location))
            .flatten()
            .map(|l| l.line.to_string().len())
            .max()
            .unwrap_or(1);
        let mut out = format!("error: {}\n", clean(&self.message));
        if let Some(location) = &self.location {
            render_snippet(&mut out, location, gutter);
        }
        for note in &self.notes {
            match &note.location {
                Some(location) => {
                    let _ = writeln!(out, "note: {}", clean(&note.message));
                    render_snippet(&mut out, location, gutter);
                }
                None => {
                    let _ = writeln!(out, "{:gutter$} = note: {}", "", clean(&note.message));
                }
            }
        }
        let _ = writeln!(out, "{:gutter$} = help: {}", "", clean(&self.help));
        out
    }
}

/// At most this many errors are shown; the rest are counted ("and 12 more errors"), so
/// a file with thousands of mistakes still gives a report one can read (and a bounded
/// one: a few tens of KB).
pub const MAX_SHOWN: usize = 30;
/// A message, help or note longer than this many characters (it quotes a long value
/// from the file) is cut, with `…` where text was left out.
const MAX_TEXT_CHARS: usize = 300;

/// Renders the first [`MAX_SHOWN`] diagnostics, separated by blank lines, then how many
/// were left out and a summary line naming the project file and the number of errors.
pub fn render_all(diagnostics: &[Diagnostic], file: &str) -> String {
    render_counting(diagnostics, 0, file)
}

/// Like [`render_all`], for a report of `diagnostics` and `dropped` more errors that
/// were counted but not kept.
pub fn render_counting(diagnostics: &[Diagnostic], dropped: usize, file: &str) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics.iter().take(MAX_SHOWN) {
        out.push_str(&diagnostic.render());
        out.push('\n');
    }
    let count = diagnostics.len() + dropped;
    if count > MAX_SHOWN {
        let more = count - diagnostics.len().min(MAX_SHOWN);
        let _ = writeln!(
            out,
            "and {more} more error{}; fix these first, then run the command again\n",
            if more == 1 { "" } else { "s" }
        );
    }
    let _ = write!(
        out,
        "{file}: {count} error{}",
        if count == 1 { "" } else { "s" }
    );
    out
}

/// A message as shown: control characters from quoted values (a key with a line break
/// in it) are escaped so they cannot start a line of their own, and long text is cut.
fn clean(text: &str) -> String {
    let mut out = String::new();
    for (index, c) in text.chars().enumerate() {
        if index == MAX_TEXT_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Tabs become this many spaces so carets line up whatever the terminal's tab stops.
const TAB: &str = "    ";

fn render_snippet(out: &mut String, location: &Location, gutter: usize) {
    let _ = writeln!(
        out,
        "{:gutter$}--> {}:{}:{}",
        "", location.file, location.line, location.col
    );
    let _ = writeln!(out, "{:gutter$} |", "");
    let col = location.col.saturating_sub(location.skipped);
    let (mut shown, mut caret_start, caret_len) = display_line(&location.text, col, location.len);
    if location.skipped > 0 {
        shown.insert(0, '…');
        caret_start += 1;
    }
    if location.cut_end {
        shown.push('…');
    }
    let _ = writeln!(out, "{:>gutter$} | {}", location.line, shown.trim_end());
    let _ = writeln!(
        out,
        "{:gutter$} | {}{}",
        "",
        " ".repeat(caret_start),
        "^".repeat(caret_len)
    );
}

/// The line as displayed (tabs expanded, control characters replaced) and the display
/// column and width of the carets, clamped so they always point into or just past the line.
fn display_line(text: &str, col: usize, len: usize) -> (String, usize, usize) {
    let mut shown = String::new();
    let mut caret_start = None;
    let mut caret_end = None;
    let start = col.max(1) - 1;
    let end = start + len.max(1);
    for (index, c) in text.chars().enumerate() {
        if index == start {
            caret_start = Some(display_width(&shown));
        }
        if index == end {
            caret_end = Some(display_width(&shown));
        }
        match c {
            '\t' => shown.push_str(TAB),
            c if c.is_control() => shown.push('\u{fffd}'),
            c => shown.push(c),
        }
    }
    let width = display_width(&shown);
    let caret_start = caret_start.unwrap_or(width);
    let caret_end = caret_end.unwrap_or(width).max(caret_start + 1);
    (shown, caret_start, caret_end - caret_start)
}

fn display_width(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(text: &str, col: usize, len: usize) -> Location {
        Location {
            file: "gorae.yaml".into(),
            line: 12,
            col,
            len,
            text: text.into(),
            skipped: 0,
            cut_end: false,
        }
    }

    #[test]
    fn renders_like_rustc_with_carets_under_the_fault() {
        let diagnostic = Diagnostic::new(
            "unknown key `dependson` in service `web`",
            Some(location("    dependson: [redis]", 5, 9)),
            "did you mean `depends_on`?",
        );
        assert_eq!(
            diagnostic.render(),
            "error: unknown key `dependson` in service `web`\n  \
             --> gorae.yaml:12:5\n   \
             |\n\
             12 |     dependson: [redis]\n   \
             |     ^^^^^^^^^\n   \
             = help: did you mean `depends_on`?\n"
        );
    }

    #[test]
    fn tabs_are_expanded_and_carets_follow_them() {
        let (shown, start, len) = display_line("\ta: b", 2, 1);
        assert_eq!(shown, "    a: b");
        assert_eq!((start, len), (4, 1));
    }

    #[test]
    fn carets_past_the_end_of_the_line_still_show_one_caret() {
        let (_, start, len) = display_line("ab", 10, 5);
        assert_eq!((start, len), (2, 1));
    }

    #[test]
    fn many_errors_show_the_first_ones_and_count_the_rest() {
        let one = Diagnostic::new("x", None, "y");
        let all = vec![one; MAX_SHOWN + 12];
        let out = render_all(&all, "gorae.yaml");
        assert_eq!(out.matches("error: x").count(), MAX_SHOWN);
        assert!(out.contains("and 12 more errors"), "{out}");
        assert!(out.ends_with(&format!("gorae.yaml: {} errors", MAX_SHOWN + 12)));
    }

    #[test]
    fn quoted_line_breaks_and_long_values_cannot_flood_a_message() {
        let long = format!("unknown key `a\nb{}`", "x".repeat(10_000));
        let out = Diagnostic::new(long, None, "y").render();
        assert_eq!(out.lines().count(), 2, "{out}");
        assert!(out.len() < 2 * MAX_TEXT_CHARS, "{}", out.len());
    }

    #[test]
    fn summary_counts_errors_with_the_right_plural() {
        let one = Diagnostic::new("x", None, "y");
        assert!(
            render_all(std::slice::from_ref(&one), "gorae.yaml").ends_with("gorae.yaml: 1 error")
        );
        assert!(render_all(&[one.clone(), one], "gorae.yaml").ends_with("gorae.yaml: 2 errors"));
    }
}
