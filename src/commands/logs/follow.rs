//! `logs -f`: keeps printing new lines and survives restarts. A container's log
//! stream ends when the container stops, and `gorae up` may replace a container with
//! a new one, so the project's containers are listed again every [`POLL`]; any
//! running container not being read is attached (again) from the last line shown.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::line::{Instant, Line, lines_of};
use super::printer::Printer;
use crate::engine::{Engine, Scope};

/// How often the project's containers are listed to notice starts and re-creations.
const POLL: Duration = Duration::from_millis(500);

/// What is known about one container's log.
#[derive(Debug, Clone)]
pub struct Tracked {
    pub service: String,
    /// Time of the last line shown (or of the moment following began); only later
    /// lines are shown, so re-attaching never repeats a line.
    pub last: Option<Instant>,
    /// A stream is reading it right now.
    pub attached: bool,
}

enum Message {
    Lines { id: String, lines: Vec<Line> },
    Ended { id: String },
}

/// Follows the project's containers (only `services`, when given) until stdout
/// closes or the engine fails. `tracked` holds the containers already shown.
pub async fn follow(
    engine: &Engine,
    scope: &Scope,
    services: &[String],
    printer: &Printer,
    mut tracked: HashMap<String, Tracked>,
) -> anyhow::Result<()> {
    let (sender, mut messages) = mpsc::unbounded_channel();
    let mut poll = tokio::time::interval(POLL);
    loop {
        tokio::select! {
            Some(message) = messages.recv() => match message {
                Message::Lines { id, lines } => {
                    let Some(container) = tracked.get_mut(&id) else { continue };
                    // A closed pipe (`| head`) ends the command quietly; see
                    // `crate::output`.
                    crate::output::stdout_with(|out| {
                        for line in lines {
                            if container.last.is_some_and(|last| line.at <= last) {
                                continue;
                            }
                            container.last = Some(line.at);
                            printer.print(out, &container.service, &line)?;
                        }
                        Ok(())
                    })?;
                }
                Message::Ended { id } => {
                    if let Some(container) = tracked.get_mut(&id) {
                        container.attached = false;
                    }
                }
            },
            _ = poll.tick() => {
                let containers = engine.scoped_containers(scope).await?;
                // Forget removed containers, but keep reading one until its stream ends.
                tracked.retain(|id, t| t.attached || containers.iter().any(|c| &c.id == id));
                let wanted = containers
                    .into_iter()
                    .filter(|c| services.is_empty() || services.contains(&c.service));
                for container in wanted {
                    let entry = tracked.entry(container.id.clone()).or_insert_with(|| Tracked {
                        service: container.service.clone(),
                        // Created after following began: every line of it is new.
                        last: None,
                        attached: false,
                    });
                    if container.is_running() && !entry.attached {
                        entry.attached = true;
                        attach(engine, container.id, entry.last, sender.clone());
                    }
                }
            }
        }
    }
}

/// Reads one container's log from `last` on, in a task of its own, until the
/// container stops; then says so.
fn attach(
    engine: &Engine,
    id: String,
    last: Option<Instant>,
    sender: mpsc::UnboundedSender<Message>,
) {
    let since = last.map_or(0, Instant::unix_seconds);
    let mut stream = engine.follow_logs(&id, since);
    tokio::spawn(async move {
        while let Some(Ok(chunk)) = stream.next().await {
            let lines = lines_of(&chunk.into_bytes());
            if sender
                .send(Message::Lines {
                    id: id.clone(),
                    lines,
                })
                .is_err()
            {
                return;
            }
        }
        let _ = sender.send(Message::Ended { id });
    });
}
