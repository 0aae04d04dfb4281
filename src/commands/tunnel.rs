//! `gorae tunnel [SERVICE...]`: on an engine reached over `ssh://`, the services'
//! published ports are open on the engine's machine, not here. This makes each one
//! reachable at the same port on this machine's 127.0.0.1, through gorae's ssh
//! connection, until Ctrl-C.

use std::collections::BTreeSet;

use crate::cli::TunnelArgs;
use crate::engine::on_engine_machine;
use crate::exit::ExitCode;

use super::Failure;

pub async fn run(
    file: crate::commands::ProjectFile<'_>,
    args: &TunnelArgs,
) -> anyhow::Result<ExitCode> {
    let project = super::load_project(file)?;
    for service in &args.services {
        super::known_service(&project, service)?;
    }
    let engine = super::connect().await?;
    let endpoint = engine.endpoint();
    let Some(host) = endpoint.remote_host() else {
        return Err(Failure::new(
            "the engine runs on this machine: published ports are open here already\n  hint: `gorae ps` lists them; a tunnel is for an engine at DOCKER_HOST=ssh://…",
            ExitCode::Usage,
        )
        .into());
    };
    let mut containers = super::observe(&engine, &project).await?.containers;
    containers.retain(|c| {
        c.is_running() && (args.services.is_empty() || args.services.contains(&c.service))
    });
    containers.sort_by(|a, b| a.service.cmp(&b.service));
    // Each port once: (service, address on the engine's machine, port).
    let mut ports = Vec::new();
    let mut seen = BTreeSet::new();
    for container in &containers {
        for (ip, port, _) in &container.ports {
            if seen.insert(*port) {
                ports.push((container.service.as_str(), on_engine_machine(ip), *port));
            }
        }
    }
    if ports.is_empty() {
        let which = if args.services.is_empty() {
            "no running service".to_string()
        } else {
            format!("none of {}", args.services.join(", "))
        };
        return Err(Failure::new(
            format!("{which} publishes a port: there is nothing to tunnel\n  hint: `gorae up` starts the services; `ports:` in gorae.yaml publishes one"),
            ExitCode::ServiceFailed,
        )
        .into());
    }
    let mut lines = String::new();
    for (service, address, port) in &ports {
        let forwarded = engine.forward_here(*port, address, *port).await;
        match forwarded {
            Some(Ok(())) => {
                lines.push_str(&format!(
                    "{service}  127.0.0.1:{port} -> {host} {address}:{port}\n"
                ));
            }
            Some(Err(err)) => {
                return Err(Failure::new(
                    format!(
                        "cannot open 127.0.0.1:{port} here for `{service}`: {err}\n  hint: stop what uses port {port} on this machine, or publish the service on another port"
                    ),
                    ExitCode::Conflict,
                )
                .into());
            }
            None => {
                return Err(Failure::new(
                    format!(
                        "the engine at {} is not reached over ssh, so gorae cannot tunnel to it\n  hint: address it as DOCKER_HOST=ssh://user@{host}, or publish the ports on an address this machine reaches (\"0.0.0.0:8080:80\")",
                        endpoint.describe()
                    ),
                    ExitCode::Usage,
                )
                .into());
            }
        }
    }
    super::print_stdout(&lines)?;
    crate::output::stderr_line("tunnel open; Ctrl-C closes it");
    wait_for_interrupt().await;
    Ok(ExitCode::Success)
}

/// Until Ctrl-C or SIGTERM.
async fn wait_for_interrupt() {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let terminated = async {
        match terminate.as_mut() {
            Some(signal) => {
                signal.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminated => {}
    }
}
