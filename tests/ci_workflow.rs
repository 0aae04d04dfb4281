//! The workflow `gorae ci github` writes, executed as a runner would: a fresh clone
//! of a project, the `run:` steps in order with `GITHUB_PATH` and `GITHUB_ENV`
//! honoured, `uses:` steps skipped except `actions/cache`, whose paths are saved after
//! a successful run and restored before the next. The install step gets the binary
//! under test through `--archive` (a `file://` URL and its sha256). Images come from
//! a real registry, so the figures say what a CI runner would pull.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use sha2::{Digest, Sha256};
use support::registry::Registry;
use support::{TestProject, ensure_stand_in_images, free_port};

/// Reads DATABASE_URL and REDIS_URL and talks to both servers with nothing but the
/// standard library: a Redis PING, and a PostgreSQL startup message answered by an
/// authentication request ('R') or an error ('E': the server spoke).
const CHECK: &str = r#"import os, socket, struct, sys
from urllib.parse import urlparse

def connect(url):
    u = urlparse(os.environ[url])
    return u, socket.create_connection((u.hostname, u.port), timeout=10)

u, s = connect("REDIS_URL")
s.sendall(b"PING\r\n")
assert s.recv(64).startswith(b"+PONG"), "redis did not answer PING"
u, s = connect("DATABASE_URL")
params = b"user\0" + (u.username or "postgres").encode() + b"\0database\0" + u.path[1:].encode() + b"\0\0"
s.sendall(struct.pack("!ii", 8 + len(params), 196608) + params)
assert s.recv(1) in (b"R", b"E"), "postgres did not answer the startup message"
r, d = urlparse(os.environ["REDIS_URL"]), urlparse(os.environ["DATABASE_URL"])
print(f"connected to redis and postgres via {r.hostname}:{r.port} {d.hostname}:{d.port}")
"#;

/// What one step left behind.
struct StepResult {
    name: String,
    ran: bool,
    ok: bool,
    output: String,
}

/// One run of the job.
struct JobRun {
    ok: bool,
    steps: Vec<StepResult>,
    seconds: f64,
}

impl JobRun {
    fn step(&self, name: &str) -> &StepResult {
        self.steps
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no step `{name}`"))
    }

    /// Lines of `up`'s output that say an image was pulled / built.
    fn pulled(&self) -> usize {
        let up = &self.step("Start the environment").output;
        up.lines().filter(|l| l.contains("  pulling ")).count()
    }

    fn built(&self) -> usize {
        let up = &self.step("Start the environment").output;
        up.lines().filter(|l| l.contains("  built ")).count()
    }
}

