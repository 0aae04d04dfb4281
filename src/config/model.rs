//! The validated project model: what `gorae.yaml` means once every check passed.
//!
//! Everything here is plain data with no positions and no I/O; the plan is computed
//! from it. Paths are absolute, image names already carry the image prefix, and
//! template defaults are merged in, so later stages never look at templates again.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

/// A whole project: one `gorae.yaml` and the services it declares.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Project {
    /// Project name: `name:` or the directory's name, sanitised to `[a-z0-9][a-z0-9_-]*`.
    pub name: String,
    /// Absolute directory holding the project file; relative paths resolve against it.
    pub dir: PathBuf,
    /// Absolute path of the project file itself.
    pub file: PathBuf,
    /// Prefix put before unqualified image names (`GORAE_IMAGE_PREFIX` or `image_prefix:`), if any.
    pub image_prefix: Option<String>,
    /// Services by name, sorted so every derived output is stable. Services of a
    /// profile that is not active are here too (see [`Project::is_active`]).
    pub services: BTreeMap<String, Service>,
    /// The active profiles (`--profile`, else `GORAE_PROFILES`), in the order given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    /// The project variables set in `.env` files or the process environment, with
    /// where each value came from (for `gorae env --explain`).
    #[serde(skip)]
    pub variables: super::variables::Variables,
}

impl Project {
    /// Whether `service` starts with a plain `up`: it has no profile, or one of its
    /// profiles is active. (What an active service depends on starts too.)
    pub fn is_active(&self, service: &Service) -> bool {
        service.profiles.is_empty() || service.profiles.iter().any(|p| self.profiles.contains(p))
    }
}

/// One service (or one-shot task) of the project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    pub name: String,
    pub kind: ServiceKind,
    /// Where the image comes from.
    pub image: ImageSource,
    /// Template the service was made from (`redis`, `node`, ...) and its revision.
    pub template: Option<TemplateRef>,
    /// Command overriding the image's default, if any.
    pub command: Option<Vec<String>>,
    /// Environment the user and the template set, after interpolation. Does not yet
    /// include the variables exported by dependencies: the plan adds those.
    pub env: BTreeMap<String, String>,
    /// Names of variables in `env` whose values must never be printed.
    pub secret_env: Vec<String>,
    /// Variables whose value is read only when the container is made; `env` holds a
    /// placeholder for each (see [`super::env_secret`]).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub env_secrets: BTreeMap<String, super::env_secret::EnvSecret>,
    /// Every place that set each variable of `env`, lowest precedence first.
    #[serde(skip)]
    pub env_trail: BTreeMap<String, Vec<super::variables::Given>>,
    /// The profiles the service belongs to; empty: always active.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    pub ports: Vec<PortMapping>,
    pub volumes: Vec<Mount>,
    /// Services this one waits for (ready, or exited 0 for tasks). Sorted, unique.
    pub depends_on: Vec<String>,
    /// How gorae decides the service is ready; `None` means "ready once running".
    pub ready: Option<Probe>,
    /// How long `up` waits for readiness (or for a task to finish).
    pub ready_timeout: Duration,
    /// Directory inside the container kept in a named volume (`<project>_<service>_data`).
    pub data_dir: Option<String>,
    /// How `gorae snapshot` copies `data_dir`, when the template says.
    #[serde(skip)]
    pub snapshot: Option<Box<Snapshotting>>,
    /// What an empty data volume starts with (`seed:`), applied by the `up` that
    /// creates the volume.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<Box<Seed>>,
    /// Its data need not survive (`throwaway: true`, `up --throwaway`): the data
    /// directory is on tmpfs and the template's durability is off.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub throwaway: bool,
    /// The command the template runs in throw-away mode, when it has one.
    #[serde(skip)]
    pub throwaway_command: Option<Vec<String>>,
    /// The service's main container port, used for `{port}` in exports.
    pub port: Option<u16>,
    /// Variables handed to dependents. Values may still contain `{host}` and `{port}`,
    /// filled in by [`Service::exported_env`].
    pub exports: BTreeMap<String, String>,
    /// For a task built from the project's code: paths in its build context (files
    /// or directories; names that do not exist count as absent) whose content, with
    /// the Dockerfile and the task's configuration, decides whether `up` runs it
    /// again. Empty for everything else, whose image decides.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
    /// `watch:` rules for `up --watch`, when written (built services only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watch: Option<Box<super::watch::WatchRules>>,
    /// Entrypoint, user, working directory, stop signal, extra hosts and platform,
    /// where they differ from the image's.
    #[serde(skip_serializing_if = "runs_as_the_image_says")]
    pub run: Box<RunOptions>,
}

