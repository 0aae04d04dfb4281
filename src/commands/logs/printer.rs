//! Writes log lines as `service | text`, names aligned, each service in a colour of
//! its own when a person is watching a terminal that wants colour.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};

use super::line::Line;

/// ANSI foreground colours, none of them red (which reads as an error). A service
/// keeps its colour from run to run: it is picked by the service's place among the
/// project's sorted names.
const PALETTE: [&str; 6] = ["36", "33", "32", "35", "34", "96"];

/// Colour only on a terminal, and never when `NO_COLOR` is set (no-color.org: any
/// non-empty value).
pub fn colour_wanted() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// How lines are shown.
pub struct Printer {
    width: usize,
    /// Colour code of each service, when colour is on.
    colours: Option<BTreeMap<String, &'static str>>,
    timestamps: bool,
}

impl Printer {
    /// `services`: every name that may be shown, so the column fits all of them.
    pub fn new(services: &[String], colour: bool, timestamps: bool) -> Printer {
        let mut names: Vec<&String> = services.iter().collect();
        names.sort();
        names.dedup();
        let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
        let colours = colour.then(|| {
            names
                .iter()
                .enumerate()
                .map(|(i, name)| ((*name).clone(), PALETTE[i % PALETTE.len()]))
                .collect()
        });
        Printer {
            width,
            colours,
            timestamps,
        }
    }

    pub fn print(&self, out: &mut impl Write, service: &str, line: &Line) -> std::io::Result<()> {
        let width = self.width;
        let prefix = format!("{service:<width$} |");
        let colour = self
            .colours
            .as_ref()
            .map(|colours| colours.get(service).copied().unwrap_or("0"));
        match colour {
            Some(code) => write!(out, "\x1b[{code}m{prefix}\x1b[0m ")?,
            None => write!(out, "{prefix} ")?,
        }
        if self.timestamps {
            write!(out, "{} ", line.stamp)?;
        }
        writeln!(out, "{}", line.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::logs::line::lines_of;

    fn shown(printer: &Printer, service: &str) -> String {
        let line = &lines_of(b"2026-11-27T10:00:00.1Z hello")[0];
        let mut out = Vec::new();
        printer.print(&mut out, service, line).expect("write");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn names_align_and_timestamps_show_on_request() {
        let names = ["db".to_string(), "worker".to_string()];
        let plain = Printer::new(&names, false, false);
        assert_eq!(shown(&plain, "db"), "db     | hello\n");
        let stamped = Printer::new(&names, false, true);
        assert_eq!(
            shown(&stamped, "worker"),
            "worker | 2026-11-27T10:00:00.1Z hello\n"
        );
    }

    #[test]
    fn each_service_keeps_its_own_colour_and_plain_has_none() {
        let names = ["web".to_string(), "db".to_string(), "cache".to_string()];
        let colour = Printer::new(&names, true, false);
        assert_eq!(shown(&colour, "cache"), "\x1b[36mcache |\x1b[0m hello\n");
        assert_eq!(shown(&colour, "db"), "\x1b[33mdb    |\x1b[0m hello\n");
        assert_eq!(shown(&colour, "web"), "\x1b[32mweb   |\x1b[0m hello\n");
        let plain = Printer::new(&names, false, false);
        assert!(!shown(&plain, "db").contains('\x1b'));
    }
}
