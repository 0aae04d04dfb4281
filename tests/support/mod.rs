//! Harness for the real-engine tests: the stand-in images, a temporary project
//! per test that runs the built `gorae` with a home of its own, and cleanup of
//! whatever it created, built images included.

// Each test file compiles its own copy of this module and uses only part of it.
#![allow(dead_code)]

pub mod built_images;
pub mod check_schema;
pub mod podman;
pub mod proxy;
pub mod pypi;
pub mod registry;
pub mod sshd;
pub mod tls_engine;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `GORAE_IMAGE_PREFIX` for every run, so `redis:7` means the stand-in
/// `gorae-test/redis:7` built by `scripts/stand-in-images.sh`.
pub const IMAGE_PREFIX: &str = "gorae-test/";

/// Builds the stand-in images if this machine lacks them (about two minutes,
/// once per machine); afterwards a quick check, done once per test process.
pub fn ensure_stand_in_images() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| build_stand_ins(&[]));
}

/// Like [`ensure_stand_in_images`], for the stand-ins named (folders of
/// tests/stand-in/, such as `mariadb`), which the default set leaves out; only
/// those are built, side by side. Each name is checked once per test process.
pub fn ensure_stand_ins(names: &[&str]) {
    static DONE: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut done = DONE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| !done.iter().any(|d| d == name))
        .collect();
    if !missing.is_empty() {
        build_stand_ins(&missing);
        done.extend(missing.iter().map(|name| name.to_string()));
    }
}

fn build_stand_ins(names: &[&str]) {
    run_script("stand-in-images.sh", names);
    built_images::remove_left_by_finished_test_processes();
}

/// Runs `program ARGS`, asserts that it succeeded (showing its stderr if not) and
/// returns what it printed.
pub fn run_ok(program: &Path, args: &[&str]) -> Output {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    assert!(
        out.status.success(),
        "{} {} failed ({}):\n{}",
        program.display(),
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs one of the repository's `scripts/` with bash, as [`run_ok`].
pub fn run_script(name: &str, args: &[&str]) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name);
    let mut words = vec![script.to_str().expect("a UTF-8 path")];
    words.extend_from_slice(args);
    run_ok(Path::new("bash"), &words)
}

/// A project in a temporary directory with a name no other test (or test
/// process) uses, so tests can run in parallel against one engine.
pub struct TestProject {
    name: String,
    dir: tempfile::TempDir,
    /// `home/` and `cache/`: HOME and XDG_CACHE_HOME of every gorae the project
    /// runs, so the suite writes nothing under the developer's own home. Outside
    /// `dir`, which is what gets built.
    own: tempfile::TempDir,
}

impl TestProject {
    /// `short` names the test in the project name: lowercase letters, digits, dashes.
    pub fn new(short: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("gt-{short}-{}-{n}", std::process::id());
        let dir = tempfile::Builder::new()
            .prefix(&format!("{name}-"))
            .tempdir()
            .expect("create a temp dir for the test project");
        let own = tempfile::Builder::new()
            .prefix(&format!("{name}-home-"))
            .tempdir()
            .expect("create a temp home for the test project");
        for sub in ["home", "cache"] {
            fs::create_dir(own.path().join(sub)).expect("create the temp home");
        }
        Self { name, dir, own }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// HOME of the gorae runs: empty, and it must stay so ([`Drop`] checks).
    pub fn home(&self) -> PathBuf {
        self.own.path().join("home")
    }

    /// XDG_CACHE_HOME of the gorae runs.
    pub fn cache_home(&self) -> PathBuf {
        self.own.path().join("cache")
    }

    /// Asserts that nothing was written to [`Self::home`].
    pub fn assert_home_untouched(&self) {
        let written: Vec<PathBuf> = fs::read_dir(self.home())
            .expect("read the temp home")
            .flatten()
            .map(|entry| entry.path())
            .collect();
        assert!(
            written.is_empty(),
            "{}: something wrote into HOME instead of XDG_CACHE_HOME: {written:?}",
            self.name
        );
    }

    /// Writes `contents` to `rel_path` under the project, creating parent dirs.
    pub fn file(self, rel_path: &str, contents: &str) -> Self {
        let path = self.path().join(rel_path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("create {}: {e}", parent.display()));
        }
        fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        self
    }

