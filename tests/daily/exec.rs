//! `gorae exec`: exit codes and stdin pass through; a terminal gets a TTY of the
//! right size and is restored afterwards; a missing service is a clear error. Under
//! it, the engine's exec reads and writes whatever streams it is given.

use std::io::Write;
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::task::{Context, Poll};

use gorae::engine::{Engine, ExecIo, ExecStreams};
use tokio::io::AsyncWrite;

use crate::sh_quote;
use crate::support::{TestProject, containers_of, docker, ensure_stand_in_images, stderr, stdout};

fn redis_project(short: &str) -> TestProject {
    let project = TestProject::new(short);
    let yaml = project.services_yaml("  cache: { template: redis }\n");
    project.file("gorae.yaml", &yaml)
}

#[test]
fn exec_passes_exit_codes_stdin_and_both_streams_through() {
    ensure_stand_in_images();
    let project = redis_project("exec");
    project.gorae_ok(&["up", "--ci"]);

    let failed = project.gorae(&["exec", "cache", "--", "sh", "-c", "exit 7"]);
    assert_eq!(failed.status.code(), Some(7), "{}", stderr(&failed));

    let mut cat = project
        .command(&["exec", "cache", "--", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start gorae exec");
    cat.stdin
        .take()
        .expect("piped stdin")
        .write_all(b"hi\nthere\n")
        .expect("write to gorae exec");
    let cat = cat.wait_with_output().expect("wait for gorae exec");
    assert!(cat.status.success());
    assert_eq!(stdout(&cat), "hi\nthere\n");

    let streams = project.gorae_ok(&["exec", "cache", "--", "sh", "-c", "echo out; echo err >&2"]);
    assert_eq!(
        (stdout(&streams).as_str(), stderr(&streams).as_str()),
        ("out\n", "err\n")
    );

    // Not a terminal here, so no TTY: the command sees a pipe, not /dev/pts.
    let tty = project.gorae(&["exec", "cache", "--", "tty"]);
    assert_eq!(stdout(&tty), "not a tty\n");
}

#[test]
fn exec_on_an_unknown_or_stopped_service_says_what_to_do() {
    ensure_stand_in_images();
    let project = redis_project("execstop");
    let never_started = project.gorae(&["exec", "cache", "--", "true"]);
    assert_eq!(
        never_started.status.code(),
        Some(6),
        "{}",
        stderr(&never_started)
    );
    assert!(stderr(&never_started).contains("service `cache` is not running"));
    assert!(stderr(&never_started).contains("gorae up"));

    let unknown = project.gorae(&["exec", "nope", "--", "true"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));
    assert!(
        stderr(&unknown).contains("no service `nope`") && stderr(&unknown).contains("cache"),
        "{}",
        stderr(&unknown)
    );

    project.gorae_ok(&["up", "--ci"]);
    docker(&["stop", "-t", "1", &format!("{}-cache", project.name())]);
    let stopped = project.gorae(&["exec", "cache", "--", "true"]);
    assert_eq!(stopped.status.code(), Some(6), "{}", stderr(&stopped));
    assert!(
        stderr(&stopped).contains("service `cache` is not running (exited")
            && stderr(&stopped).contains("gorae logs cache"),
        "{}",
        stderr(&stopped)
    );
}

/// Runs `script` in the project so that gorae sees a terminal (a pty that
/// `script` creates); `commands` is a line of sh run on that terminal.
fn on_terminal(project: &TestProject, commands: &str, input: &[u8]) -> (Option<i32>, String) {
    let mut script = project
        .environment(&mut Command::new("script"))
        .args(["-qec", commands, "/dev/null"])
        .current_dir(project.path())
        .env("GORAE", env!("CARGO_BIN_EXE_gorae"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run `script` (util-linux) for a terminal");
    let mut stdin = script.stdin.take().expect("piped stdin");
    stdin.write_all(input).expect("type into the terminal");
    let out = script.wait_with_output().expect("wait for script");
    drop(stdin);
    (out.status.code(), stdout(&out).replace('\r', ""))
}

#[test]
fn exec_on_a_terminal_gets_a_sized_tty_and_restores_the_terminal() {
    ensure_stand_in_images();
    let project = redis_project("exectty");
    project.gorae_ok(&["up", "--ci"]);

    // The terminal's settings before and after must be identical, also when the
    // command fails; the size is handed on once the command runs.
    let (code, out) = on_terminal(
        &project,
        r#"stty rows 33 cols 101; stty -g; "$GORAE" exec cache -- sh -c 'tty; sleep 0.5; stty size; exit 5'; echo "code=$?"; stty -g"#,
        b"",
    );
    assert_eq!(code, Some(0), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(lines[1].starts_with("/dev/pts/"), "no TTY: {out}");
    assert_eq!(lines[2], "33 101", "{out}");
    assert_eq!(lines[3], "code=5", "{out}");
    assert_eq!(lines[0], lines[4], "terminal settings not restored: {out}");

    // No command: an interactive shell (bash in this image) that reads what is typed.
    let (code, out) = on_terminal(
        &project,
        &format!("{} exec cache", sh_quote(env!("CARGO_BIN_EXE_gorae"))),
        b"echo \"shell=$0 answer=$((6*7))\"\nexit 3\n",
    );
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("shell=bash answer=42"), "{out}");
}

/// A reader that went away: every write fails as on a closed pipe.
struct ClosedPipe;

impl AsyncWrite for ClosedPipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn exec_reads_and_writes_the_streams_it_is_given() {
    ensure_stand_in_images();
    let project = redis_project("execstreams");
    project.gorae_ok(&["up", "--ci"]);
    let containers = containers_of(project.name());
    let [(_, id)] = containers.as_slice() else {
        panic!("one container expected: {containers:?}");
    };
    let command = |script: &str| ["sh", "-c", script].map(String::from);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let engine = Engine::connect().await.expect("connect to the engine");

        // Pipes: stdin in, stdout and stderr apart, the exit code back.
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let streams = ExecStreams {
            stdin: &b"typed\nlines\n"[..],
            stdout: &mut out,
            stderr: &mut err,
        };
        let io = ExecIo::Pipes { stdin: true };
        let code = engine
            .exec_attached(id, &command("tac; echo oops >&2; exit 3"), io, streams)
            .await
            .expect("exec");
        assert_eq!(code, 3);
        assert_eq!(String::from_utf8_lossy(&out), "lines\ntyped\n");
        assert_eq!(String::from_utf8_lossy(&err), "oops\n");

        // stdin not forwarded: the command reads an empty stdin, and nothing of ours.
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let streams = ExecStreams {
            stdin: &b"not for it"[..],
            stdout: &mut out,
            stderr: &mut err,
        };
        let io = ExecIo::Pipes { stdin: false };
        let code = engine
            .exec_attached(id, &command("wc -c"), io, streams)
            .await
            .expect("exec");
        assert_eq!((code, String::from_utf8_lossy(&out).trim()), (0, "0"));

        // A closed stdout loses the output, not the run: stderr and the code arrive.
        let mut err = Vec::new();
        let streams = ExecStreams {
            stdin: &b""[..],
            stdout: ClosedPipe,
            stderr: &mut err,
        };
        let io = ExecIo::Pipes { stdin: false };
        let script = "seq 1 20000; echo done >&2; exit 4";
        let code = engine
            .exec_attached(id, &command(script), io, streams)
            .await
            .expect("exec");
        assert_eq!(code, 4);
        assert_eq!(String::from_utf8_lossy(&err), "done\n");

        // A TTY: one stream, on stdout, with the terminal's line endings. Its stdin
        // stays open, as a terminal's does.
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let (_sizes, size) = tokio::sync::watch::channel((24, 80));
        let (_keyboard, stdin) = tokio::io::duplex(64);
        let streams = ExecStreams {
            stdin,
            stdout: &mut out,
            stderr: &mut err,
        };
        let code = engine
            .exec_attached(
                id,
                &command("tty; echo oops >&2"),
                ExecIo::Tty { size },
                streams,
            )
            .await
            .expect("exec");
        let out = String::from_utf8_lossy(&out);
        assert_eq!(code, 0);
        assert!(
            out.starts_with("/dev/pts/") && out.ends_with("\r\noops\r\n"),
            "{out:?}"
        );
        assert!(err.is_empty(), "{err:?}");
    });
}
