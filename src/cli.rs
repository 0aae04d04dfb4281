//! The command line: clap definitions only. Doc comments are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Reproduce this project's development environment from gorae.yaml.
#[derive(Debug, Parser)]
#[command(
    name = "gorae",
    version,
    after_help = "Example:\n  gorae up        # build, start and wait until every service is ready\n  gorae down      # stop and remove the containers (data volumes are kept)"
)]
pub struct Cli {
    /// Project file to use instead of gorae.yaml in this directory or its parents.
    /// Given before the command (`gorae -f FILE up`), as `-f` after it means `--follow`.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Show the build's own output and more detail.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Also start the services of this profile (`profiles: [NAME]` in gorae.yaml);
    /// repeat it or separate names with commas. Replaces GORAE_PROFILES.
    #[arg(
        long = "profile",
        global = true,
        value_name = "NAME",
        value_delimiter = ','
    )]
    pub profiles: Vec<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build what must be built, start every service in dependency order and wait
    /// until each is ready. Given services, only those and what they depend on.
    #[command(
        after_help = "Example:\n  gorae up --ci --timeout 120\n  gorae up web     # web and what it depends on; nothing else is touched\n  gorae up --watch # then apply every saved change until Ctrl-C"
    )]
    Up(UpArgs),
    /// Show what `gorae up` would do now, and why, changing nothing: for each
    /// service, pull or build, then keep, start, create or recreate (naming what
    /// changed); and what would be removed.
    #[command(
        after_help = "Example:\n  gorae plan\n  gorae plan --docker   # the same as docker CLI commands\n  gorae up --dry-run    # the same as `gorae plan`"
    )]
    Plan(PlanArgs),
    /// Stop services (all without names); their containers and data stay, and
    /// `gorae up` or `gorae restart` starts them again.
    #[command(after_help = "Example:\n  gorae stop web")]
    Stop(StopArgs),
    /// Stop services (all without names) and start them again, waiting until they
    /// are ready; a task named here runs again.
    #[command(after_help = "Example:\n  gorae restart web")]
    Restart(RestartArgs),
    /// Run a `kind: task` service (a migration, a seed) again now, after bringing up
    /// what it depends on; exits non-zero when the task fails.
    #[command(after_help = "Example:\n  gorae run migrate")]
    Run(RunArgs),
    /// Save, restore, list and remove snapshots of the stateful services' data
    /// (postgres, mysql, mariadb, redis, rabbitmq), kept under .gorae/snapshots/ to share with the team.
    #[command(
        after_help = "Example:\n  gorae snapshot save before-migration\n  gorae snapshot restore before-migration db\n  gorae snapshot ls"
    )]
    Snapshot(SnapshotArgs),
    /// Stop and remove this project's containers and network; data volumes are kept.
    #[command(after_help = "Example:\n  gorae down --volumes   # also delete the data")]
    Down(DownArgs),
    /// List the project's services with their state, readiness and ports.
    #[command(after_help = "Example:\n  gorae ps --json")]
    Ps(PsArgs),
    /// Validate gorae.yaml and print it resolved, secrets masked. Needs no engine.
    #[command(after_help = "Example:\n  gorae config --json")]
    Config(ConfigArgs),
    /// Draw the services and the variables each dependency wires in, as Mermaid
    /// (GitHub renders it) or DOT. Needs no engine.
    ///
    /// Each box is a service with what it runs. Arrows point from a service to those
    /// that depend on it (the order `up` starts them in, the way the variables flow),
    /// labelled with the names of the variables handed over, never their values. A
    /// variable a service sets in its own `env` is left out: its value wins over the
    /// dependency's.
    #[command(
        after_help = "Example:\n  gorae graph > services.mmd   # in a ```mermaid block of a Markdown file\n  gorae graph --format dot | dot -Tsvg > services.svg"
    )]
    Graph(GraphArgs),
    /// Write the environment for another tool: `compose`, a Compose file for `docker
    /// compose up --wait`, `swarm`, one for `docker stack deploy` (it names the images
    /// `gorae up` built, so it asks the engine), or `kubernetes`, manifests for a
    /// cluster.
    ///
    /// The same images (by gorae.lock's digests when there is a lock), variables,
    /// volumes, and the readiness probes, with dependents waiting on them. What the
    /// other tool cannot take from gorae.yaml is listed in `# not exported:` lines.
    #[command(
        after_help = "Example:\n  gorae export compose > compose.yaml && docker compose up --wait\n  gorae export swarm > stack.yaml && docker stack deploy -c stack.yaml --resolve-image never dev\n  gorae export kubernetes --format kustomize --output k8s && kubectl apply -k k8s"
    )]
    Export(ExportArgs),
    /// Write gorae.lock: the digest of every image the project uses.
    #[command(
        after_help = "Example:\n  gorae lock --check   # in CI: fail when gorae.lock is stale"
    )]
    Lock(LockArgs),
    /// Run a command in a running service, or a shell when no command is given.
    /// On a terminal the command gets a TTY; its exit code is passed through.
    #[command(
        after_help = "Example:\n  gorae exec db -- psql -U postgres\n  gorae exec web          # a shell: bash if the image has it, else sh"
    )]
    Exec(ExecArgs),
    /// Show the services' logs, interleaved by time.
    #[command(after_help = "Example:\n  gorae logs web -f --tail 50")]
    Logs(LogsArgs),
    /// Print the connection variables (DATABASE_URL, REDIS_URL, ...) for programs on
    /// this machine, pointing at the services' published ports. Secrets included:
    /// the output is meant for `eval` or a .env file.
    #[command(
        after_help = "Example:\n  eval \"$(gorae env)\" && npm start   # the app on the host, the services in containers"
    )]
    Env(EnvArgs),
    /// On an engine at DOCKER_HOST=ssh://…: make the services' published ports,
    /// open on the engine's machine, reachable at the same ports on this machine's
    /// 127.0.0.1, through gorae's ssh connection, until Ctrl-C.
    #[command(
        after_help = "Example:\n  gorae tunnel        # every running service's ports\n  gorae tunnel db     # only db's"
    )]
    Tunnel(TunnelArgs),
    /// Check everything `gorae up` needs: the engine and its API version, disk space,
    /// images, host ports, gorae.yaml and gorae.lock; each problem with a fix.
    #[command(after_help = "Example:\n  gorae doctor --json")]
    Doctor(DoctorArgs),
    /// Write a commented gorae.yaml for the project in this directory: detected from
    /// package.json and Python manifests, or imported from a compose file.
    #[command(after_help = "Example:\n  gorae init && gorae up")]
    Init(InitArgs),
    /// Print the JSON Schema of gorae.yaml, for editors' completion and checking.
    #[command(
        after_help = "Example:\n  gorae schema > gorae.schema.json   # then, first line of gorae.yaml:\n  # yaml-language-server: $schema=./gorae.schema.json"
    )]
    Schema,
    /// Print a shell completion script.
    #[command(
        after_help = "Example:\n  gorae completions bash > ~/.local/share/bash-completion/completions/gorae"
    )]
    Completions(CompletionsArgs),
    /// Write a CI file that starts the environment as gorae.lock pins it, runs the
    /// tests, shows the logs on failure and always cleans up.
    #[command(after_help = "Example:\n  gorae ci github --test-command \"npm test\"")]
    Ci(CiArgs),
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Services to bring up, with what they depend on (default: all).
    pub services: Vec<String>,
    /// Plain timestamped lines, no animation (also on when CI=true).
    #[arg(long)]
    pub ci: bool,
    /// One JSON event per line on stderr, for tools.
    #[arg(long)]
    pub json: bool,
    /// Give up when everything is not ready after this many seconds.
    // Bounded like `timeout:` in gorae.yaml (a day), so no deadline can overflow.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: Option<u64>,
    /// Refuse to run unless gorae.lock is fresh, and run exactly the images it names.
    #[arg(long)]
    pub frozen: bool,
    /// Then stay and apply every saved change: sync files into the running
    /// containers, restart or rebuild as needed (Ctrl-C stops watching only).
    #[arg(long)]
    pub watch: bool,
    /// With --watch: the services' new log lines on stdout, interleaved.
    #[arg(long, requires = "watch")]
    pub logs: bool,
    /// Print what `up` would do, and why, and change nothing (as `gorae plan`).
    #[arg(long, conflicts_with = "watch")]
    pub dry_run: bool,
    /// Delete this service's data and apply its `seed:` again; asks first on a
    /// terminal. Repeat it or separate names with commas.
    #[arg(
        long,
        value_name = "SERVICE",
        value_delimiter = ',',
        conflicts_with = "dry_run"
    )]
    pub reseed: Vec<String>,
    /// Run every stateful service that has a throw-away mode (postgres, redis) with
    /// its data in memory and durability off: fast, and gone when it stops. For CI
    /// and tests.
    #[arg(long)]
    pub throwaway: bool,
    /// With --reseed: delete the data without asking (needed when not at a terminal).
    #[arg(long, short = 'y', requires = "reseed")]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Services to plan, with what they depend on (default: all).
    pub services: Vec<String>,
    /// The decision as JSON on stdout, for scripts.
    #[arg(long, conflicts_with = "docker")]
    pub json: bool,
    /// The docker CLI commands that would do the same (secret values masked).
    #[arg(long)]
    pub docker: bool,
    /// As `up --frozen`: refuse to plan unless gorae.lock exists.
    #[arg(long)]
    pub frozen: bool,
}

