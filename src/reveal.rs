//! Reading the `env` secrets of gorae.yaml (`{ secret: { file | command } }`) when
//! containers are about to be made, and putting them in place of their placeholders
//! (see [`crate::config::env_secret`]). Each is read once per command, only for the
//! services it brings up, before anything is pulled, built or started; a secret that
//! cannot be read stops the command there (exit 3).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use crate::config::env_secret::{EnvSecret, placeholder};
use crate::config::{Project, show_relative};
use crate::exit::ExitCode;
use crate::plan::Plan;
use crate::secret::Secret;

/// The variable that bounds how long a secret command may take, in seconds.
pub const TIMEOUT_VAR: &str = "GORAE_SECRET_TIMEOUT";
/// How long a secret command may take unless [`TIMEOUT_VAR`] says otherwise: long
/// enough for a password manager to unlock, short enough that a command waiting for
/// input it will never get does not hang `up`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// At most this much of a failed command's stderr is shown.
const MAX_STDERR: usize = 2000;

/// Why a secret could not be read. The value itself is in none of them.
#[derive(Debug, thiserror::Error)]
pub enum RevealError {
    #[error("cannot read {what} for `{name}` of service `{service}`: {reason}\n  hint: {hint}")]
    Failed {
        service: String,
        name: String,
        what: String,
        reason: String,
        hint: String,
    },
}

impl RevealError {
    /// A secret gorae.yaml names and cannot be read is a configuration error.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::Config
    }
}

/// The values read, by placeholder.
#[derive(Debug, Default)]
pub struct Revealed(BTreeMap<String, Secret>);

impl Revealed {
    /// Replaces every placeholder in the containers' variables with its value.
    pub fn fill(&self, plan: &mut Plan) {
        if self.0.is_empty() {
            return;
        }
        for service in &mut plan.services {
            for value in service.spec.env.values_mut() {
                *value = self.fill_text(value);
            }
        }
    }

    /// `text` with every placeholder whose secret was read replaced by its value.
    pub fn fill_text(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (mark, secret) in &self.0 {
            if text.contains(mark.as_str()) {
                text = text.replace(mark.as_str(), secret.expose());
            }
        }
        text
    }
}

/// Reads the secrets of `services` (names; their dependencies are among them).
pub async fn reveal(
    project: &Project,
    services: &BTreeSet<String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Revealed, RevealError> {
    let timeout = env(TIMEOUT_VAR)
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|&s| s > 0)
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs);
    let mut revealed = BTreeMap::new();
    for service in project.services.values() {
        if !services.contains(&service.name) {
            continue;
        }
        for (name, secret) in &service.env_secrets {
            let fail = |what: String, reason: String, hint: &str| RevealError::Failed {
                service: service.name.clone(),
                name: name.clone(),
                what,
                reason,
                hint: hint.to_string(),
            };
            let value = match secret {
                EnvSecret::File { path } => {
                    read_file(path, &project.dir).map_err(|(reason, hint)| {
                        fail(
                            format!("secret file {}", show_relative(path, &project.dir)),
                            reason,
                            hint,
                        )
                    })?
                }
                EnvSecret::Command { command } => run_command(command, &project.dir, timeout)
                    .await
                    .map_err(|(reason, hint)| {
                        fail(
                            format!("secret command `{}`", command.join(" ")),
                            reason,
                            hint,
                        )
                    })?,
            };
            revealed.insert(placeholder(&service.name, name), Secret::new(value));
        }
    }
    Ok(Revealed(revealed))
}

/// A value as files and commands give it: one final line break is not part of it.
fn trim_line_break(mut text: String) -> String {
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    text
}

/// Why a value is refused, whatever it came from; `None` when it is fine.
fn refuse(value: &str) -> Option<(String, &'static str)> {
    value.contains('\0').then(|| {
        (
            "the value holds a NUL byte, which no environment variable can".to_string(),
            "a secret in an environment variable is text; mount a binary one with `secrets:` instead",
        )
    })
}

fn read_file(path: &Path, project_dir: &Path) -> Result<String, (String, &'static str)> {
    let shown = show_relative(path, project_dir);
    let bytes = match crate::config::read_limited(path) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return Err((
                "it is larger than 4 MiB".into(),
                "an environment variable holds a short value; name the right file",
            ));
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err((
                format!("{shown} does not exist"),
                "create it (and keep it out of git), or fix the path; it is relative to the directory of gorae.yaml",
            ));
        }
        Err(error) if error.kind() == std::io::ErrorKind::IsADirectory || path.is_dir() => {
            return Err((
                format!("{shown} is a directory"),
                "name the file that holds the value",
            ));
        }
        Err(error) => {
            return Err((
                error.to_string(),
                "check the file's permissions: gorae reads it as you",
            ));
        }
    };
    as_value(bytes, "it is not UTF-8 text")
}

