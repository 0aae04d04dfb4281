//! `up SERVICE`, `stop`, `restart`, `env SERVICE` and the templates' client defaults.

use crate::support::{
    TestProject, docker_inspect, ensure_stand_in_images, free_port, stderr, stdout,
};
use crate::{container_id, filtered, state};

fn three_services() -> TestProject {
    let project = TestProject::new("select");
    let yaml = project.services_yaml(
        "  cache: { template: redis }
  other: { template: redis }
  web:
    image: node:20
    command: [\"node\", \"-e\", \"require('net').createServer().listen(3000)\"]
    ready: { tcp: 3000 }
    depends_on: [cache]
",
    );
    project.file("gorae.yaml", &yaml)
}

fn services_with_containers(project: &TestProject) -> Vec<String> {
    crate::support::containers_of(project.name())
        .into_iter()
        .map(|(service, _)| service)
        .collect()
}

#[test]
fn up_stop_and_restart_act_on_the_named_services_only() {
    ensure_stand_in_images();
    let project = three_services();

    project.gorae_ok(&["up", "--ci", "web"]);
    assert_eq!(services_with_containers(&project), ["cache", "web"]);
    let web = container_id(&project, "web").expect("web");

    let stop = project.gorae_ok(&["stop", "web"]);
    assert!(stderr(&stop).contains("stopped web"), "{}", stderr(&stop));
    assert_eq!(state(&project, "web"), "exited");
    assert_eq!(state(&project, "cache"), "running");

    // The same container starts again, and is ready.
    let again = project.gorae_ok(&["up", "--ci", "web"]);
    assert!(
        stderr(&again).contains("web    ready"),
        "{}",
        stderr(&again)
    );
    assert_eq!(container_id(&project, "web").as_deref(), Some(web.as_str()));
    assert_eq!(state(&project, "web"), "running");

    let cache = format!("{}-cache", project.name());
    let started = docker_inspect(&cache, "{{.State.StartedAt}}");
    let restart = project.gorae_ok(&["restart", "--ci", "cache"]);
    assert!(
        stderr(&restart).contains("cache  ready"),
        "{}",
        stderr(&restart)
    );
    assert_ne!(docker_inspect(&cache, "{{.State.StartedAt}}"), started);
    assert_eq!(state(&project, "cache"), "running");
    assert!(!services_with_containers(&project).contains(&"other".to_string()));
    filtered(&project, || {
        insta::assert_snapshot!("stop_one_service", stderr(&stop));
        insta::assert_snapshot!("restart_one_service", stderr(&restart));
    });

    project.gorae_ok(&["up", "--ci"]);
    assert_eq!(
        services_with_containers(&project),
        ["cache", "other", "web"]
    );

    project.gorae_ok(&["stop"]);
    for service in ["cache", "other", "web"] {
        assert_eq!(state(&project, service), "exited", "{service}");
    }
    let nothing = project.gorae_ok(&["stop"]);
    assert!(
        stderr(&nothing).contains("nothing to stop"),
        "{}",
        stderr(&nothing)
    );

    for command in ["up", "stop", "restart"] {
        let unknown = project.gorae(&[command, "nope"]);
        assert_eq!(
            unknown.status.code(),
            Some(2),
            "{command}: {}",
            stderr(&unknown)
        );
    }
}

#[test]
fn client_tools_in_template_containers_connect_with_no_flags() {
    ensure_stand_in_images();
    let project = TestProject::new("clients");
    let yaml = project.services_yaml(
        "  db:
    template: postgres
    env: { POSTGRES_USER: shopper, POSTGRES_DB: shop, POSTGRES_PASSWORD: pw }
  cache: { template: redis }
",
    );
    let project = project.file("gorae.yaml", &yaml);
    project.gorae_ok(&["up", "--ci"]);
    let psql = project.gorae_ok(&[
        "exec",
        "db",
        "--",
        "psql",
        "-tAc",
        "select current_user || ' ' || current_database()",
    ]);
    assert_eq!(stdout(&psql), "shopper shop\n");
    // Over TCP too, where the password is asked for.
    let tcp = project.gorae_ok(&[
        "exec",
        "db",
        "--",
        "psql",
        "-h",
        "127.0.0.1",
        "-tAc",
        "select 1",
    ]);
    assert_eq!(stdout(&tcp), "1\n");
    let redis = project.gorae_ok(&["exec", "cache", "--", "redis-cli", "ping"]);
    assert_eq!(stdout(&redis), "PONG\n");
}

#[test]
fn env_of_a_service_prints_what_it_receives_or_fails_saying_why() {
    ensure_stand_in_images();
    let port = free_port();
    let project = TestProject::new("envof");
    let yaml = project.services_yaml(&format!(
        "  cache:
    template: redis
    ports: [\"{port}:6379\"]
  web:
    image: node:20
    command: [\"node\", \"-e\", \"setInterval(() => {{}}, 1000)\"]
    depends_on: [cache]
  lonely:
    image: node:20
    command: [\"node\", \"-e\", \"setInterval(() => {{}}, 1000)\"]
"
    ));
    let project = project.file("gorae.yaml", &yaml);

    let stopped = project.gorae(&["env", "web"]);
    assert_eq!(stopped.status.code(), Some(6), "{}", stderr(&stopped));
    assert_eq!(stdout(&stopped), "");
    let lonely = project.gorae(&["env", "lonely"]);
    assert_eq!(lonely.status.code(), Some(1), "{}", stderr(&lonely));
    filtered(&project, || {
        insta::assert_snapshot!("env_of_a_stopped_service", stderr(&stopped));
        insta::assert_snapshot!("env_of_a_service_with_no_wiring", stderr(&lonely));
    });

    project.gorae_ok(&["up", "--ci"]);
    let web = project.gorae_ok(&["env", "web"]);
    assert_eq!(
        stdout(&web),
        format!("# cache at 127.0.0.1:{port}\nexport REDIS_URL='redis://127.0.0.1:{port}'\n")
    );
    // Inside the container the same variable names the service on the project network.
    let inside = project.gorae_ok(&["exec", "web", "--", "printenv", "REDIS_URL"]);
    assert_eq!(stdout(&inside), "redis://cache:6379\n");
}
