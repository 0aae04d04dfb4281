//! `gorae completions SHELL` prints a script that knows gorae's commands.

use crate::run::{code, gorae, repo, stdout};

#[test]
fn completion_scripts_name_the_subcommands() {
    for shell in ["bash", "zsh", "fish"] {
        let output = gorae(&repo(), &["completions", shell]);
        assert_eq!(code(&output), 0, "{shell}");
        let script = stdout(&output);
        for command in [
            "up",
            "down",
            "init",
            "schema",
            "completions",
            "ci",
            "graph",
            "plan",
        ] {
            assert!(script.contains(command), "{shell} script lacks `{command}`");
        }
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let output = gorae(&repo(), &["completions", "tcsh"]);
    assert_eq!(code(&output), 2);
}
