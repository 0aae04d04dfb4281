//! The app templates go, ruby and php on the real engine: each builds a small app,
//! starts it, answers on its default port, and after a source edit rebuilds with
//! the dependency layer taken from the cache; under `up --watch` a Go source edit is
//! compiled and served.
//!
//! The apps use only their language's standard library: no package registry but
//! crates.io, PyPI and Debian is reachable from the machines these tests run on, so
//! their manifests (go.mod, Gemfile, composer.json) name no dependency, and the
//! install steps have nothing to fetch.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

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

const GO_FILES: &[(&str, &str)] = &[
    // The stand-in's Go is Debian's 1.19.
    ("go.mod", "module example.com/hello\n\ngo 1.19\n"),
    (
        "main.go",
        "package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n\t\"os\"\n)\n\nfunc main() {\n\thttp.HandleFunc(\"/\", func(w http.ResponseWriter, r *http.Request) {\n\t\tfmt.Fprint(w, \"hello from go {v}\")\n\t})\n\tpanic(http.ListenAndServe(\":\"+os.Getenv(\"PORT\"), nil))\n}\n",
    ),
];

#[test]
fn go_app_builds_answers_and_rebuilds_only_the_source() {
    builds_answers_and_rebuilds_only_the_source(&App {
        template: "go",
        stand_in: "golang",
        files: GO_FILES,
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

/// Polls `GET /` until the answer holds `text`; false at the deadline.
fn wait_answer(port: u16, text: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let answer = TcpStream::connect(("127.0.0.1", port))
            .ok()
            .and_then(|mut stream| {
                stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
                stream.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
                let mut answer = String::new();
                stream.read_to_string(&mut answer).ok()?;
                Some(answer)
            });
        if answer.is_some_and(|a| a.contains(text)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// Go compiles: a synced source file and a restart alone would run the old binary.
/// The template's command builds before it starts, so the edit is served.
#[test]
fn go_source_edit_under_watch_is_compiled_and_served() {
    ensure_stand_ins(&["golang"]);
    let port = free_port();
    let mut project = TestProject::new("go-watch").services(&format!(
        "  web:\n    template: go\n    build: ./app\n    ports: [\"{port}:8080\"]\n"
    ));
    for (path, text) in GO_FILES {
        project = project.file(&format!("app/{path}"), &text.replace("{v}", "v1"));
    }
    let mut watching = project
        .command(&["up", "--watch", "--ci"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn gorae up --watch");
    // Its stderr, collected as it comes: an edit made before it says it is
    // watching could go unseen.
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let stderr = watching.stderr.take().expect("stderr");
    let collected = std::sync::Arc::clone(&log);
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            collected.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    let deadline = Instant::now() + Duration::from_secs(300);
    while !log.lock().unwrap().contains("watching") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let served_v1 = wait_answer(port, "hello from go v1", Duration::from_secs(10));
    let main_go = GO_FILES[1].1.replace("{v}", "v2");
    std::fs::write(project.path().join("app/main.go"), main_go).unwrap();
    let served_v2 = served_v1 && wait_answer(port, "hello from go v2", Duration::from_secs(120));
    let _ = watching.kill();
    let _ = watching.wait();
    let log = log.lock().unwrap().clone();
    assert!(served_v1, "v1 never served:\n{log}");
    assert!(served_v2, "the edit was not served:\n{log}");
}
