//! `gorae up`/`down` against the real engine: order, readiness, wiring, re-creation
//! decisions, data, isolation and ports. Every test uses its own project name and
//! cleans up through the harness even when it fails.

mod support;

use std::net::TcpListener;

use support::{TestProject, docker_inspect, ensure_stand_in_images, free_port, stderr, stdout};

/// (service, container id, started at) for each container of the project.
fn started_at(project: &TestProject) -> Vec<(String, String, String)> {
    let mut rows: Vec<_> = support::containers_of(project.name())
        .into_iter()
        .map(|(service, id)| {
            let started = docker_inspect(&id, "{{.State.StartedAt}}");
            (service, id, started)
        })
        .collect();
    rows.sort();
    rows
}

/// A Python one-liner run as a task: connects to `host:port` once, exits 1 if it can't.
const CONNECT_ONCE: &str = r#"import os,socket,sys
u=os.environ['DATABASE_URL'].split('@')[1].split('/')[0]
h,p=u.split(':')
try:
    socket.create_connection((h,int(p)),timeout=2).close()
except OSError as e:
    print('dependency not answering:',e); sys.exit(1)
print('dependency answered')"#;

#[test]
fn dependent_starts_only_after_its_dependency_is_ready() {
    ensure_stand_in_images();
    // Postgres spends its first seconds initialising with no TCP listener, so a
    // dependent started early would fail to connect.
    let project = TestProject::new("order").services(&format!(
        "  db:\n    template: postgres\n  check:\n    image: python:3.12\n    kind: task\n    depends_on: [db]\n    command: [\"python\", \"-c\", {}]\n",
        serde_json::to_string(CONNECT_ONCE).unwrap()
    ));
    project.up().succeeds();
    let logs = project.gorae_ok(&["logs", "check"]);
    assert!(
        stdout(&logs).contains("dependency answered"),
        "{}",
        stdout(&logs)
    );
}

#[test]
fn independent_services_start_in_parallel() {
    ensure_stand_in_images();
    // Each service needs two seconds before it listens; started one after the
    // other their start times would be two seconds apart.
    let slow = "[\"python\", \"-c\", \"import time,socket; time.sleep(2); s=socket.socket(); s.bind(('',7000)); s.listen(); time.sleep(600)\"]";
    let project = TestProject::new("parallel").services(&format!(
        "  a:\n    image: python:3.12\n    command: {slow}\n    ready: {{ tcp: 7000 }}\n  b:\n    image: python:3.12\n    command: {slow}\n    ready: {{ tcp: 7000 }}\n"
    ));
    project.up().succeeds();
    let rows = started_at(&project);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let times: Vec<f64> = rows.iter().map(|(_, _, t)| seconds_of_day(t)).collect();
    assert!(
        (times[0] - times[1]).abs() < 1.5,
        "not started together: {rows:?}"
    );
}

/// Seconds since midnight from an RFC 3339 time, enough to compare start times.
fn seconds_of_day(timestamp: &str) -> f64 {
    let time = timestamp
        .split('T')
        .nth(1)
        .expect("a time")
        .trim_end_matches('Z');
    let parts: Vec<f64> = time
        .split(':')
        .map(|p| p.parse().expect("number"))
        .collect();
    parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]
}

#[test]
fn dependents_receive_working_redis_and_postgres_urls() {
    ensure_stand_in_images();
    let check = r#"import os,socket,sys
sys.path.insert(0,'/app')
from pgwire import connect
host=os.environ['REDIS_URL'].split('//')[1]
h,p=host.split(':')
s=socket.create_connection((h,int(p)),timeout=5)
s.sendall(b'*1\r\n$4\r\nPING\r\n')
assert s.recv(64).startswith(b'+PONG'), 'redis did not answer'
conn=connect(os.environ['DATABASE_URL'])
rows=conn.query('select current_database(), current_user')
print('wired', os.environ['REDIS_URL'], rows)"#;
    let pgwire = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/python-postgres/app/pgwire.py"
    ))
    .expect("example pgwire.py");
    let project = TestProject::new("wiring");
    let yaml = project.services_yaml(&format!(
            "  cache: {{ template: redis }}\n  db:\n    template: postgres\n    env: {{ POSTGRES_DB: shop, POSTGRES_USER: shopper }}\n  check:\n    template: python\n    build: ./app\n    kind: task\n    depends_on: [cache, db]\n    command: [\"python\", \"-c\", {}]\n",
            serde_json::to_string(check).unwrap()
        ),
    );
    let project = project
        .file("gorae.yaml", &yaml)
        .file("app/pgwire.py", &pgwire);
    project.up().succeeds();
    let logs = stdout(&project.gorae_ok(&["logs", "check"]));
    assert!(logs.contains("wired redis://cache:6379"), "{logs}");
    assert!(logs.contains("shop") && logs.contains("shopper"), "{logs}");
}

