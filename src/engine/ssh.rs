//! An engine on another machine, reached over `ssh://user@host:port`: one ssh master
//! connection per gorae run, opened on first use with the system's ssh client (its
//! keys, agent and ~/.ssh/config), and every Engine API connection a `docker system
//! dial-stdio` through it, as the docker CLI does. One master means one login, not one
//! per API call, and the readiness probes' forwarded sockets ([`super::reach`]) ride
//! on it too.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bollard::{BollardRequest, ClientVersion, Docker};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::OnceCell;

/// How long ssh may take to open its connection to the engine's machine.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// The ssh connection to the engine's machine.
pub(super) struct SshLink {
    /// `ssh://user@host:port`, as given.
    url: String,
    session: OnceCell<Result<Arc<openssh::Session>, String>>,
    /// The probes' forwarded sockets: a short path (a unix socket's is limited),
    /// removed when gorae ends.
    sockets: tempfile::TempDir,
}

impl SshLink {
    pub(super) fn new(url: &str) -> io::Result<Arc<SshLink>> {
        let sockets = tempfile::Builder::new().prefix("gorae-ssh-").tempdir()?;
        Ok(Arc::new(SshLink {
            url: url.to_string(),
            session: OnceCell::new(),
            sockets,
        }))
    }

    /// `user@host:port`, for messages.
    pub(super) fn destination(&self) -> &str {
        let rest = self.url.strip_prefix("ssh://").unwrap_or(&self.url);
        rest.split('/').next().unwrap_or(rest)
    }

    pub(super) fn socket_dir(&self) -> &std::path::Path {
        self.sockets.path()
    }

    /// The master connection, opened on first use; a failure is kept, so every
    /// caller reports the same reason instead of retrying a login that failed.
    pub(super) async fn session(&self) -> io::Result<Arc<openssh::Session>> {
        let opened = self
            .session
            .get_or_init(|| async {
                let mut builder = openssh::SessionBuilder::default();
                // The master's control socket goes in a directory the session owns
                // under the temp dir (short, unlike XDG_STATE_HOME may be), so that
                // it is still there when the last connection lets go of the session
                // and the master is told to exit.
                builder
                    .control_directory(std::env::temp_dir())
                    .connect_timeout(CONNECT_TIMEOUT);
                // openssh reads the user and port out of the `ssh://` form itself.
                let url = format!("ssh://{}", self.destination());
                let (builder, destination) = builder.resolve(&url);
                let master = builder
                    .launch_master(destination)
                    .await
                    .map_err(|err| innermost(&err))?;
                Ok(Arc::new(openssh::Session::new_process_mux(master)))
            })
            .await;
        opened.clone().map_err(io::Error::other)
    }
}

/// ssh's own words ("Permission denied (publickey)"), not the chain around them.
pub(super) fn innermost(err: &dyn std::error::Error) -> String {
    let mut source = err;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string().trim().to_string()
}

/// A client for the engine behind `link`.
pub(super) fn docker(
    link: Arc<SshLink>,
    timeout: Duration,
    version: &ClientVersion,
) -> Result<Docker, bollard::errors::Error> {
    // Idle connections are kept and reused: each new one starts a process on the
    // other machine.
    let client = Client::builder(TokioExecutor::new()).build(DialStdio { link });
    let transport = move |request: BollardRequest| {
        let client = client.clone();
        async move {
            client
                .request(request)
                .await
                .map_err(bollard::errors::Error::from)
        }
    };
    // The address only fills in the request URIs; DialStdio ignores it.
    Docker::connect_with_custom_transport(
        transport,
        Some("http://engine"),
        timeout.as_secs(),
        version,
    )
}

/// Connects by running `docker system dial-stdio` on the engine's machine.
#[derive(Clone)]
struct DialStdio {
    link: Arc<SshLink>,
}

impl tower_service::Service<hyper::Uri> for DialStdio {
    type Response = TokioIo<DialedEngine>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: hyper::Uri) -> Self::Future {
        let link = Arc::clone(&self.link);
        Box::pin(async move {
            let session = link.session().await?;
            let mut child = session
                .arc_command("docker")
                .args(["system", "dial-stdio"])
                .stdin(openssh::Stdio::piped())
                .stdout(openssh::Stdio::piped())
                .spawn()
                .await
                .map_err(|err| io::Error::other(innermost(&err)))?;
            let missing = || io::Error::other("ssh gave no pipe to `docker system dial-stdio`");
            let stdin = child.stdin().take().ok_or_else(missing)?;
            let stdout = child.stdout().take().ok_or_else(missing)?;
            Ok(TokioIo::new(DialedEngine {
                stdin,
                stdout,
                _child: child,
            }))
        })
    }
}

/// One engine connection: the dial-stdio process's input and output.
struct DialedEngine {
    stdin: openssh::ChildStdin,
    stdout: openssh::ChildStdout,
    /// Kept so the process lives as long as the connection.
    _child: openssh::Child<Arc<openssh::Session>>,
}

impl Connection for DialedEngine {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl AsyncRead for DialedEngine {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stdout).poll_read(cx, buf)
    }
}

impl AsyncWrite for DialedEngine {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stdin).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stdin).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stdin).poll_shutdown(cx)
    }
}
