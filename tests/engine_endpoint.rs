//! gorae finds the engine as the docker CLI does: `DOCKER_HOST`, else the context
//! `DOCKER_CONTEXT` names, else the CLI's current context, else the local socket.
//! The contexts here are made by the docker CLI itself, in a config directory of the
//! test's own (`DOCKER_CONFIG`).

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::{TestProject, ensure_stand_in_images};

/// The engine the suite runs against, as the docker CLI reaches it.
fn engine_host() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string())
}

/// Runs the docker CLI with `config` as its config directory.
fn docker_cli(config: &Path, args: &[&str]) {
    let out = Command::new("docker")
        .args(args)
        .env("DOCKER_CONFIG", config)
        .env_remove("DOCKER_CONTEXT")
        .output()
        .expect("run docker");
    assert!(
        out.status.success(),
        "docker {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// gorae with `config` as the Docker config directory, `vars` set and the other
/// Docker variables unset.
fn gorae(project: &TestProject, config: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut command = project.command(args);
    for name in ["DOCKER_HOST", "DOCKER_CONTEXT"] {
        command.env_remove(name);
    }
    command
        .env("DOCKER_CONFIG", config)
        .envs(vars.iter().copied())
        .output()
        .expect("run gorae")
}

#[test]
fn the_named_context_then_the_current_one_pick_the_engine_and_docker_host_wins() {
    ensure_stand_in_images();
    let project = TestProject::new("context").services("  redis: \"7\"\n");
    let host = engine_host();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path();
    docker_cli(
        config,
        &[
            "context",
            "create",
            "gorae-here",
            "--docker",
            &format!("host={host}"),
        ],
    );
    docker_cli(
        config,
        &[
            "context",
            "create",
            "gorae-nowhere",
            "--docker",
            "host=unix:///nonexistent/docker.sock",
        ],
    );
    docker_cli(config, &["context", "use", "gorae-nowhere"]);

    // The CLI's current context is where gorae looks, and says so when it fails.
    let out = gorae(&project, config, &["up"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("unix:///nonexistent/docker.sock (Docker context `gorae-nowhere`)"),
        "{stderr}"
    );

    // DOCKER_CONTEXT names another one.
    let here = [("DOCKER_CONTEXT", "gorae-here")];
    let out = gorae(&project, config, &["up"], &here);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = gorae(&project, config, &["doctor"], &here);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains(&format!("{host} (Docker context `gorae-here`)")),
        "{report}"
    );

    // DOCKER_HOST wins over any context.
    let out = gorae(
        &project,
        config,
        &["ps"],
        &[
            ("DOCKER_HOST", host.as_str()),
            ("DOCKER_CONTEXT", "gorae-nowhere"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A context that does not exist is named, with where to look.
    let out = gorae(&project, config, &["ps"], &[("DOCKER_CONTEXT", "missing")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("Docker context `missing`"), "{stderr}");
    assert!(stderr.contains("docker context ls"), "{stderr}");

    let out = gorae(&project, config, &["down"], &here);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
