//! The app templates go, ruby and php on the real engine: each builds a small app,
//! starts it, answers on its default port, and after a source edit rebuilds with
//! the dependency layer taken from the cache.
//!
//! The apps use only their language's standard library: no package registry but
//! crates.io, PyPI and Debian is reachable from the machines these tests run on, so
//! their manifests (go.mod, Gemfile, composer.json) name no dependency, and the
//! install steps have nothing to fetch.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;

use support::{TestProject, ensure_stand_ins, free_port, stderr};

/// GET / on 127.0.0.1:`port`: the whole answer.
fn http_get(port: u16) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the app");
    write!(stream, "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// One app template: its files (`{v}` stands for the version the app prints), the
/// source file edited, the container port, and how the install step begins in the
/// build output.
struct App {
    template: &'static str,
    stand_in: &'static str,
    files: &'static [(&'static str, &'static str)],
    source: &'static str,
    port: u16,
    install_step: &'static str,
}

fn builds_answers_and_rebuilds_only_the_source(app: &App) {
    ensure_stand_ins(&[app.stand_in]);
    let port = free_port();
    let mut project = TestProject::new(app.template).services(&format!(
        "  web:\n    template: {}\n    build: ./app\n    ports: [\"{port}:{}\"]\n",
        app.template, app.port
    ));
    for (path, text) in app.files {
        project = project.file(&format!("app/{path}"), &text.replace("{v}", "v1"));
    }
    project.up().succeeds();
    let answer = http_get(port);
    assert!(
        answer.contains(&format!("hello from {} v1", app.template)),
        "{answer}"
    );

    let text = app
        .files
        .iter()
        .find(|(path, _)| *path == app.source)
        .unwrap()
        .1;
    let project = project.file(&format!("app/{}", app.source), &text.replace("{v}", "v2"));
    let rebuilt = stderr(&project.gorae_ok(&["-v", "up", "--ci"]));
    let start = rebuilt
        .find(app.install_step)
        .unwrap_or_else(|| panic!("no install step in the build output:\n{rebuilt}"));
    let rest = &rebuilt[start..];
    let step = &rest[..rest.find("building step").unwrap_or(rest.len())];
    assert!(step.contains("Using cache"), "{rebuilt}");
    let answer = http_get(port);
    assert!(
        answer.contains(&format!("hello from {} v2", app.template)),
        "{answer}"
    );
}

#[test]
fn go_app_builds_answers_and_rebuilds_only_the_source() {
    builds_answers_and_rebuilds_only_the_source(&App {
        template: "go",
        stand_in: "golang",
        files: &[
            // The stand-in's Go is Debian's 1.19.
            ("go.mod", "module example.com/hello\n\ngo 1.19\n"),
            (
                "main.go",
                "package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n\t\"os\"\n)\n\nfunc main() {\n\thttp.HandleFunc(\"/\", func(w http.ResponseWriter, r *http.Request) {\n\t\tfmt.Fprint(w, \"hello from go {v}\")\n\t})\n\tpanic(http.ListenAndServe(\":\"+os.Getenv(\"PORT\"), nil))\n}\n",
            ),
        ],
        source: "main.go",
        port: 8080,
        install_step: "RUN if [ -f go.sum ]",
    });
}

#[test]
fn ruby_app_builds_answers_and_rebuilds_only_the_source() {
    builds_answers_and_rebuilds_only_the_source(&App {
        template: "ruby",
        stand_in: "ruby",
        files: &[
            (
                "Gemfile",
                "source \"https://rubygems.org\"\n# standard library only\n",
            ),
            (
                "app.rb",
                "require \"socket\"\n\nserver = TCPServer.new(\"0.0.0.0\", Integer(ENV.fetch(\"PORT\")))\nloop do\n  client = server.accept\n  while (line = client.gets) && line != \"\\r\\n\"; end\n  body = \"hello from ruby {v}\"\n  client.write(\"HTTP/1.0 200 OK\\r\\nContent-Length: #{body.bytesize}\\r\\n\\r\\n#{body}\")\n  client.close\nend\n",
            ),
        ],
        source: "app.rb",
        port: 3000,
        install_step: "RUN if [ -f Gemfile ]",
    });
}

#[test]
fn php_app_builds_answers_and_rebuilds_only_the_source() {
    builds_answers_and_rebuilds_only_the_source(&App {
        template: "php",
        stand_in: "php",
        files: &[
            (
                "composer.json",
                "{\"name\": \"example/hello\", \"require\": {\"php\": \">=8.1\"}}\n",
            ),
            ("public/index.php", "<?php\necho \"hello from php {v}\";\n"),
        ],
        source: "public/index.php",
        port: 8080,
        install_step: "RUN if [ -f composer.json ]",
    });
}
