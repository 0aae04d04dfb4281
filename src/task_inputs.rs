//! What a task built from the project's code depends on, so that `up` runs it again
//! when that changes and not on every edit of the app that shares its build.
//!
//! A task's inputs are its configuration (command, env, wiring, mounts: the container
//! spec without the image tag), the Dockerfile's text (which names the base image and
//! its version), and the content of the paths in [`crate::config::Service::inputs`]:
//! by default the template's dependency manifests and the files its command names,
//! or the `inputs:` written in gorae.yaml. Any other file of the build context may
//! change without the task running again; `gorae run TASK` runs it on demand.

use std::path::Path;

use sha2::{Digest, Sha256};
use walkdir::WalkDir;

use crate::config::ServiceKind;
use crate::dockerfile::dockerfile_text;
use crate::hash::hex;
use crate::plan::{BuildPlan, ImagePlan, ServicePlan};

/// The digest of a task's inputs, or `None` when the service is not a task built
/// from the project (its image decides re-creation). An unreadable input is an error.
pub fn digest(service: &ServicePlan) -> Option<Result<String, String>> {
    let ImagePlan::Build(BuildPlan {
        context,
        dockerfile,
        ..
    }) = &service.image
    else {
        return None;
    };
    if service.kind != ServiceKind::Task {
        return None;
    }
    Some(dockerfile_text(dockerfile).and_then(|text| digest_of(context, &text, &service.inputs)))
}

/// Hashes the Dockerfile text and each input path's files (relative path, mode and
/// content, in path order). A path that does not exist counts as absent, so creating
/// it later runs the task again.
pub fn digest_of(context: &Path, dockerfile: &str, inputs: &[String]) -> Result<String, String> {
    let mut hasher = Sha256::new();
    hasher.update(b"gorae-task-inputs-1\0");
    hasher.update(dockerfile.as_bytes());
    hasher.update(b"\0");
    for input in inputs {
        hasher.update(input.as_bytes());
        hasher.update(b"\0");
        let root = context.join(input);
        if root.symlink_metadata().is_err() {
            hasher.update(b"absent\0");
            continue;
        }
        let mut files: Vec<(String, u32, Vec<u8>)> = Vec::new();
        for entry in WalkDir::new(&root).sort_by_file_name() {
            let entry = entry.map_err(|err| format!("cannot read input `{input}`: {err}"))?;
            if !entry.file_type().is_file() {
                continue;
            }
            let content = std::fs::read(entry.path())
                .map_err(|err| format!("cannot read {}: {err}", entry.path().display()))?;
            let metadata = entry
                .metadata()
                .map_err(|err| format!("cannot read {}: {err}", entry.path().display()))?;
            let rel = entry
                .path()
                .strip_prefix(context)
                .unwrap_or(entry.path())
                .to_string_lossy()
                .into_owned();
            files.push((rel, mode(&metadata), content));
        }
        for (rel, mode, content) in files {
            hasher.update(rel.as_bytes());
            hasher.update(mode.to_le_bytes());
            hasher.update(Sha256::digest(&content));
        }
    }
    Ok(hex(&hasher.finalize()))
}

#[cfg(unix)]
fn mode(metadata: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode(_: &std::fs::Metadata) -> u32 {
    0o644
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Only the listed paths, the Dockerfile and nothing else move the digest.
    #[test]
    fn only_inputs_and_the_dockerfile_change_the_digest() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "migrate.js", "v1");
        write(root, "migrations/001.sql", "create table a();");
        write(root, "server.js", "app v1");
        let inputs = vec!["migrate.js".to_string(), "migrations".to_string()];
        let digest = || digest_of(root, "FROM node:20", &inputs).unwrap();
        let first = digest();

        write(root, "server.js", "app v2");
        assert_eq!(first, digest(), "an edit of the app is not an input");

        let cases: [(&str, &str); 3] = [
            ("migrate.js", "v2"),
            ("migrations/001.sql", "create table b();"),
            ("migrations/002.sql", "new"),
        ];
        let mut seen = vec![first];
        for (path, text) in cases {
            write(root, path, text);
            let now = digest();
            assert!(
                !seen.contains(&now),
                "{path} changed but the digest did not"
            );
            seen.push(now);
        }
        let other_base = digest_of(root, "FROM node:22", &inputs).unwrap();
        assert!(!seen.contains(&other_base));
    }

    #[test]
    fn a_missing_input_counts_as_absent_until_it_appears() {
        let dir = tempfile::tempdir().unwrap();
        let inputs = vec!["seed.js".to_string()];
        let absent = digest_of(dir.path(), "", &inputs).unwrap();
        assert_eq!(absent, digest_of(dir.path(), "", &inputs).unwrap());
        write(dir.path(), "seed.js", "x");
        assert_ne!(absent, digest_of(dir.path(), "", &inputs).unwrap());
    }
}
