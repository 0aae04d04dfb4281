//! The Docker Engine, seen through exactly the calls gorae needs.
//!
//! Each method is one engine call (or one streamed call) and maps bollard's errors to
//! [`EngineError`], because raw bollard errors mean little to a user. Nothing here
//! decides anything: the plan decides, `apply` orders, this module only talks.

mod containers;
mod data;
pub mod endpoint;
mod error;
mod exec;
mod files;
mod images;
mod negotiate;
mod reach;
mod request;
mod resources;
pub mod scope;
mod ssh;
mod system;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bollard::Docker;

pub use containers::{ContainerState, ExecOutput, ExistingContainer, STOP_TIMEOUT_SECS};
pub use error::EngineError;
pub use exec::{ExecIo, ExecStreams};
pub use files::readable_files_tar;
pub use images::{BuildProgress, ImageInfo, platform_matches, split_tag};
pub use reach::{Connection, ContainerAddress, on_engine_machine};
pub use request::{BuildOptions, ContainerSpec, Mount, Protocol, PublishedPort, RunOptions};
pub use resources::Labelled;
pub use system::SystemInfo;

/// Label keys gorae puts on everything it creates.
pub mod labels {
    pub const PROJECT: &str = "dev.gorae.project";
    pub const PROJECT_DIR: &str = "dev.gorae.project_dir";
    pub const SERVICE: &str = "dev.gorae.service";
    pub const CONFIG_HASH: &str = "dev.gorae.config_hash";
    /// A short digest of each part of the container's configuration (JSON), so the
    /// next `up` can say which part changed; never a value itself.
    pub const FIELDS: &str = "dev.gorae.fields";
    pub const KIND: &str = "dev.gorae.kind";
    pub const VERSION: &str = "dev.gorae.version";
    /// The container ports (`5432,8080`) gorae published on 127.0.0.1 for its
    /// readiness probes alone, on an engine whose container networks this machine
    /// cannot route to; not the service's own ports.
    pub const PROBE_PORTS: &str = "dev.gorae.probe_ports";
}

/// One project as the engine sees it: the name and the directory that everything it
/// owns is labelled with. Two directories may claim one name; only both labels
/// together say a resource is this project's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub name: String,
    pub dir: String,
}

impl Scope {
    /// The engine's `label` filters that select exactly this project (ANDed).
    pub fn label_filters(&self) -> Vec<String> {
        vec![
            format!("{}={}", labels::PROJECT, self.name),
            format!("{}={}", labels::PROJECT_DIR, self.dir),
        ]
    }
}

/// A connection to one Docker Engine, with the API version negotiated.
#[derive(Clone)]
pub struct Engine {
    docker: Docker,
    endpoint: endpoint::Endpoint,
    reach: reach::Reach,
}

/// Builds and slow pulls stream for a long time; plain calls answer in milliseconds.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3600);

impl Engine {
    /// Connects to the engine the docker CLI would use ([`endpoint::find`]) and
    /// negotiates the API version.
    pub async fn connect() -> Result<Engine, EngineError> {
        let found = endpoint::find().map_err(|err| EngineError::Misconfigured {
            endpoint: err.endpoint,
            reason: err.reason,
        })?;
        let described = found.describe();
        let unreachable = |err: bollard::errors::Error| EngineError::Unreachable {
            endpoint: described.clone(),
            reason: error::short_reason(&err),
        };
        let link = if found.host.starts_with("ssh://") {
            let link = ssh::SshLink::new(&found.host).map_err(|err| EngineError::Unreachable {
                endpoint: described.clone(),
                reason: err.to_string(),
            })?;
            Some(link)
        } else {
            None
        };
        // A local socket's ping says the API version at once ([`negotiate`]).
        let pinged = match found.host.strip_prefix("unix://") {
            Some(socket) => negotiate::over_unix_socket(Path::new(socket)).await,
            None => None,
        };
        let docker = match (&found.tls, &link) {
            (_, Some(link)) => ssh::docker(
                Arc::clone(link),
                REQUEST_TIMEOUT,
                bollard::API_DEFAULT_VERSION,
            ),
            (Some(tls), None) => {
                if let Some(missing) = tls.missing_file() {
                    return Err(EngineError::Misconfigured {
                        endpoint: described,
                        reason: format!(
                            "{} is not there; DOCKER_CERT_PATH (or the context) must hold the engine's ca.pem and this client's cert.pem and key.pem",
                            missing.display()
                        ),
                    });
                }
                Docker::connect_with_ssl(
                    &found.host,
                    &tls.key,
                    &tls.cert,
                    &tls.ca,
                    REQUEST_TIMEOUT.as_secs(),
                    bollard::API_DEFAULT_VERSION,
                )
            }
            (None, None) => match &pinged {
                Some(version) => {
                    Docker::connect_with_unix(&found.host, REQUEST_TIMEOUT.as_secs(), version)
                }
                None => Docker::connect_with_host(&found.host),
            },
        }
        .map_err(unreachable)?
        .with_timeout(REQUEST_TIMEOUT);
        let docker = match pinged {
            Some(_) => docker,
            None => docker.negotiate_version().await.map_err(unreachable)?,
        };
        let routable = reach::containers_routable(&found.host);
        Ok(Engine {
            docker,
            reach: reach::Reach::new(link, routable),
            endpoint: found,
        })
    }

    /// Opens a TCP connection to `port` of a container on a project network, from
    /// the engine's machine when that is another one (through ssh for an `ssh://`
    /// engine), or through the port it publishes here when its network cannot be
    /// routed to; gives up after `timeout` (not counting the ssh connection that
    /// route opens once).
    pub async fn connect_to(
        &self,
        container: &ContainerAddress,
        port: u16,
        timeout: Duration,
    ) -> std::io::Result<Connection> {
        self.reach.connect(container, port, timeout).await
    }

    /// Whether readiness probes reach this engine's containers through ports
    /// published on 127.0.0.1, because their networks cannot be routed to from here.
    pub fn probes_through_loopback(&self) -> bool {
        self.reach.needs_published_ports()
    }

    /// Makes `address:port` on the engine's machine reachable at 127.0.0.1:`local`
    /// here, through the ssh connection, until gorae ends. `None` when the engine is
    /// not reached over ssh.
    pub async fn forward_here(
        &self,
        local: u16,
        address: &str,
        port: u16,
    ) -> Option<std::io::Result<()>> {
        self.reach.forward_here(local, address, port).await
    }

    /// Where this engine is.
    pub fn endpoint(&self) -> &endpoint::Endpoint {
        &self.endpoint
    }

    /// Which engine this is (Docker or Podman), its version and the negotiated API
    /// version, for `doctor` and reports.
    pub async fn version(&self) -> Result<EngineVersion, EngineError> {
        let version = self.docker.version().await.map_err(EngineError::from)?;
        // Podman's Docker-compatible API names itself among the components.
        let podman = version
            .components
            .unwrap_or_default()
            .iter()
            .any(|component| component.name.contains("Podman"));
        Ok(EngineVersion {
            product: if podman { "Podman" } else { "Docker" },
            version: version.version.unwrap_or_default(),
            api: self.docker.client_version().to_string(),
        })
    }
}

/// What [`Engine::version`] tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineVersion {
    /// `Docker` or `Podman`.
    pub product: &'static str,
    pub version: String,
    /// The API version both sides agreed on.
    pub api: String,
}

/// Where the engine is expected, in the words a user can act on.
pub fn endpoint_description() -> String {
    match endpoint::find() {
        Ok(found) => found.describe(),
        Err(err) => err.endpoint,
    }
}
