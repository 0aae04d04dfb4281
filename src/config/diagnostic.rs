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
    /// The whole source line, without its line break.
    pub text: String,
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
        let mut out = format!("error: {}\n", self.message);
        if let Some(location) = &self.location {
            render_snippet(&mut out, location, gutter);
        }
        for note in &self.notes {
            match &note.location {
                Some(location) => {
                    let _ = writeln!(out, "note: {}", note.message);
                    render_snippet(&mut out, location, gutter);
                }
                None => {
                    let _ = writeln!(out, "{:gutter$} = note: {}", "", note.message);
                }
            }
        }
        let _ = writeln!(out, "{:gutter$} = help: {}", "", self.help);
        out
    }
}

/// Renders all diagnostics, separated by blank lines, then a summary line naming
/// the project file and the number of errors.
pub fn render_all(diagnostics: &[Diagnostic], file: &str) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        out.push_str(&diagnostic.render());
        out.push('\n');
    }
    let count = diagnostics.len();
    let _ = write!(
        out,
        "{file}: {count} error{}",
        if count == 1 { "" } else { "s" }
    );
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
    let (shown, caret_start, caret_len) = display_line(&location.text, location.col, location.len);
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
    fn summary_counts_errors_with_the_right_plural() {
        let one = Diagnostic::new("x", None, "y");
        assert!(
            render_all(std::slice::from_ref(&one), "gorae.yaml").ends_with("gorae.yaml: 1 error")
        );
        assert!(render_all(&[one.clone(), one], "gorae.yaml").ends_with("gorae.yaml: 2 errors"));
    }
}
