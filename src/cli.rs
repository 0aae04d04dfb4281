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

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build what must be built, start every service in dependency order and wait
    /// until each is ready.
    #[command(after_help = "Example:\n  gorae up --ci --timeout 120")]
    Up(UpArgs),
    /// Stop and remove this project's containers and network; data volumes are kept.
    #[command(after_help = "Example:\n  gorae down --volumes   # also delete the data")]
    Down(DownArgs),
    /// List the project's services with their state, readiness and ports.
    #[command(after_help = "Example:\n  gorae ps --json")]
    Ps(PsArgs),
    /// Validate gorae.yaml and print it resolved, secrets masked. Needs no engine.
    #[command(after_help = "Example:\n  gorae config --json")]
    Config(ConfigArgs),
    /// Run a command in a running service.
    #[command(after_help = "Example:\n  gorae exec db -- psql -U postgres")]
    Exec(ExecArgs),
    /// Show the services' logs, interleaved by time.
    #[command(after_help = "Example:\n  gorae logs web -f --tail 50")]
    Logs(LogsArgs),
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Plain timestamped lines, no animation (also on when CI=true).
    #[arg(long, env = "CI", value_parser = clap::builder::FalseyValueParser::new())]
    pub ci: bool,
    /// One JSON event per line on stderr, for tools.
    #[arg(long)]
    pub json: bool,
    /// Give up when everything is not ready after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
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
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The service to run the command in.
    pub service: String,
    /// The command and its arguments (after `--`).
    #[arg(last = true, required = true, value_name = "COMMAND")]
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
