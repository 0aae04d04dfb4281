//! An engine on another machine, reached with `DOCKER_HOST=ssh://…` (gorae runs
//! `docker system dial-stdio` there through the system's ssh client): here this
//! machine's own engine behind a local sshd with a test key. A bind mount would
//! mount the other machine's path, so it is refused before anything is made.
//! On a [`FarMachine`] gorae cannot reach the containers at all, as with a real
//! remote engine, and its probes go through ssh.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Output, Stdio};

use support::sshd::{FarMachine, Sshd};
use support::{TestProject, containers_of, ensure_stand_in_images};

/// gorae over ssh. The ssh connection's control socket goes under XDG_STATE_HOME
/// (else ~/.local/state), here the test's own directory.
fn gorae(project: &TestProject, args: &[&str]) -> Output {
    let state = project.cache_home();
    project.gorae_with_env(
        args,
        &[
            ("DOCKER_HOST", &Sshd::shared().docker_host()),
            ("XDG_STATE_HOME", state.to_str().expect("a UTF-8 path")),
        ],
    )
}

#[test]
fn over_ssh_a_project_comes_up_and_a_bind_mount_is_refused_before_anything_is_made() {
    ensure_stand_in_images();
    let host = Sshd::shared().docker_host();

    let port = support::free_port();
    let project = TestProject::new("remote").services(&format!(
        "  redis: {{ template: redis, ports: [\"{port}:6379\"] }}\n"
    ));
    let up = gorae(&project, &["up", "--ci"]);
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    assert_eq!(containers_of(project.name()).len(), 1);
    // Published ports are that machine's: ps and env say how to reach them.
    let alias = host.trim_start_matches("ssh://");
    let tunnel = format!("run `gorae tunnel` (or `ssh -N -L {port}:127.0.0.1:{port} {alias}`)");
    for command in ["ps", "env"] {
        let out = gorae(&project, &[command]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.contains(&tunnel), "{command}: {stderr}");
    }
    let doctor = gorae(&project, &["doctor"]);
    let doctor = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        doctor.contains(&format!("at DOCKER_HOST={host}")),
        "{doctor}"
    );
    assert!(doctor.contains("on another machine"), "{doctor}");
    let down = gorae(&project, &["down"]);
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    assert!(containers_of(project.name()).is_empty());
    // Nothing runs: nothing to tunnel. On this machine's own engine a tunnel has no
    // point: the ports are here.
    let nothing = gorae(&project, &["tunnel"]);
    assert_eq!(nothing.status.code(), Some(6));
    let nothing = String::from_utf8_lossy(&nothing.stderr);
    assert!(
        nothing.contains("no running service publishes a port"),
        "{nothing}"
    );
    let local = project.run(&["tunnel"]).fails_with(2);
    let local = String::from_utf8_lossy(&local.stderr);
    assert!(
        local.contains("published ports are open here already"),
        "{local}"
    );

    let binds = TestProject::new("remote-binds")
        .file("src/app.py", "print('hi')\n")
        .file("secrets/token", "t\n")
        .services(
            "  app:\n    image: base:bookworm-1\n    command: [sleep, \"100\"]\n    volumes: [\"./src:/app\"]\n    secrets: { token: ./secrets/token }\n",
        );
    let up = gorae(&binds, &["up", "--ci"]);
    let stderr = String::from_utf8_lossy(&up.stderr);
    assert_eq!(up.status.code(), Some(3), "{stderr}");
    for expected in [
        format!("the engine runs on {alias}, which cannot see this machine's files"),
        "`app` mounts ./src at /app".to_string(),
        "`app` mounts ./secrets/token at /run/secrets/token".to_string(),
        "gorae up --watch".to_string(),
        "{ value: \"${VAR}\" }".to_string(),
    ] {
        assert!(
            stderr.contains(&expected),
            "{expected}\nmissing from:\n{stderr}"
        );
    }
    assert!(containers_of(binds.name()).is_empty());
    let networks = support::docker(&[
        "network",
        "ls",
        "-q",
        "--filter",
        &format!("label=dev.gorae.project={}", binds.name()),
    ]);
    assert!(networks.is_empty(), "{networks}");
}

/// gorae inside the far machine's namespace, which reaches only its sshd.
fn gorae_far(far: &FarMachine, project: &TestProject, args: &[&str]) -> Output {
    let state = project.cache_home();
    let mut command = project.command(args);
    command
        .env("DOCKER_HOST", far.docker_host())
        .env("XDG_STATE_HOME", &state);
    far.wrap(&command)
        .output()
        .expect("run gorae in the namespace")
}

