//! The desired state, computed from the validated project with no I/O.
//!
//! `desired` turns a [`Project`] (and the image ids gorae.lock pins) into one
//! [`ServicePlan`] per service: the container to create, the image it needs and what
//! it waits for. [`decide`] compares that with what [`crate::observe`] found and
//! returns every action of an `up`, with its reason. Both are pure, so the
//! interesting decisions are unit-tested without an engine.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::{
    BuildOptions, DockerfileSource, ImageSource, PortMapping, Probe, Project, ServiceKind,
};
use crate::engine::{ContainerSpec, Mount, Protocol, PublishedPort, Scope, labels};
use crate::hash::hex;

mod decide;
mod fields;
pub mod show;

pub use decide::{ContainerStep, Decision, ImageStep, Removal, Step, decide};

/// Bumped when gorae changes how it creates containers, so old ones are re-created.
const SPEC_REVISION: &str = "1";

/// Everything `up` must bring about.
#[derive(Debug, Clone)]
pub struct Plan {
    pub project: String,
    pub project_dir: String,
    pub network: String,
    /// Labels for the network and volumes.
    pub resource_labels: HashMap<String, String>,
    /// Services in an order where dependencies come first.
    pub services: Vec<ServicePlan>,
    /// (service, image reference) -> the id that service's build uses when its
    /// Dockerfile names the reference in `FROM` (gorae.lock's image); empty without
    /// a lock.
    pub pinned_bases: BTreeMap<(String, String), String>,
}

impl Plan {
    /// Which engine resources are this project's.
    pub fn scope(&self) -> Scope {
        Scope {
            name: self.project.clone(),
            dir: self.project_dir.clone(),
        }
    }
}

/// One service's container, image and wiring.
#[derive(Debug, Clone)]
pub struct ServicePlan {
    pub name: String,
    pub kind: ServiceKind,
    pub image: ImagePlan,
    /// The container to create, but for its image: which one it runs is decided
    /// against what the engine has ([`decide`]).
    pub spec: ContainerSpec,
    pub depends_on: Vec<String>,
    pub ready: Option<Probe>,
    pub ready_timeout: Duration,
    /// The main container port, if the service has one.
    pub port: Option<u16>,
    /// The published ports as gorae.yaml gives them, to check they are free.
    pub published: Vec<PortMapping>,
    /// Engine volumes this service mounts.
    pub volumes: Vec<String>,
    /// A task's input paths in its build context (see [`crate::task_inputs`]).
    pub inputs: Vec<String>,
    /// Whether a plain `up` brings it up: it has no profile or an active one.
    pub active: bool,
}

/// How a service's image is obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImagePlan {
    Pull {
        reference: String,
        /// The service's `platform:`: pulled for it, and an image here for another
        /// platform does not count.
        platform: Option<String>,
    },
    Build(BuildPlan),
}

/// How a service's image is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildPlan {
    pub context: std::path::PathBuf,
    pub dockerfile: DockerfileSource,
    /// Repository (one per project) the content-hash tag is added to.
    pub repository: String,
    /// Target stage, arguments, platform and extra tag.
    pub options: BuildOptions,
    /// Files in the context that are never sent to the engine: the project's secret
    /// files, context-relative (`secrets/token`).
    pub never_sent: Vec<String>,
}

/// Which engine resources are a loaded project's: its name and directory.
pub fn scope_of(project: &Project) -> Scope {
    Scope {
        name: project.name.clone(),
        dir: project.dir.display().to_string(),
    }
}

/// Name of the project network.
pub fn network_name(project: &str) -> String {
    format!("{project}_default")
}

/// Engine name of a named volume of the project.
pub fn volume_name(project: &str, short: &str) -> String {
    format!("{project}_{short}")
}

/// The secret files of every service of the project that lie inside `context`,
/// relative to it: a secret is mounted into containers, never built into an image.
fn secret_files_in(project: &Project, context: &std::path::Path) -> Vec<String> {
    let mut inside: Vec<String> = project
        .services
        .values()
        .flat_map(|service| &service.volumes)
        .filter_map(|mount| match mount {
            Mount::Bind { source, target, .. } if crate::config::is_secret_mount(target) => {
                source.strip_prefix(context).ok()
            }
            _ => None,
        })
        .map(crate::context::slash_path)
        .collect();
    inside.sort();
    inside.dedup();
    inside
}

/// Container name of a service.
pub fn container_name(project: &str, service: &str) -> String {
    format!("{project}-{service}")
}

