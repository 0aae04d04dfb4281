//! The core engine scenarios against Podman's Docker-compatible API (Podman 4.3
//! from Debian, rootful and rootless): a built app wired to Redis and answering,
//! readiness, a no-op `up` that changes nothing, data that survives `down` and `up`,
//! `down` leaving another project alone, and `doctor` naming the engine. Rootless
//! Podman keeps its containers in its user's network namespace, which this machine
//! cannot route to: there, the probes go through ports published on loopback.

mod support;

use std::process::Output;

use support::podman::Podman;
use support::{TestProject, ensure_stand_in_images, example, get_root};

/// Runs gorae for `project` against Podman and asserts it succeeded.
fn gorae(project: &TestProject, podman: &Podman, args: &[&str]) -> Output {
    project
        .run_with_env(args, &[("DOCKER_HOST", &podman.host())])
        .succeeds()
}

/// Removes what the projects made in Podman, on failure too.
struct Cleanup<'a>(&'a Podman, Vec<String>);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        for project in &self.1 {
            self.0.remove_project(project);
        }
    }
}

/// Brings the node-redis example up on `podman`, and checks the core scenarios.
fn core_scenarios(podman: &Podman) {
    ensure_stand_in_images();
    podman.load(&["gorae-test/redis:7", "gorae-test/node:20"]);
    let (project, port) = example("node-redis", 3000);
    let other = TestProject::new("podman-other").services("  redis: \"7\"\n");
    let _cleanup = Cleanup(podman, vec![project.name().into(), other.name().into()]);

    // Built, started in order, wired and ready.
    gorae(&project, podman, &["up", "--ci"]);
    let first = get_root(port);
    assert!(first.contains("visited 1 time."), "{first}");

    // Nothing changed: nothing is touched.
    let again = gorae(&project, podman, &["up", "--ci"]);
    let again = String::from_utf8_lossy(&again.stderr);
    assert!(again.contains("(2 unchanged)"), "{again}");

    // The counter lives in Redis's data volume, which `down` keeps.
    gorae(&other, podman, &["up", "--ci"]);
    gorae(&project, podman, &["down"]);
    gorae(&project, podman, &["up", "--ci"]);
    let after = get_root(port);
    assert!(after.contains("visited 2 times."), "{after}");

    // `down` of one project leaves the other running.
    gorae(&project, podman, &["down", "--volumes"]);
    let ps = gorae(&other, podman, &["ps"]);
    let ps = String::from_utf8_lossy(&ps.stdout);
    assert!(ps.contains("running") && ps.contains("yes"), "{ps}");
    // A port published for the probe alone (rootless) is not the service's own.
    assert!(!ps.contains("->"), "{ps}");

    let doctor = gorae(&other, podman, &["doctor"]);
    let doctor = String::from_utf8_lossy(&doctor.stdout);
    assert!(doctor.contains("engine: Podman 4."), "{doctor}");
    assert_eq!(
        doctor.contains("probes use ports published on 127.0.0.1"),
        podman.is_rootless(),
        "{doctor}"
    );
    gorae(&other, podman, &["down", "--volumes"]);
}

#[test]
fn the_node_redis_example_runs_on_rootful_podman_and_down_leaves_other_projects_alone() {
    core_scenarios(Podman::shared());
}

#[test]
fn the_node_redis_example_runs_on_rootless_podman_and_down_leaves_other_projects_alone() {
    core_scenarios(Podman::rootless());
}

#[test]
fn a_podman_socket_that_is_not_there_is_one_clear_error_with_exit_4() {
    let project = TestProject::new("podman-gone").services("  redis: \"7\"\n");
    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("podman/podman.sock");
    let host = format!("unix://{}", socket.display());
    let out = project
        .run_with_env(&["up", "--ci"], &[("DOCKER_HOST", &host)])
        .fails_with(4);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: cannot reach the Docker engine at DOCKER_HOST={host}"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("systemctl --user start podman.socket"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn on_rootless_podman_probes_reach_unpublished_ports_and_still_tell_a_dead_one() {
    ensure_stand_in_images();
    let podman = Podman::rootless();
    podman.load(&["gorae-test/redis:7", "gorae-test/node:20"]);
    let project = TestProject::new("rootless-probes").services(
        "  redis: { template: redis, ready: { tcp: 6379 } }\n  web:\n    image: node:20\n    command: [node, -e, \"require('http').createServer((q, s) => s.end('ok')).listen(8000)\"]\n    ready: { http: { port: 8000, path: / } }\n    depends_on: [redis]\n",
    );
    let mute = TestProject::new("rootless-mute").services(
        "  mute:\n    image: redis:7\n    command: [sleep, \"600\"]\n    ready: { tcp: 9999 }\n    timeout: 3s\n",
    );
    let _cleanup = Cleanup(podman, vec![project.name().into(), mute.name().into()]);

    // Neither publishes a port, yet both are probed and ready.
    gorae(&project, podman, &["up", "--ci"]);
    let ps = gorae(&project, podman, &["ps"]);
    let listed = String::from_utf8_lossy(&ps.stdout);
    assert_eq!(listed.matches(" yes").count(), 2, "both ready:\n{listed}");
    assert!(!listed.contains("->"), "no port of their own:\n{listed}");

    // A port nobody listens on is not taken for an answer through the port proxy.
    let up = mute
        .run_with_env(&["up", "--ci"], &[("DOCKER_HOST", &podman.host())])
        .fails_with(7);
    let stderr = String::from_utf8_lossy(&up.stderr);
    assert!(stderr.contains("not ready after 3s"), "{stderr}");
    assert!(stderr.contains("port 9999"), "{stderr}");
}
