//! Profiles and `env` secrets against the real engine: a service of an inactive
//! profile is not started, `--profile` starts it with what it depends on, `down`
//! removes everything of the project; a secret read from a command or a file reaches
//! the container and nothing gorae prints or writes.

mod support;

use support::{TestProject, containers_of, docker_inspect, ensure_stand_in_images, stderr, stdout};

const SLEEP: &str = "[\"python\", \"-c\", \"import time; time.sleep(600)\"]";

fn services_of(project: &TestProject) -> Vec<String> {
    let mut names: Vec<String> = containers_of(project.name())
        .into_iter()
        .map(|(service, _)| service)
        .collect();
    names.sort();
    names
}

#[test]
fn an_inactive_profile_starts_nothing_and_profile_starts_it_with_its_dependencies() {
    ensure_stand_in_images();
    let project = TestProject::new("profiles").services(&format!(
        "  app:\n    image: python:3.12\n    command: {SLEEP}\n  debugger:\n    image: python:3.12\n    command: {SLEEP}\n    profiles: [debug]\n    depends_on: [helper]\n  helper:\n    image: python:3.12\n    command: {SLEEP}\n    profiles: [tools]\n"
    ));
    project.up().succeeds();
    assert_eq!(services_of(&project), ["app"]);

    // A typo is refused before anything changes.
    let out = project.run(&["up", "--profile", "debgu"]).fails_with(2);
    assert!(
        stderr(&out).contains("did you mean `debug`?"),
        "{}",
        stderr(&out)
    );
    assert_eq!(services_of(&project), ["app"]);

    project.run(&["up", "--profile", "debug"]).succeeds();
    assert_eq!(services_of(&project), ["app", "debugger", "helper"]);

    // A plain `up` leaves the profile's running services alone, and `ps` shows them.
    let out = project.run(&["up"]).succeeds();
    assert!(!stderr(&out).contains("removed"), "{}", stderr(&out));
    assert_eq!(services_of(&project), ["app", "debugger", "helper"]);
    let ps = stdout(&project.gorae_ok(&["ps"]));
    assert!(ps.contains("debugger") && ps.contains("helper"), "{ps}");

    // GORAE_PROFILES does what --profile does; `plan` has nothing to do then.
    let plan = project
        .run_with_env(&["plan"], &[("GORAE_PROFILES", "debug")])
        .succeeds();
    assert!(!stdout(&plan).contains("create"), "{}", stdout(&plan));

    project.run(&["down"]).succeeds();
    assert!(services_of(&project).is_empty());
}

