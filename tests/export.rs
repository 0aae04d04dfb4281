//! `gorae export compose` against the real Compose v2: the file it writes for the
//! node-redis example is accepted by `docker compose config`, and `docker compose up
//! --wait` on it starts an app that answers as it does under gorae.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use support::{ensure_stand_in_images, example, get_root as get};

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
