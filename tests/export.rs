//! `gorae export compose` against the real Compose v2: the file it writes for the
//! node-redis example is accepted by `docker compose config`, and `docker compose up
//! --wait` on it starts an app that answers as it does under gorae. `gorae export
//! swarm` deploys the same example with `docker stack deploy` on a single-node Swarm
//! of this engine, which the test leaves again.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use support::{docker, ensure_stand_in_images, example, get_root as get};

/// Held by the tests that bring an example up through another tool, so that a
/// Swarm is never being made or left while Compose sets up its networks.
static ENGINE_WIDE: Mutex<()> = Mutex::new(());

/// Compose v2: `docker compose` where the machine has it, else the binary that
/// scripts/install-compose-v2.sh fetches from Debian (once per machine, a few
/// seconds). The command's words before Compose's own arguments.
fn compose_v2() -> Vec<String> {
    static FOUND: OnceLock<Vec<String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let plugin = Command::new("docker").args(["compose", "version"]).output();
            if let Ok(out) = plugin
                && String::from_utf8_lossy(&out.stdout).contains("version v2.")
            {
                return vec!["docker".into(), "compose".into()];
            }
            let dest = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tools/compose-v2");
            let script =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install-compose-v2.sh");
            let out = Command::new(script)
                .arg(&dest)
                .output()
                .expect("run install-compose-v2.sh");
            assert!(
                out.status.success(),
                "install-compose-v2.sh failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            vec![dest.display().to_string()]
        })
        .clone()
}

/// One Compose project on `file`; `down` removes what it made, on failure too.
struct ComposeProject {
    file: PathBuf,
    name: String,
}

impl ComposeProject {
    fn run(&self, args: &[&str]) -> Output {
        let words = compose_v2();
        Command::new(&words[0])
            .args(&words[1..])
            .args(["-p", &self.name, "-f"])
            .arg(&self.file)
            .args(args)
            .output()
            .expect("run compose")
    }