#[derive(Debug, Args)]
pub struct TunnelArgs {
    /// Services whose ports to bring here (default: every running one).
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    /// Services to stop (default: all).
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RestartArgs {
    /// Services to restart (default: all).
    pub services: Vec<String>,
    /// Plain timestamped lines, no animation (also on when CI=true).
    #[arg(long)]
    pub ci: bool,
    /// Give up when the services are not ready after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The `kind: task` service to run.
    pub task: String,
    /// Plain timestamped lines, no animation (also on when CI=true).
    #[arg(long)]
    pub ci: bool,
    /// Give up when the task has not finished after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    #[command(subcommand)]
    pub action: SnapshotAction,
}

#[derive(Debug, Subcommand)]
pub enum SnapshotAction {
    /// Save the data of the stateful services (all, or those named) as snapshot
    /// NAME (default: the date and time). Running services are stopped for the copy
    /// and started again.
    #[command(
        after_help = "Example:\n  gorae snapshot save before-migration\n  gorae snapshot save db      # only db, named by the date and time"
    )]
    Save(SnapshotSaveArgs),
    /// Put the data of a snapshot back (every service in it, or those named) and
    /// wait until those services are ready. The snapshot's checksums and versions are
    /// checked before any data is touched.
    #[command(after_help = "Example:\n  gorae snapshot restore before-migration db")]
    Restore(SnapshotRestoreArgs),
    /// List the project's snapshots: when each was saved, its services and size.
    Ls,
    /// Delete a snapshot.
    Rm(SnapshotRmArgs),
}

