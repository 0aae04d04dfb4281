//! A reported success is true, against the real engine: a service that crashes right
//! after it starts fails `up` every time, `up` and `ps` agree, the summary counts the
//! builds that ran, and a port clash names the project that holds the port.

mod support;

use support::{TestProject, ensure_stand_in_images, free_port, stderr, stdout};

/// A service with no probe and no port that exits 100 ms after it starts.
fn crashing(project: &TestProject) -> String {
    project.services_yaml(
        "  flaky:
    image: python:3.12
    command: [\"sh\", \"-c\", \"sleep 0.1; exit 3\"]
",
    )
}

#[test]
fn a_service_that_crashes_100ms_after_start_fails_up_every_time() {
    ensure_stand_in_images();
    // Twenty projects side by side: the same race twenty times, in the time of a few.
    let runs: Vec<_> = (0..20)
        .map(|_| {
            std::thread::spawn(|| {
                let project = TestProject::new("crash");
                let yaml = crashing(&project);
                let project = project.file("gorae.yaml", &yaml);
                let up = project.gorae(&["up", "--ci"]);
                let ps = project.gorae(&["ps", "--json"]);
                (up, ps)
            })
        })
        .collect();
    for run in runs {
        let (up, ps) = run.join().expect("a run panicked");
        assert_eq!(up.status.code(), Some(6), "{}", stderr(&up));
        assert!(
            stderr(&up).contains("exited with code 3"),
            "{}",
            stderr(&up)
        );
        // `ps` agrees: the service is not running, so not ready.
        let rows: serde_json::Value = serde_json::from_str(&stdout(&ps)).unwrap();
        let flaky = &rows[0];
        assert_eq!(flaky["service"], "flaky", "{rows}");
        assert_ne!(flaky["ready"], serde_json::json!(true), "{rows}");
    }
}

#[test]
fn a_service_without_a_probe_is_ready_after_it_kept_running_and_ps_agrees() {
    ensure_stand_in_images();
    let project = TestProject::new("settle");
    let yaml = project.services_yaml(
        "  steady:
    image: python:3.12
    command: [\"sleep\", \"600\"]
  quick:
    image: python:3.12
    command: [\"sleep\", \"600\"]
    ready: { running: 200ms }
",
    );
    let project = project.file("gorae.yaml", &yaml);
    let started = std::time::Instant::now();
    let up = project.gorae_ok(&["up", "--ci"]);
    // The default settle time is a second: `up` cannot say ready sooner.
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "{}",
        stderr(&up)
    );
    let ps = project.gorae_ok(&["ps", "--json"]);
    let rows: serde_json::Value = serde_json::from_str(&stdout(&ps)).unwrap();
    for row in rows.as_array().unwrap() {
        assert_eq!(row["ready"], serde_json::json!(true), "{rows}");
    }
}

#[test]
fn the_summary_counts_one_build_for_services_sharing_an_image() {
    ensure_stand_in_images();
    let project = TestProject::new("onebuild");
    let yaml = project.services_yaml(
        "  web:
    template: node
    build: ./web
    command: [\"node\", \"-e\", \"setInterval(() => {}, 1000)\"]
  migrate:
    template: node
    build: ./web
    kind: task
    command: [\"node\", \"-e\", \"process.exit(0)\"]
",
    );
    // Content unique to this run, so the image is built here and not found.
    let unique = format!("// {}\n", project.name());
    let project = project
        .file("gorae.yaml", &yaml)
        .file("web/package.json", r#"{"name": "web", "version": "1.0.0"}"#)
        .file("web/index.js", &unique);
    let up = project.gorae_ok(&["up", "--ci"]);
    let log = stderr(&up);
    assert!(log.contains("(1 built, 2 started)"), "{log}");
}

#[test]
fn a_port_clash_names_the_project_directory_that_holds_it() {
    ensure_stand_in_images();
    let port = free_port();
    let services = format!(
        "  web:
    image: python:3.12
    command: [\"python\", \"-m\", \"http.server\", \"8000\"]
    ports: [\"{port}:8000\"]
"
    );
    let holder = TestProject::new("holder");
    let yaml = holder.services_yaml(&services);
    let holder = holder.file("gorae.yaml", &yaml);
    holder.gorae_ok(&["up", "--ci"]);

    let other = TestProject::new("wants");
    let yaml = other.services_yaml(&services);
    let other = other.file("gorae.yaml", &yaml);
    let up = other.gorae(&["up", "--ci"]);
    assert_eq!(up.status.code(), Some(8), "{}", stderr(&up));
    let dir = holder.path().canonicalize().unwrap();
    let expected = format!(
        "of the gorae project in {} (`gorae down` there stops it)",
        dir.display()
    );
    assert!(stderr(&up).contains(&expected), "{}", stderr(&up));
}
