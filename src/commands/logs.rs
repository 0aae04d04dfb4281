//! `gorae logs`: the services' output, interleaved by time, each line prefixed
//! with its service.

use std::io::Write;
use std::path::Path;

use futures_util::stream::{self, StreamExt};

use crate::cli::LogsArgs;
use crate::engine::{EngineError, ExistingContainer};
use crate::exit::ExitCode;

pub async fn run(file: Option<&Path>, args: &LogsArgs) -> anyhow::Result<ExitCode> {
    let project = super::load_project(file)?;
    for service in &args.services {
        if !project.services.contains_key(service) {
            anyhow::bail!("no service `{service}` in {}", project.file.display());
        }
    }
    let engine = super::connect().await?;
    let mut containers: Vec<ExistingContainer> = engine
        .project_containers(&project.name)
        .await?
        .into_iter()
        .filter(|c| args.services.is_empty() || args.services.contains(&c.service))
        .collect();
    containers.sort_by(|a, b| a.service.cmp(&b.service));
    let width = containers
        .iter()
        .map(|c| c.service.len())
        .max()
        .unwrap_or(0);
    let tail = args.tail.map_or("all".to_string(), |n| n.to_string());

    // The engine's timestamps order lines across services; they are shown only on request.
    let streams = containers.iter().map(|container| {
        let service = container.service.clone();
        engine
            .log_stream(&container.id, false, &tail, true)
            .map(move |chunk| chunk.map(|c| (service.clone(), c.into_bytes())))
    });
    let mut lines: Vec<(String, String, String)> = Vec::new();
    let mut merged = stream::select_all(streams);
    while let Some(item) = merged.next().await {
        let (service, bytes) = item?;
        for line in String::from_utf8_lossy(&bytes).lines() {
            let (time, text) = line.split_once(' ').unwrap_or((line, ""));
            lines.push((sort_key(time), service.clone(), format!("{time} {text}")));
        }
    }
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = std::io::stdout().lock();
    for (_, service, line) in &lines {
        if print_line(&mut out, service, width, line, args.timestamps).is_err() {
            return Ok(ExitCode::Success);
        }
    }
    drop(out);
    if !args.follow {
        return Ok(ExitCode::Success);
    }

    let streams = containers.iter().map(|container| {
        let service = container.service.clone();
        engine
            .log_stream(&container.id, true, "0", true)
            .map(move |chunk| chunk.map(|c| (service.clone(), c.into_bytes())))
    });
    let mut merged = stream::select_all(streams);
    while let Some(item) = merged.next().await {
        let (service, bytes) = item.map_err(|err: EngineError| anyhow::anyhow!(err))?;
        let mut out = std::io::stdout().lock();
        for line in String::from_utf8_lossy(&bytes).lines() {
            // A closed pipe (`| head`) ends the command quietly.
            if print_line(&mut out, &service, width, line, args.timestamps).is_err() {
                return Ok(ExitCode::Success);
            }
        }
    }
    Ok(ExitCode::Success)
}

fn print_line(
    out: &mut impl Write,
    service: &str,
    width: usize,
    line: &str,
    timestamps: bool,
) -> std::io::Result<()> {
    let text = if timestamps {
        line
    } else {
        line.split_once(' ').map_or("", |(_, text)| text)
    };
    writeln!(out, "{service:<width$} | {text}")
}

/// RFC 3339 timestamps with their fraction padded to nanoseconds, so that plain
/// string order is time order (the engine trims trailing zeros).
fn sort_key(timestamp: &str) -> String {
    let trimmed = timestamp.trim_end_matches('Z');
    match trimmed.split_once('.') {
        Some((seconds, fraction)) => format!("{seconds}.{fraction:0<9}"),
        None => format!("{trimmed}.000000000"),
    }
}

#[cfg(test)]
mod tests {
    use super::sort_key;

    #[test]
    fn sort_key_orders_trimmed_fractions_by_time() {
        let early = sort_key("2026-11-27T10:00:00.5Z");
        let late = sort_key("2026-11-27T10:00:00.123456789Z");
        assert!(late < early);
        assert!(sort_key("2026-11-27T10:00:00Z") < sort_key("2026-11-27T10:00:00.000000001Z"));
    }
}
