//! `gorae ps`: each service's container, state, readiness and ports.

use futures_util::future::join_all;
use serde::Serialize;

use crate::cli::PsArgs;
use crate::exit::ExitCode;
use crate::plan;
use crate::readiness;

/// One row of `ps`.
#[derive(Debug, Serialize)]
struct Row {
    service: String,
    /// `service` or `task`.
    kind: String,
    container: String,
    state: String,
    status: String,
    /// `None` when not running (readiness does not apply).
    ready: Option<bool>,
    /// Exit code of a container that has stopped.
    exit_code: Option<i64>,
    /// For a task that has finished: whether it exited 0.
    succeeded: Option<bool>,
    ports: Vec<String>,
}

impl Row {
    /// The READY column: readiness of a running service; for a finished task
    /// whether it succeeded, with its exit code.
    fn ready_text(&self) -> String {
        match (self.succeeded, self.exit_code, self.ready) {
            (Some(true), Some(code), _) => format!("done (exit {code})"),
            (Some(false), Some(code), _) => format!("failed (exit {code})"),
            (_, _, Some(true)) => "yes".into(),
            (_, _, Some(false)) => "no".into(),
            _ => "-".into(),
        }
    }
}

pub async fn run(
    file: crate::commands::ProjectFile<'_>,
    args: &PsArgs,
) -> anyhow::Result<ExitCode> {
    let project = super::load_project(file)?;
    let plan = plan::desired(&project);
    let engine = super::connect().await?;
    let mut containers = super::observe(&engine, &project).await?.containers;
    containers.sort_by(|a, b| a.service.cmp(&b.service));
    let rows = join_all(containers.iter().map(|container| {
        let engine = &engine;
        let probe = plan
            .services
            .iter()
            .find(|s| s.name == container.service)
            .and_then(|s| s.ready.as_ref());
        let network = plan.network.as_str();
        async move {
            let ready = if container.is_running() {
                Some(readiness::probe_once(engine, &container.id, network, probe).await)
            } else {
                None
            };
            let exit_code = (!container.is_running())
                .then(|| container.exit_code())
                .flatten();
            Row {
                service: container.service.clone(),
                kind: if container.is_task() {
                    "task"
                } else {
                    "service"
                }
                .to_string(),
                container: container.name.clone(),
                state: container.state.clone(),
                status: container.status.clone(),
                ready,
                exit_code,
                succeeded: exit_code
                    .filter(|_| container.is_task())
                    .map(|code| code == 0),
                ports: container
                    .ports
                    .iter()
                    .map(|(ip, host, inside)| format!("{ip}:{host}->{inside}"))
                    .collect(),
            }
        }
    }))
    .await;

    if args.json {
        super::print_stdout(&format!("{}\n", serde_json::to_string_pretty(&rows)?))?;
        return Ok(ExitCode::Success);
    }
    if rows.is_empty() {
        crate::output::stderr_line(&format!(
            "no containers for project `{}`; `gorae up` starts them",
            project.name
        ));
        return Ok(ExitCode::Success);
    }
    let width = rows
        .iter()
        .map(|r| r.service.len())
        .max()
        .unwrap_or(7)
        .max(7);
    let ready_width = rows
        .iter()
        .map(|r| r.ready_text().len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut table = format!(
        "{:<width$}  {:<10} {:<ready_width$} PORTS\n",
        "SERVICE", "STATE", "READY"
    );
    for row in rows {
        let line = format!(
            "{:<width$}  {:<10} {:<ready_width$} {}",
            row.service,
            row.state,
            row.ready_text(),
            row.ports.join(", ")
        );
        table.push_str(line.trim_end());
        table.push('\n');
    }
    super::print_stdout(&table)?;
    let published: Vec<u16> = containers
        .iter()
        .flat_map(|c| c.ports.iter().map(|(_, host, _)| *host))
        .collect::<std::collections::BTreeSet<u16>>()
        .into_iter()
        .collect();
    if let Some(note) = super::remote_ports_note(&engine, &published) {
        crate::output::stderr_line(&format!("note: {note}"));
    }
    Ok(ExitCode::Success)
}
