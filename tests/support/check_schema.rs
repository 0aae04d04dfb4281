//! Validates generated CI files against the official schemas with PyPI's
//! `check-jsonschema`, which vendors them (`vendor.github-workflows`,
//! `vendor.gitlab-ci`). Installed once per machine into a venv under the system's
//! temp dir, keyed by its version, so the real HOME stays untouched.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const VERSION: &str = "0.33.0";

/// Installs Python's venv, git and curl from Debian when missing
/// (`scripts/install-test-tools.sh`), once per test process.
pub fn ensure_test_tools() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install-test-tools.sh");
        let out = Command::new("bash")
            .arg(&script)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "{} failed:\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// The `check-jsonschema` executable, installed on first use.
fn executable() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        ensure_test_tools();
        let venv = std::env::temp_dir().join(format!("gorae-check-jsonschema-{VERSION}"));
        let exe = venv.join("bin/check-jsonschema");
        if exe.is_file() {
            return exe;
        }
        // Several test processes may install at once; each in its own venv, moved
        // into place when ready (the loser's rename fails harmlessly).
        let staging = tempfile::Builder::new()
            .prefix("gorae-check-jsonschema-")
            .tempdir_in(std::env::temp_dir())
            .expect("a temp dir for the venv")
            .keep();
        let run = |program: &Path, args: &[&str]| {
            let out = Command::new(program)
                .args(args)
                .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
                .output()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
            assert!(
                out.status.success(),
                "{} {} failed:\n{}",
                program.display(),
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(
            Path::new("python3"),
            &["-m", "venv", &staging.display().to_string()],
        );
        run(
            &staging.join("bin/python"),
            &[
                "-m",
                "pip",
                "install",
                "--quiet",
                &format!("check-jsonschema=={VERSION}"),
            ],
        );
        // Scripts in a venv name their interpreter by path: a moved venv keeps
        // working only through `python -m`, so the staging venv stays where it is
        // and the keyed path becomes a link to it.
        let _ = std::os::unix::fs::symlink(&staging, &venv);
        assert!(
            exe.is_file(),
            "check-jsonschema missing at {}",
            exe.display()
        );
        exe
    })
}

/// Asserts that `file` is valid under the vendored schema `schema`
/// (`vendor.github-workflows`, `vendor.gitlab-ci`).
pub fn assert_valid(schema: &str, file: &Path) {
    let out = Command::new(executable())
        .args(["--builtin-schema", schema])
        .arg(file)
        .output()
        .expect("run check-jsonschema");
    assert!(
        out.status.success(),
        "{} does not validate against {schema}:\n{}{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