/// What a file holds or a command printed, as a variable's value: UTF-8 text less
/// one final line break, and nothing the engine would refuse.
fn as_value(bytes: Vec<u8>, not_text: &str) -> Result<String, (String, &'static str)> {
    let text = String::from_utf8(bytes).map_err(|_| {
        (
            not_text.to_string(),
            "an environment variable holds text; mount a binary secret with `secrets:` instead",
        )
    })?;
    let value = trim_line_break(text);
    match refuse(&value) {
        Some(refused) => Err(refused),
        None => Ok(value),
    }
}

async fn run_command(
    command: &[String],
    dir: &Path,
    timeout: Duration,
) -> Result<String, (String, &'static str)> {
    let Some((program, args)) = command.split_first() else {
        return Err(("the command is empty".into(), "name a program to run"));
    };
    let child = tokio::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        // A prompt on stdin would wait for the timeout: there is no one typing.
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| {
            let hint = if error.kind() == std::io::ErrorKind::NotFound {
                "install it, or check that it is on PATH"
            } else {
                "check that the program can be run"
            };
            (format!("cannot run `{program}`: {error}"), hint)
        })?;
    let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(error)) => return Err((error.to_string(), "check that the program can be run")),
        // Dropping the future kills the command.
        Err(_) => {
            return Err((
                format!(
                    "it did not finish within {}s and was stopped",
                    timeout.as_secs()
                ),
                "run it by hand to see what it waits for (a password manager may need unlocking first); GORAE_SECRET_TIMEOUT=SECONDS allows longer",
            ));
        }
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stderr = stderr.trim();
        let mut shown: String = stderr.chars().take(MAX_STDERR).collect();
        if shown.len() < stderr.len() {
            shown.push('…');
        }
        let status = match output.status.code() {
            Some(code) => format!("it exited with {code}"),
            None => "it was stopped by a signal".to_string(),
        };
        let reason = if shown.is_empty() {
            status
        } else {
            format!("{status}:\n    {}", shown.replace('\n', "\n    "))
        };
        return Err((
            reason,
            "run the command by hand to see why; `up` starts nothing until it prints the value",
        ));
    }
    as_value(output.stdout, "it printed something that is not UTF-8 text")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(command: &[&str], timeout: Duration) -> Result<String, (String, &'static str)> {
        let command: Vec<String> = command.iter().map(|s| s.to_string()).collect();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(run_command(&command, Path::new("/"), timeout))
    }

    #[test]
    fn a_command_gives_its_stdout_less_one_line_break() {
        let value = run(&["printf", "s3cret\\n\\n"], DEFAULT_TIMEOUT).expect("value");
        assert_eq!(value, "s3cret\n");
    }

    #[test]
    fn a_failing_command_is_reported_with_its_stderr() {
        let (reason, _) = run(
            &["sh", "-c", "echo vault is locked >&2; exit 4"],
            DEFAULT_TIMEOUT,
        )
        .unwrap_err();
        assert!(reason.contains("exited with 4"), "{reason}");
        assert!(reason.contains("vault is locked"), "{reason}");
        let (reason, hint) = run(&["no-such-program-gorae"], DEFAULT_TIMEOUT).unwrap_err();
        assert!(reason.contains("cannot run"), "{reason}");
        assert!(hint.contains("PATH"), "{hint}");
    }

    #[test]
    fn a_hanging_command_is_stopped_at_the_timeout() {
        let started = std::time::Instant::now();
        let (reason, hint) = run(&["sleep", "30"], Duration::from_millis(300)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(reason.contains("did not finish"), "{reason}");
        assert!(hint.contains(TIMEOUT_VAR), "{hint}");
    }

    #[test]
    fn a_file_gives_its_content_and_a_directory_or_missing_file_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("pw"), "hunter2\r\n").expect("write");
        assert_eq!(
            read_file(&dir.path().join("pw"), dir.path()).unwrap(),
            "hunter2"
        );
        let (reason, _) = read_file(&dir.path().join("missing"), dir.path()).unwrap_err();
        assert!(reason.contains("does not exist"), "{reason}");
        let (reason, _) = read_file(dir.path(), dir.path()).unwrap_err();
        assert!(reason.contains("is a directory"), "{reason}");
    }
}