#[test]
fn second_up_touches_nothing_and_an_env_change_recreates_only_that_service() {
    ensure_stand_in_images();
    let project = TestProject::new("noop");
    let services = |value: &str| {
        format!(
            "  cache: {{ template: redis }}\n  app:\n    image: python:3.12\n    command: [\"python\", \"-m\", \"http.server\", \"8000\"]\n    ready: {{ tcp: 8000 }}\n    depends_on: [cache]\n    env: {{ GREETING: {value} }}\n"
        )
    };
    let project = project.services(&services("hello"));
    project.up().succeeds();
    let first = started_at(&project);

    let again = project.up().succeeds();
    assert_eq!(first, started_at(&project), "a no-op up changed containers");
    assert!(stderr(&again).contains("up to date"), "{}", stderr(&again));

    let project = project.services(&services("bonjour"));
    project.up().succeeds();
    let after = started_at(&project);
    let id = |rows: &[(String, String, String)], service: &str| {
        rows.iter()
            .find(|r| r.0 == service)
            .map(|r| r.1.clone())
            .expect("service")
    };
    assert_eq!(
        id(&first, "cache"),
        id(&after, "cache"),
        "redis was re-created"
    );
    assert_ne!(
        id(&first, "app"),
        id(&after, "app"),
        "app was not re-created"
    );
    let env = docker_inspect(&id(&after, "app"), "{{json .Config.Env}}");
    assert!(env.contains("GREETING=bonjour"), "{env}");
}

#[test]
fn redis_and_postgres_data_survive_down_and_up() {
    ensure_stand_in_images();
    let project = TestProject::new("data")
        .services("  cache: { template: redis }\n  db: { template: postgres }\n");
    project.up().succeeds();
    project.gorae_ok(&["exec", "cache", "--", "redis-cli", "SET", "answer", "42"]);
    project.gorae_ok(&[
        "exec",
        "db",
        "--",
        "psql",
        "-U",
        "postgres",
        "-d",
        "app",
        "-c",
        "create table kept(v text); insert into kept values ('still here')",
    ]);
    let down = project.gorae_ok(&["down"]);
    assert!(
        stderr(&down).contains("kept data volumes"),
        "{}",
        stderr(&down)
    );
    assert!(support::containers_of(project.name()).is_empty());

    project.up().succeeds();
    let value = project.gorae_ok(&["exec", "cache", "--", "redis-cli", "GET", "answer"]);
    assert_eq!(stdout(&value).trim(), "42");
    let rows = project.gorae_ok(&[
        "exec",
        "db",
        "--",
        "psql",
        "-U",
        "postgres",
        "-d",
        "app",
        "-tA",
        "-c",
        "select v from kept",
    ]);
    assert_eq!(stdout(&rows).trim(), "still here");

    let wipe = project.gorae_ok(&["down", "--volumes"]);
    assert!(
        stderr(&wipe).contains("deleted data volumes"),
        "{}",
        stderr(&wipe)
    );
    project.up().succeeds();
    let value = project.gorae_ok(&["exec", "cache", "--", "redis-cli", "GET", "answer"]);
    assert_eq!(stdout(&value).trim(), "", "data survived down --volumes");
}

#[test]
fn down_leaves_another_project_untouched() {
    ensure_stand_in_images();
    let mine = TestProject::new("mine").services("  cache: { template: redis }\n");
    let theirs = TestProject::new("theirs").services("  cache: { template: redis }\n");
    mine.up().succeeds();
    theirs.up().succeeds();
    let before = started_at(&theirs);
    mine.gorae_ok(&["down", "--volumes"]);
    assert!(support::containers_of(mine.name()).is_empty());
    assert_eq!(before, started_at(&theirs));
    let state = docker_inspect(&before[0].1, "{{.State.Running}}");
    assert_eq!(state.trim(), "true");
}

