//! Two directories that claim one project name: every command run in the second
//! refuses (exit 8) and names the first directory, while the first project's
//! containers and data stay exactly as they were, whether it runs or only its data
//! volumes are left.

use crate::support::{TestProject, docker, docker_inspect, ensure_stand_in_images, stderr, stdout};

/// Every command that reads or changes the engine, as run in the second directory.
const COMMANDS: &[&[&str]] = &[
    &["ps"],
    &["ps", "--json"],
    &["logs"],
    &["env"],
    &["env", "db"],
    &["exec", "db", "--", "true"],
    &["up", "--ci"],
    &["up", "--ci", "db"],
    &["stop"],
    &["stop", "db"],
    &["restart", "--ci", "db"],
    &["run", "--ci", "seed"],
    &["down"],
    &["down", "--volumes"],
];

const SERVICES: &str = "services:
  db:
    template: postgres
  seed:
    image: postgres:16
    kind: task
    command: [\"true\"]
";

/// The rows of table `kept` in the first project's database.
fn rows(first: &TestProject) -> String {
    let out = first.gorae_ok(&["exec", "db", "--", "psql", "-tAc", "select x from kept"]);
    stdout(&out).trim().to_string()
}

fn volumes_of(project: &str) -> String {
    docker(&[
        "volume",
        "ls",
        "-q",
        "--filter",
        &format!("label=dev.gorae.project={project}"),
    ])
}

/// Runs every command in `second` and checks each refuses, naming `first`'s directory.
fn every_command_refuses(first: &TestProject, second: &TestProject, when: &str) {
    let first_dir = first.path().display().to_string();
    for args in COMMANDS {
        let out = second.gorae(args);
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(8),
            "{when}: `gorae {}` in the second directory: {err}",
            args.join(" ")
        );
        assert!(
            err.contains(&format!("is already used by the project in {first_dir}"))
                && err.contains("another `name:`"),
            "{when}: `gorae {}`: {err}",
            args.join(" ")
        );
    }
    // doctor reports it as a failed check and exits like any failed doctor run.
    let doctor = second.gorae(&["doctor"]);
    assert_eq!(doctor.status.code(), Some(1), "{when}: {}", stdout(&doctor));
    assert!(
        stdout(&doctor).contains(&format!(
            "✗ project name: project name `{}` is already used by the project in {first_dir}",
            first.name()
        )),
        "{when}: {}",
        stdout(&doctor)
    );
}

#[test]
fn a_second_directory_with_the_same_name_never_touches_the_first_ones_data() {
    ensure_stand_in_images();
    let first = TestProject::new("clash");
    let yaml = first.project_yaml(SERVICES);
    let first = first.file("gorae.yaml", &yaml);
    // Same name, other directory: its own TestProject only for the temp dir.
    let second = TestProject::new("clash2").file("gorae.yaml", &yaml);

    first.gorae_ok(&["up", "--ci"]);
    first.gorae_ok(&[
        "exec",
        "db",
        "--",
        "psql",
        "-c",
        "create table kept (x int); insert into kept values (42)",
    ]);
    let containers = crate::support::containers_of(first.name());
    let volumes = volumes_of(first.name());
    assert!(volumes.contains("_db_data"), "{volumes}");

    every_command_refuses(&first, &second, "first project running");
    assert_eq!(crate::support::containers_of(first.name()), containers);
    assert_eq!(crate::state(&first, "db"), "running");
    assert_eq!(rows(&first), "42");

    // Only the data volumes are left: still the first directory's.
    first.gorae_ok(&["down"]);
    assert_eq!(volumes_of(first.name()), volumes);
    every_command_refuses(&first, &second, "only the first project's volumes left");
    assert_eq!(volumes_of(first.name()), volumes);
    assert!(crate::support::containers_of(first.name()).is_empty());

    // The first project comes back with its data.
    first.gorae_ok(&["up", "--ci"]);
    assert_eq!(rows(&first), "42");

    // Once the first directory lets the name go, the second may have it.
    first.gorae_ok(&["down", "--volumes"]);
    second.gorae_ok(&["up", "--ci"]);
    second.gorae_ok(&["down", "--volumes"]);
}

/// A container made outside gorae, removed when the test ends however it ends.
struct Foreign {
    name: String,
}

impl Drop for Foreign {
    fn drop(&mut self) {
        // Best effort, while a failed test may be unwinding.
        let _ = std::process::Command::new("docker")
            .args(["rm", "-f", &self.name])
            .output();
    }
}

#[test]
fn a_container_gorae_does_not_manage_holding_a_services_name_stops_up_with_exit_8() {
    ensure_stand_in_images();
    let project = TestProject::new("held").services("  cache:\n    image: redis:7\n");
    let name = format!("{}-cache", project.name());
    let theirs = Foreign { name: name.clone() };
    let id = docker(&["create", "--name", &theirs.name, "gorae-test/redis:7"]);

    let up = project.up().fails_with(8);
    let err = stderr(&up);
    assert!(
        err.contains(&format!(
            "hint: a container named `{name}` exists but gorae does not manage it; remove or rename it"
        )),
        "{err}"
    );
    // Left exactly as it was: the same container, not started.
    assert_eq!(
        docker_inspect(&name, "{{.Id}} {{.State.Status}}"),
        format!("{id} created")
    );
}
