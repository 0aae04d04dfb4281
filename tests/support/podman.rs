//! Podman for the tests: installed from Debian (scripts/install-podman.sh), one
//! `podman system service` per test process on a socket of its own (under
//! target/tmp; it exits by itself a minute after its last request, so nothing
//! outlives the tests), and the stand-in images copied in from Docker (`docker save
//! | podman load`) once per machine. Podman's default rlimits are above what some
//! machines allow a container, so the service runs with a containers.conf that
//! lowers them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long the service waits for a request before it exits.
const IDLE_SECS: u32 = 60;

/// The running service, by its directory (socket and configuration).
pub struct Podman {
    dir: PathBuf,
}

impl Podman {
    /// The process-wide service, started on first use.
    pub fn shared() -> &'static Podman {
        static SHARED: OnceLock<Podman> = OnceLock::new();
        SHARED.get_or_init(Podman::start)
    }

    fn start() -> Podman {
        super::run_script("install-podman.sh", &[]);
        let dir =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("podman-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("podman dir");
        let conf = dir.join("containers.conf");
        std::fs::write(
            &conf,
            "[containers]\ndefault_ulimits = [\"nofile=4096:4096\", \"nproc=4096:4096\"]\n",
        )
        .expect("write containers.conf");
        let socket = dir.join("podman.sock");
        let _ = std::fs::remove_file(&socket);
        let mut service = Command::new("podman")
            .args(["system", "service", &format!("--time={IDLE_SECS}")])
            .arg(format!("unix://{}", socket.display()))
            .env("CONTAINERS_CONF", &conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start podman system service");
        // Reaped when it exits on its own.
        std::thread::spawn(move || service.wait());
        let deadline = Instant::now() + Duration::from_secs(30);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "podman's socket never appeared");
            std::thread::sleep(Duration::from_millis(50));
        }
        Podman { dir }
    }

    /// `DOCKER_HOST` for gorae.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("podman.sock")
    }

    /// Copies Docker's `images` into Podman where Podman lacks them.
    pub fn load(&self, images: &[&str]) {
        for image in images {
            let present = Command::new("podman")
                .args(["image", "exists", image])
                .status()
                .expect("run podman");
            if present.success() {
                continue;
            }
            let out = Command::new("sh")
                .arg("-c")
                .arg(format!("docker save {image} | podman load"))
                .output()
                .expect("run docker save | podman load");
            assert!(
                out.status.success(),
                "loading {image} into podman failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// Removes what a project left in Podman (containers, then volumes and
    /// networks, by gorae's project label, and the images it built), as
    /// TestProject does in Docker.
    pub fn remove_project(&self, project: &str) {
        let filter = format!("label=dev.gorae.project={project}");
        let steps: [(&[&str], &[&str]); 3] = [
            (&["ps", "-aq"], &["rm", "-f", "-v"]),
            (&["volume", "ls", "-q"], &["volume", "rm", "-f"]),
            (&["network", "ls", "-q"], &["network", "rm", "-f"]),
        ];
        for (list, remove) in steps {
            let Ok(out) = Command::new("podman")
                .args(list)
                .args(["--filter", &filter])
                .output()
            else {
                return;
            };
            let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            if !ids.is_empty() {
                let _ = Command::new("podman").args(remove).args(&ids).output();
            }
        }
        // Podman keeps a built image under docker.io/library/, whatever it is asked.
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "podman images -q --filter reference='*gorae-{project}*' | xargs -r podman rmi -f"
            ))
            .output();
    }
}
