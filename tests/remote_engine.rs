//! An engine on another machine, reached with `DOCKER_HOST=ssh://…` (gorae runs
//! `docker system dial-stdio` there through the system's ssh client): here this
//! machine's own engine behind a local sshd with a test key. A bind mount would
//! mount the other machine's path, so it is refused before anything is made.

mod support;

use std::process::Output;

use support::sshd::Sshd;
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
    let tunnel = format!("ssh -N -L {port}:127.0.0.1:{port} {alias}");
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
