//! `gorae ps`: each service's container, state, readiness and ports.

use std::path::Path;

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
    container: String,
    state: String,
    status: String,
    /// `None` when not running (readiness does not apply).
    ready: Option<bool>,
    ports: Vec<String>,
}

pub async fn run(file: Option<&Path>, args: &PsArgs) -> anyhow::Result<ExitCode> {
    let project = super::load_project(file)?;
    let plan = plan::desired(&project);
    let engine = super::connect().await?;
    let mut containers = engine.project_containers(&project.name).await?;
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
            Row {
                service: container.service.clone(),
                container: container.name.clone(),
                state: container.state.clone(),
                status: container.status.clone(),
                ready,
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
    let mut table = format!(
        "{:<width$}  {:<10} {:<6} PORTS\n",
        "SERVICE", "STATE", "READY"
    );
    for row in rows {
        let ready = match row.ready {
            Some(true) => "yes",
            Some(false) => "no",
            None => "-",
        };
        table.push_str(&format!(
            "{:<width$}  {:<10} {:<6} {}\n",
            row.service,
            row.state,
            ready,
            row.ports.join(", ")
        ));
    }
    super::print_stdout(&table)?;
    Ok(ExitCode::Success)
}
