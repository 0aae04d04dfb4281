//! The examples README.md points newcomers to: `gorae up` in each, then an HTTP
//! request shows the app talking to its database.

mod support;

use support::{ensure_stand_in_images, example, get_root as get};

#[test]
fn node_redis_example_counts_visits_in_redis() {
    ensure_stand_in_images();
    let (project, port) = example("node-redis", 3000);
    project.gorae_ok(&["up", "--ci"]);
    let first = get(port);
    assert!(first.contains("visited 1 time."), "{first}");
    let second = get(port);
    assert!(second.contains("visited 2 times."), "{second}");
    project.gorae_ok(&["down"]);
    assert!(support::containers_of(project.name()).is_empty());
}

#[test]
fn python_postgres_example_records_visits_in_postgres() {
    ensure_stand_in_images();
    let (project, port) = example("python-postgres", 8000);
    project.gorae_ok(&["up", "--ci"]);
    let first = get(port);
    assert!(first.contains("Postgres has recorded 1 visit"), "{first}");
    let second = get(port);
    assert!(second.contains("recorded 2 visits"), "{second}");
}

#[test]
fn node_dev_stage_example_runs_the_dev_stage_on_the_mounted_source_with_the_images_packages() {
    ensure_stand_in_images();
    let (project, port) = example("node-dev-stage", 3000);
    project.gorae_ok(&["up", "--ci"]);
    // The dev stage (not the last one, production), and `greeting` from the image's
    // node_modules, which the source's bind mount would hide without the volume.
    let first = get(port);
    assert!(
        first.contains("Hello, gorae! Served by the development stage."),
        "{first}"
    );
    let web = format!("{}-web", project.name());
    assert_eq!(
        support::docker(&["exec", &web, "ls", "/app/node_modules"]).trim(),
        "greeting"
    );
    let volume = format!("{}_web_app_node_modules", project.name());
    assert_eq!(
        support::docker_inspect(&web, "{{range .Mounts}}{{.Name}} {{end}}").trim(),
        volume
    );

    // The source is the bind mount: an edit shows after a restart, with no build.
    let server = project.path().join("web/server.js");
    let source = std::fs::read_to_string(&server).expect("server.js");
    std::fs::write(&server, source.replace("Served by", "Edited, served by")).expect("edit");
    let image = support::docker_inspect(&web, "{{.Image}}");
    project.gorae_ok(&["restart", "web"]);
    let edited = get(port);
    assert!(
        edited.contains("Edited, served by the development stage."),
        "{edited}"
    );
    assert_eq!(support::docker_inspect(&web, "{{.Image}}"), image);

    // SIGINT, the example's stop signal, ends the app at once: no 10-second grace.
    let started = std::time::Instant::now();
    project.gorae_ok(&["down"]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert!(support::containers_of(project.name()).is_empty());
}