/// What a snapshot of a service's data records and needs: which template made it,
/// at which version, and how its data is copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshotting {
    pub template: String,
    /// The service's version (`16`): a snapshot is restored only into the same major.
    pub version: String,
    pub method: super::template::SnapshotMethod,
    /// The data directory inside the container.
    pub data_dir: String,
}

/// Whether `run` changes nothing about how the image runs (serde's skip test; the
/// field is boxed, since most services leave it empty and a project may have
/// thousands).
fn runs_as_the_image_says(run: &RunOptions) -> bool {
    run.is_default()
}

/// Where a service's first data comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Seed {
    /// A SQL file of the project (absolute path), run once the service is ready by
    /// the template's `sql_seed` command with the file's path in the container added.
    Sql { path: PathBuf, command: Vec<String> },
    /// A snapshot of `.gorae/snapshots/`, unpacked before the service first starts.
    Snapshot { name: String },
    /// A `kind: task` service, run once the service is ready.
    Task { name: String },
}

impl Seed {
    /// How progress names it: `seed.sql`, `snapshot demo`, `task load`.
    pub fn describe(&self) -> String {
        match self {
            Seed::Sql { path, .. } => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            Seed::Snapshot { name } => format!("snapshot {name}"),
            Seed::Task { name } => format!("task {name}"),
        }
    }
}

/// Long-running service or one-shot task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceKind {
    /// Runs until stopped; dependents wait until it is ready.
    Service,
    /// Runs once; dependents wait until it exited 0.
    Task,
}

/// Which template a service came from, for labels and the lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateRef {
    pub name: String,
    /// Revision number declared in the template's metadata.
    pub revision: u32,
    /// `builtin` or `project` (from `.gorae/templates/`).
    pub origin: String,
}

/// Where a service's image comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageSource {
    /// An image used as it is, pulled when missing (prefix already applied).
    Pull { image: String },
    /// An image gorae builds from a context directory and a Dockerfile.
    Build {
        /// Absolute build context directory (inside the project).
        context: PathBuf,
        dockerfile: DockerfileSource,
        /// Target stage, build arguments and extra tag; left out while unset, so
        /// outputs made before these existed stay the same.
        #[serde(skip_serializing_if = "BuildOptions::is_default")]
        options: BuildOptions,
    },
}

/// What a build takes beyond its context and Dockerfile; the engine's requests use
/// the same type.
pub use crate::engine::BuildOptions;

/// The Dockerfile of a build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DockerfileSource {
    /// Rendered from an app template (its `FROM` already carries the image prefix).
    Rendered { text: String },
    /// The user's own Dockerfile; absolute path.
    File {
        path: PathBuf,
        /// The image prefix (`GORAE_IMAGE_PREFIX`, `image_prefix:`), put before the
        /// base images its `FROM` lines name as before every image gorae pulls, so
        /// that a mirror serves a project's own builds too.
        base_prefix: Option<String>,
    },
}

/// One published port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortMapping {
    /// Address on the host; `127.0.0.1` unless the user wrote one out.
    pub host_ip: String,
    pub host_port: u16,
    pub container_port: u16,
    pub protocol: Protocol,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

/// One mount into the container (a volume by the user's short name; the engine
/// volume is `<project>_<name>`). The engine's requests use the same type.
pub use crate::mount::Mount;

