//! CLI tests for the commands that need no engine: `init`, `schema`, `completions`,
//! `ci`, `graph` and every command's `--help`. Each runs the built binary in a temporary
//! directory and pins what it writes with insta snapshots.

mod ci;
mod completions;
mod graph;
mod help;
mod init;
mod run;
mod schema;