#[derive(Debug, Args)]
pub struct SnapshotSaveArgs {
    /// The snapshot's name, then the services to save; a first word that names a
    /// service starts the list of services instead.
    #[arg(value_name = "NAME|SERVICE")]
    pub words: Vec<String>,
    /// Replace a snapshot of the same name.
    #[arg(long)]
    pub force: bool,
    /// Plain timestamped lines, no animation (also on when CI=true).
    #[arg(long)]
    pub ci: bool,
}

#[derive(Debug, Args)]
pub struct SnapshotRestoreArgs {
    /// The snapshot to restore.
    pub name: String,
    /// Services to restore (default: every service in the snapshot).
    pub services: Vec<String>,
    /// Plain timestamped lines, no animation (also on when CI=true).
    #[arg(long)]
    pub ci: bool,
    /// Give up when the services are not ready after this many seconds.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct SnapshotRmArgs {
    /// The snapshot to delete.
    pub name: String,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// Also delete the project's data volumes.
    #[arg(long)]
    pub volumes: bool,
}

#[derive(Debug, Args)]
pub struct PsArgs {
    /// Print JSON for scripts.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Print JSON instead of YAML.
    #[arg(long)]
    pub json: bool,
    /// Resolve everything through the engine (image digests, wired variables) and
    /// print a fingerprint that is equal on every machine running the same thing.
    #[arg(long)]
    pub resolved: bool,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// `mermaid` (a flowchart; GitHub draws it in a ```mermaid block) or `dot`
    /// (Graphviz).
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    pub format: GraphFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Mermaid,
    Dot,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to write: `compose` (a Compose file), `swarm` (a Compose file for
    /// `docker stack deploy`) or `kubernetes` (manifests).
    #[arg(value_enum)]
    pub to: ExportTo,
    /// For `kubernetes`: `yaml`, every manifest in one stream on stdout, or
    /// `kustomize`, a file per manifest and a kustomization.yaml in `--output`.
    #[arg(long, value_enum, default_value_t = KubernetesFormat::Yaml)]
    pub format: KubernetesFormat,
    /// The directory `--format kustomize` writes to (made if missing).
    #[arg(long, value_name = "DIR")]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportTo {
    Compose,
    Swarm,
    Kubernetes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KubernetesFormat {
    Yaml,
    Kustomize,
}

#[derive(Debug, Args)]
pub struct LockArgs {
    /// Only check: exit non-zero and say what differs when gorae.lock no longer
    /// matches gorae.yaml or a locked tag has moved in its registry.
    #[arg(long, conflicts_with = "update")]
    pub check: bool,
    /// Lock what the tags name now, pulling them again: every service's entries, or
    /// only those of the services named.
    #[arg(long, value_name = "SERVICE", num_args = 0..)]
    pub update: Option<Vec<String>>,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The service to run the command in.
    pub service: String,
    /// The command and its arguments (after `--`); without one, a shell.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Services to show (default: all).
    pub services: Vec<String>,
    /// Keep printing new lines as they come.
    #[arg(short, long)]
    pub follow: bool,
    /// Lines to show from the end of each log.
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,
    /// Show the time of each line.
    #[arg(short, long)]
    pub timestamps: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Replace an existing gorae.yaml.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct CiArgs {
    /// The CI system: github writes .github/workflows/gorae.yml, gitlab writes
    /// .gitlab-ci.yml (at the root of the git repository).
    #[arg(value_enum)]
    pub system: CiSystem,
    /// The command that runs the tests once the environment is ready.
    #[arg(long, value_name = "CMD")]
    pub test_command: Option<String>,
    /// Where the tests run: inside a service's container (`gorae exec`; the default
    /// is the project's only built service), or `runner` (on the CI machine, with
    /// the app's toolchain set up and the variables of `gorae env`).
    #[arg(long, value_name = "SERVICE|runner")]
    pub test_in: Option<String>,
    /// CI installs gorae from this git repository (with --rev) instead of crates.io.
    #[arg(long, value_name = "URL", requires = "rev", conflicts_with = "archive")]
    pub git: Option<String>,
    /// The commit (or tag) of --git to install.
    #[arg(long, value_name = "REV", requires = "git")]
    pub rev: Option<String>,
    /// CI installs gorae from this .tar.gz holding the `gorae` binary (with --sha256).
    #[arg(long, value_name = "URL", requires = "sha256")]
    pub archive: Option<String>,
    /// The sha256 of --archive, checked before the binary is used.
    #[arg(long, value_name = "HEX", requires = "archive")]
    pub sha256: Option<String>,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CiSystem {
    Github,
    Gitlab,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    /// Services whose variables to print: what each is wired with (its
    /// dependencies' variables), or exports itself (default: every running service
    /// that exports some). With --explain: the variables to explain.
    #[arg(value_name = "SERVICE|VAR")]
    pub services: Vec<String>,
    /// For each variable (all without names): its value (secrets masked), where it
    /// came from (.env.local:3, process env, a template default, wired from a
    /// service...), what it overrode, and which services receive it. Needs no engine.
    #[arg(long, conflicts_with = "format")]
    pub explain: bool,
    /// How to print them: `shell` (export NAME='value'), `dotenv` or `json`.
    #[arg(long, value_enum, default_value_t = EnvFormat::Shell)]
    pub format: EnvFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EnvFormat {
    Shell,
    Dotenv,
    Json,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print JSON for scripts.
    #[arg(long)]
    pub json: bool,
}