#[test]
fn two_directories_claiming_one_name_are_told_so() {
    ensure_stand_in_images();
    let first = TestProject::new("clash");
    let yaml = first.services_yaml("  cache: { template: redis }\n");
    let first = first.file("gorae.yaml", &yaml);
    first.up().succeeds();
    let second = TestProject::new("clash2").file("gorae.yaml", &yaml);
    for command in [&["up", "--ci"][..], &["down"][..]] {
        let out = second.run(command).fails_with(8);
        assert!(
            stderr(&out).contains("already used by") || stderr(&out).contains("is used by"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(support::containers_of(first.name()).len(), 1);
}

#[test]
fn ports_publish_on_loopback_unless_written_out() {
    ensure_stand_in_images();
    let (local, open) = (free_port(), free_port());
    let project = TestProject::new("ports").services(&format!(
        "  cache:\n    template: redis\n    ports: [\"{local}:6379\"]\n  open:\n    template: redis\n    ports: [\"0.0.0.0:{open}:6379\"]\n"
    ));
    project.up().succeeds();
    let name = |service: &str| format!("{}-{service}", project.name());
    let bindings = docker_inspect(&name("cache"), "{{json .HostConfig.PortBindings}}");
    assert!(
        bindings.contains(&format!(r#""HostIp":"127.0.0.1","HostPort":"{local}""#)),
        "{bindings}"
    );
    let bindings = docker_inspect(&name("open"), "{{json .HostConfig.PortBindings}}");
    assert!(
        bindings.contains(&format!(r#""HostIp":"0.0.0.0","HostPort":"{open}""#)),
        "{bindings}"
    );
    let ps = stdout(&project.gorae_ok(&["ps", "--json"]));
    assert!(ps.contains(&format!("127.0.0.1:{local}->6379")), "{ps}");
}

#[test]
fn a_taken_host_port_is_reported_before_anything_starts() {
    ensure_stand_in_images();
    let holder = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = holder.local_addr().expect("addr").port();
    let project = TestProject::new("taken").services(&format!(
        "  cache: {{ template: redis }}\n  web:\n    template: redis\n    ports: [\"{port}:6379\"]\n"
    ));
    let up = project.up().fails_with(8);
    assert!(
        stderr(&up).contains(&format!("127.0.0.1:{port}")),
        "{}",
        stderr(&up)
    );
    assert!(
        stderr(&up).contains("engine_up-"),
        "holder not named: {}",
        stderr(&up)
    );
    assert!(
        support::containers_of(project.name()).is_empty(),
        "something started"
    );
}

#[test]
fn a_crashing_service_fails_up_with_its_logs() {
    ensure_stand_in_images();
    let project = TestProject::new("crash").services("  cache: { template: redis }\n  bad:\n    image: python:3.12\n    command: [\"sh\", \"-c\", \"echo boom-marker-123; exit 3\"]\n    ready: { tcp: 9 }\n");
    let up = project.up().fails_with(6);
    let err = stderr(&up);
    assert!(err.contains("service `bad` exited with code 3"), "{err}");
    assert!(err.contains("boom-marker-123"), "logs not shown: {err}");
    // What was already running is left running, and said so.
    assert!(err.contains("left running: cache"), "{err}");
    let rows = started_at(&project);
    let cache = rows
        .iter()
        .find(|r| r.0 == "cache")
        .expect("cache container");
    assert_eq!(
        docker_inspect(&cache.1, "{{.State.Running}}").trim(),
        "true"
    );
}

#[test]
fn a_service_never_ready_times_out_with_its_logs() {
    ensure_stand_in_images();
    let project = TestProject::new("never").services("  slow:\n    image: python:3.12\n    command: [\"sh\", \"-c\", \"echo still-booting; sleep 600\"]\n    ready: { tcp: 9999 }\n    timeout: 2s\n");
    let up = project.up().fails_with(7);
    assert!(stderr(&up).contains("still-booting"), "{}", stderr(&up));
    assert!(
        stderr(&up).contains("not ready after 2s"),
        "{}",
        stderr(&up)
    );
}

#[test]
fn unreachable_engine_is_one_clear_line() {
    let project = TestProject::new("noengine").services("  cache: { template: redis }\n");
    let out = project.gorae_with_env(
        &["up"],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.starts_with(
            "error: cannot reach the Docker engine at DOCKER_HOST=unix:///nonexistent/docker.sock"
        ),
        "{err}"
    );
    assert!(err.contains("start Docker"), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
}

#[test]
fn a_missing_image_that_cannot_be_pulled_says_how_to_get_it() {
    ensure_stand_in_images();
    let project =
        TestProject::new("nopull").services("  ghost:\n    image: gorae-no-such-image:1\n");
    let up = project.up().fails_with(9);
    let err = stderr(&up);
    assert!(
        err.contains("cannot pull image `gorae-test/gorae-no-such-image:1`"),
        "{err}"
    );
    assert!(
        err.contains("offline")
            && err.contains("docker load")
            && err.contains("GORAE_IMAGE_PREFIX"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn ctrl_c_stops_up_and_the_next_up_continues() {
    ensure_stand_in_images();
    let project = TestProject::new("sigint");
    let yaml = project.services_yaml("  db: { template: postgres }\n  after:\n    image: python:3.12\n    command: [\"python\", \"-m\", \"http.server\", \"8000\"]\n    depends_on: [db]\n",
    );
    let project = project.file("gorae.yaml", &yaml);
    let child = project
        .command(&["up", "--ci"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn gorae up");
    // Interrupt while postgres is still initialising, before `after` exists.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while support::containers_of(project.name()).is_empty() && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let interrupted = child.wait_with_output().expect("wait");
    assert_eq!(
        interrupted.status.code(),
        Some(130),
        "{}",
        stderr(&interrupted)
    );
    assert!(
        stderr(&interrupted).contains("interrupted"),
        "{}",
        stderr(&interrupted)
    );

    project.up().succeeds();
    let services: Vec<String> = support::containers_of(project.name())
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(services, ["after", "db"]);
}

#[test]
fn two_ups_at_once_never_make_two_copies() {
    ensure_stand_in_images();
    let project = TestProject::new("twice")
        .services("  cache: { template: redis }\n  db: { template: postgres }\n");
    let spawn = || {
        project
            .command(&["up", "--ci"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn gorae up")
    };
    let (first, second) = (spawn(), spawn());
    for child in [first, second] {
        let out = child.wait_with_output().expect("wait");
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let services: Vec<String> = support::containers_of(project.name())
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(services, ["cache", "db"]);
}

#[test]
fn recreating_a_database_stops_it_gracefully_so_its_data_is_kept() {
    ensure_stand_in_images();
    let project = TestProject::new("recreate-data");
    let name = project.name().to_string();
    let with_env = |value: &str| {
        format!(
            "name: {name}\nservices:\n  cache:\n    template: redis\n    env: {{ MARK: \"{value}\" }}\n"
        )
    };
    let project = project.file("gorae.yaml", &with_env("one"));
    project.up().succeeds();
    // Redis keeps this in memory only; it reaches the volume only if redis is
    // stopped (SIGTERM makes it save), not killed.
    project.gorae_ok(&["exec", "cache", "--", "redis-cli", "SET", "unsaved", "kept"]);
    let before = support::containers_of(project.name());
    let project = project.file("gorae.yaml", &with_env("two"));
    let up = project.up().succeeds();
    assert!(stderr(&up).contains("re-creating"), "{}", stderr(&up));
    assert_ne!(before, support::containers_of(project.name()));
    let value = project.gorae_ok(&["exec", "cache", "--", "redis-cli", "GET", "unsaved"]);
    assert_eq!(stdout(&value).trim(), "kept");
}

/// Create early, start late: a dependent's container is created while its
/// dependency is still starting, and started only once that dependency answers,
/// as the engine's own timestamps show.
#[test]
fn a_dependent_is_created_while_its_dependency_boots_and_started_once_it_is_ready() {
    ensure_stand_in_images();
    let project = TestProject::new("early");
    let yaml = project.services_yaml(
        "  db:\n    template: postgres\n  web:\n    image: python:3.12\n    command: [\"python\", \"-c\", \"import socket,time; s=socket.socket(); s.bind(('',7000)); s.listen(); time.sleep(600)\"]\n    ready: { tcp: 7000 }\n    depends_on: [db]\n",
    );
    let project = project.file("gorae.yaml", &yaml);
    let launched = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
        % 86_400.0;
    let up = project.gorae(&["up", "--json"]);
    assert!(up.status.success(), "up failed:\n{}", stderr(&up));
    let db_ready = stderr(&up)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|event| event["service"] == "db" && event["event"] == "ready")
        .and_then(|event| event["t"].as_f64())
        .unwrap_or_else(|| panic!("no ready event of db:\n{}", stderr(&up)));
    // gorae's clock starts after `launched`, so this is at or before db was ready.
    let db_ready_at = launched + db_ready;
    let web = support::containers_of(project.name())
        .into_iter()
        .find(|(service, _)| service == "web")
        .expect("a web container")
        .1;
    let db = support::containers_of(project.name())
        .into_iter()
        .find(|(service, _)| service == "db")
        .expect("a db container")
        .1;
    let created = seconds_of_day(&docker_inspect(&web, "{{.Created}}"));
    let started = seconds_of_day(&docker_inspect(&web, "{{.State.StartedAt}}"));
    let db_started = seconds_of_day(&docker_inspect(&db, "{{.State.StartedAt}}"));
    // Created while db boots, not while db is being created: the engine makes one
    // container at a time, so earlier would only delay db.
    let day = 86_400.0;
    assert!(
        (created - db_started + 1.5 * day) % day - 0.5 * day >= 0.0,
        "web created before db started"
    );
    // Seconds from db's readiness, across midnight too.
    let since_ready = |at: f64| (at - db_ready_at + 129_600.0) % 86_400.0 - 43_200.0;
    assert!(
        since_ready(created) < 0.0,
        "web created {:.3}s after db was ready",
        since_ready(created)
    );
    assert!(
        since_ready(started) >= 0.0,
        "web started {:.3}s before db was ready",
        -since_ready(started)
    );
}
