//! Validates generated CI files against the official schemas with PyPI's
//! `check-jsonschema`, which vendors them (`vendor.github-workflows`,
//! `vendor.gitlab-ci`), installed by [`super::pypi`].

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const VERSION: &str = "0.33.0";

/// Installs Python's venv, git and curl from Debian when missing
/// (`scripts/install-test-tools.sh`), once per test process.
pub fn ensure_test_tools() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        super::run_script("install-test-tools.sh", &[]);
    });
}

/// The `check-jsonschema` executable, installed on first use.
fn executable() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| super::pypi::tool("check-jsonschema", VERSION, "check-jsonschema"))
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
