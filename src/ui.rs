//! What the user sees while gorae works: live lines on a terminal, plain lines in
//! CI and pipes, JSON events for tools. Every command reports through [`Ui`], never
//! through stray prints, so the three modes stay consistent.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One live line per service (a terminal).
    Live,
    /// One plain, timestamped line per event (CI, pipes).
    Plain,
    /// One JSON object per line.
    Json,
}

impl Mode {
    /// Live on a terminal unless `ci` (or `CI=true` in the environment) or JSON is
    /// asked for.
    pub fn detect(ci: bool, json: bool) -> Mode {
        let ci_env = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        if json {
            Mode::Json
        } else if ci || ci_env || !std::io::stderr().is_terminal() {
            Mode::Plain
        } else {
            Mode::Live
        }
    }
}

/// A step in a service's life during `up` or `down`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Pulling {
        image: String,
    },
    PullProgress {
        percent: u8,
    },
    Building {
        reason: String,
    },
    BuildStep {
        n: u32,
        of: u32,
        text: String,
    },
    BuildOutput {
        line: String,
    },
    Built {
        tag: String,
    },
    Creating,
    Recreating {
        reason: String,
    },
    Starting,
    Waiting,
    Ready {
        seconds: f64,
    },
    Completed {
        seconds: f64,
    },
    Unchanged,
    Stopping,
    Stopped,
    /// `gorae snapshot save` copied the service's data into the snapshot.
    Saved {
        snapshot: String,
        bytes: u64,
        seconds: f64,
    },
    /// `gorae snapshot restore` is putting the snapshot's data back.
    Restoring {
        snapshot: String,
    },
    /// `up` filled the service's new data volume from its `seed:`.
    Seeded {
        from: String,
        seconds: f64,
    },
    /// Its data is back in the volume; the service is started next.
    Restored {
        snapshot: String,
        seconds: f64,
    },
    Removed,
    Failed {
        reason: String,
    },
    Skipped {
        reason: String,
    },
    /// `up --watch` applied a change: files sent, paths removed, and the seconds from
    /// the change's first upload until the restarted app was ready again.
    Synced {
        files: usize,
        removed: usize,
        restarted: Option<f64>,
    },
}

impl Event {
    fn text(&self) -> String {
        match self {
            Event::Pulling { image } => format!("pulling {image}"),
            Event::PullProgress { percent } => format!("pulling: {percent}% downloaded"),
            Event::Building { reason } => format!("building ({reason})"),
            Event::BuildStep { n, of, text } => format!("building step {n}/{of}: {text}"),
            Event::BuildOutput { line } => format!("  {line}"),
            Event::Built { tag } => format!("built {tag}"),
            Event::Creating => "creating".into(),
            Event::Recreating { reason } => format!("re-creating ({reason})"),
            Event::Starting => "starting".into(),
            Event::Waiting => "waiting for readiness".into(),
            Event::Ready { seconds } => format!("ready in {seconds:.1}s"),
            Event::Completed { seconds } => format!("completed in {seconds:.1}s"),
            Event::Unchanged => "up to date".into(),
            Event::Stopping => "stopping".into(),
            Event::Stopped => "stopped".into(),
            Event::Saved {
                snapshot,
                bytes,
                seconds,
            } => format!(
                "saved to snapshot {snapshot} ({}) in {seconds:.1}s",
                human_bytes(*bytes)
            ),
            Event::Seeded { from, seconds } => format!("seeded from {from} in {seconds:.1}s"),
            Event::Restoring { snapshot } => format!("restoring from snapshot {snapshot}"),
            Event::Restored { snapshot, seconds } => {
                format!("restored from snapshot {snapshot} in {seconds:.1}s")
            }
            Event::Removed => "removed".into(),
            Event::Failed { reason } => format!("failed: {reason}"),
            Event::Skipped { reason } => format!("skipped: {reason}"),
            Event::Synced {
                files,
                removed,
                restarted,
            } => {
                let mut parts = Vec::new();
                if *files > 0 || *removed == 0 {
                    parts.push(format!("synced {files} file{}", plural(*files)));
                }
                if *removed > 0 {
                    parts.push(format!("removed {removed} path{}", plural(*removed)));
                }
                if let Some(seconds) = restarted {
                    parts.push(format!("restarted in {seconds:.2}s"));
                }
                parts.join(", ")
            }
        }
    }

    fn is_final(&self) -> bool {
        matches!(
            self,
            Event::Ready { .. }
                | Event::Completed { .. }
                | Event::Unchanged
                | Event::Stopped
                | Event::Saved { .. }
                | Event::Restored { .. }
                | Event::Seeded { .. }
                | Event::Removed
                | Event::Failed { .. }
                | Event::Skipped { .. }
                | Event::Synced { .. }
        )
    }
}

/// The printer shared by every task of a command.
pub struct Ui {
    mode: Mode,
    verbose: bool,
    started: Instant,
    /// Width of the service column, so lines align.
    width: usize,
    live: Mutex<Live>,
}

#[derive(Default)]
struct Live {
    bars: HashMap<String, ProgressBar>,
    multi: Option<MultiProgress>,
}

