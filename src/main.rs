//! The `gorae` binary: parse the command line, run the command, map the outcome to
//! an exit code. Everything else lives in the library.

use clap::Parser;

fn main() {
    let cli = gorae::cli::Cli::parse();
    let code = gorae::run(cli);
    std::process::exit(code);
}