/// GET / on 127.0.0.1:`port` from inside the far machine: the body, or why not.
fn far_get(far: &FarMachine, port: u16) -> Result<String, String> {
    let get = format!(
        "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:{port}/', timeout=5).read().decode())"
    );
    let mut command = Command::new("python3");
    command.args(["-c", &get]);
    let out = far.wrap(&command).output().expect("python3");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn tunnel_stderr(child: &mut Child) -> String {
    let mut text = String::new();
    if let Some(stderr) = child.stderr.as_mut() {
        let _ = stderr.read_to_string(&mut text);
    }
    text
}

/// A child process killed when the test ends, whatever its outcome.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn on_an_engine_gorae_cannot_route_to_probes_go_through_ssh_and_still_tell_a_dead_port() {
    ensure_stand_in_images();
    let far = FarMachine::start();
    let port = support::free_port();
    let project = TestProject::new("far").services(&format!(
        "  redis: {{ template: redis, ready: {{ tcp: 6379 }} }}\n  web:\n    image: python:3.12\n    command: [python3, -m, http.server, \"8000\"]\n    ports: [\"{port}:8000\"]\n    ready: {{ http: / }}\n    depends_on: [redis]\n"
    ));
    let up = gorae_far(&far, &project, &["up", "--ci"]);
    let stderr = String::from_utf8_lossy(&up.stderr);
    assert!(up.status.success(), "{stderr}");
    // The port is published on the engine's machine (this one), not gorae's.
    let answer = support::get_root(port);
    assert!(answer.contains("Directory listing"), "{answer}");
    let ps = gorae_far(&far, &project, &["ps"]);
    let listed = String::from_utf8_lossy(&ps.stdout);
    assert!(
        ps.status.success(),
        "{}",
        String::from_utf8_lossy(&ps.stderr)
    );
    assert_eq!(
        listed.matches(" yes").count(),
        2,
        "both ready:\n{listed}{}",
        String::from_utf8_lossy(&ps.stderr)
    );

    // From the far machine the published port is not reachable, until `gorae tunnel`
    // brings it to the same port on its loopback.
    assert!(far_get(&far, port).is_err(), "reached without a tunnel");
    let tunnel = far
        .wrap(
            project
                .command(&["tunnel", "web"])
                .env("DOCKER_HOST", far.docker_host())
                .env("XDG_STATE_HOME", project.cache_home()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gorae tunnel");
    let mut tunnel = KillOnDrop(tunnel);
    let mut opened = String::new();
    BufReader::new(tunnel.0.stdout.as_mut().expect("stdout"))
        .read_line(&mut opened)
        .expect("read");
    assert_eq!(
        opened.trim(),
        format!(
            "web  127.0.0.1:{port} -> {} 127.0.0.1:{port}",
            far.docker_host().trim_start_matches("ssh://")
        ),
        "{}",
        tunnel_stderr(&mut tunnel.0)
    );
    let answer = far_get(&far, port).expect("an answer through the tunnel");
    assert!(answer.contains("Directory listing"), "{answer}");
    // Ctrl-C (or SIGTERM) closes it, and it exits 0.
    let stopped = Command::new("kill")
        .arg(tunnel.0.id().to_string())
        .status()
        .expect("kill");
    assert!(stopped.success());
    let ended = tunnel.0.wait().expect("wait");
    assert!(
        ended.success(),
        "{ended:?}: {}",
        tunnel_stderr(&mut tunnel.0)
    );
    assert!(far_get(&far, port).is_err(), "the tunnel outlived gorae");

    // A port nobody listens on is not taken for an answer through the tunnel.
    let mute = TestProject::new("far-mute").services(
        "  mute:\n    image: python:3.12\n    command: [sleep, \"600\"]\n    ready: { tcp: 9999 }\n    timeout: 3s\n",
    );
    let up = gorae_far(&far, &mute, &["up", "--ci"]);
    let stderr = String::from_utf8_lossy(&up.stderr);
    assert_eq!(up.status.code(), Some(7), "{stderr}");
    assert!(stderr.contains("not ready after 3s"), "{stderr}");
    assert!(stderr.contains("port 9999"), "{stderr}");

    for done in [&project, &mute] {
        let down = gorae_far(&far, done, &["down", "--volumes"]);
        assert!(
            down.status.success(),
            "{}",
            String::from_utf8_lossy(&down.stderr)
        );
    }
    // Each run closed its ssh connection when it ended.
    let alias = far.docker_host().trim_start_matches("ssh://").to_string();
    let masters = Command::new("pgrep")
        .args(["-f", &format!("ssh .*-M .*{alias}")])
        .output()
        .expect("pgrep");
    assert!(
        masters.stdout.is_empty(),
        "ssh masters left running: {}",
        String::from_utf8_lossy(&masters.stdout)
    );
}

#[test]
fn a_wrong_key_and_an_unreachable_host_are_one_clear_error_with_exit_4() {
    let project = TestProject::new("remote-bad").services("  redis: \"7\"\n");
    let state = project.cache_home();
    let state = state.to_str().expect("a UTF-8 path");
    let wrong_key = Sshd::shared().docker_host_with_unknown_key();
    // Nothing listens on a port just found free.
    let nowhere = format!("ssh://root@127.0.0.1:{}", support::free_port());
    for (host, hint) in [
        (wrong_key.as_str(), "ssh could not log in to"),
        (nowhere.as_str(), "ssh cannot reach root@127.0.0.1"),
    ] {
        let out = project.gorae_with_env(
            &["up", "--ci"],
            &[("DOCKER_HOST", host), ("XDG_STATE_HOME", state)],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{host}: {stderr}");
        assert!(
            stderr.starts_with(&format!(
                "error: cannot reach the Docker engine at DOCKER_HOST={host}"
            )),
            "{stderr}"
        );
        assert!(stderr.contains(hint), "{hint:?} in {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(containers_of(project.name()).is_empty());
    }
}
