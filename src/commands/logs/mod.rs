//! `gorae logs`: the services' output, interleaved by time, each line prefixed with
//! its service; `-f` keeps following through restarts and re-creations.

mod follow;
mod line;
mod printer;

use std::collections::HashMap;

use futures_util::stream::{self, StreamExt};

use crate::cli::LogsArgs;
use crate::config::Project;
use crate::engine::{Engine, ExistingContainer};
use crate::exit::ExitCode;
use follow::Tracked;
use line::{Instant, Line, lines_of};
use printer::Printer;

/// Prints the project's new log lines on stdout as they come, through restarts and
/// re-creations, until stdout closes (`up --watch --logs`).
pub async fn follow_from_now(engine: &Engine, project: &Project) -> anyhow::Result<()> {
    let began = Instant::parse(&engine.system_info().await?.time);
    let containers = super::observe(engine, project).await?.containers;
    let names: Vec<String> = project.services.keys().cloned().collect();
    let printer = Printer::new(&names, printer::colour_wanted(), false);
    let tracked = containers
        .into_iter()
        .map(|c| {
            let tracked = Tracked {
                service: c.service,
                last: began,
                attached: false,
            };
            (c.id, tracked)
        })
        .collect();
    let scope = crate::plan::scope_of(project);
    follow::follow(engine, &scope, &[], &printer, tracked).await
}

pub async fn run(
    file: crate::commands::ProjectFile<'_>,
    args: &LogsArgs,
) -> anyhow::Result<ExitCode> {
    let project = super::load_project(file)?;
    for service in &args.services {
        super::known_service(&project, service)?;
    }
    let engine = super::connect().await?;
    // Taken before reading the history: when following, lines after this moment
    // are new even for a container whose history showed none (`--tail 0`).
    let began = if args.follow {
        Instant::parse(&engine.system_info().await?.time)
    } else {
        None
    };
    let mut containers: Vec<ExistingContainer> = super::observe(&engine, &project)
        .await?
        .containers
        .into_iter()
        .filter(|c| args.services.is_empty() || args.services.contains(&c.service))
        .collect();
    containers.sort_by(|a, b| a.service.cmp(&b.service));
    let names: Vec<String> = project
        .services
        .keys()
        .cloned()
        .chain(containers.iter().map(|c| c.service.clone()))
        .filter(|name| args.services.is_empty() || args.services.contains(name))
        .collect();
    let printer = Printer::new(&names, printer::colour_wanted(), args.timestamps);

    let tail = args.tail.map_or("all".to_string(), |n| n.to_string());
    let streams = containers.iter().enumerate().map(|(index, container)| {
        engine
            .log_stream(&container.id, false, &tail, true)
            .map(move |chunk| chunk.map(|c| (index, c.into_bytes())))
    });
    let mut history: Vec<(usize, Line)> = Vec::new();
    let mut merged = stream::select_all(streams);
    while let Some(item) = merged.next().await {
        let (index, bytes) = item?;
        history.extend(lines_of(&bytes).into_iter().map(|line| (index, line)));
    }
    // Stable: lines of one container with equal times keep their order.
    history.sort_by_key(|(_, line)| line.at);
    // A closed pipe (`| head`) ends the command quietly; see `crate::output`.
    crate::output::stdout_with(|out| {
        history
            .iter()
            .try_for_each(|(index, line)| printer.print(out, &containers[*index].service, line))
    })?;
    if !args.follow {
        return Ok(ExitCode::Success);
    }

    let tracked = containers
        .iter()
        .enumerate()
        .map(|(index, container)| {
            let shown = history.iter().rev().find(|(i, _)| *i == index);
            let last = shown.map(|(_, line)| line.at).max(began);
            let tracked = Tracked {
                service: container.service.clone(),
                last,
                attached: false,
            };
            (container.id.clone(), tracked)
        })
        .collect::<HashMap<_, _>>();
    let scope = crate::plan::scope_of(&project);
    follow::follow(&engine, &scope, &args.services, &printer, tracked).await?;
    Ok(ExitCode::Success)
}
