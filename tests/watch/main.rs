//! Real-engine tests of `gorae up --watch`: files synced through the Engine API equal
//! the host's after any sequence of edits, creates, deletes and renames; a source
//! edit restarts the app and is served; a manifest change rebuilds and re-creates
//! only that service, a failed rebuild keeps the old container serving; Ctrl-C leaves
//! the environment running.

#[path = "../support/mod.rs"]
mod support;

mod sync;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use support::{TestProject, free_port};

const SERVER: &str = "const http = require('http');
const fs = require('fs');
const version = 'v1';
http.createServer((req, res) => {
  let data = '';
  try { data = fs.readFileSync('data.txt', 'utf8'); } catch (e) {}
  res.end(version + ' ' + data);
}).listen(3000);
";

/// A node app built from ./web, published on a free port; returns the port too.
fn web_project(short: &str) -> (TestProject, u16) {
    let project = TestProject::new(short);
    let port = free_port();
    let yaml = project.services_yaml(&format!(
        "  web:
    template: node
    build: ./web
    command: [\"node\", \"server.js\"]
    ports: [\"{port}:3000\"]
    ready: {{ tcp: 3000 }}
"
    ));
    let project = project
        .file("gorae.yaml", &yaml)
        .file("web/package.json", r#"{"name": "web", "version": "1.0.0"}"#)
        .file("web/server.js", SERVER)
        .file("web/data.txt", "one")
        .file("web/.dockerignore", "*.log\n");
    (project, port)
}

/// A running `gorae up --watch` whose stderr lines are collected as they come.
struct Watching {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    /// What it printed on stdout (the services' logs with `--logs`).
    out: Arc<Mutex<Vec<String>>>,
}

/// Collects the lines of `stream` as they come.
fn collect(stream: impl Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let collected = Arc::clone(&lines);
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            collected.lock().expect("lines").push(line);
        }
    });
    lines
}

impl Watching {
    fn start(project: &TestProject) -> Watching {
        Watching::start_with(project, &[])
    }

