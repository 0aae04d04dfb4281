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