    /// `services_yaml` (the rest of a gorae.yaml) under this project's unique
    /// `name:`; without it the project would be named after the temp dir.
    pub fn project_yaml(&self, services_yaml: &str) -> String {
        format!("name: {}\n{services_yaml}", self.name)
    }

    /// A gorae.yaml with this project's unique name and these services (the lines
    /// that go under `services:`).
    pub fn services_yaml(&self, services: &str) -> String {
        self.project_yaml(&format!("services:\n{services}"))
    }

    /// Writes (or rewrites) gorae.yaml: [`Self::services_yaml`] of `services`.
    pub fn services(self, services: &str) -> Self {
        let yaml = self.services_yaml(services);
        self.file("gorae.yaml", &yaml)
    }

    /// Runs the built `gorae` in the project dir and returns what it did.
    pub fn gorae(&self, args: &[&str]) -> Output {
        self.gorae_with_env(args, &[])
    }

    /// Like [`Self::gorae`], and asserts success, showing both streams if not.
    pub fn gorae_ok(&self, args: &[&str]) -> Output {
        self.run(args).succeeds()
    }

    /// Runs `gorae ARGS`, to assert on: `project.run(&["down"]).fails_with(8)`.
    pub fn run(&self, args: &[&str]) -> Ran {
        Ran {
            args: args.join(" "),
            output: self.gorae(args),
        }
    }

    /// `gorae up --ci`, to assert on: `project.up().succeeds()`.
    pub fn up(&self) -> Ran {
        self.run(&["up", "--ci"])
    }

    /// Like [`Self::run`] with extra environment variables (they win).
    pub fn run_with_env(&self, args: &[&str], envs: &[(&str, &str)]) -> Ran {
        Ran {
            args: args.join(" "),
            output: self.gorae_with_env(args, envs),
        }
    }

    /// Like [`Self::gorae`] with extra environment variables (they win).
    pub fn gorae_with_env(&self, args: &[&str], envs: &[(&str, &str)]) -> Output {
        let out = self
            .command(args)
            .envs(envs.iter().copied())
            .output()
            .expect("run the gorae binary");
        // A moment when this gorae no longer builds: other projects' images may go.
        built_images::queue([]);
        out
    }

    /// The `gorae` command as the other helpers run it, for tests that need to
    /// spawn it (signals, concurrency).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gorae"));
        self.environment(&mut cmd)
            .args(args)
            .current_dir(self.path())
            .env("NO_COLOR", "1");
        cmd
    }

    /// The environment every gorae of this project runs in, also for a command
    /// that runs gorae in turn (a shell, `script`). The command holds off the
    /// removal of built images while it runs ([`built_images`]).
    pub fn environment<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        built_images::hold_while_running(cmd);
        // The developer's own GORAE_* settings must not change what a test sees.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("GORAE_") {
                cmd.env_remove(key);
            }
        }
        // Whatever gorae keeps between runs lands in the project's own dirs: the
        // other XDG bases are unset, so they too default to the temp HOME.
        for key in ["XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"] {
            cmd.env_remove(key);
        }
        cmd.env("HOME", self.home())
            .env("XDG_CACHE_HOME", self.cache_home())
            .env("GORAE_IMAGE_PREFIX", IMAGE_PREFIX)
    }
}

/// A finished gorae run; each check shows the command and both streams when it fails.
#[must_use = "assert on the run: succeeds() or fails_with(code)"]
pub struct Ran {
    args: String,
    output: Output,
}

impl Ran {
    /// Asserts exit code 0; returns what the run printed.
    pub fn succeeds(self) -> Output {
        self.exits_with(0)
    }