/// How the process runs beyond its command; the engine's requests use the same type.
pub use crate::engine::RunOptions;

/// A readiness probe, run by gorae from the client side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// A command run inside the container; ready when it exits 0.
    Command { command: Vec<String> },
    /// Ready when a TCP connection to this container port succeeds.
    Tcp { port: u16 },
    /// Ready when `GET path` on this container port answers 2xx/3xx.
    Http { port: u16, path: String },
    /// Ready when this container port answers the opening of `protocol`'s session
    /// (more than an open port: the server behind it speaks).
    Handshake { protocol: Handshake, port: u16 },
    /// Ready when the container has kept running this long since it started. A service
    /// with no probe and no published port gets [`DEFAULT_SETTLE`]: "it started" alone
    /// would call a program that crashes 100 ms later ready.
    Running { settle: Duration },
}

/// A protocol whose handshake a readiness probe checks from the client side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handshake {
    /// The server's greeting packet (protocol 10), sent only by a server that takes
    /// TCP clients; an error packet instead (too many connections, a host not
    /// allowed) is not ready.
    Mysql,
    /// AMQP 0-9-1: the server answers the protocol header with `Connection.Start`.
    Amqp,
    /// memcached's text protocol: `version` answers `VERSION ...`.
    Memcached,
}

impl Handshake {
    /// The probe's key in `ready:`.
    pub fn name(self) -> &'static str {
        match self {
            Handshake::Mysql => "mysql",
            Handshake::Amqp => "amqp",
            Handshake::Memcached => "memcached",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [Handshake::Mysql, Handshake::Amqp, Handshake::Memcached]
            .into_iter()
            .find(|h| h.name() == name)
    }
}

/// How long a service without a probe must keep running to count as ready.
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(1);

/// Written the way gorae.yaml spells it (`{ tcp: 3000 }`), not as a YAML tag.
impl Serialize for Probe {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            Probe::Command { command } => map.serialize_entry("command", command)?,
            Probe::Tcp { port } => map.serialize_entry("tcp", port)?,
            Probe::Handshake { protocol, port } => map.serialize_entry(protocol.name(), port)?,
            Probe::Running { settle } => {
                map.serialize_entry("running", &super::normalize::format_duration(*settle))?
            }
            Probe::Http { port, path } => {
                #[derive(Serialize)]
                struct Http<'a> {
                    port: u16,
                    path: &'a str,
                }
                map.serialize_entry("http", &Http { port: *port, path })?
            }
        }
        map.end()
    }
}

impl Service {
    /// Switches the service to throw-away mode when its template has one; returns
    /// whether it did. The service's own `command`, when it has one, is kept: the
    /// template's durability flags then are the user's to add.
    pub fn make_throwaway(&mut self) -> bool {
        let Some(command) = &self.throwaway_command else {
            return false;
        };
        if self.data_dir.is_none() {
            return false;
        }
        if self.command.is_none() {
            self.command = Some(command.clone());
        }
        self.throwaway = true;
        true
    }

    /// The variables this service hands to a dependent that reaches it at `host:port`.
    pub fn exported_env(&self, host: &str, port: u16) -> BTreeMap<String, String> {
        let port = port.to_string();
        self.exports
            .iter()
            .map(|(name, value)| {
                let value = value.replace("{host}", host).replace("{port}", &port);
                (name.clone(), value)
            })
            .collect()
    }

    /// The variables `dependency` hands this service along their edge: its exports,
    /// when it has a port to reach it on (on the project network, by its name), less
    /// those this service sets in its own `env`, whose value wins. `up` and
    /// `gorae graph` both wire by this rule.
    pub fn wired_from(&self, dependency: &Service) -> BTreeMap<String, String> {
        let Some(port) = dependency.port else {
            return BTreeMap::new();
        };
        let mut wired = dependency.exported_env(&dependency.name, port);
        wired.retain(|name, _| !self.env.contains_key(name));
        wired
    }
}