    fn succeeds(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "compose {} failed:\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

impl Drop for ComposeProject {
    fn drop(&mut self) {
        let _ = self.run(&["down", "--volumes", "--rmi", "local", "--timeout", "2"]);
    }
}

#[test]
fn the_exported_compose_file_brings_up_the_node_redis_example_under_compose() {
    ensure_stand_in_images();
    let _alone = ENGINE_WIDE.lock().unwrap_or_else(|e| e.into_inner());
    let (project, port) = example("node-redis", 3000);
    let exported = project.gorae_ok(&["export", "compose"]);
    let file = project.path().join("compose.yaml");
    std::fs::write(&file, &exported.stdout).expect("write compose.yaml");
    let compose = ComposeProject {
        file,
        name: project.name().to_string(),
    };

    let config = compose.succeeds(&["config", "--format", "json"]);
    let config: serde_json::Value = serde_json::from_slice(&config.stdout).expect("json");
    let web = &config["services"]["web"];
    assert_eq!(web["init"], true);
    assert_eq!(web["ports"][0]["host_ip"], "127.0.0.1");
    assert_eq!(web["environment"]["REDIS_URL"], "redis://redis:6379");
    assert_eq!(
        web["depends_on"]["redis"]["condition"], "service_healthy",
        "{web}"
    );

    // --wait returns once every healthcheck passes, as `gorae up` once all is ready.
    compose.succeeds(&["up", "--wait", "--wait-timeout", "120"]);
    let first = get(port);
    assert!(first.contains("visited 1 time."), "{first}");
    let second = get(port);
    assert!(second.contains("visited 2 times."), "{second}");
}

/// A single-node Swarm for one test: made when the engine is in none, and then left
/// again when dropped (on failure too), after removing the stack. An engine that is
/// already in a swarm stays in it.
struct Swarm {
    made_here: bool,
    stack: String,
}

impl Swarm {
    fn join(stack: &str) -> Swarm {
        let state = docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"]);
        let made_here = state.trim() == "inactive";
        if made_here {
            docker(&["swarm", "init", "--advertise-addr", "127.0.0.1"]);
        }
        Swarm {
            made_here,
            stack: stack.to_string(),
        }
    }
}

impl Drop for Swarm {
    fn drop(&mut self) {
        let run = |args: &[&str]| Command::new("docker").args(args).output();
        let _ = run(&["stack", "rm", &self.stack]);
        // The stack's containers and network go in the background.
        let label = format!("label=com.docker.stack.namespace={}", self.stack);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let left = run(&["ps", "-aq", "--filter", &label]).map(|o| o.stdout);
            let networks = run(&["network", "ls", "-q", "--filter", &label]).map(|o| o.stdout);
            if left.is_ok_and(|l| l.is_empty()) && networks.is_ok_and(|n| n.is_empty()) {
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        if self.made_here {
            let _ = run(&["swarm", "leave", "--force"]);
            // Joining made this bridge for the swarm's containers; leaving keeps it.
            let _ = run(&["network", "rm", "docker_gwbridge"]);
        }
    }
}

/// `GET /` on `port` once it answers, within `limit`.
fn get_when_answering(port: u16, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        // Swarm's port proxy accepts while web still restarts, and then drops it.
        if let Ok(answer) = support::try_get_root(port)
            && (answer.contains("200 OK") || Instant::now() > deadline)
        {
            return answer;
        }
        assert!(Instant::now() < deadline, "nothing answered on {port}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn the_swarm_export_deploys_the_node_redis_example_on_a_single_node_swarm() {
    ensure_stand_in_images();
    let _alone = ENGINE_WIDE.lock().unwrap_or_else(|e| e.into_inner());
    let (project, port) = example("node-redis", 3000);
    // Swarm cannot build: the export names the image `gorae up` built here.
    let refused = project.run(&["export", "swarm"]).fails_with(1);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("run `gorae up` first"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    project.gorae_ok(&["up", "--ci"]);
    project.gorae_ok(&["down"]);
    let exported = project.gorae_ok(&["export", "swarm"]);
    let text = String::from_utf8_lossy(&exported.stdout).into_owned();
    assert!(
        text.contains(
            "# swarm: `web` waits for `redis` under gorae and Compose; Swarm ignores depends_on"
        ),
        "{text}"
    );
    let file = project.path().join("stack.yaml");
    std::fs::write(&file, &text).expect("write stack.yaml");
    let file = file.display().to_string();
    // The docker CLI's own schema for stacks accepts it.
    docker(&["stack", "config", "-c", &file]);

    let stack = project.name().replace('.', "-");
    let _swarm = Swarm::join(&stack);
    docker(&[
        "stack",
        "deploy",
        "-c",
        &file,
        "--resolve-image",
        "never",
        "--detach=true",
        &stack,
    ]);
    // web restarts until Redis answers, then counts visits in it.
    let first = get_when_answering(port, Duration::from_secs(120));
    assert!(first.contains("visited"), "{first}");
    let second = get(port);
    let count = |answer: &str| {
        answer
            .split("visited ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<u32>().ok())
    };
    assert_eq!(
        count(&second),
        count(&first).map(|n| n + 1),
        "{first}\n{second}"
    );
}

/// kubernetes-validate from PyPI, which carries the API schemas, so the manifests are
/// checked offline against one pinned Kubernetes release.
const KUBERNETES_VALIDATE: &str = "1.37.0";
const KUBERNETES_RELEASE: &str = "1.30.0";

/// Asserts that every manifest in `files` is valid for [`KUBERNETES_RELEASE`],
/// unknown fields refused, and returns what was checked (`deployment/web`, ...).
fn assert_valid_manifests(files: &[PathBuf]) -> Vec<String> {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    let exe = EXE.get_or_init(|| {
        support::pypi::tool(
            "kubernetes-validate",
            KUBERNETES_VALIDATE,
            "kubernetes-validate",
        )
    });
    let out = Command::new(exe)
        .args(["--strict", "-k", KUBERNETES_RELEASE])
        .args(files)
        .output()
        .expect("run kubernetes-validate");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{report}");
    assert!(
        !report.contains("WARN") && !report.contains("ERROR"),
        "{report}"
    );
    report
        .lines()
        .filter_map(|line| line.split("passed for resource ").nth(1))
        .map(|rest| rest.split(' ').next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn kubernetes_manifests_of_the_examples_validate_as_one_file_and_as_a_kustomization() {
    for (name, port, expected) in [
        (
            "node-redis",
            3000,
            &[
                "statefulset/redis",
                "service/redis",
                "deployment/web",
                "service/web",
            ][..],
        ),
        (
            "python-postgres",
            8000,
            &[
                "secret/db-env",
                "statefulset/db",
                "service/db",
                "secret/web-env",
                "deployment/web",
                "service/web",
            ],
        ),
    ] {
        let (project, _) = example(name, port);
        let single = project.path().join("manifests.yaml");
        let out = project.gorae_ok(&["export", "kubernetes"]);
        std::fs::write(&single, &out.stdout).expect("write manifests");
        assert_eq!(assert_valid_manifests(&[single]), expected, "{name}");

        let dir = project.path().join("k8s");
        project.gorae_ok(&[
            "export",
            "kubernetes",
            "--format",
            "kustomize",
            "--output",
            &dir.display().to_string(),
        ]);
        let kustomization =
            std::fs::read_to_string(dir.join("kustomization.yaml")).expect("kustomization");
        let files: Vec<PathBuf> = kustomization
            .lines()
            .filter_map(|line| line.strip_prefix("- "))
            .map(|file| dir.join(file))
            .collect();
        assert_eq!(files.len(), expected.len(), "{kustomization}");
        assert_eq!(assert_valid_manifests(&files), expected, "{name}");
    }
}

/// Options that do not go together are a usage error (exit 2) that says what to
/// write, and nothing is written.
#[test]
fn export_options_that_do_not_go_together_are_refused() {
    let (project, _) = example("node-redis", 3000);
    for (args, says) in [
        (
            &["export", "kubernetes", "--format", "kustomize"][..],
            "--output k8s",
        ),
        (
            &["export", "compose", "--format", "kustomize"],
            "gorae export compose > compose.yaml",
        ),
        (
            &["export", "kubernetes", "--output", "k8s"],
            "gorae export kubernetes > manifests.yaml",
        ),
    ] {
        let out = project.gorae(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert!(!project.path().join("k8s").exists());
}
