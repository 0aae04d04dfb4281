//! A real registry for the tests: Debian's `docker-registry` on 127.0.0.1, one per
//! test, with a temporary storage directory; it stops when the value is dropped. The
//! engine allows plain HTTP to 127.0.0.0/8, so it pulls from it like from any
//! registry.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{docker, free_port};

pub struct Registry {
    port: u16,
    child: Child,
    /// Storage and config; removed after the process has stopped.
    _dir: tempfile::TempDir,
    /// Images this test published, removed at the end.
    namespace_label: String,
}

impl Registry {
    /// Installs the package when missing, starts a registry on a free port and
    /// waits until it answers. `label` marks every image the test publishes, so the
    /// end of the test removes them.
    pub fn start(label: &str) -> Registry {
        Registry::start_with_storage(label, |dir| dir.join("data"))
    }

    /// A registry whose storage cannot work (its root lies under a regular file):
    /// it answers every request for an image with HTTP 500.
    pub fn start_failing(label: &str) -> Registry {
        Registry::start_with_storage(label, |dir| {
            let file = dir.join("not-a-directory");
            std::fs::write(&file, "").expect("write a file");
            file.join("data")
        })
    }

    fn start_with_storage(
        label: &str,
        storage: impl FnOnce(&Path) -> std::path::PathBuf,
    ) -> Registry {
        super::run_script("install-test-registry.sh", &[]);
        let dir = tempfile::tempdir().expect("a temp dir for the registry");
        let port = free_port();
        let config = dir.path().join("config.yml");
        let storage = storage(dir.path());
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
                storage.display()
            ),
        )
        .expect("write the registry config");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start docker-registry");
        let registry = Registry {
            port,
            child,
            _dir: dir,
            namespace_label: label.to_string(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "docker-registry did not listen on 127.0.0.1:{port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Builds an image from `base` plus `instructions` (Dockerfile lines), labelled
    /// for this test, pushes it as `name` (`ns/redis:7`; a tag that exists moves),
    /// and removes it here again, as if this machine had never seen it. Returns the
    /// image id and the registry digest.
    pub fn publish(&self, base: &str, name: &str, instructions: &[&str]) -> (String, String) {
        let reference = format!("{}/{name}", self.host());
        let dockerfile = format!("FROM {base}\n{}\n", instructions.join("\n"));
        let mut build = Command::new("docker")
            .args(["build", "-q", "--label"])
            .arg(format!("dev.gorae.test={}", self.namespace_label))
            .args(["-t", &reference, "-"])
            .env("DOCKER_BUILDKIT", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("docker build");
        {
            use std::io::Write;
            let mut stdin = build.stdin.take().expect("stdin");
            stdin
                .write_all(dockerfile.as_bytes())
                .expect("send the Dockerfile");
        }
        let out = build.wait_with_output().expect("docker build");
        assert!(
            out.status.success(),
            "docker build of {reference} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let id = docker(&["image", "inspect", "-f", "{{.Id}}", &reference]);
        let pushed = docker(&["push", &reference]);
        let digest = pushed
            .split_whitespace()
            .skip_while(|w| *w != "digest:")
            .nth(1)
            .unwrap_or_else(|| panic!("no digest in the push output:\n{pushed}"))
            .to_string();
        docker(&["rmi", &reference]);
        (id, digest)
    }

    /// Removes every image of this test from the engine (what it published and
    /// pulled, and the images gorae built on them, which inherit the label), so the
    /// next step starts like a fresh CI machine.
    pub fn forget_images(&self) {
        remove_images_labelled(&format!("dev.gorae.test={}", self.namespace_label));
    }

    /// Stops the registry now (a registry that is down).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
        self.forget_images();
    }
}

/// Removes the images carrying `label`, children before their parents (the engine
/// refuses to remove an image that another one is built on). Never panics.
fn remove_images_labelled(label: &str) {
    for _ in 0..4 {
        let Ok(out) = Command::new("docker")
            .args(["image", "ls", "-aq", "--filter", &format!("label={label}")])
            .output()
        else {
            return;
        };
        let listed = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut ids: Vec<&str> = listed.split_whitespace().collect();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return;
        }
        for id in ids {
            let _ = Command::new("docker").args(["rmi", "-f", id]).output();
        }
    }
}