/// (service, image reference) -> the image id gorae.lock pins it to.
pub type Pins = BTreeMap<(String, String), String>;

/// Computes the desired state of every service, with no lock.
pub fn desired(project: &Project) -> Plan {
    desired_pinned(project, &Pins::new())
}

/// Computes the desired state of every service: a pulled image gorae.lock pins is
/// run by its id, so a tag that moves changes nothing, and builds use the pinned
/// base images.
pub fn desired_pinned(project: &Project, pins: &Pins) -> Plan {
    let project_dir = project.dir.display().to_string();
    let network = network_name(&project.name);
    let resource_labels = HashMap::from([
        (labels::PROJECT.to_string(), project.name.clone()),
        (labels::PROJECT_DIR.to_string(), project_dir.clone()),
    ]);
    let services = dependency_order(project)
        .into_iter()
        .map(|name| plan_service(project, &project.services[name], &network, pins))
        .collect();
    Plan {
        project: project.name.clone(),
        project_dir,
        network,
        resource_labels,
        services,
        pinned_bases: pins.clone(),
    }
}

fn plan_service(
    project: &Project,
    service: &crate::config::Service,
    network: &str,
    pins: &Pins,
) -> ServicePlan {
    // What the dependencies hand over, then the service's own `env`.
    let mut env = BTreeMap::new();
    for dependency in &service.depends_on {
        env.extend(service.wired_from(&project.services[dependency]));
    }
    env.extend(service.env.clone());

    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    let mut run = (*service.run).clone();
    if let (Some(data_dir), true) = (&service.data_dir, service.throwaway) {
        // Data that need not survive stays in memory: no volume, nothing to sync.
        run.tmpfs.push(data_dir.clone());
    } else if let Some(data_dir) = &service.data_dir {
        let name = volume_name(
            &project.name,
            &crate::config::data_volume_name(&service.name),
        );
        volumes.push(name.clone());
        mounts.push(Mount::Volume {
            name,
            target: data_dir.clone(),
            read_only: false,
        });
    }
    for mount in &service.volumes {
        let mount = mount.with_volume_name(|short| volume_name(&project.name, short));
        if let Mount::Volume { name, .. } = &mount {
            volumes.push(name.clone());
        }
        mounts.push(mount);
    }

    let image = match &service.image {
        ImageSource::Pull { image } => ImagePlan::Pull {
            reference: pins
                .get(&(service.name.clone(), image.clone()))
                .cloned()
                .unwrap_or_else(|| image.clone()),
            platform: service.run.platform.clone(),
        },
        ImageSource::Build {
            context,
            dockerfile,
            options,
        } => ImagePlan::Build(BuildPlan {
            context: context.clone(),
            dockerfile: dockerfile.clone(),
            repository: format!("gorae-{}", project.name),
            options: options.clone(),
            never_sent: secret_files_in(project, context),
        }),
    };
    let kind = match service.kind {
        ServiceKind::Service => "service",
        ServiceKind::Task => "task",
    };
    let spec = ContainerSpec {
        name: container_name(&project.name, &service.name),
        image: String::new(),
        command: supervised_command(service),
        env,
        labels: BTreeMap::from([
            (labels::PROJECT.to_string(), project.name.clone()),
            (
                labels::PROJECT_DIR.to_string(),
                project.dir.display().to_string(),
            ),
            (labels::SERVICE.to_string(), service.name.clone()),
            (labels::KIND.to_string(), kind.to_string()),
        ]),
        ports: service.ports.iter().map(published).collect(),
        mounts,
        network: network.to_string(),
        aliases: vec![service.name.clone()],
        run,
        probe_ports: probed_ports(service),
    };
    ServicePlan {
        name: service.name.clone(),
        kind: service.kind,
        image,
        spec,
        depends_on: service.depends_on.clone(),
        ready: service.ready.clone(),
        ready_timeout: service.ready_timeout,
        port: service.port,
        published: service.ports.clone(),
        volumes,
        inputs: service.inputs.clone(),
        active: project.is_active(service),
    }
}

/// The container ports readiness is checked on: the probe's own, and the service's
/// port, which the quick check of a kept, running service connects to.
fn probed_ports(service: &crate::config::Service) -> Vec<u16> {
    let probe = match &service.ready {
        Some(Probe::Tcp { port } | Probe::Http { port, .. } | Probe::Handshake { port, .. }) => {
            Some(*port)
        }
        _ => None,
    };
    let quick = service.port.filter(|_| service.ready.is_some());
    let mut ports: Vec<u16> = probe.into_iter().chain(quick).collect();
    ports.dedup();
    ports
}

