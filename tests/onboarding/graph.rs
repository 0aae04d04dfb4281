//! `gorae graph` draws an example project from gorae.yaml alone, with no engine, in
//! both formats; a broken gorae.yaml is the usual config error.

use std::process::Command;

use crate::run::{code, gorae, repo, stderr, stdout};

/// What the library draws for an example, to compare the binary's output with.
fn drawn(example: &str, format: fn(&gorae::graph_view::Graph) -> String) -> String {
    let file = repo().join("examples").join(example).join("gorae.yaml");
    let project = gorae::config::load(&file, &|_| None).expect("the example is valid");
    format(&gorae::graph_view::Graph::of(&project))
}

#[test]
fn graph_draws_an_example_as_mermaid_by_default() {
    let dir = repo().join("examples/node-redis");
    let output = gorae(&dir, &["graph"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let text = stdout(&output);
    assert!(text.contains("\nflowchart LR\n"), "{text}");
    assert!(text.contains("    s0 -->|\"REDIS_URL\"| s1\n"), "{text}");
    assert_eq!(text, drawn("node-redis", gorae::graph_view::mermaid));
    // The format named out gives the same.
    let output = gorae(&dir, &["graph", "--format", "mermaid"]);
    assert_eq!(stdout(&output), text);
}

#[test]
fn graph_format_dot_draws_an_example_in_graphviz_language() {
    let output = gorae(
        &repo(),
        &[
            "-f",
            "examples/python-postgres/gorae.yaml",
            "graph",
            "--format",
            "dot",
        ],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("digraph \"python-postgres\" {\n"),
        "{text}"
    );
    assert!(
        text.contains("    \"db\" -> \"web\" [label=\"DATABASE_URL\\n"),
        "{text}"
    );
    assert!(
        !text.contains("postgres:postgres@"),
        "a secret value leaked: {text}"
    );
    assert_eq!(text, drawn("python-postgres", gorae::graph_view::dot));
}

#[test]
fn graph_needs_no_engine() {
    let output = Command::new(env!("CARGO_BIN_EXE_gorae"))
        .args(["graph"])
        .current_dir(repo().join("examples/node-redis"))
        .env_clear()
        .env("HOME", repo().join("examples/node-redis"))
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .expect("run gorae");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        drawn("node-redis", gorae::graph_view::mermaid)
    );
}

#[test]
fn graph_of_an_invalid_project_is_a_config_error_with_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("gorae.yaml"),
        "services:\n  web:\n    image: nginx\n    depends_on: [dbb]\n  db: { template: postgres }\n",
    )
    .unwrap();
    let output = gorae(dir.path(), &["graph"]);
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    let report = stderr(&output);
    assert!(
        report.contains("error: service `web` depends on unknown service `dbb`"),
        "{report}"
    );
    assert!(report.contains("gorae.yaml:4:"), "{report}");
    assert!(report.contains("did you mean `db`?"), "{report}");
}

#[test]
fn graph_with_an_unknown_format_is_a_usage_error() {
    let output = gorae(
        &repo().join("examples/node-redis"),
        &["graph", "--format", "svg"],
    );
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("possible values: mermaid, dot"),
        "{}",
        stderr(&output)
    );
}
