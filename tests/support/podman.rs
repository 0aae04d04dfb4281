//! Podman for the tests: installed from Debian (scripts/install-podman.sh), one
//! `podman system service` per test process on a socket of its own (under
//! target/tmp; it exits by itself a minute after its last request, so nothing
//! outlives the tests), and the stand-in images copied in from Docker (`docker save
//! | podman load`) once per machine. Podman's default rlimits are above what some
//! machines allow a container, so the service runs with a containers.conf that
//! lowers them.
//!
//! Two services: rootful Podman as root, and rootless Podman as the unprivileged
//! user `gorae-rootless` (its socket and runtime directory owned by that user, its
//! containers in that user's own network namespace, its images in its own store).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long the service waits for a request before it exits.
const IDLE_SECS: u32 = 60;

/// The user rootless Podman runs as (made by scripts/install-podman.sh).
const ROOTLESS_USER: &str = "gorae-rootless";

/// The rootless user's runtime directory (`XDG_RUNTIME_DIR`), one per machine:
/// Podman records it in the user's store on first use, and a second one would give
/// the same containers two network namespaces.
fn rootless_runtime_dir() -> PathBuf {
    std::env::temp_dir().join(format!("{ROOTLESS_USER}-run"))
}

/// The running service, by its directory (socket and configuration).
pub struct Podman {
    dir: PathBuf,
    rootless: bool,
}

impl Podman {
    /// The process-wide rootful service, started on first use.
    pub fn shared() -> &'static Podman {
        static SHARED: OnceLock<Podman> = OnceLock::new();
        SHARED.get_or_init(|| Podman::start(false))
    }

    /// The process-wide rootless service, started on first use.
    pub fn rootless() -> &'static Podman {
        static ROOTLESS: OnceLock<Podman> = OnceLock::new();
        ROOTLESS.get_or_init(|| Podman::start(true))
    }

    fn start(rootless: bool) -> Podman {
        super::run_script("install-podman.sh", &[]);
        let dir = if rootless {
            rootless_runtime_dir()
        } else {
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("podman-rootful")
        };
        std::fs::create_dir_all(&dir).expect("podman dir");
        let podman = Podman { dir, rootless };
        let conf = podman.dir.join("containers.conf");
        std::fs::write(
            &conf,
            "[containers]\ndefault_ulimits = [\"nofile=4096:4096\", \"nproc=4096:4096\"]\n",
        )
        .expect("write containers.conf");
        if rootless {
            let owned = Command::new("chown")
                .args(["-R", ROOTLESS_USER])
                .arg(&podman.dir)
                .status()
                .expect("run chown");
            assert!(owned.success(), "chown {}", podman.dir.display());
            std::fs::set_permissions(&podman.dir, std::fs::Permissions::from_mode(0o700))
                .expect("chmod podman dir");
        }
        let socket = podman.socket();
        let _ = std::fs::remove_file(&socket);
        let mut service = podman
            .command()
            .args(["system", "service", &format!("--time={IDLE_SECS}")])
            .arg(format!("unix://{}", socket.display()))
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
        podman
    }

    /// `podman`, as the user this service runs as, with its configuration.
    fn command(&self) -> Command {
        let conf = self.dir.join("containers.conf");
        if !self.rootless {
            let mut command = Command::new("podman");
            command.env("CONTAINERS_CONF", conf);
            return command;
        }
        let mut command = Command::new("runuser");
        command
            .args(["-u", ROOTLESS_USER, "--", "env"])
            .arg(format!("XDG_RUNTIME_DIR={}", self.dir.display()))
            .arg(format!("HOME=/home/{ROOTLESS_USER}"))
            .arg(format!("CONTAINERS_CONF={}", conf.display()))
            .arg("podman");
        command
    }

    /// The same command as one line for `sh -c`.
    fn command_line(&self) -> String {
        let command = self.command();
        std::iter::once(command.get_program())
            .chain(command.get_args())
            .map(|part| part.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether this is the rootless service.
    pub fn is_rootless(&self) -> bool {
        self.rootless
    }

    /// `DOCKER_HOST` for gorae.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    fn socket(&self) -> PathBuf {
        self.dir.join(format!("podman-{}.sock", std::process::id()))
    }

    /// Copies Docker's `images` into Podman where Podman lacks them.
    pub fn load(&self, images: &[&str]) {
        for image in images {
            let present = self
                .command()
                .args(["image", "exists", image])
                .status()
                .expect("run podman");
            if present.success() {
                continue;
            }
            let out = Command::new("sh")
                .arg("-c")
                .arg(format!(
                    "docker save {image} | {} load",
                    self.command_line()
                ))
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
            let Ok(out) = self
                .command()
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
                let _ = self.command().args(remove).args(&ids).output();
            }
        }
        // Podman keeps a built image under docker.io/library/, whatever it is asked.
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "{podman} images -q --filter reference='*gorae-{project}*' | xargs -r {podman} rmi -f",
                podman = self.command_line()
            ))
            .output();
    }
}
