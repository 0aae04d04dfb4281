//! Container calls: list by project, create, start, stop, remove, inspect, exec, logs.

use std::collections::{BTreeMap, HashMap};

use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, Mount as EngineMount, MountType,
    NetworkingConfig, PortBinding,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, RenameContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use futures_util::{Stream, StreamExt};

use super::reach::ContainerAddress;
use super::request::{ContainerSpec, Mount, Protocol, PublishedPort};
use super::{Engine, EngineError, labels};

/// Seconds a container gets between its stop signal and SIGKILL.
pub const STOP_TIMEOUT_SECS: i32 = 10;

/// A container of this project as the engine lists it (one list call, no inspect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingContainer {
    pub id: String,
    pub name: String,
    pub service: String,
    /// `service` or `task` (the `dev.gorae.kind` label).
    pub kind: String,
    pub project_dir: String,
    pub config_hash: String,
    /// The `dev.gorae.fields` label: a digest of each part of its configuration.
    pub fields: String,
    /// The content id of the image it was created from.
    pub image_id: String,
    /// Engine state: `created`, `running`, `exited`, ...
    pub state: String,
    /// Engine status line: `Up 3 minutes`, `Exited (0) 2 hours ago`, ...
    pub status: String,
    /// Unix seconds.
    pub created: i64,
    /// Published ports as (host ip, host port, container port).
    pub ports: Vec<(String, u16, u16)>,
    /// Ports gorae published for its readiness probes alone (see
    /// [`labels::PROBE_PORTS`]), in the same form; not the service's own.
    pub probe_ports: Vec<(String, u16, u16)>,
    /// Address on each network the container is attached to.
    pub addresses: BTreeMap<String, String>,
}

impl ExistingContainer {
    pub fn is_running(&self) -> bool {
        self.state == "running" || self.state == "restarting"
    }

    /// Where a probe finds it: its address on `network` and every port it publishes.
    pub fn address_on(&self, network: &str) -> ContainerAddress {
        ContainerAddress {
            ip: self.addresses.get(network).cloned(),
            published: self
                .ports
                .iter()
                .chain(&self.probe_ports)
                .cloned()
                .collect(),
        }
    }

    /// A `kind: task` container: it runs once, and exit 0 means done.
    pub fn is_task(&self) -> bool {
        self.kind == "task"
    }

    /// Exit code of a stopped container, read from its status line so that no
    /// inspect call is needed.
    pub fn exit_code(&self) -> Option<i64> {
        let rest = self.status.strip_prefix("Exited (")?;
        rest.split_once(')')?.0.parse().ok()
    }
}

/// What `inspect` tells about a container's life.
#[derive(Debug, Clone)]
pub struct ContainerState {
    pub running: bool,
    pub status: String,
    pub exit_code: Option<i64>,
    /// Address on the given network, when attached, and the published ports.
    pub address: ContainerAddress,
    pub started_at: String,
    pub oom_killed: bool,
}

/// Result of a command run with `exec`.
#[derive(Debug, Clone)]
pub struct ExecOutput {
    pub exit_code: i64,
    pub output: String,
}

impl Engine {
    /// All containers (running or not) carrying the project name `name`, whatever
    /// their directory. Only [`super::scope`] reads this, to tell this project's
    /// containers from another directory's; commands get theirs from there.
    pub(super) async fn containers_named(
        &self,
        name: &str,
    ) -> Result<Vec<ExistingContainer>, EngineError> {
        self.containers_with_labels(&[format!("{}={name}", labels::PROJECT)])
            .await
    }

    /// The containers of exactly this project: its name and its directory.
    pub async fn scoped_containers(
        &self,
        scope: &super::Scope,
    ) -> Result<Vec<ExistingContainer>, EngineError> {
        self.containers_with_labels(&scope.label_filters()).await
    }

