//! How many Engine API calls `up` makes, counted on the wire by a proxy on the
//! engine's socket: a no-op `up` is three (README, benches/RESULTS.md), and any `up`
//! that creates something first lists the network and volumes carrying the project's
//! name, so it never creates (and shares) a volume another directory owns.

use crate::support::proxy::CountingProxy;
use crate::support::{TestProject, ensure_stand_in_images};

fn position(calls: &[String], call: &str) -> Option<usize> {
    calls.iter().position(|c| c == call)
}

/// Every listing of networks and volumes comes before the first thing created.
fn resources_listed_before_creating(calls: &[String]) {
    let first_create = calls
        .iter()
        .position(|c| c.starts_with("POST ") && c.ends_with("/create"))
        .expect("something created");
    for listing in ["GET /networks", "GET /volumes"] {
        let listed = position(calls, listing).unwrap_or_else(|| panic!("{listing}: {calls:#?}"));
        assert!(
            listed < first_create,
            "{listing} after creating: {calls:#?}"
        );
    }
}

#[test]
fn a_no_op_up_makes_three_engine_calls_and_creating_checks_volumes_first() {
    ensure_stand_in_images();
    let proxy = CountingProxy::start();
    let host = proxy.docker_host();
    let env = [("DOCKER_HOST", host.as_str())];
    let services = |greeting: &str| {
        format!(
            "  cache: {{ template: redis }}
  web:
    image: node:20
    command: [\"node\", \"-e\", \"require('net').createServer().listen(3000)\"]
    ready: {{ tcp: 3000 }}
    env: {{ GREETING: {greeting} }}
    depends_on: [cache]
"
        )
    };
    let project = TestProject::new("calls");
    let yaml = project.services_yaml(&services("hello"));
    let project = project.file("gorae.yaml", &yaml);
    let up = |project: &TestProject| {
        let out = project.gorae_with_env(&["up", "--ci"], &env);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        proxy.take()
    };

    resources_listed_before_creating(&up(&project));

    let mut no_op = up(&project);
    no_op.sort();
    assert_eq!(
        no_op,
        ["GET /_ping", "GET /containers/json", "GET /images/json"],
        "a no-op up"
    );

    // With gorae.lock beside gorae.yaml (used whenever it exists), a no-op up is
    // still three calls: the locked ids are checked against the one image list.
    let lock = project.gorae_with_env(&["lock"], &env);
    assert!(
        lock.status.success(),
        "{}",
        String::from_utf8_lossy(&lock.stderr)
    );
    proxy.take();
    let mut locked_no_op = up(&project);
    locked_no_op.sort();
    assert_eq!(
        locked_no_op,
        ["GET /_ping", "GET /containers/json", "GET /images/json"],
        "a no-op up with gorae.lock"
    );

    // Re-creating a service (its env changed) checks them too, before creating.
    let yaml = project.services_yaml(&services("again"));
    let project = project.file("gorae.yaml", &yaml);
    resources_listed_before_creating(&up(&project));
}
