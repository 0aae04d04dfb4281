//! The examples README.md points newcomers to: `gorae up` in each, then an HTTP
//! request shows the app talking to its database.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

use support::{TestProject, ensure_stand_in_images, free_port};

/// Copies `examples/<name>` into a test project, with a unique project name and the
/// app published on a free host port; returns the project and that port.
fn example(name: &str, container_port: u16) -> (TestProject, u16) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    let mut project = TestProject::new(name);
    for entry in walkdir::WalkDir::new(&source).into_iter().flatten() {
        if entry.file_type().is_file() {
            let rel = entry
                .path()
                .strip_prefix(&source)
                .expect("inside the example");
            let text = std::fs::read_to_string(entry.path()).expect("text file");
            project = project.file(&rel.to_string_lossy(), &text);
        }
    }
    let port = free_port();
    let yaml = std::fs::read_to_string(source.join("gorae.yaml")).expect("example gorae.yaml");
    let yaml = yaml
        .replace(
            &format!("name: {name}"),
            &format!("name: {}", project.name()),
        )
        .replace(
            &format!("ports: [\"{container_port}\"]"),
            &format!("ports: [\"{port}:{container_port}\"]"),
        );
    assert!(
        yaml.contains(project.name()) && yaml.contains(&format!("{port}:")),
        "{yaml}"
    );
    (project.file("gorae.yaml", &yaml), port)
}

/// The body of `GET /` on a local port.
fn get(port: u16) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
}

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
