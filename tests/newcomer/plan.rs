//! `gorae plan` says what `up` then does, and why, and changes nothing.

use crate::support::{TestProject, containers_of, ensure_stand_in_images, stderr, stdout};

fn services(greeting: &str, with_seed: bool) -> String {
    let mut yaml = format!(
        "  cache: {{ template: redis }}
  web:
    image: node:20
    command: [\"node\", \"-e\", \"require('net').createServer().listen(3000)\"]
    ready: {{ tcp: 3000 }}
    env: {{ GREETING: {greeting} }}
    depends_on: [cache]
"
    );
    if with_seed {
        yaml.push_str(
            "  seed:
    image: node:20
    kind: task
    command: [\"node\", \"-e\", \"console.log('seeded')\"]
    depends_on: [cache]
",
        );
    }
    yaml
}

/// The service column of the plan, padded as `gorae plan` pads it.
fn line(service: &str, words: &str) -> String {
    format!("{service:5}  {words}")
}

#[test]
fn plan_says_what_up_then_does_and_changes_nothing() {
    ensure_stand_in_images();
    let project = TestProject::new("plan");
    let yaml = project.services_yaml(&services("hello", true));
    let project = project.file("gorae.yaml", &yaml);

    let first = stdout(&project.gorae_ok(&["plan"]));
    for expected in [
        line("cache", "create"),
        line("seed", "create and run"),
        line("web", "create"),
    ] {
        assert!(first.contains(&format!("{expected}\n")), "{first}");
    }
    assert!(first.contains(": 3 to create\n"), "{first}");
    assert!(
        containers_of(project.name()).is_empty(),
        "plan created something"
    );
    // `up --dry-run` is the same thing.
    assert_eq!(stdout(&project.gorae_ok(&["up", "--dry-run"])), first);

    project.gorae_ok(&["up", "--ci"]);
    let after = stdout(&project.gorae_ok(&["plan"]));
    assert!(
        after.contains(&line("cache", "keep: running and up to date")),
        "{after}"
    );
    assert!(
        after.contains(&line("seed", "skip: already succeeded with these inputs")),
        "{after}"
    );
    assert!(after.contains(": nothing to do (3 unchanged)"), "{after}");

    // A changed variable: the plan names it, and `up` re-creates that service only,
    // giving the same reason.
    let yaml = project.services_yaml(&services("again", true));
    let project = project.file("gorae.yaml", &yaml);
    let changed = stdout(&project.gorae_ok(&["plan"]));
    assert!(
        changed.contains(&line("web", "recreate: env GREETING changed\n")),
        "{changed}"
    );
    assert!(
        changed.contains(": 1 to recreate, 2 unchanged"),
        "{changed}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&project.gorae_ok(&["plan", "--json"]))).expect("JSON");
    let web = json["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["service"] == "web")
        .expect("web");
    assert_eq!(web["container"]["action"], "recreate");
    assert_eq!(web["container"]["reasons"][0], "env GREETING changed");
    let docker = stdout(&project.gorae_ok(&["plan", "--docker"]));
    let name = format!("{}-web", project.name());
    assert!(
        docker.contains(&format!("docker rm -f {name}\n")),
        "{docker}"
    );
    assert!(
        docker.contains(&format!("docker create --init --name {name} ")),
        "{docker}"
    );
    assert!(docker.contains("'GREETING=again'"), "{docker}");
    let up = stderr(&project.gorae_ok(&["up", "--ci"]));
    assert!(
        up.contains("web    re-creating (env GREETING changed)"),
        "{up}"
    );
    assert!(!up.contains("cache    re-creating"), "{up}");

    // A service gone from gorae.yaml: the plan removes its container, as `up` does.
    let yaml = project.services_yaml(&services("again", false));
    let project = project.file("gorae.yaml", &yaml);
    let removed = stdout(&project.gorae_ok(&["plan"]));
    assert!(
        removed.contains(&format!(
            "seed   remove {}-seed: no longer in gorae.yaml",
            project.name()
        )),
        "{removed}"
    );
    project.gorae_ok(&["up", "--ci"]);
    let services: Vec<String> = containers_of(project.name())
        .into_iter()
        .map(|(service, _)| service)
        .collect();
    assert!(!services.contains(&"seed".to_string()), "{services:?}");
}
