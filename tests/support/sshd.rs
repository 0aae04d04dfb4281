//! An ssh server for the tests that reach the engine over `ssh://`: Debian's sshd
//! (scripts/install-sshd.sh) with a host key and a client key of its own, run for
//! at most a quarter of an hour so it never outlives the tests. The ssh client
//! takes its settings from the system (it ignores HOME), so the host alias
//! `gorae-test-<pid>[-name]` goes in /etc/ssh/ssh_config.d, one file per alias;
//! files of processes that have ended are removed.
//!
//! [`FarMachine`] makes the engine truly another machine's: gorae runs in a network
//! namespace of its own that reaches only this sshd, so neither the containers'
//! addresses nor ports published on 127.0.0.1 can be reached from it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Where the ssh client reads the alias from.
const CLIENT_CONFIG_DIR: &str = "/etc/ssh/ssh_config.d";

/// The running server and the alias that reaches it.
pub struct Sshd {
    alias: String,
    server: Option<Child>,
    dir: PathBuf,
    address: String,
    port: u16,
}

impl Sshd {
    /// The process-wide server on 127.0.0.1, started on first use.
    pub fn shared() -> &'static Sshd {
        static SHARED: OnceLock<Sshd> = OnceLock::new();
        SHARED.get_or_init(|| {
            let mut sshd = Sshd::start("127.0.0.1", "");
            // It serves until the test process ends (or its timeout).
            let mut server = sshd.server.take().expect("a server");
            std::thread::spawn(move || server.wait());
            sshd
        })
    }

    /// `DOCKER_HOST` for gorae: the engine of this machine, through ssh.
    pub fn docker_host(&self) -> String {
        format!("ssh://{}", self.alias)
    }

    /// A server listening on `address`, reached as `gorae-test-<pid><suffix>`.
    fn start(address: &str, suffix: &str) -> Sshd {
        super::run_script("install-sshd.sh", &[]);
        remove_stale_aliases();
        let pid = std::process::id();
        let alias = format!("gorae-test-{pid}{suffix}");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("sshd-{pid}{suffix}"));
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
                "Port {port}\nListenAddress {address}\nHostKey {}\nAuthorizedKeysFile {}\n\
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
        let server = Command::new("timeout")
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
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect((address, port)).is_err() {
            assert!(Instant::now() < deadline, "sshd never listened on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::fs::write(
            alias_file(&alias),
            format!(
                "Host {alias}\n  HostName {address}\n  Port {port}\n  User root\n  IdentityFile {}\n\
                 \x20 IdentitiesOnly yes\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n",
                path("client_key"),
            ),
        )
        .unwrap_or_else(|e| panic!("cannot write {}: {e} (the test needs root)", alias_file(&alias).display()));
        Sshd {
            alias,
            server: Some(server),
            dir,
            address: address.to_string(),
            port,
        }
    }

    /// `DOCKER_HOST` for the same server, logging in with a key it does not know.
    pub fn docker_host_with_unknown_key(&self) -> String {
        let key = self.dir.join("unknown_key");
        if !key.exists() {
            super::run_ok(
                Path::new("ssh-keygen"),
                &[
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-f",
                    &key.display().to_string(),
                ],
            );
        }
        let alias = format!("{}-unknown-key", self.alias);
        std::fs::write(
            alias_file(&alias),
            format!(
                "Host {alias}\n  HostName {}\n  Port {}\n  User root\n  IdentityFile {}\n\
                 \x20 IdentitiesOnly yes\n  BatchMode yes\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n",
                self.address,
                self.port,
                key.display(),
            ),
        )
        .expect("write the alias");
        format!("ssh://{alias}")
    }
}

fn alias_file(alias: &str) -> PathBuf {
    Path::new(CLIENT_CONFIG_DIR).join(format!("{alias}.conf"))
}

/// gorae's side of a two-machine setup: a network namespace joined to this one by a
/// veth pair, with an sshd listening on this side's end. Dropped, the sshd stops and
/// the namespace, the pair and the alias go.
pub struct FarMachine {
    namespace: String,
    sshd: Sshd,
}

impl FarMachine {
    pub fn start() -> FarMachine {
        remove_stale_namespaces();
        let pid = std::process::id();
        let namespace = format!("gorae-test-{pid}");
        // A /30 of its own per test process, away from the engine's pools.
        let (third, fourth) = (pid % 256, (pid / 256 % 64) * 4);
        let here = format!("10.250.{third}.{}", fourth + 1);
        let there = format!("10.250.{third}.{}", fourth + 2);
        let (veth_here, veth_there) = (format!("gt{pid}a"), format!("gt{pid}b"));
        let ip = |args: &[&str]| {
            super::run_ok(Path::new("ip"), args);
        };
        ip(&["netns", "add", &namespace]);
        ip(&[
            "link",
            "add",
            &veth_here,
            "type",
            "veth",
            "peer",
            "name",
            &veth_there,
        ]);
        ip(&["link", "set", &veth_there, "netns", &namespace]);
        ip(&["addr", "add", &format!("{here}/30"), "dev", &veth_here]);
        ip(&["link", "set", &veth_here, "up"]);
        let inside = |args: &[&str]| {
            let mut all = vec!["netns", "exec", &namespace, "ip"];
            all.extend_from_slice(args);
            ip(&all);
        };
        inside(&["addr", "add", &format!("{there}/30"), "dev", &veth_there]);
        inside(&["link", "set", &veth_there, "up"]);
        inside(&["link", "set", "lo", "up"]);
        let sshd = Sshd::start(&here, "-far");
        FarMachine { namespace, sshd }
    }

    /// `DOCKER_HOST` for a gorae run inside the namespace.
    pub fn docker_host(&self) -> String {
        self.sshd.docker_host()
    }

    /// `command` run inside the namespace instead: `ip netns exec NS program args`,
    /// with the same environment and directory.
    pub fn wrap(&self, command: &Command) -> Command {
        let mut wrapped = Command::new("ip");
        wrapped
            .args(["netns", "exec", &self.namespace])
            .arg(command.get_program())
            .args(command.get_args());
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => wrapped.env(key, value),
                None => wrapped.env_remove(key),
            };
        }
        if let Some(dir) = command.get_current_dir() {
            wrapped.current_dir(dir);
        }
        wrapped
    }
}

impl Drop for FarMachine {
    fn drop(&mut self) {
        if let Some(mut server) = self.sshd.server.take() {
            // SIGTERM, which `timeout` passes on to sshd (a SIGKILL would orphan it).
            let _ = Command::new("kill").arg(server.id().to_string()).status();
            let _ = server.wait();
        }
        let _ = std::fs::remove_file(alias_file(&self.sshd.alias));
        // Deleting the namespace deletes the veth pair with it.
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.namespace])
            .status();
    }
}

/// Removes the namespaces of test processes that have ended.
fn remove_stale_namespaces() {
    let Ok(entries) = std::fs::read_dir("/run/netns") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("gorae-test-") else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let _ = Command::new("ip").args(["netns", "delete", &name]).status();
        }
    }
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
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
