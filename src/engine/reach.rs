//! How gorae opens a TCP connection to a container on the project network, for the
//! readiness probes: straight to the container's address when the engine runs on
//! this machine, through the engine machine's sshd when the engine is reached over
//! `ssh://` (container networks are only routable on the machine that runs them),
//! and through a port published on 127.0.0.1 when the engine keeps its containers
//! where this machine cannot route to (rootless Podman or Docker in a user's network
//! namespace, Docker Desktop, Colima and the like in a VM).
//!
//! Over ssh, one master connection per gorae run carries a forwarded local socket
//! per container port. ssh, like an engine's port proxy, accepts before it knows
//! whether the far port answers, and closes soon after when it does not;
//! [`Connection::unconfirmed_for`] tells a probe how long to look for that.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UnixStream};
use tokio::sync::Mutex;

use super::ssh::SshLink;

/// A byte stream either way: a TCP connection or a forwarded socket.
pub trait Duplex: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Duplex for T {}

/// An open connection to a container port.
pub struct Connection {
    pub stream: Box<dyn Duplex>,
    /// `None` when the far end is known to have accepted (a direct connection).
    /// Through a forward or a port proxy, which accept before they know whether
    /// the container's port answers and close soon after when it does not: how
    /// long the connection must stay open before it counts as answered.
    pub unconfirmed_for: Option<Duration>,
}

/// ssh closes a forwarded connection to a refused port within milliseconds.
const SSH_SETTLE: Duration = Duration::from_millis(150);

/// A port proxy that dials into a user's network namespace or a VM takes longer:
/// rootless Podman's drops a refused connection after 0.19 s, busy machine or not.
const PROXY_SETTLE: Duration = Duration::from_millis(400);

/// Where a probe finds a container: its address on the project network, and the
/// ports it publishes as (host ip, host port, container port).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerAddress {
    pub ip: Option<String>,
    pub published: Vec<(String, u16, u16)>,
}

impl ContainerAddress {
    /// The host address and port that reach container port `port` on the engine's
    /// machine; a binding on every interface is reached on loopback.
    fn published_route(&self, port: u16) -> Option<(String, u16)> {
        let (host_ip, host_port, _) = self
            .published
            .iter()
            .find(|(_, host_port, container_port)| *container_port == port && *host_port != 0)?;
        Some((on_engine_machine(host_ip).to_string(), *host_port))
    }
}

/// Where a port published on `host_ip` is reached on the engine's own machine: a
/// binding on every interface, on loopback.
pub fn on_engine_machine(host_ip: &str) -> &str {
    match host_ip {
        "" | "0.0.0.0" => "127.0.0.1",
        "::" => "::1",
        ip => ip,
    }
}

/// The route to container addresses, settled when the engine is connected.
#[derive(Clone)]
pub(super) enum Reach {
    Direct,
    Ssh(Arc<Forwards>),
    /// Through the port each probed container publishes on this machine.
    Published,
}

/// The sockets forwarded so far through the ssh connection to the engine's machine.
pub(super) struct Forwards {
    link: Arc<SshLink>,
    forwarded: Mutex<HashMap<(String, u16), PathBuf>>,
}

impl Reach {
    /// Through ssh for an engine reached over `link`, directly otherwise. A `tcp://`
    /// engine on another machine is reached directly too: its container networks
    /// must be routable from here (a VM's, say); an engine that is only reachable
    /// over ssh should be addressed as `ssh://`.
    pub(super) fn new(link: Option<Arc<SshLink>>, routable: bool) -> Reach {
        match link {
            Some(link) => Reach::Ssh(Arc::new(Forwards {
                link,
                forwarded: Mutex::new(HashMap::new()),
            })),
            None if routable => Reach::Direct,
            None => Reach::Published,
        }
    }