/// A port of gorae.yaml as the engine publishes it.
fn published(port: &PortMapping) -> PublishedPort {
    PublishedPort {
        host_ip: port.host_ip.clone(),
        host_port: port.host_port,
        container_port: port.container_port,
        protocol: match port.protocol {
            crate::config::Protocol::Tcp => Protocol::Tcp,
            crate::config::Protocol::Udp => Protocol::Udp,
        },
    }
}

/// Service names with every dependency before its dependents, in rounds: each round
/// takes, in name order, every service whose dependencies all came in earlier rounds.
/// So the order is stable, and ties (services at the same depth) go by name. Config
/// validation has already rejected cycles.
fn dependency_order(project: &Project) -> Vec<&str> {
    let mut order: Vec<&str> = Vec::new();
    let mut remaining: Vec<&str> = project.services.keys().map(String::as_str).collect();
    while !remaining.is_empty() {
        // Readiness is judged against the earlier rounds only: a service whose dependency
        // joins in this round waits for the next one, behind its tie-mates.
        let (ready, waiting): (Vec<&str>, Vec<&str>) = remaining.into_iter().partition(|name| {
            project.services[*name]
                .depends_on
                .iter()
                .all(|dep| order.contains(&dep.as_str()))
        });
        if ready.is_empty() {
            // Unreachable after validation; keep going rather than loop forever.
            order.extend(waiting);
            break;
        }
        order.extend(ready);
        remaining = waiting;
    }
    order
}

/// The hash that decides re-creation: the container spec plus the image's content id,
/// so a changed configuration or a moved tag both re-create, and nothing else does.
/// The name the image is reached by (a tag, a prefixed tag, the locked id, a digest)
/// is left out: one image is one image however it is named, so switching between
/// `up` and `up --frozen` re-creates nothing.
pub fn config_hash(spec: &ContainerSpec, image_id: &str) -> String {
    #[derive(Serialize)]
    struct Hashed<'a> {
        revision: &'a str,
        image_id: &'a str,
        spec: &'a ContainerSpec,
    }
    let mut spec = spec.clone();
    spec.labels.remove(labels::CONFIG_HASH);
    spec.labels.remove(labels::FIELDS);
    spec.image.clear();
    let hashed = Hashed {
        revision: SPEC_REVISION,
        image_id,
        spec: &spec,
    };
    // Serialising plain data to JSON cannot fail.
    let json = serde_json::to_vec(&hashed).unwrap_or_default();
    hex(&Sha256::digest(json))[..16].to_string()
}

/// The hash that decides whether a task built from the project runs again: its
/// container spec without the image tag (which changes with every file of the build
/// context) plus the digest of its inputs ([`crate::task_inputs`]).
pub fn task_hash(spec: &ContainerSpec, inputs_digest: &str) -> String {
    let mut spec = spec.clone();
    spec.image.clear();
    config_hash(&spec, &format!("task-inputs:{inputs_digest}"))
}

/// A long-running service built from a template runs its command under
/// [`crate::watch::supervise`], so `up --watch` can restart the app in place; the
/// templates' images have the `sh` it needs, a user's own Dockerfile may not.
fn supervised_command(service: &crate::config::Service) -> Option<Vec<String>> {
    let command = service.command.clone()?;
    match &service.image {
        ImageSource::Build {
            dockerfile: crate::config::DockerfileSource::Rendered { .. },
            ..
        } if service.kind == ServiceKind::Service => Some(crate::watch::supervise::wrap(&command)),
        _ => Some(command),
    }
}

/// The services `only` names and everything they depend on, directly or not; when
/// `only` is `None`, every active service (see [`ServicePlan::active`]) and what it
/// depends on, whatever its profile.
pub fn selection(plan: &Plan, only: Option<&[String]>) -> BTreeSet<String> {
    let roots: Vec<String> = match only {
        Some(only) => only.to_vec(),
        None => plan
            .services
            .iter()
            .filter(|s| s.active)
            .map(|s| s.name.clone())
            .collect(),
    };
    let mut selected = BTreeSet::new();
    let mut pending: Vec<String> = roots;
    while let Some(name) = pending.pop() {
        if !selected.insert(name.clone()) {
            continue;
        }
        if let Some(service) = plan.services.iter().find(|s| s.name == name) {
            pending.extend(service.depends_on.iter().cloned());
        }
    }
    selected
}

#[cfg(test)]
mod tests;
