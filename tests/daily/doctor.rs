//! `gorae doctor`: the report with a dead engine, with a broken gorae.yaml, and with
//! a host port taken by another process, pinned as snapshots (versions, ports,
//! pids and free space filtered out).

use std::net::TcpListener;

use crate::support::{TestProject, ensure_stand_in_images, free_port, stderr, stdout};

const DEAD_ENGINE: (&str, &str) = ("DOCKER_HOST", "unix:///nonexistent.sock");

/// Runs `assert` with filters for what differs between runs and machines.
fn filtered(project: &TestProject, assert: impl FnOnce()) {
    let mut settings = insta::Settings::clone_current();
    // Project names are `[a-z0-9-]`: nothing in them is special to a regex.
    settings.add_filter(project.name(), "[project]");
    settings.add_filter(
        r"Docker \S+ at \S+, API [0-9.]+",
        "Docker [version] at [engine], API [api]",
    );
    settings.add_filter(r"(?m)^[✓!] disk: .*\n(  fix: .*\n)?", "[disk]\n");
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]");
    settings.add_filter(r#""\d+:6379""#, r#""[port]:6379""#);
    settings.add_filter(r"process \S+ \(pid \d+\)", "process [test] (pid [pid])");
    settings.bind(assert);
}

#[test]
fn doctor_with_a_dead_engine_still_checks_the_file_and_the_ports() {
    let project = TestProject::new("docdead");
    let yaml = project.services_yaml(&format!(
        "  cache:\n    template: redis\n    ports: [\"{}:6379\"]\n",
        free_port()
    ));
    let project = project.file("gorae.yaml", &yaml);
    let out = project.gorae_with_env(&["doctor"], &[DEAD_ENGINE]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    filtered(&project, || {
        insta::assert_snapshot!("doctor_dead_engine", stdout(&out))
    });
}

#[test]
fn doctor_shows_the_first_error_of_a_broken_file_next_to_the_engine_check() {
    let project = TestProject::new("docbad");
    let yaml = project
        .services_yaml("  cache:\n    template: redis\n    prots: [\"6379\"]\n    kind: daemon\n");
    let project = project.file("gorae.yaml", &yaml);
    let out = project.gorae_with_env(&["doctor"], &[DEAD_ENGINE]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    filtered(&project, || {
        insta::assert_snapshot!("doctor_broken_file", stdout(&out))
    });
}

#[test]
fn doctor_names_a_taken_port_and_its_holder() {
    ensure_stand_in_images();
    let holder = TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken = holder.local_addr().expect("address").port();
    let project = TestProject::new("docport");
    let yaml = project.services_yaml(&format!(
            "  cache:\n    template: redis\n    ports: [\"{taken}:6379\"]\n  db: {{ template: postgres }}\n"
        ),
    );
    let project = project.file("gorae.yaml", &yaml);
    let out = project.gorae(&["doctor"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    filtered(&project, || {
        insta::assert_snapshot!("doctor_taken_port", stdout(&out))
    });

    let json = project.gorae(&["doctor", "--json"]);
    assert_eq!(json.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("doctor JSON");
    assert_eq!(report["ok"], false);
    let failed: Vec<&str> = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(failed, [format!("port 127.0.0.1:{taken}")]);

    // Once the port is free, and while this project's own container holds it,
    // every check passes.
    drop(holder);
    let free = project.gorae(&["doctor"]);
    assert_eq!(free.status.code(), Some(0), "{}", stdout(&free));
    project.gorae_ok(&["up", "--ci"]);
    let ours = project.gorae(&["doctor"]);
    assert_eq!(ours.status.code(), Some(0), "{}", stdout(&ours));
    assert!(
        stdout(&ours).contains(&format!(
            "✓ port 127.0.0.1:{taken}: held by this project's `cache`"
        )),
        "{}",
        stdout(&ours)
    );
}