/// A runner: a home directory that is wiped between runs except what
/// `actions/cache` keeps, and the workflow's steps run in a checkout.
struct Runner {
    home: tempfile::TempDir,
    cache: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Runner {
    fn new(env: &[(&str, &str)]) -> Runner {
        Runner {
            home: tempfile::tempdir().expect("home"),
            cache: tempfile::tempdir().expect("cache"),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// A fresh runner home: nothing from the last run except the cache.
    fn fresh_home(&self) {
        for entry in std::fs::read_dir(self.home.path()).expect("home") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                std::fs::remove_dir_all(&path).expect("clean home");
            } else {
                std::fs::remove_file(&path).expect("clean home");
            }
        }
    }

    /// `~/x` in the runner's home.
    fn expand(&self, path: &str) -> PathBuf {
        match path.strip_prefix("~/") {
            Some(rest) => self.home.path().join(rest),
            None => PathBuf::from(path),
        }
    }

    /// Runs the job of `workflow` in `checkout`.
    #[allow(clippy::print_stderr, reason = "what a test tells its runner")]
    fn run(&self, workflow: &Path, checkout: &Path) -> JobRun {
        self.fresh_home();
        let text = std::fs::read_to_string(workflow).expect("workflow");
        let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("workflow is YAML");
        let job = &doc["jobs"]["environment"];
        let working = job["defaults"]["run"]["working-directory"]
            .as_str()
            .map_or_else(|| checkout.to_path_buf(), |d| checkout.join(d));
        let github_env = self.home.path().join("github_env");
        let github_path = self.home.path().join("github_path");
        std::fs::write(&github_env, "").expect("GITHUB_ENV");
        std::fs::write(&github_path, "").expect("GITHUB_PATH");
        let mut cached = Vec::new();
        let mut failed = false;
        let mut steps = Vec::new();
        let started = Instant::now();
        for step in job["steps"].as_sequence().expect("steps") {
            let name = step["name"]
                .as_str()
                .or_else(|| step["uses"].as_str())
                .unwrap_or("")
                .to_string();
            let should_run = match step["if"].as_str() {
                Some("failure()") => failed,
                Some("always()") => true,
                Some(other) => panic!("unknown condition {other}"),
                None => !failed,
            };
            if let Some(uses) = step["uses"].as_str() {
                if uses.starts_with("actions/cache@") && should_run {
                    let path = step["with"]["path"].as_str().expect("cache path");
                    self.restore(path);
                    cached.push(path.to_string());
                }
                steps.push(StepResult {
                    name,
                    ran: false,
                    ok: true,
                    output: String::new(),
                });
                continue;
            }
            let script = step["run"].as_str().expect("a run step");
            if !should_run {
                steps.push(StepResult {
                    name,
                    ran: false,
                    ok: true,
                    output: String::new(),
                });
                continue;
            }
            let dir = step["working-directory"]
                .as_str()
                .map_or_else(|| working.clone(), |d| checkout.join(d));
            let mut bash = Command::new("bash");
            // Steps run gorae, which may build: no test may remove images meanwhile.
            support::built_images::hold_while_running(&mut bash);
            let out = bash
                .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
                .current_dir(&dir)
                .env_clear()
                .envs(self.step_env(&github_env, &github_path))
                .output()
                .expect("bash");
            let output = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            eprintln!("--- {name} (exit {:?})\n{output}", out.status.code());
            failed |= !out.status.success();
            steps.push(StepResult {
                name,
                ran: true,
                ok: out.status.success(),
                output,
            });
        }
        // actions/cache saves in its post step, when the job succeeded.
        if !failed {
            for path in &cached {
                self.save(path);
            }
        }
        JobRun {
            ok: !failed,
            steps,
            seconds: started.elapsed().as_secs_f64(),
        }
    }

    /// The environment of a step: the runner's, CI's own variables, what earlier
    /// steps wrote to GITHUB_ENV (NAME=value, taken literally), and PATH with
    /// GITHUB_PATH's entries first.
    fn step_env(&self, github_env: &Path, github_path: &Path) -> BTreeMap<String, String> {
        let mut env: BTreeMap<String, String> = BTreeMap::new();
        for key in ["PATH", "DOCKER_HOST", "TMPDIR", "LANG"] {
            if let Ok(value) = std::env::var(key) {
                env.insert(key.to_string(), value);
            }
        }
        env.insert("HOME".into(), self.home.path().display().to_string());
        env.insert("CI".into(), "true".into());
        env.insert("GITHUB_ACTIONS".into(), "true".into());
        env.insert("NO_COLOR".into(), "1".into());
        env.insert("GITHUB_ENV".into(), github_env.display().to_string());
        env.insert("GITHUB_PATH".into(), github_path.display().to_string());
        for (key, value) in &self.env {
            env.insert(key.clone(), value.clone());
        }
        let written = std::fs::read_to_string(github_env).unwrap_or_default();
        env.extend(parse_github_env(&written));
        let added = std::fs::read_to_string(github_path).unwrap_or_default();
        let mut path: Vec<String> = added.lines().rev().map(str::to_string).collect();
        path.push(env.get("PATH").cloned().unwrap_or_default());
        env.insert("PATH".into(), path.join(":"));
        env
    }

    fn cache_slot(&self, path: &str) -> PathBuf {
        self.cache.path().join(path.replace(['/', '~', '.'], "_"))
    }

    fn restore(&self, path: &str) {
        let slot = self.cache_slot(path);
        if slot.exists() {
            copy(&slot, &self.expand(path));
        }
    }

    fn save(&self, path: &str) {
        let from = self.expand(path);
        if from.exists() {
            let slot = self.cache_slot(path);
            let _ = std::fs::remove_dir_all(&slot);
            let _ = std::fs::remove_file(&slot);
            copy(&from, &slot);
        }
    }
}

/// GITHUB_ENV as the runner reads it: `NAME=value` (taken literally) or
/// `NAME<<DELIMITER`, the value's lines, `DELIMITER`. Anything else fails the job on
/// GitHub, so it fails the test here.
fn parse_github_env(text: &str) -> Vec<(String, String)> {
    let mut vars = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        let heredoc = line
            .split_once("<<")
            .filter(|(name, _)| !name.contains('='));
        if let Some((name, delimiter)) = heredoc {
            let mut value = Vec::new();
            loop {
                let next = lines
                    .next()
                    .unwrap_or_else(|| panic!("GITHUB_ENV: no {delimiter} after {name}"));
                if next == delimiter {
                    break;
                }
                value.push(next);
            }
            vars.push((name.to_string(), value.join("\n")));
        } else if let Some((name, value)) = line.split_once('=') {
            vars.push((name.to_string(), value.to_string()));
        } else {
            panic!("GITHUB_ENV: invalid line (GitHub fails the step): {line}");
        }
    }
    vars
}

