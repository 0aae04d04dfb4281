//! Running the built `gorae` the same way everywhere: a clean environment (no `CI`,
//! no image prefix from the developer's shell), a fixed width and no colour, so
//! output is stable enough to snapshot.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `gorae ARGS` in `dir`.
pub fn gorae(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gorae"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .env("HOME", dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run gorae {args:?}: {e}"))
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The exit code, asserting the process was not killed by a signal.
pub fn code(output: &Output) -> i32 {
    output
        .status
        .code()
        .unwrap_or_else(|| panic!("gorae was killed: {}", stderr(output)))
}

/// The repository's root, where `examples/` and `tests/fixtures/` are.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies the directory `from` to `to`, leaving out files named in `except`.
pub fn copy_dir(from: &Path, to: &Path, except: &[&str]) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if except.iter().any(|e| name == *e) {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target, except);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// An insta filter pattern matching `path` literally.
pub fn literal(path: &Path) -> String {
    path.display()
        .to_string()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '/' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}
