//! A small supervisor around the command of a service built from a template, so that
//! `up --watch` restarts the app process inside the running container (one exec)
//! instead of stopping and starting the container, which costs the engine a second
//! or more. The shell loop runs the app as its child; the restart command marks a
//! restart and stops the app, and the loop starts it again. Without the mark, the
//! app's exit ends the container with the app's exit code, as without the loop; a
//! stop signal (from `down`) stops the app and the loop.

/// Where the loop notes the app's process id, and the mark a restart leaves.
const PID_FILE: &str = "/tmp/.gorae-app.pid";
const MARK: &str = "/tmp/.gorae-restart";

/// The loop, run as `sh -c LOOP gorae-app COMMAND...`.
fn script() -> String {
    format!(
        "trap 'kill -TERM \"$app\" 2>/dev/null; wait \"$app\"; exit 143' TERM INT\n\
         while :; do\n  \
           \"$@\" &\n  \
           app=$!\n  \
           echo \"$app\" > {PID_FILE}\n  \
           wait \"$app\"; code=$?\n  \
           if [ -e {MARK} ]; then rm -f {MARK}; else exit \"$code\"; fi\n\
         done"
    )
}

/// `command` run under the loop.
pub fn wrap(command: &[String]) -> Vec<String> {
    let mut wrapped = vec![
        "sh".to_string(),
        "-c".to_string(),
        script(),
        "gorae-app".to_string(),
    ];
    wrapped.extend(command.iter().cloned());
    wrapped
}

/// Whether a container's command is [`wrap`]ped.
pub fn is_wrapped(command: &[String]) -> bool {
    command.len() > 4 && command[..4] == wrap(&[])[..]
}

/// Run in the container: marks the restart, stops the app and returns once it is
/// gone, so a readiness probe right after cannot reach the old process.
pub fn restart_command() -> Vec<String> {
    vec![
        "sh".to_string(),
        "-c".to_string(),
        format!(
            "app=$(cat {PID_FILE}) && touch {MARK} && kill -TERM \"$app\" && \
             while kill -0 \"$app\" 2>/dev/null; do sleep 0.01; done"
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_command_is_recognised_and_keeps_its_arguments() {
        let command = vec!["node".to_string(), "server.js".to_string()];
        let wrapped = wrap(&command);
        assert!(is_wrapped(&wrapped));
        assert!(!is_wrapped(&command));
        assert_eq!(wrapped[4..], command[..]);
    }
}
