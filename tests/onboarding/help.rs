//! `--help` of gorae and of every subcommand, pinned; each shows an example.

use clap::CommandFactory;

use crate::run::{code, gorae, repo, stdout};

fn subcommands() -> Vec<String> {
    gorae::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect()
}

#[test]
fn top_level_help_is_pinned() {
    let output = gorae(&repo(), &["--help"]);
    assert_eq!(code(&output), 0);
    insta::assert_snapshot!("help", stdout(&output));
}

#[test]
fn every_subcommand_help_is_pinned_and_has_an_example() {
    for name in subcommands() {
        let output = gorae(&repo(), &[&name, "--help"]);
        assert_eq!(code(&output), 0, "{name}");
        let help = stdout(&output);
        let example = help
            .split_once("\nExample:\n")
            .map(|(_, e)| e)
            .unwrap_or("");
        assert!(
            example.contains(&format!("gorae {name}")),
            "`gorae {name} --help` has no example of `gorae {name}`:\n{help}"
        );
        insta::assert_snapshot!(format!("help_{name}"), help);
    }
}