    fn start_with(project: &TestProject, extra: &[&str]) -> Watching {
        let mut args = vec!["up", "--watch", "--ci"];
        args.extend_from_slice(extra);
        let mut child = project
            .command(&args)
            .stderr(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn gorae up --watch");
        let lines = collect(child.stderr.take().expect("stderr"));
        let out = collect(child.stdout.take().expect("stdout"));
        let watching = Watching { child, lines, out };
        watching.wait_for_line("watching", Duration::from_secs(180));
        watching
    }

    fn stdout(&self) -> String {
        self.out.lock().expect("out").join("\n")
    }

    fn text(&self) -> String {
        self.lines.lock().expect("lines").join("\n")
    }

    /// Waits until a line containing `needle` appears after the first `skip` lines;
    /// returns its index.
    fn wait_for_line_after(&self, skip: usize, needle: &str, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(index) = self
                .lines
                .lock()
                .expect("lines")
                .iter()
                .enumerate()
                .skip(skip)
                .find(|(_, line)| line.contains(needle))
                .map(|(index, _)| index)
            {
                return index;
            }
            assert!(
                Instant::now() < deadline,
                "no line with `{needle}` within {timeout:?}:\n{}",
                self.text()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_for_line(&self, needle: &str, timeout: Duration) -> usize {
        self.wait_for_line_after(0, needle, timeout)
    }

    fn line_count(&self) -> usize {
        self.lines.lock().expect("lines").len()
    }

    /// Ctrl-C, as a terminal sends it; returns the exit status.
    fn interrupt(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status();
        let status = self.child.wait().expect("wait for gorae");
        thread::sleep(Duration::from_millis(100));
        let text = self.text();
        (status, text)
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The body of `GET /` on the port, or `None` while nothing answers.
fn get(port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
}

/// Waits until `GET /` answers `body`.
fn wait_served(port: u16, body: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let got = get(port);
        if got.as_deref() == Some(body) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "port {port} serves {got:?}, not {body:?}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_source_edit_restarts_a_data_edit_only_syncs_and_ctrl_c_leaves_it_running() {
    support::ensure_stand_in_images();
    let (project, port) = web_project("watch-edit");
    let watching = Watching::start(&project);
    wait_served(port, "v1 one", Duration::from_secs(10));
    let container = format!("{}-web", project.name());
    let id = support::docker_inspect(&container, "{{.Id}}");

    // A data file is only synced: served at once, no restart.
    let before = watching.line_count();
    std::fs::write(project.path().join("web/data.txt"), "two").expect("write");
    let line = watching.wait_for_line_after(before, "synced 1 file", Duration::from_secs(10));
    assert!(
        !watching
            .text()
            .lines()
            .nth(line)
            .unwrap_or_default()
            .contains("restarted")
    );
    wait_served(port, "v1 two", Duration::from_secs(5));

    // Source: synced and restarted in the same container.
    let before = watching.line_count();
    let server = SERVER.replace("'v1'", "'v2'");
    std::fs::write(project.path().join("web/server.js"), server).expect("write");
    watching.wait_for_line_after(
        before,
        "synced 1 file, restarted in",
        Duration::from_secs(20),
    );
    wait_served(port, "v2 two", Duration::from_secs(5));
    assert_eq!(support::docker_inspect(&container, "{{.Id}}"), id);

    // An ignored file is not sent.
    let before = watching.line_count();
    std::fs::write(project.path().join("web/debug.log"), "x").expect("write");
    thread::sleep(Duration::from_millis(500));
    assert_eq!(watching.line_count(), before, "{}", watching.text());

    // An edited .dockerignore is synced and applies from then on.
    std::fs::write(project.path().join("web/.dockerignore"), "*.log\n*.tmp\n").expect("write");
    watching.wait_for_line_after(before, "synced 1 file", Duration::from_secs(10));
    let before = watching.line_count();
    std::fs::write(project.path().join("web/scratch.tmp"), "x").expect("write");
    thread::sleep(Duration::from_millis(500));
    assert_eq!(watching.line_count(), before, "{}", watching.text());

    // A crash after a restart shows the last log lines, and watching goes on.
    let before = watching.line_count();
    std::fs::write(
        project.path().join("web/server.js"),
        "console.log('about to fail'); process.exit(3);\n",
    )
    .expect("write");
    watching.wait_for_line_after(
        before,
        "after restart; still watching",
        Duration::from_secs(20),
    );
    watching.wait_for_line_after(before, "about to fail", Duration::from_secs(5));
    let before = watching.line_count();
    std::fs::write(project.path().join("web/server.js"), SERVER).expect("write");
    watching.wait_for_line_after(before, "restarted in", Duration::from_secs(20));
    wait_served(port, "v1 two", Duration::from_secs(5));

    let (status, text) = watching.interrupt();
    assert!(status.success(), "{status}: {text}");
    assert!(text.contains("stopped watching"), "{text}");
    assert!(
        text.contains("is still running (`gorae down` stops it)"),
        "{text}"
    );
    assert_eq!(
        support::docker_inspect(&container, "{{.State.Status}}"),
        "running"
    );
    wait_served(port, "v1 two", Duration::from_secs(5));
}

#[test]
fn a_manifest_change_rebuilds_and_a_failed_rebuild_keeps_the_old_container() {
    support::ensure_stand_in_images();
    let (project, port) = web_project("watch-build");
    let watching = Watching::start(&project);
    let container = format!("{}-web", project.name());
    let first = support::docker_inspect(&container, "{{.Id}}");

    // A dependency makes the template's build run npm, which cannot install it
    // here (no registry): the build fails.
    let before = watching.line_count();
    std::fs::write(
        project.path().join("web/package.json"),
        r#"{"name": "web", "version": "1.0.0", "dependencies": {"gorae-no-such-package": "1.0.0"}}"#,
    )
    .expect("write");
    watching.wait_for_line_after(
        before,
        "rebuild failed; the running container is kept",
        Duration::from_secs(120),
    );
    assert_eq!(support::docker_inspect(&container, "{{.Id}}"), first);
    wait_served(port, "v1 one", Duration::from_secs(5));

    // The next good save recovers: a new image, a new container, served.
    let before = watching.line_count();
    std::fs::write(
        project.path().join("web/package.json"),
        r#"{"name": "web", "version": "1.0.1"}"#,
    )
    .expect("write");
    watching.wait_for_line_after(before, "ready in", Duration::from_secs(120));
    assert_ne!(support::docker_inspect(&container, "{{.Id}}"), first);
    wait_served(port, "v1 one", Duration::from_secs(5));
    let (status, text) = watching.interrupt();
    assert!(status.success(), "{status}: {text}");
}

#[test]
fn restart_false_only_syncs_gorae_yaml_changes_apply_and_logs_interleave() {
    support::ensure_stand_in_images();
    let (project, port) = web_project("watch-plan");
    let yaml = std::fs::read_to_string(project.path().join("gorae.yaml")).expect("read");
    let yaml = format!("{yaml}    watch: {{ restart: false }}\n");
    let server = SERVER.replace(
        ").listen(3000);",
        ").listen(3000, () => console.log('hello from ' + (process.env.GREETING || 'nobody')));",
    );
    let project = project
        .file("gorae.yaml", &yaml)
        .file("web/server.js", &server);
    let watching = Watching::start_with(&project, &["--logs"]);
    wait_served(port, "v1 one", Duration::from_secs(10));
    let container = format!("{}-web", project.name());
    let started = support::docker_inspect(&container, "{{.State.StartedAt}}");

    // restart: false: source is synced, the app is not restarted.
    let before = watching.line_count();
    std::fs::write(
        project.path().join("web/server.js"),
        server.replace("'v1'", "'v2'"),
    )
    .expect("write");
    let line = watching.wait_for_line_after(before, "synced 1 file", Duration::from_secs(10));
    let text = watching.text();
    assert!(
        !text
            .lines()
            .nth(line)
            .unwrap_or_default()
            .contains("restarted"),
        "{text}"
    );
    assert_eq!(
        support::docker_inspect(&container, "{{.State.StartedAt}}"),
        started
    );
    let inside = support::docker(&["exec", &container, "cat", "/app/server.js"]);
    assert!(inside.contains("'v2'"), "{inside}");

    // gorae.yaml: the difference is applied (web re-created with its new env), and
    // the new container's log line shows up on stdout.
    let before = watching.line_count();
    let changed = yaml.replace("    watch:", "    env: { GREETING: watcher }\n    watch:");
    std::fs::write(project.path().join("gorae.yaml"), changed).expect("write");
    watching.wait_for_line_after(before, "gorae.yaml changed", Duration::from_secs(10));
    watching.wait_for_line_after(before, "ready in", Duration::from_secs(120));
    wait_served(port, "v2 one", Duration::from_secs(5));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !watching.stdout().contains("hello from watcher") {
        assert!(
            Instant::now() < deadline,
            "logs: {}\n---\n{}",
            watching.stdout(),
            watching.text()
        );
        thread::sleep(Duration::from_millis(50));
    }
    assert!(watching.stdout().contains("web"), "{}", watching.stdout());

    // An invalid gorae.yaml is reported and the environment stays as it was.
    let before = watching.line_count();
    std::fs::write(project.path().join("gorae.yaml"), "services: [\n").expect("write");
    watching.wait_for_line_after(before, "still watching", Duration::from_secs(10));
    wait_served(port, "v2 one", Duration::from_secs(5));
    let (status, text) = watching.interrupt();
    assert!(status.success(), "{status}: {text}");
}

#[test]
#[allow(clippy::print_stderr, reason = "what a test tells its runner")]
fn a_20000_file_context_starts_watching_within_a_second_and_syncs_as_fast() {
    support::ensure_stand_in_images();
    let (project, port) = web_project("watch-big");
    // 100 directories of 200 small files, like a real source tree.
    for dir in 0..100 {
        let sub = project.path().join(format!("web/src/d{dir:03}"));
        std::fs::create_dir_all(&sub).expect("mkdir");
        for file in 0..200 {
            let n = dir * 200 + file;
            std::fs::write(
                sub.join(format!("f{n:05}.js")),
                format!("module.exports = {n};\n"),
            )
            .expect("write");
        }
    }
    let mut child = project
        .command(&["up", "--watch", "--ci"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    // When each line arrived, to time the step from `up`'s summary to watching.
    let (sender, lines) = std::sync::mpsc::channel::<(Instant, String)>();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let _ = sender.send((Instant::now(), line));
        }
    });
    let watching = Watching {
        child,
        lines: Arc::new(Mutex::new(Vec::new())),
        out: Arc::new(Mutex::new(Vec::new())),
    };
    let mut summary = None;
    let mut seen = Vec::new();
    let waited = loop {
        let (at, line) = lines
            .recv_timeout(Duration::from_secs(240))
            .unwrap_or_else(|_| panic!("no `watching` line:\n{}", seen.join("\n")));
        if line.contains("service ready in") || line.contains("services ready in") {
            summary = Some(at);
        }
        if line.contains("watching") {
            break at - summary.expect("the summary comes first");
        }
        seen.push(line);
    };
    assert!(
        waited <= Duration::from_secs(1),
        "watching began {waited:?} after up"
    );
    wait_served(port, "v1 one", Duration::from_secs(10));
    std::fs::write(project.path().join("web/data.txt"), "big").expect("write");
    let started = Instant::now();
    wait_served(port, "v1 big", Duration::from_secs(10));
    let served = started.elapsed();
    assert!(served <= Duration::from_secs(1), "served after {served:?}");
    eprintln!("20,000 files: watching {waited:?} after up; data edit served after {served:?}");
    drop(lines);
    drop(watching);
}
