//! `gorae completions SHELL`: a completion script generated from the same clap
//! definitions as the parser, so it never falls behind the commands.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::exit::ExitCode;

pub fn run(args: &CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "gorae", &mut script);
    super::print_stdout(&String::from_utf8_lossy(&script))?;
    Ok(ExitCode::Success)
}