/// `cp -a FROM TO`.
fn copy(from: &Path, to: &Path) {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).expect("parent");
    }
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp");
    assert!(status.success(), "cp {} {}", from.display(), to.display());
}

/// The binary under test as a release archive, and its sha256.
fn archive(dir: &Path) -> (String, String) {
    let bin = dir.join("gorae-bin");
    std::fs::create_dir_all(&bin).expect("dir");
    std::fs::copy(env!("CARGO_BIN_EXE_gorae"), bin.join("gorae")).expect("copy gorae");
    let tar = dir.join("gorae.tar.gz");
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&tar)
        .arg("-C")
        .arg(&bin)
        .arg("gorae")
        .status()
        .expect("tar");
    assert!(status.success());
    let bytes = std::fs::read(&tar).expect("archive");
    let sha: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (format!("file://{}", tar.display()), sha)
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A python app with Redis and Postgres in a git repository, its lock and its
/// workflow committed (written with `ci_args`), and a fresh clone of it.
fn clone_of_project(
    project: &TestProject,
    env: &[(&str, &str)],
    ci_args: &[&str],
) -> tempfile::TempDir {
    let (redis_port, db_port) = (free_port(), free_port());
    let yaml = project.services_yaml(&format!(
        "  redis: {{ template: redis, ports: [\"{redis_port}:6379\"] }}
  db: {{ template: postgres, ports: [\"{db_port}:5432\"] }}
  app:
    template: python
    version: \"3.12\"
    build: ./app
    command: [\"python3\", \"-m\", \"http.server\", \"8000\"]
    ready: {{ tcp: 8000 }}
    depends_on: [redis, db]
"
    ));
    std::fs::write(project.path().join("gorae.yaml"), yaml).expect("gorae.yaml");
    std::fs::create_dir_all(project.path().join("app")).expect("app");
    std::fs::write(project.path().join("app/check.py"), CHECK).expect("check.py");
    std::fs::write(project.path().join("app/requirements.txt"), "").expect("requirements");
    git(project.path(), &["init", "-q"]);
    let lock = project.gorae_with_env(&["lock"], env);
    assert!(lock.status.success(), "{}", support::stderr(&lock));
    let mut args = vec!["ci", "github", "--force"];
    args.extend_from_slice(ci_args);
    let ci = project.gorae_with_env(&args, env);
    assert!(ci.status.success(), "{}", support::stderr(&ci));
    let workflow = project.path().join(".github/workflows/gorae.yml");
    support::check_schema::assert_valid("vendor.github-workflows", &workflow);
    git(project.path(), &["add", "-A"]);
    git(project.path(), &["commit", "-qm", "project"]);
    let clone = tempfile::tempdir().expect("clone dir");
    git(
        clone.path(),
        &["clone", "-q", &project.path().display().to_string(), "."],
    );
    clone
}

fn nothing_left(project: &str) {
    let filter = format!("label=dev.gorae.project={project}");
    for what in [
        vec!["ps", "-aq"],
        vec!["volume", "ls", "-q"],
        vec!["network", "ls", "-q"],
    ] {
        let mut args = what.clone();
        args.extend(["--filter", filter.as_str()]);
        let listed = support::docker(&args);
        assert!(listed.is_empty(), "left behind by {what:?}: {listed}");
    }
}

#[test]
#[allow(clippy::print_stderr, reason = "what a test tells its runner")]
fn the_generated_workflow_runs_twice_and_the_second_run_pulls_and_builds_nothing() {
    ensure_stand_in_images();
    support::check_schema::ensure_test_tools();
    let ns = format!("gt-wf-{}", std::process::id());
    let registry = Registry::start(&ns);
    for (stand_in, name) in [
        ("gorae-test/redis:7", "redis:7"),
        ("gorae-test/postgres:16", "postgres:16"),
        ("gorae-test/python:3.12", "python:3.12"),
    ] {
        registry.publish(stand_in, &format!("{ns}/{name}"), &[]);
    }
    let prefix = format!("{}/{ns}/", registry.host());
    let env = [("GORAE_IMAGE_PREFIX", prefix.as_str())];
    let tools = tempfile::tempdir().expect("tools");
    let (url, sha) = archive(tools.path());
    let install = ["--archive", url.as_str(), "--sha256", sha.as_str()];
    let runner = Runner::new(&env);

    // Inside the app's container (the default for a project with one app).
    let project = TestProject::new("wf");
    let clone = clone_of_project(
        &project,
        &env,
        &[&install[..], &["--test-command", "python3 check.py"]].concat(),
    );
    let workflow = clone.path().join(".github/workflows/gorae.yml");
    registry.forget_images();
    let first = runner.run(&workflow, clone.path());
    assert!(first.ok, "first run failed");
    assert!(
        first
            .step("Test")
            .output
            .contains("connected to redis and postgres via redis:6379 db:5432")
    );
    nothing_left(project.name());
    // A fresh machine: no images but what the cache restores.
    registry.forget_images();
    let left = support::docker(&[
        "image",
        "ls",
        "-aq",
        "--filter",
        &format!("label=dev.gorae.test={ns}"),
    ]);
    assert!(left.is_empty(), "images left before the second run: {left}");
    let second = runner.run(&workflow, clone.path());
    assert!(second.ok, "second run failed");
    nothing_left(project.name());
    eprintln!(
        "FIGURES run 1: {:.1}s, {} built, {} pulled; run 2: {:.1}s, {} built, {} pulled",
        first.seconds,
        first.built(),
        first.pulled(),
        second.seconds,
        second.built(),
        second.pulled()
    );
    assert_eq!((first.built(), first.pulled()), (1, 3));
    assert_eq!((second.built(), second.pulled()), (0, 0));

    // On the runner, with the exported variables (published ports on 127.0.0.1).
    std::fs::write(clone.path().join("app/check.py"), CHECK).expect("check.py");
    let on_runner = TestProject::new("wf-runner");
    let clone = clone_of_project(
        &on_runner,
        &env,
        &[
            &install[..],
            &[
                "--test-in",
                "runner",
                "--test-command",
                "python3 app/check.py",
            ],
        ]
        .concat(),
    );
    let run = runner.run(
        &clone.path().join(".github/workflows/gorae.yml"),
        clone.path(),
    );
    assert!(run.ok, "run on the runner failed");
    assert!(
        run.step("Test")
            .output
            .contains("connected to redis and postgres via 127.0.0.1:")
    );
    nothing_left(on_runner.name());

    // A failing test: the services' logs are printed and everything is removed.
    let failing = TestProject::new("wf-fail");
    let clone = clone_of_project(
        &failing,
        &env,
        &[&install[..], &["--test-command", "exit 3"]].concat(),
    );
    let run = runner.run(
        &clone.path().join(".github/workflows/gorae.yml"),
        clone.path(),
    );
    assert!(!run.ok);
    let logs = run.step("Logs of the services");
    assert!(logs.ran && logs.ok, "{}", logs.output);
    assert!(logs.output.contains("db"), "{}", logs.output);
    assert!(run.step("Remove the environment").ran);
    nothing_left(failing.name());
}