    /// Asserts exit code `code`, not 0; returns what the run printed.
    pub fn fails_with(self, code: i32) -> Output {
        assert_ne!(code, 0, "a failure has a non-zero exit code");
        self.exits_with(code)
    }

    fn exits_with(self, code: i32) -> Output {
        let out = self.output;
        assert_eq!(
            out.status.code(),
            Some(code),
            "`gorae {}` ended with {}\n--- stdout\n{}\n--- stderr\n{}",
            self.args,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

impl Drop for TestProject {
    /// Runs after a failed or panicking test too. Cleans up through the labels
    /// and the image names with the docker CLI rather than `gorae down`, so that
    /// a bug in gorae cannot leave resources behind. The temp dirs are removed
    /// afterwards.
    fn drop(&mut self) {
        remove_labelled(&self.name);
        built_images::remove_built_for(&self.name);
        // Every test checks its home; a failing test already says what failed.
        if !std::thread::panicking() {
            self.assert_home_untouched();
        }
    }
}

/// Copies `examples/<name>` into a test project, with a unique project name and the
/// app published on a free host port; returns the project and that port.
pub fn example(name: &str, container_port: u16) -> (TestProject, u16) {
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

/// The response (status line, headers, body) to `GET /` on a local port.
pub fn get_root(port: u16) -> String {
    try_get_root(port).unwrap_or_else(|err| panic!("GET / on port {port}: {err}"))
}

/// `GET /` on a local port, or why it got no answer: a port proxy accepts the
/// connection while the container behind it is still (re)starting, then drops it.
pub fn try_get_root(port: u16) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

/// Best effort: removes every container, network and volume labelled with
/// `project`. Never panics, since it runs while a failed test unwinds. Built images
/// go separately, when no build may be using their layers ([`built_images`]).
#[allow(clippy::print_stderr, reason = "what a test tells its runner")]
pub fn remove_labelled(project: &str) {
    let filter = format!("label=dev.gorae.project={project}");
    // Containers first: networks and volumes in use cannot be removed.
    let steps: [(&[&str], &[&str]); 3] = [
        (&["ps", "-aq"], &["rm", "-fv"]),
        (&["network", "ls", "-q"], &["network", "rm"]),
        (&["volume", "ls", "-q"], &["volume", "rm", "-f"]),
    ];
    for (list, remove) in steps {
        let Ok(out) = Command::new("docker")
            .args(list)
            .args(["--filter", &filter])
            .output()
        else {
            return; // no docker CLI: nothing was created either
        };
        let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if ids.is_empty() {
            continue;
        }
        match Command::new("docker").args(remove).args(&ids).output() {
            Ok(o) if o.status.success() => {}
            Ok(o) => eprintln!(
                "cleanup of {project}: docker {}: {}",
                remove.join(" "),
                String::from_utf8_lossy(&o.stderr).trim()
            ),
            Err(e) => eprintln!("cleanup of {project}: docker {}: {e}", remove.join(" ")),
        }
    }
}

/// Runs `docker ARGS`, asserts success and returns stdout without the final newline.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("run the docker CLI");
    assert!(
        out.status.success(),
        "`docker {}` failed ({}):\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
}

/// `docker inspect -f FORMAT TARGET`, e.g. `("shop-db", "{{.State.Status}}")`.
pub fn docker_inspect(target: &str, format: &str) -> String {
    docker(&["inspect", "-f", format, target])
}

/// `(service, container id)` of every container of `project`, running or not,
/// sorted by service.
pub fn containers_of(project: &str) -> Vec<(String, String)> {
    let listing = docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("label=dev.gorae.project={project}"),
        "--format",
        r#"{{.Label "dev.gorae.service"}} {{.ID}}"#,
    ]);
    let mut containers: Vec<(String, String)> = listing
        .lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(service, id)| (service.to_owned(), id.to_owned()))
        .collect();
    containers.sort();
    containers
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// What a command printed on stdout.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What a command printed on stderr.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
