//! The checks of `gorae doctor` other than the lock: project file, engine, disk,
//! images and ports. Each returns [`Check`]s and never an error: a failure is a
//! line of the report, not the end of it.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use super::Check;
use crate::config::{ImageSource, LoadError, PortMapping, Project};
use crate::dockerfile::{base_images, dockerfile_text};
use crate::engine::{self, Engine, EngineError};
use crate::ports;

/// Below this much free space for the engine, pulls and builds start failing.
const LOW_DISK_BYTES: u64 = 2 << 30;
/// How long a registry gets to say whether it has an image.
const REGISTRY_TIMEOUT: Duration = Duration::from_secs(10);

/// gorae.yaml found and valid; the project when it is.
pub fn project(file: crate::commands::ProjectFile<'_>) -> (Option<Project>, Check) {
    match crate::commands::load_project(file) {
        Ok(project) => {
            let n = project.services.len();
            let detail = format!(
                "valid: project `{}` with {n} service{}",
                project.name,
                if n == 1 { "" } else { "s" }
            );
            (Some(project), Check::pass("gorae.yaml", detail))
        }
        Err(err) => (None, project_failure(&err)),
    }
}

fn project_failure(err: &anyhow::Error) -> Check {
    const AGAIN: &str = "(then run `gorae doctor` again to check images, ports and the lock)";
    match err.downcast_ref::<LoadError>() {
        Some(LoadError::Invalid { diagnostics, .. }) if !diagnostics.is_empty() => {
            let first = &diagnostics[0];
            let place = first
                .location
                .as_ref()
                .map(|l| format!("{}:{}:{}: ", l.file, l.line, l.col))
                .unwrap_or_default();
            let more = match diagnostics.len() - 1 {
                0 => String::new(),
                n => format!(" (and {n} more; `gorae config` shows them all)"),
            };
            Check::fail(
                "gorae.yaml",
                format!("{place}{}{more}", first.message),
                format!("{} {AGAIN}", first.help),
            )
        }
        Some(LoadError::NotFound { .. }) => Check::fail(
            "gorae.yaml",
            "no gorae.yaml in this directory or any parent",
            "`gorae init` writes one, or `gorae -f FILE doctor` checks another file",
        ),
        _ => Check::fail(
            "gorae.yaml",
            format!("{err:#}"),
            format!("check the path and its permissions {AGAIN}"),
        ),
    }
}

/// The engine answers; its version and the API version both sides agreed on.
pub async fn engine() -> (Option<Engine>, Check) {
    let connected = match Engine::connect().await {
        Ok(engine) => engine,
        Err(err) => return (None, engine_failure(&err)),
    };
    match connected.version().await {
        Ok(version) => {
            let mut detail = format!(
                "{} {} at {}, API {}",
                version.product,
                version.version,
                engine::endpoint_description(),
                version.api
            );
            if connected.probes_through_loopback() {
                detail.push_str(
                    "; its containers' networks are not routable from here (a user's socket), so probes use ports published on 127.0.0.1",
                );
            }
            (Some(connected), Check::pass("engine", detail))
        }
        Err(err) => (None, engine_failure(&err)),
    }
}

fn engine_failure(err: &EngineError) -> Check {
    match err {
        EngineError::Unreachable { endpoint, reason } => Check::fail(
            "engine",
            format!("cannot reach the Docker engine at {endpoint} ({reason})"),
            "start Docker (`sudo systemctl start docker`, or open Docker Desktop), or point DOCKER_HOST at a running engine",
        ),
        EngineError::Misconfigured { endpoint, reason } => {
            Check::fail("engine", format!("cannot use {endpoint}"), reason.clone())
        }
        other => Check::fail(
            "engine",
            other.to_string(),
            "check that DOCKER_HOST points at a Docker engine",
        ),
    }
}

/// Free space where the engine keeps images, containers and volumes. Measured
/// only for a local engine: a remote one's directory is on another machine.
pub async fn disk(engine: &Engine) -> Check {
    const SEE_USAGE: &str = "`docker system df` shows what the engine uses";
    let root = match engine.system_info().await {
        Ok(info) => info.root_dir,
        Err(err) => {
            return Check::fail("disk", format!("cannot ask the engine: {err}"), SEE_USAGE);
        }
    };
    if engine.endpoint().remote_host().is_some() {
        return Check::warn(
            "disk",
            format!("not measured: the engine keeps its data ({root}) on another machine"),
            format!("check free space there; {SEE_USAGE}"),
        );
    }
    match rustix::fs::statvfs(root.as_str()) {
        Ok(stat) => {
            let free = stat.f_bavail.saturating_mul(stat.f_frsize);
            let detail = format!("{} free for the engine in {root}", gib(free));
            if free < LOW_DISK_BYTES {
                Check::warn(
                    "disk",
                    detail,
                    format!(
                        "pulls and builds may fail; `docker system prune` removes stopped containers and unused images; {SEE_USAGE}"
                    ),
                )
            } else {
                Check::pass("disk", detail)
            }
        }
        Err(err) => Check::warn(
            "disk",
            format!("not measured: cannot read {root} from here ({err})"),
            format!("check free space where the engine runs; {SEE_USAGE}"),
        ),
    }
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
}

