//! An ssh server on 127.0.0.1 for the tests that reach the engine over `ssh://`:
//! Debian's sshd (scripts/install-sshd.sh) with a host key and a client key of its
//! own, run for at most a quarter of an hour so it never outlives the tests. The
//! ssh client takes its settings from the system (it ignores HOME), so the host
//! alias `gorae-test-<pid>` goes in /etc/ssh/ssh_config.d, one file per test
//! process; files of processes that have ended are removed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Where the ssh client reads the alias from.
const CLIENT_CONFIG_DIR: &str = "/etc/ssh/ssh_config.d";

/// The running server and the alias that reaches it.
pub struct Sshd {
    alias: String,
}

impl Sshd {
    /// The process-wide server, started on first use.
    pub fn shared() -> &'static Sshd {
        static SHARED: OnceLock<Sshd> = OnceLock::new();
        SHARED.get_or_init(Sshd::start)
    }

    /// `DOCKER_HOST` for gorae: the engine of this machine, through ssh.
    pub fn docker_host(&self) -> String {
        format!("ssh://{}", self.alias)
    }

    fn start() -> Sshd {
        super::run_script("install-sshd.sh", &[]);
        remove_stale_aliases();
        let pid = std::process::id();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("sshd-{pid}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("sshd dir");
        for key in ["host_key", "client_key"] {
            let path = dir.join(key).display().to_string();
            super::run_ok(
                Path::new("ssh-keygen"),
                &["-q", "-t", "ed25519", "-N", "", "-f", &path],
            );
        }
        std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys"))
            .expect("authorized_keys");
        let port = super::free_port();
        let path = |name: &str| dir.join(name).display().to_string();
        std::fs::write(
            dir.join("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\n\
                 PasswordAuthentication no\nPermitRootLogin prohibit-password\nStrictModes no\n\
                 UsePAM no\nPidFile {}\n",
                path("host_key"),
                path("authorized_keys"),
                path("sshd.pid"),
            ),
        )
        .expect("sshd_config");
        // sshd wants its privilege-separation directory.
        std::fs::create_dir_all("/run/sshd").expect("/run/sshd");
        let mut server = Command::new("timeout")
            .args([
                "900",
                "/usr/sbin/sshd",
                "-D",
                "-e",
                "-f",
                &path("sshd_config"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sshd");
        std::thread::spawn(move || server.wait());
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "sshd never listened on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        let alias = format!("gorae-test-{pid}");
        std::fs::write(
            alias_file(pid),
            format!(
                "Host {alias}\n  HostName 127.0.0.1\n  Port {port}\n  User root\n  IdentityFile {}\n\
                 \x20 IdentitiesOnly yes\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n",
                path("client_key"),
            ),
        )
        .unwrap_or_else(|e| panic!("cannot write {}: {e} (the test needs root)", alias_file(pid).display()));
        Sshd { alias }
    }
}

fn alias_file(pid: u32) -> PathBuf {
    Path::new(CLIENT_CONFIG_DIR).join(format!("gorae-test-{pid}.conf"))
}

/// Removes the aliases of test processes that have ended.
fn remove_stale_aliases() {
    let Ok(entries) = std::fs::read_dir(CLIENT_CONFIG_DIR) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("gorae-test-")
            .and_then(|rest| rest.strip_suffix(".conf"))
        else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
