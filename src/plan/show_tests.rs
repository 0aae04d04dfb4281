use std::path::Path;

use super::*;
use crate::config::load_str;
use crate::engine::ExistingContainer;
use crate::observe::{ImageFound, Observed};
use crate::plan::{decide, desired};

const SHOP: &str = "name: shop
services:
  cache: { template: redis }
  db: { template: postgres, env: { POSTGRES_PASSWORD: hunter2 } }
  web:
    image: node:20
    depends_on: [db, cache]
    env: { PORT: \"3000\", API_TOKEN: abc123 }
    ports: [\"3000\"]
    command: [node, server.js]
  seed: { image: node:20, kind: task, depends_on: [db] }
";

fn project() -> Project {
    let no_env = |_: &str| None;
    load_str(SHOP, Path::new("/projects/shop/gorae.yaml"), &no_env).expect("valid project")
}

fn container(service: &str, hash: &str, state: &str, status: &str) -> ExistingContainer {
    ExistingContainer {
        id: format!("{service}-id"),
        name: format!("shop-{service}"),
        service: service.into(),
        kind: "service".into(),
        project_dir: "/projects/shop".into(),
        config_hash: hash.into(),
        fields: String::new(),
        image_id: format!("sha256:{service}"),
        state: state.into(),
        status: status.into(),
        created: 0,
        ports: Vec::new(),
        probe_ports: Vec::new(),
        addresses: Default::default(),
    }
}

fn present(reference: &str, id: &str) -> ImageFound {
    ImageFound::Present {
        reference: reference.into(),
        id: id.into(),
    }
}

/// Every kind of step at once: a removal, a pull, a build, a keep, a re-creation
/// with its reason and a task that is done.
fn mixed() -> (Project, Plan, Decision) {
    let project = project();
    let plan = desired(&project);
    // The cache and the seed task are up to date: take their hashes from a decision
    // with nothing on the engine.
    let images = [
        ("cache", present("redis:7", "sha256:cache")),
        ("seed", present("node:20", "sha256:seed")),
        ("web", present("node:20", "sha256:web")),
    ];
    let mut observed = Observed::default();
    for (service, found) in images.clone() {
        observed.images.insert(service.into(), found);
    }
    let fresh = decide(&plan, &observed, None, &[]);
    let hash = |service: &str, id: &str| {
        let step = fresh
            .steps
            .iter()
            .find(|s| s.service == service)
            .expect("step");
        step.spec_for("x", id).labels[crate::engine::labels::CONFIG_HASH].clone()
    };
    let mut observed = Observed::default();
    for (service, found) in images {
        observed.images.insert(service.into(), found);
    }
    observed.images.insert(
        "db".into(),
        ImageFound::Absent {
            reference: "postgres:16".into(),
        },
    );
    for (service, hash, state, status) in [
        (
            "cache",
            hash("cache", "sha256:cache"),
            "running",
            "Up 1 hour",
        ),
        (
            "seed",
            hash("seed", "sha256:seed"),
            "exited",
            "Exited (0) 1 hour ago",
        ),
        (
            "web",
            "0123456789abcdef".to_string(),
            "running",
            "Up 1 hour",
        ),
    ] {
        observed
            .containers
            .insert(service.into(), container(service, &hash, state, status));
    }
    observed
        .orphans
        .push(container("worker", "x", "running", "Up 1 hour"));
    let decision = decide(&plan, &observed, None, &[]);
    (project, plan, decision)
}

#[test]
fn the_plan_in_words_has_one_line_per_service_and_removal() {
    let (_, _, decision) = mixed();
    insta::assert_snapshot!(text("shop", &decision));
}

#[test]
fn the_plan_as_docker_commands_masks_secrets() {
    let (project, plan, decision) = mixed();
    let commands = docker(&project, &plan, &decision);
    assert!(
        !commands.contains("hunter2") && !commands.contains("abc123"),
        "{commands}"
    );
    insta::assert_snapshot!(commands);
}

#[test]
fn nothing_to_do_is_said_in_one_line() {
    let (_, plan, _) = mixed();
    let decision = Decision {
        removals: Vec::new(),
        steps: Vec::new(),
    };
    assert_eq!(text("shop", &decision), "shop: nothing to do ()\n");
    assert_eq!(docker(&project(), &plan, &decision), "\n");
}

#[test]
fn docker_commands_carry_the_init_process_and_how_the_process_runs() {
    let yaml = "name: run
services:
  app:
    image: node:20
    user: \"1000:1000\"
    working_dir: /srv
    stop_signal: SIGINT
    extra_hosts: [\"host.docker.internal:host-gateway\"]
    entrypoint: [tini, --]
    command: [node, server.js]
";
    let no_env = |_: &str| None;
    let project =
        load_str(yaml, Path::new("/projects/run/gorae.yaml"), &no_env).expect("valid project");
    let plan = desired(&project);
    let decision = decide(&plan, &Observed::default(), None, &[]);
    let commands = docker(&project, &plan, &decision);
    let create = commands
        .lines()
        .find(|line| line.starts_with("docker create"))
        .expect("a create line");
    for part in [
        "docker create --init --name run-app ",
        " --user 1000:1000 --workdir /srv --stop-signal SIGINT --add-host host.docker.internal:host-gateway --entrypoint tini IMAGE -- node server.js",
    ] {
        assert!(create.contains(part), "{part} in {create}");
    }
}