/// Every image the project runs, or for built services every base image, is here
/// or can be pulled. Each image is checked once, naming the services that use it.
pub async fn images(engine: &Engine, project: &Project) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut needed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, service) in &project.services {
        match &service.image {
            ImageSource::Pull { image } => {
                needed.entry(image.clone()).or_default().push(name.clone())
            }
            ImageSource::Build { dockerfile, .. } => match dockerfile_text(dockerfile) {
                Ok(text) => {
                    for base in base_images(&text) {
                        needed
                            .entry(base)
                            .or_default()
                            .push(format!("{name}'s build"));
                    }
                }
                Err(reason) => checks.push(Check::fail(
                    format!("build of `{name}`"),
                    format!("cannot read its Dockerfile: {reason}"),
                    "fix the `dockerfile:` path in gorae.yaml",
                )),
            },
        }
    }
    for (reference, users) in needed {
        checks.push(image(engine, &reference, &users.join(", ")).await);
    }
    checks
}

async fn image(engine: &Engine, reference: &str, used_by: &str) -> Check {
    let name = format!("image {reference}");
    let missing_fix = format!(
        "where the image exists: `docker save {reference} -o image.tar`, then here: `docker load -i image.tar`; or point `image_prefix:` in gorae.yaml (or GORAE_IMAGE_PREFIX) at a mirror that has it"
    );
    match engine.image(reference).await {
        Ok(Some(_)) => Check::pass(name, format!("present (for {used_by})")),
        Ok(None) => {
            match tokio::time::timeout(REGISTRY_TIMEOUT, engine.registry_has(reference)).await {
                Ok(Ok(())) => Check::pass(
                    name,
                    format!("not here yet; `gorae up` will pull it (for {used_by})"),
                ),
                Ok(Err(err)) => Check::fail(
                    name,
                    format!("missing, and it cannot be pulled: {err}"),
                    missing_fix,
                ),
                Err(_) => Check::fail(
                    name,
                    format!(
                        "missing, and the registry did not answer within {}s",
                        REGISTRY_TIMEOUT.as_secs()
                    ),
                    missing_fix,
                ),
            }
        }
        Err(err) => Check::fail(
            name,
            format!("cannot ask the engine: {err}"),
            "see the engine check above",
        ),
    }
}

/// Every published host port is free, or already held by this project's own
/// container for that service. Runs without an engine too (then only a local
/// process can be named as the holder).
pub async fn ports(engine: Option<&Engine>, project: &Project) -> Vec<Check> {
    let containers = match engine {
        Some(engine) => engine
            .scoped_containers(&crate::plan::scope_of(project))
            .await
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let mut checks = Vec::new();
    // Host ports the project publishes or a fix already suggests: two fixes must not
    // send two services to one port, nor a service to a port another one publishes.
    let mut claimed: HashSet<u16> = project
        .services
        .values()
        .flat_map(|s| s.ports.iter().map(|p| p.host_port))
        .collect();
    for service in project.services.values() {
        for mapping in &service.ports {
            let name = format!("port {}:{}", mapping.host_ip, mapping.host_port);
            let ours = containers.iter().any(|c| {
                c.service == service.name
                    && c.is_running()
                    && c.ports
                        .iter()
                        .any(|(_, host, _)| *host == mapping.host_port)
            });
            if ours {
                checks.push(Check::pass(
                    name,
                    format!("held by this project's `{}`", service.name),
                ));
                continue;
            }
            if ports::is_free(mapping) {
                checks.push(Check::pass(name, format!("free for `{}`", service.name)));
                continue;
            }
            let holder = match engine {
                Some(engine) => ports::holder(engine, mapping).await,
                None => ports::process_holder(mapping),
            };
            let by = holder.map(|h| format!(" by {h}")).unwrap_or_default();
            checks.push(Check::fail(
                name,
                format!("wanted by `{}`, but in use{by}", service.name),
                format!(
                    "stop what holds it, or publish `{}` on another host port: {}",
                    service.name,
                    another_port(mapping, &mut claimed, ports::is_free)
                ),
            ));
        }
    }
    if checks.is_empty() {
        checks.push(Check::pass("ports", "none published"));
    }
    checks
}

/// A `ports:` entry like `mapping` on the next free host port that no other service
/// publishes and no other fix suggested (the port is then `claimed`), for the fix.
fn another_port(
    mapping: &PortMapping,
    claimed: &mut HashSet<u16>,
    is_free: impl Fn(&PortMapping) -> bool,
) -> String {
    let free = (1..=100)
        .filter_map(|step| mapping.host_port.checked_add(step))
        .filter(|port| !claimed.contains(port))
        .find(|&port| {
            is_free(&PortMapping {
                host_port: port,
                ..mapping.clone()
            })
        });
    match free {
        Some(port) => {
            claimed.insert(port);
            format!("ports: [\"{port}:{}\"]", mapping.container_port)
        }
        None => format!("ports: [\"HOST_PORT:{}\"]", mapping.container_port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Protocol;

    fn mapping(host_port: u16, container_port: u16) -> PortMapping {
        PortMapping {
            host_ip: "127.0.0.1".into(),
            host_port,
            container_port,
            protocol: Protocol::Tcp,
        }
    }

    #[test]
    fn fixes_never_suggest_one_host_port_twice_or_a_published_one() {
        // 3000 and 3001 are taken on the machine; the project publishes 3000, 3001, 3003.
        let taken = [3000, 3001];
        let is_free = |m: &PortMapping| !taken.contains(&m.host_port);
        let mut claimed: HashSet<u16> = [3000, 3001, 3003].into();
        let web = another_port(&mapping(3000, 3000), &mut claimed, is_free);
        let api = another_port(&mapping(3001, 8080), &mut claimed, is_free);
        assert_eq!(web, "ports: [\"3002:3000\"]");
        assert_eq!(api, "ports: [\"3004:8080\"]");
    }
}
