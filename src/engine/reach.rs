//! How gorae opens a TCP connection to a container on the project network, for the
//! readiness probes: straight to the container's address when the engine runs on
//! this machine, and through the engine machine's sshd when the engine is reached
//! over `ssh://`, because container networks are only routable on the machine that
//! runs them.
//!
//! Over ssh, one master connection per gorae run carries a forwarded local socket
//! per container port. ssh accepts on that socket before it knows whether the far
//! port answers, and closes it at once when it does not; [`Connection::confirmed`]
//! tells a probe that it has to look for that.

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
    /// Whether the far end is known to have accepted: always for a direct
    /// connection, never for a forwarded one.
    pub confirmed: bool,
}

/// The route to container addresses, settled when the engine is connected.
#[derive(Clone)]
pub(super) enum Reach {
    Direct,
    Ssh(Arc<Forwards>),
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
    pub(super) fn new(link: Option<Arc<SshLink>>) -> Reach {
        match link {
            Some(link) => Reach::Ssh(Arc::new(Forwards {
                link,
                forwarded: Mutex::new(HashMap::new()),
            })),
            None => Reach::Direct,
        }
    }

    pub(super) async fn connect(
        &self,
        address: &str,
        port: u16,
        timeout: Duration,
    ) -> io::Result<Connection> {
        match self {
            Reach::Direct => {
                let stream = within(timeout, TcpStream::connect((address, port))).await?;
                Ok(Connection {
                    stream: Box::new(stream),
                    confirmed: true,
                })
            }
            Reach::Ssh(forwards) => {
                // Opening the ssh connection is bounded by ssh's own ConnectTimeout:
                // a slow login must not fail every probe that waits for it.
                forwards.link.session().await?;
                let stream = within(timeout, forwards.connect(address, port)).await?;
                Ok(Connection {
                    stream: Box::new(stream),
                    confirmed: false,
                })
            }
        }
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
