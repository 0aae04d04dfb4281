//! Tools from PyPI for the tests, each installed once per machine into a venv under
//! the system's temp dir, keyed by package and version, so the real HOME stays
//! untouched: `check-jsonschema` for CI files, `kubernetes-validate` for manifests.

use std::path::{Path, PathBuf};

/// The executable `exe` of `package==version`, installed first when missing.
pub fn tool(package: &str, version: &str, exe: &str) -> PathBuf {
    super::check_schema::ensure_test_tools();
    let venv = std::env::temp_dir().join(format!("gorae-{package}-{version}"));
    let path = venv.join("bin").join(exe);
    if path.is_file() {
        return path;
    }
    // Several test processes may install at once; each in its own venv, moved
    // into place when ready (the loser's rename fails harmlessly).
    let staging = tempfile::Builder::new()
        .prefix(&format!("gorae-{package}-"))
        .tempdir_in(std::env::temp_dir())
        .expect("a temp dir for the venv")
        .keep();
    super::run_ok(
        Path::new("python3"),
        &["-m", "venv", &staging.display().to_string()],
    );
    super::run_ok(
        &staging.join("bin/python"),
        &[
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("{package}=={version}"),
        ],
    );
    // Scripts in a venv name their interpreter by path: a moved venv keeps working
    // only through `python -m`, so the staging venv stays where it is and the keyed
    // path becomes a link to it.
    let _ = std::os::unix::fs::symlink(&staging, &venv);
    assert!(path.is_file(), "{exe} missing at {}", path.display());
    path
}
