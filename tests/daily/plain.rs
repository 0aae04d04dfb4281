//! Output that is not on a terminal is plain text: no colour, no cursor movement,
//! whatever the command, even with `NO_COLOR` and `CI` unset.

use crate::support::{TestProject, ensure_stand_in_images, free_port, stderr, stdout};

#[test]
fn plain_mode_never_emits_escape_codes() {
    ensure_stand_in_images();
    let project = TestProject::new("plain");
    let yaml = project.services_yaml(&format!(
            "  cache:\n    template: redis\n    ports: [\"{}:6379\"]\n  app:\n    image: python:3.12\n    command: [\"sh\", \"-c\", \"echo started; exec sleep 600\"]\n    depends_on: [cache]\n",
            free_port()
        ),
    );
    let project = project.file("gorae.yaml", &yaml);
    // Each command with a piece of what it must print, so the test sees real
    // output (progress, tables, log lines) and not just silence.
    let commands: [(&[&str], &str); 9] = [
        (&["up"], "ready in"),
        (&["up"], "up to date"),
        (&["ps"], "cache"),
        (&["logs"], "app   | started"),
        (&["logs", "--timestamps", "--tail", "5"], "started"),
        (&["env"], "REDIS_URL"),
        (&["doctor"], "✓ engine"),
        (&["down"], "removed"),
        (&["up", "--ci"], "ready in"),
    ];
    for (args, expected) in commands {
        // The harness's command pipes both streams; without NO_COLOR and CI only
        // the missing terminal keeps the output plain.
        let out = project
            .command(args)
            .env_remove("NO_COLOR")
            .env_remove("CI")
            .output()
            .expect("run gorae");
        assert!(out.status.success(), "gorae {args:?}: {}", stderr(&out));
        let (stdout, stderr) = (stdout(&out), stderr(&out));
        assert!(
            stdout.contains(expected) || stderr.contains(expected),
            "gorae {args:?} did not print {expected:?}:\n{stdout}{stderr}"
        );
        for (stream, text) in [("stdout", stdout), ("stderr", stderr)] {
            assert!(
                !text.contains('\x1b'),
                "gorae {args:?} wrote an escape code to {stream}: {text:?}"
            );
        }
    }
}