#[test]
fn a_secret_from_a_command_or_file_reaches_the_container_and_nothing_gorae_writes() {
    ensure_stand_in_images();
    const VALUE: &str = "s3cr3t-VALUE-4711";
    const FILE_VALUE: &str = "f1le-SECRET-0815";
    // Neither value is written in gorae.yaml: the app prints only their lengths.
    let check = "import os,time,urllib.parse as u; print('token', len(os.environ['API_TOKEN']), 'pw', len(u.urlparse(os.environ['DATABASE_URL']).password), flush=True); time.sleep(600)";
    let project = TestProject::new("envsecret")
        .file("secrets/api", &format!("{FILE_VALUE}\n"))
        .file("secrets/db", VALUE)
        .services(&format!(
            "  db:\n    template: postgres\n    ports: [\"5432\"]\n    env:\n      POSTGRES_PASSWORD: {{ secret: {{ command: [cat, secrets/db] }} }}\n  app:\n    image: python:3.12\n    depends_on: [db]\n    command: [\"python\", \"-c\", {}]\n    env:\n      API_TOKEN: {{ secret: {{ file: ./secrets/api }} }}\n",
            serde_json::to_string(check).unwrap()
        ));
    let mut printed = String::new();
    let mut keep = |out: std::process::Output| {
        printed.push_str(&stdout(&out));
        printed.push_str(&stderr(&out));
    };
    keep(project.run(&["up"]).succeeds());
    // Delivered: the app sees the file's value and the command's inside its URL.
    let logs = stdout(&project.gorae_ok(&["logs", "app"]));
    assert!(
        logs.contains(&format!("token {} pw {}", FILE_VALUE.len(), VALUE.len())),
        "{logs}"
    );
    // `gorae env` alone prints secrets, on purpose (for `eval`); nothing else does.
    for args in [
        &["ps"][..],
        &["ps", "--json"],
        &["config"],
        &["config", "--json"],
        &["config", "--resolved"],
        &["plan"],
        &["plan", "--docker"],
        &["env", "--explain"],
        &["lock"],
        &["logs"],
        &["up"],
        &["graph"],
        &["doctor"],
        &["export", "compose"],
        &["export", "kubernetes"],
        &[
            "export",
            "kubernetes",
            "--format",
            "kustomize",
            "--output",
            "k8s",
        ],
    ] {
        keep(project.run(args).succeeds());
    }
    // `gorae env` gives the value itself, read now, inside the URL it is part of.
    let env = stdout(&project.gorae_ok(&["env", "db"]));
    assert!(env.contains(&format!(":{VALUE}@")), "{env}");
    assert!(!env.contains("gorae-secret"), "{env}");
    for value in [VALUE, FILE_VALUE] {
        assert!(!printed.contains(value), "printed {value}:\n{printed}");
    }
    // Nothing gorae wrote holds it: the lock, the project's files (but the secret's
    // own), its home and cache.
    for root in [
        project.path().to_path_buf(),
        project.home(),
        project.cache_home(),
    ] {
        for entry in walk(&root) {
            if entry.ends_with("secrets/api") || entry.ends_with("secrets/db") {
                continue;
            }
            let bytes = std::fs::read(&entry).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(VALUE) && !text.contains(FILE_VALUE),
                "{} holds a secret",
                entry.display()
            );
        }
    }
    // Nor the containers' labels (the configuration hash covers a digest only).
    for (_, id) in containers_of(project.name()) {
        let labels = docker_inspect(&id, "{{json .Config.Labels}}");
        assert!(
            !labels.contains(VALUE) && !labels.contains(FILE_VALUE),
            "{labels}"
        );
    }
    // A second `up` with the same values re-creates nothing.
    let out = project.run(&["up"]).succeeds();
    assert!(stderr(&out).contains("2 unchanged"), "{}", stderr(&out));
}

#[test]
fn a_secret_command_that_fails_or_hangs_stops_up_before_anything_starts() {
    ensure_stand_in_images();
    let project = TestProject::new("secretfail").services(
        "  app:\n    image: python:3.12\n    command: [\"python\", \"-c\", \"import time; time.sleep(600)\"]\n    env:\n      TOKEN: { secret: { command: [sh, -c, \"echo the vault is locked >&2; exit 5\"] } }\n",
    );
    let out = project.run(&["up"]).fails_with(3);
    let err = stderr(&out);
    assert!(err.contains("secret command `sh -c"), "{err}");
    assert!(
        err.contains("exited with 5") && err.contains("the vault is locked"),
        "{err}"
    );
    assert!(containers_of(project.name()).is_empty());

    let hanging = project.services_yaml(
        "  app:\n    image: python:3.12\n    env:\n      TOKEN: { secret: { command: [sleep, \"60\"] } }\n",
    );
    let project = project.file("gorae.yaml", &hanging);
    let started = std::time::Instant::now();
    let out = project
        .run_with_env(&["up"], &[("GORAE_SECRET_TIMEOUT", "1")])
        .fails_with(3);
    assert!(started.elapsed().as_secs() < 20);
    assert!(
        stderr(&out).contains("did not finish within 1s"),
        "{}",
        stderr(&out)
    );
    assert!(containers_of(project.name()).is_empty());
}

/// Every file under `root`.
fn walk(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}
