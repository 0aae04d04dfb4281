//! A command run in a container with the streams it is given attached, as `gorae
//! exec` needs it: separate streams for pipes, one TTY for a person.

use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::query_parameters::ResizeExecOptions;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;

use super::{Engine, EngineError};

/// How the command meets its streams.
pub enum ExecIo {
    /// stdout and stderr kept apart; stdin forwarded when `stdin` is set.
    Pipes { stdin: bool },
    /// One TTY in the container, stdin always forwarded. `size` holds the local
    /// terminal's (rows, columns) and changes when the terminal is resized.
    Tty { size: watch::Receiver<(u16, u16)> },
}

/// What the command reads and where its output goes. `stdin` is read only when
/// [`ExecIo`] forwards it; on a TTY all output arrives as one stream, on `stdout`.
pub struct ExecStreams<I, O, E> {
    pub stdin: I,
    pub stdout: O,
    pub stderr: E,
}

impl Engine {
    /// Runs a command in a running container with `streams` attached; returns the
    /// command's exit code. A write that fails (the reader closed the pipe) is
    /// dropped and the command still runs to its end.
    pub async fn exec_attached<I, O, E>(
        &self,
        id: &str,
        command: &[String],
        io: ExecIo,
        streams: ExecStreams<I, O, E>,
    ) -> Result<i64, EngineError>
    where
        I: AsyncRead + Unpin + Send + 'static,
        O: AsyncWrite + Unpin,
        E: AsyncWrite + Unpin,
    {
        let ExecStreams {
            mut stdin,
            mut stdout,
            mut stderr,
        } = streams;
        let (tty, forward_stdin, mut size) = match io {
            ExecIo::Pipes { stdin } => (false, stdin, None),
            ExecIo::Tty { size } => (true, true, Some(size)),
        };
        let options = CreateExecOptions {
            cmd: Some(command.to_vec()),
            attach_stdin: Some(forward_stdin),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(tty),
            ..Default::default()
        };
        let exec = self.docker.create_exec(id, options).await?;
        let start = StartExecOptions {
            tty,
            ..Default::default()
        };
        if let StartExecResults::Attached {
            mut output,
            mut input,
        } = self.docker.start_exec(&exec.id, Some(start)).await?
        {
            if forward_stdin {
                // A stdin that never ends (a terminal) leaves this blocked on a read
                // once the command ends; the runtime is shut down without waiting.
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut stdin, &mut input).await;
                    let _ = input.shutdown().await;
                });
            }
            if let Some(size) = &mut size {
                // The engine accepts a size only once the command runs, so a program
                // that asks at once may still see the default; it gets SIGWINCH.
                let (rows, cols) = *size.borrow_and_update();
                self.resize_exec(&exec.id, rows, cols).await;
            }
            loop {
                tokio::select! {
                    chunk = output.next() => {
                        let Some(chunk) = chunk else { break };
                        // A closed pipe on our side (`| head`) is not an error of the command.
                        let _ = match chunk? {
                            LogOutput::StdErr { message } => stderr.write_all(&message).await,
                            other => stdout.write_all(&other.into_bytes()).await,
                        };
                        // A TTY session is read as it is typed: no buffering.
                        if tty {
                            let _ = stdout.flush().await;
                        }
                    }
                    Some((rows, cols)) = next_size(&mut size) => {
                        self.resize_exec(&exec.id, rows, cols).await;
                    }
                }
            }
            let _ = stdout.flush().await;
            let _ = stderr.flush().await;
        }
        let inspect = self.docker.inspect_exec(&exec.id).await?;
        Ok(inspect.exit_code.unwrap_or(-1))
    }

    /// Best effort: a failed resize leaves the session usable, only mis-sized.
    async fn resize_exec(&self, exec_id: &str, rows: u16, cols: u16) {
        let options = ResizeExecOptions {
            h: i32::from(rows),
            w: i32::from(cols),
        };
        let _ = self.docker.resize_exec(exec_id, options).await;
    }
}

/// The next terminal size; never resolves when there is no TTY or no more sizes.
async fn next_size(size: &mut Option<watch::Receiver<(u16, u16)>>) -> Option<(u16, u16)> {
    if let Some(receiver) = size
        && receiver.changed().await.is_ok()
    {
        return Some(*receiver.borrow_and_update());
    }
    std::future::pending().await
}