    /// Listens on 127.0.0.1:`local` here and forwards each connection to
    /// `address:port` on the engine's machine, through the ssh connection, for as
    /// long as gorae runs. `None` when the engine is not reached over ssh.
    pub(super) async fn forward_here(
        &self,
        local: u16,
        address: &str,
        port: u16,
    ) -> Option<io::Result<()>> {
        let Reach::Ssh(forwards) = self else {
            return None;
        };
        let forwarded = async {
            let session = forwards.link.session().await?;
            session
                .request_port_forward(
                    openssh::ForwardType::Local,
                    openssh::Socket::new("127.0.0.1", local),
                    openssh::Socket::new(address, port),
                )
                .await
                .map_err(|err| io::Error::other(super::ssh::innermost(&err)))
        };
        Some(forwarded.await)
    }

    /// Whether probed ports must be published for probes to reach them.
    pub(super) fn needs_published_ports(&self) -> bool {
        matches!(self, Reach::Published)
    }

    pub(super) async fn connect(
        &self,
        container: &ContainerAddress,
        port: u16,
        timeout: Duration,
    ) -> io::Result<Connection> {
        let no_address = || {
            io::Error::new(
                io::ErrorKind::NotConnected,
                "container has no address on the project network yet",
            )
        };
        match self {
            Reach::Direct => {
                let address = container.ip.as_deref().ok_or_else(no_address)?;
                let stream = within(timeout, TcpStream::connect((address, port))).await?;
                Ok(Connection {
                    stream: Box::new(stream),
                    unconfirmed_for: None,
                })
            }
            Reach::Published => {
                let (host, host_port) = container.published_route(port).ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::NotConnected,
                        "no port of the container is published for this probe; `gorae down` then `gorae up` makes it again with one",
                    )
                })?;
                let stream =
                    within(timeout, TcpStream::connect((host.as_str(), host_port))).await?;
                Ok(Connection {
                    stream: Box::new(stream),
                    unconfirmed_for: Some(PROXY_SETTLE),
                })
            }
            Reach::Ssh(forwards) => {
                let address = container.ip.as_deref().ok_or_else(no_address)?;
                // Opening the ssh connection is bounded by ssh's own ConnectTimeout:
                // a slow login must not fail every probe that waits for it.
                forwards.link.session().await?;
                let stream = within(timeout, forwards.connect(address, port)).await?;
                Ok(Connection {
                    stream: Box::new(stream),
                    unconfirmed_for: Some(SSH_SETTLE),
                })
            }
        }
    }
}

/// Whether the containers of the engine behind `host` can be reached at their
/// network addresses from here. An engine on a local socket that a user owns rather
/// than root keeps its containers apart: rootless Podman and Docker in the user's
/// network namespace, Docker Desktop, Colima, Podman machine and the like in a VM.
/// A root-owned socket is a rootful engine on this machine. Any other host is
/// taken as routable (see [`Reach::new`]).
pub(super) fn containers_routable(host: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    match host.strip_prefix("unix://") {
        Some(socket) => std::fs::metadata(socket).map_or(true, |meta| meta.uid() == 0),
        None => true,
    }
}

/// `connect`, given up after `timeout`.
async fn within<T>(
    timeout: Duration,
    connect: impl std::future::Future<Output = io::Result<T>>,
) -> io::Result<T> {
    tokio::time::timeout(timeout, connect)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connection timed out"))?
}

impl Forwards {
    async fn connect(&self, address: &str, port: u16) -> io::Result<UnixStream> {
        let socket = self.forward(address, port).await?;
        UnixStream::connect(socket).await
    }

    /// The local socket that reaches `address:port` on the engine's machine,
    /// forwarded on first use.
    async fn forward(&self, address: &str, port: u16) -> io::Result<PathBuf> {
        let mut forwarded = self.forwarded.lock().await;
        let key = (address.to_string(), port);
        if let Some(socket) = forwarded.get(&key) {
            return Ok(socket.clone());
        }
        let session = self.link.session().await?;
        let socket = self
            .link
            .socket_dir()
            .join(format!("probe-{}.sock", forwarded.len()));
        session
            .request_port_forward(
                openssh::ForwardType::Local,
                socket.clone(),
                openssh::Socket::new(address, port),
            )
            .await
            .map_err(|err| {
                io::Error::other(format!(
                    "cannot forward {address}:{port} through ssh to {}: {err}",
                    self.link.destination()
                ))
            })?;
        forwarded.insert(key, socket.clone());
        Ok(socket)
    }
}