impl Ui {
    pub fn new(mode: Mode, verbose: bool) -> Ui {
        Ui {
            mode,
            verbose,
            started: Instant::now(),
            width: 8,
            live: Mutex::new(Live::default()),
        }
    }

    /// Aligns service names to the longest of `names`.
    pub fn with_services<'a>(mut self, names: impl IntoIterator<Item = &'a str>) -> Ui {
        self.width = names.into_iter().map(str::len).max().unwrap_or(0).max(4);
        self
    }

    /// Seconds since the command started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Reports one event of one service.
    pub fn service(&self, service: &str, event: Event) {
        if matches!(event, Event::BuildOutput { .. }) && !self.verbose {
            return;
        }
        match self.mode {
            Mode::Json => {
                #[derive(Serialize)]
                struct Line<'a> {
                    t: f64,
                    service: &'a str,
                    #[serde(flatten)]
                    event: &'a Event,
                }
                let line = Line {
                    t: round_ms(self.elapsed()),
                    service,
                    event: &event,
                };
                if let Ok(json) = serde_json::to_string(&line) {
                    self.eprint(&json);
                }
            }
            Mode::Plain => {
                let line = format!(
                    "[{:>6.2}s] {service:<width$}  {}",
                    self.elapsed().as_secs_f64(),
                    event.text(),
                    width = self.width
                );
                self.eprint(&line);
            }
            Mode::Live => self.live_event(service, &event),
        }
    }

    fn live_event(&self, service: &str, event: &Event) {
        let Ok(mut live) = self.live.lock() else {
            return;
        };
        if let Event::BuildOutput { line } = event {
            let multi = live.multi.get_or_insert_with(new_multi);
            let _ = multi.println(format!("  {service} | {line}"));
            return;
        }
        let width = self.width;
        let live = &mut *live;
        let multi = live.multi.get_or_insert_with(new_multi);
        let bar = live.bars.entry(service.to_string()).or_insert_with(|| {
            let bar = multi.add(ProgressBar::new_spinner());
            let template = format!("{{spinner}} {{prefix:<{width}}}  {{msg}}");
            bar.set_style(
                ProgressStyle::with_template(&template)
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(service.to_string());
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        let mark = match event {
            Event::Failed { .. } => "✗",
            Event::Skipped { .. } => "-",
            _ => "✓",
        };
        if event.is_final() {
            let template = format!("{mark} {{prefix:<{width}}}  {{msg}}");
            if let Ok(style) = ProgressStyle::with_template(&template) {
                bar.set_style(style);
            }
            bar.finish_with_message(event.text());
        } else {
            bar.set_message(event.text());
        }
    }

    /// A line that belongs to no service (summary, hint).
    pub fn note(&self, text: &str) {
        match self.mode {
            Mode::Json => {
                let line = serde_json::json!({ "t": round_ms(self.elapsed()), "note": text });
                self.eprint(&line.to_string());
            }
            _ => self.eprint(text),
        }
    }

    fn eprint(&self, text: &str) {
        let live = self.live.lock();
        if let Ok(live) = &live
            && let Some(multi) = &live.multi
        {
            let _ = multi.println(text);
            return;
        }
        crate::output::stderr_line(text);
    }

    /// Stops live drawing so later output is not mixed with spinners.
    pub fn finish(&self) {
        if let Ok(mut live) = self.live.lock() {
            for bar in live.bars.values() {
                if !bar.is_finished() {
                    bar.abandon();
                }
            }
            live.bars.clear();
            live.multi = None;
        }
    }
}

/// A size for people: `312 B`, `4.2 MB`, `1.3 GB` (powers of 1000, as disks count).
pub fn human_bytes(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

fn new_multi() -> MultiProgress {
    MultiProgress::with_draw_target(ProgressDrawTarget::stderr())
}

fn round_ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod watch_tests {
    use super::Event;

    #[test]
    fn sizes_read_in_powers_of_a_thousand() {
        assert_eq!(super::human_bytes(999), "999 B");
        assert_eq!(super::human_bytes(1_000), "1.0 kB");
        assert_eq!(super::human_bytes(4_250_000), "4.2 MB");
        assert_eq!(super::human_bytes(1_300_000_000), "1.3 GB");
    }

    /// One line per change applied by `up --watch`, and its JSON event.
    #[test]
    fn a_synced_change_reads_as_one_line() {
        let cases = [
            ((2, 0, Some(0.213)), "synced 2 files, restarted in 0.21s"),
            ((1, 0, None), "synced 1 file"),
            ((0, 1, None), "removed 1 path"),
            (
                (1, 2, Some(1.0)),
                "synced 1 file, removed 2 paths, restarted in 1.00s",
            ),
        ];
        for ((files, removed, restarted), text) in cases {
            let event = Event::Synced {
                files,
                removed,
                restarted,
            };
            assert_eq!(event.text(), text);
        }
        let json = serde_json::to_value(Event::Synced {
            files: 2,
            removed: 0,
            restarted: Some(0.25),
        })
        .expect("json");
        assert_eq!(
            json,
            serde_json::json!({"event": "synced", "files": 2, "removed": 0, "restarted": 0.25})
        );
    }
}
