//! `gorae exec`: exit codes and stdin pass through; a terminal gets a TTY of the
//! right size and is restored afterwards; a missing service is a clear error.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::sh_quote;
use crate::support::{TestProject, docker, ensure_stand_in_images, stderr, stdout};

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