    /// Containers carrying every one of `label_filters` (`key=value`; the engine ANDs them).
    async fn containers_with_labels(
        &self,
        label_filters: &[String],
    ) -> Result<Vec<ExistingContainer>, EngineError> {
        let filters = HashMap::from([("label".to_string(), label_filters.to_vec())]);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let list = self.docker.list_containers(Some(options)).await?;
        Ok(list
            .into_iter()
            .map(|summary| {
                let labels = summary.labels.unwrap_or_default();
                let label = |key: &str| labels.get(key).cloned().unwrap_or_default();
                let name = summary
                    .names
                    .and_then(|names| names.into_iter().next())
                    .unwrap_or_default()
                    .trim_start_matches('/')
                    .to_string();
                let addresses = summary
                    .network_settings
                    .and_then(|settings| settings.networks)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|(network, endpoint)| {
                        Some((network, endpoint.ip_address.filter(|ip| !ip.is_empty())?))
                    })
                    .collect();
                let probe_only: Vec<u16> = label(labels::PROBE_PORTS)
                    .split(',')
                    .filter_map(|port| port.parse().ok())
                    .collect();
                let (probe_ports, ports) = summary
                    .ports
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|port| {
                        Some((
                            port.ip.unwrap_or_default(),
                            port.public_port?,
                            port.private_port,
                        ))
                    })
                    .partition(|(_, _, container_port)| probe_only.contains(container_port));
                ExistingContainer {
                    id: summary.id.unwrap_or_default(),
                    name,
                    service: label(labels::SERVICE),
                    kind: label(labels::KIND),
                    project_dir: label(labels::PROJECT_DIR),
                    config_hash: label(labels::CONFIG_HASH),
                    fields: label(labels::FIELDS),
                    image_id: summary.image_id.unwrap_or_default(),
                    state: summary.state.map(|s| s.to_string()).unwrap_or_default(),
                    status: summary.status.unwrap_or_default(),
                    created: summary.created.unwrap_or_default(),
                    ports,
                    probe_ports,
                    addresses,
                }
            })
            .collect())
    }

    /// Containers of any project publishing `host_port`, as (name, project label).
    /// Containers publishing `host_port`: each one's name and, for a container of a
    /// gorae project, the project's directory.
    pub async fn containers_publishing(
        &self,
        host_port: u16,
    ) -> Result<Vec<(String, Option<String>)>, EngineError> {
        let filters = HashMap::from([("publish".to_string(), vec![host_port.to_string()])]);
        let options = ListContainersOptionsBuilder::default()
            .filters(&filters)
            .build();
        let list = self.docker.list_containers(Some(options)).await?;
        Ok(list
            .into_iter()
            .filter_map(|c| {
                let name = c.names?.into_iter().next()?;
                let dir = c
                    .labels
                    .and_then(|mut labels| labels.remove(labels::PROJECT_DIR));
                Some((name.trim_start_matches('/').to_string(), dir))
            })
            .collect())
    }

    /// Creates the container; returns its id.
    pub async fn create_container(&self, spec: &ContainerSpec) -> Result<String, EngineError> {
        let mut port_bindings = HashMap::new();
        let mut exposed = Vec::new();
        let mut container_labels = spec.labels.clone();
        let mut ports = spec.ports.clone();
        let probed = self.probe_ports_to_publish(spec);
        for &port in &probed {
            // Any free port on loopback: probes find it by inspecting the container.
            ports.push(PublishedPort {
                host_ip: "127.0.0.1".into(),
                host_port: 0,
                container_port: port,
                protocol: Protocol::Tcp,
            });
        }
        if !probed.is_empty() {
            let list: Vec<String> = probed.iter().map(u16::to_string).collect();
            container_labels.insert(labels::PROBE_PORTS.to_string(), list.join(","));
        }
        for port in &ports {
            let key = port.container_key();
            exposed.push(key.clone());
            // Always set the host address: the engine's default is every interface.
            port_bindings
                .entry(key)
                .or_insert_with(|| Some(Vec::new()))
                .get_or_insert_with(Vec::new)
                .push(PortBinding {
                    host_ip: Some(port.host_ip.clone()),
                    // An empty host port is any free one.
                    host_port: Some(match port.host_port {
                        0 => String::new(),
                        host_port => host_port.to_string(),
                    }),
                });
        }
        let mounts = spec
            .mounts
            .iter()
            .filter_map(|mount| match mount {
                Mount::Bind {
                    source,
                    target,
                    read_only,
                } => Some(EngineMount {
                    typ: Some(MountType::BIND),
                    source: Some(source.display().to_string()),
                    target: Some(target.clone()),
                    read_only: Some(*read_only),
                    ..Default::default()
                }),
                Mount::Volume {
                    name,
                    target,
                    read_only,
                } => Some(EngineMount {
                    typ: Some(MountType::VOLUME),
                    source: Some(name.clone()),
                    target: Some(target.clone()),
                    read_only: Some(*read_only),
                    ..Default::default()
                }),
                // Written into the container once it exists, below.
                Mount::Secret { .. } => None,
            })
            .collect();
        let host_config = HostConfig {
            port_bindings: Some(port_bindings),
            mounts: Some(mounts),
            // An init process as PID 1 forwards SIGTERM and reaps zombies, so an app
            // that ignores SIGTERM still stops at once instead of after the timeout.
            init: Some(true),
            network_mode: Some(spec.network.clone()),
            extra_hosts: (!spec.run.extra_hosts.is_empty()).then(|| spec.run.extra_hosts.clone()),
            tmpfs: (!spec.run.tmpfs.is_empty()).then(|| {
                spec.run
                    .tmpfs
                    .iter()
                    .map(|dir| (dir.clone(), String::new()))
                    .collect()
            }),
            ..Default::default()
        };
        let networking_config = NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                spec.network.clone(),
                EndpointSettings {
                    aliases: Some(spec.aliases.clone()),
                    ..Default::default()
                },
            )])),
        };
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            cmd: spec.command.clone(),
            env: Some(spec.env_assignments()),
            labels: Some(container_labels.into_iter().collect()),
            exposed_ports: Some(exposed),
            host_config: Some(host_config),
            networking_config: Some(networking_config),
            entrypoint: spec.run.entrypoint.clone(),
            user: spec.run.user.clone(),
            working_dir: spec.run.working_dir.clone(),
            stop_signal: spec.run.stop_signal.clone(),
            ..Default::default()
        };
        let mut options = CreateContainerOptionsBuilder::default().name(&spec.name);
        if let Some(platform) = &spec.run.platform {
            options = options.platform(platform);
        }
        let options = options.build();
        // Secret values go in through the archive API, never through a host file or
        // the container's configuration; a container without them is not left behind.
        let secrets = super::files::secret_values_tar(&spec.mounts)?;
        let created = self.docker.create_container(Some(options), body).await?;
        if let Some(tar) = secrets
            && let Err(err) = self.upload_tar(&created.id, "/", tar).await
        {
            let _ = self.remove_container(&created.id).await;
            return Err(err);
        }
        Ok(created.id)
    }

    /// The container ports to publish on loopback for the readiness probes alone:
    /// on an engine whose container networks cannot be routed to from here, the
    /// probed ports the service does not publish itself.
    fn probe_ports_to_publish(&self, spec: &ContainerSpec) -> Vec<u16> {
        if !self.reach.needs_published_ports() {
            return Vec::new();
        }
        spec.probe_ports
            .iter()
            .copied()
            .filter(|port| {
                !spec
                    .ports
                    .iter()
                    .any(|p| p.container_port == *port && p.protocol == Protocol::Tcp)
            })
            .collect()
    }

    /// Gives a container another name (the one its predecessor just freed).
    pub async fn rename_container(&self, id: &str, name: &str) -> Result<(), EngineError> {
        let options = RenameContainerOptionsBuilder::default().name(name).build();
        self.docker.rename_container(id, options).await?;
        Ok(())
    }

    pub async fn start_container(&self, id: &str) -> Result<(), EngineError> {
        self.docker.start_container(id, None).await?;
        Ok(())
    }

    /// Stops gracefully (SIGTERM, then SIGKILL after `timeout_secs`).
    pub async fn stop_container(&self, id: &str, timeout_secs: i32) -> Result<(), EngineError> {
        let options = StopContainerOptionsBuilder::default()
            .t(timeout_secs)
            .build();
        match self.docker.stop_container(id, Some(options)).await {
            // 304: already stopped.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 304, ..
            }) => Ok(()),
            other => Ok(other?),
        }
    }

    /// Stops a container gracefully, so that databases save and shut down cleanly,
    /// then removes it.
    pub async fn stop_and_remove(&self, id: &str) -> Result<(), EngineError> {
        match self.stop_container(id, STOP_TIMEOUT_SECS).await {
            Err(EngineError::NotFound(_)) => return Ok(()),
            other => other?,
        }
        self.remove_container(id).await
    }

    /// Removes a container, killing it if it still runs; anonymous volumes go with it.
    pub async fn remove_container(&self, id: &str) -> Result<(), EngineError> {
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        match self.docker.remove_container(id, Some(options)).await {
            Err(err) => match EngineError::from(err) {
                EngineError::NotFound(_) => Ok(()),
                other => Err(other),
            },
            Ok(()) => Ok(()),
        }
    }

    pub async fn inspect_state(
        &self,
        id: &str,
        network: &str,
    ) -> Result<ContainerState, EngineError> {
        let info = self.docker.inspect_container(id, None).await?;
        let state = info.state.unwrap_or_default();
        let settings = info.network_settings.unwrap_or_default();
        let ip = settings
            .networks
            .and_then(|networks| networks.get(network).cloned())
            .and_then(|endpoint| endpoint.ip_address)
            .filter(|ip| !ip.is_empty());
        let published = published_ports(settings.ports.unwrap_or_default());
        Ok(ContainerState {
            running: state.running.unwrap_or(false),
            status: state.status.map(|s| s.to_string()).unwrap_or_default(),
            exit_code: state.exit_code,
            address: ContainerAddress { ip, published },
            started_at: state.started_at.unwrap_or_default(),
            oom_killed: state.oom_killed.unwrap_or(false),
        })
    }

    /// Runs a command in a running container and collects its output.
    pub async fn exec(&self, id: &str, command: &[String]) -> Result<ExecOutput, EngineError> {
        let options = CreateExecOptions {
            cmd: Some(command.to_vec()),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            ..Default::default()
        };
        let exec = self.docker.create_exec(id, options).await?;
        let mut output = String::new();
        if let StartExecResults::Attached {
            output: mut stream, ..
        } = self.docker.start_exec(&exec.id, None).await?
        {
            while let Some(chunk) = stream.next().await {
                output.push_str(&String::from_utf8_lossy(&chunk?.into_bytes()));
            }
        }
        let inspect = self.docker.inspect_exec(&exec.id).await?;
        Ok(ExecOutput {
            exit_code: inspect.exit_code.unwrap_or(-1),
            output,
        })
    }

    /// The last `tail` lines a container wrote (stdout and stderr together).
    pub async fn last_logs(&self, id: &str, tail: usize) -> Result<String, EngineError> {
        let mut logs = self.log_stream(id, false, &tail.to_string(), false);
        let mut text = String::new();
        while let Some(chunk) = logs.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk?.into_bytes()));
        }
        Ok(text)
    }

    /// A container's log as a stream; `tail` is a count or `all`.
    pub fn log_stream(
        &self,
        id: &str,
        follow: bool,
        tail: &str,
        timestamps: bool,
    ) -> impl Stream<Item = Result<LogOutput, EngineError>> + use<> {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .follow(follow)
            .tail(tail)
            .timestamps(timestamps)
            .build();
        self.docker
            .logs(id, Some(options))
            .map(|item| item.map_err(EngineError::from))
    }

    /// A container's log with timestamps from `since` (Unix seconds; 0 means from
    /// the start), then its new lines as they come until the container stops.
    pub fn follow_logs(
        &self,
        id: &str,
        since: i64,
    ) -> impl Stream<Item = Result<LogOutput, EngineError>> + use<> {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .follow(true)
            .timestamps(true)
            // The API takes a 32-bit time; past 2038 read from the start instead.
            .since(i32::try_from(since).unwrap_or(0))
            .build();
        self.docker
            .logs(id, Some(options))
            .map(|item| item.map_err(EngineError::from))
    }

    /// Waits until the container exits; returns its exit code.
    pub async fn wait_exit(&self, id: &str) -> Result<i64, EngineError> {
        let mut wait = self.docker.wait_container(id, None);
        match wait.next().await {
            Some(Ok(response)) => Ok(response.status_code),
            // bollard reports a non-zero exit as an error carrying the code.
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(code),
            Some(Err(err)) => Err(err.into()),
            None => Err(EngineError::Api(format!("no exit status for {id}"))),
        }
    }
}

/// An inspected container's published ports (`{"6379/tcp": [{HostIp, HostPort}]}`)
/// as (host ip, host port, container port), TCP only: probes connect over TCP.
fn published_ports(map: bollard::models::PortMap) -> Vec<(String, u16, u16)> {
    let mut published = Vec::new();
    for (key, bindings) in map {
        let Some(container_port) = key
            .strip_suffix("/tcp")
            .and_then(|port| port.parse::<u16>().ok())
        else {
            continue;
        };
        for binding in bindings.unwrap_or_default() {
            if let Some(host_port) = binding.host_port.and_then(|port| port.parse().ok()) {
                published.push((
                    binding.host_ip.unwrap_or_default(),
                    host_port,
                    container_port,
                ));
            }
        }
    }
    published
}
