//! gorae.lock: what every service's image resolved to, so that CI runs exactly the
//! images the developers ran.
//!
//! The file is JSON with sorted keys (small diffs) and a format version. It records,
//! per service, the template revision and the digest of each image the service
//! uses: its own image, or for built services the base images of its Dockerfile
//! (the built image follows from those and the files). References are stored
//! without the image prefix, so a mirror or the test stand-ins lock the same names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{ImageSource, Project, Service};
use crate::engine::ImageInfo;
use crate::images::{ImageError, Images, base_images, dockerfile_text};
use crate::plan::hex;

pub const LOCK_FILE: &str = "gorae.lock";
/// The format version this gorae writes and reads.
pub const LOCK_VERSION: u32 = 1;

/// The whole lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lockfile {
    pub version: u32,
    /// The gorae that wrote it.
    pub gorae: String,
    /// sha256 of gorae.yaml's text.
    pub project_file: String,
    pub services: BTreeMap<String, LockedService>,
}

/// One service's locked inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedService {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_revision: Option<u32>,
    /// Built by gorae; `images` then lists its base images.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub build: bool,
    /// Image reference (without prefix) -> digest (`sha256:...`).
    pub images: BTreeMap<String, String>,
}

/// Why the lock cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("no {LOCK_FILE} beside {project_file}\n  hint: run `gorae lock` and commit the file")]
    Missing { project_file: PathBuf },
    #[error("cannot read {path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error(
        "{path} has format version {found}, but this gorae reads version {LOCK_VERSION}\n  hint: {}",
        if *found > LOCK_VERSION { "upgrade gorae to the version that wrote it" } else { "run `gorae lock` to rewrite it" }
    )]
    UnsupportedVersion { path: PathBuf, found: u32 },
    #[error("{path} is stale:\n{}\n  hint: run `gorae lock` to update it, review the change and commit it", .differences.iter().map(|d| format!("  - {d}")).collect::<Vec<_>>().join("\n"))]
    Stale {
        path: PathBuf,
        differences: Vec<String>,
    },
}

/// Where a project's lock lives.
pub fn path_for(project: &Project) -> PathBuf {
    project.dir.join(LOCK_FILE)
}

/// Reads and checks the format of a lock file.
pub fn read(project: &Project) -> Result<Lockfile, LockError> {
    let path = path_for(project);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(LockError::Missing {
                project_file: project.file.clone(),
            });
        }
        Err(err) => {
            return Err(LockError::Unreadable {
                path,
                reason: err.to_string(),
            });
        }
    };
    parse(&text, &path)
}

/// Parses lock text; the version is checked before anything else so that a newer
/// format gets the right message instead of a field error.
pub fn parse(text: &str, path: &Path) -> Result<Lockfile, LockError> {
    #[derive(Deserialize)]
    struct VersionOnly {
        version: u32,
    }
    let unreadable = |err: serde_json::Error| LockError::Unreadable {
        path: path.to_path_buf(),
        reason: format!("{err} (the file is JSON written by `gorae lock`)"),
    };
    let version: VersionOnly = serde_json::from_str(text).map_err(unreadable)?;
    if version.version != LOCK_VERSION {
        return Err(LockError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: version.version,
        });
    }
    serde_json::from_str(text).map_err(unreadable)
}

/// The lock text: pretty JSON with sorted keys and a final newline.
pub fn render(lock: &Lockfile) -> String {
    // Plain data always serialises.
    let mut text = serde_json::to_string_pretty(lock).unwrap_or_default();
    text.push('\n');
    text
}

/// Fingerprint of the project file's text (line endings normalised, so a checkout
/// with CRLF locks the same).
pub fn file_fingerprint(text: &str) -> String {
    format!(
        "sha256:{}",
        hex(&Sha256::digest(text.replace("\r\n", "\n")))
    )
}

/// What the lock would say now, plus the local image behind each reference.
pub struct Resolved {
    pub lock: Lockfile,
    /// Prefixed reference -> the local image.
    pub images: BTreeMap<String, ImageInfo>,
}

/// Resolves every image the project uses into a lock, pulling missing ones: by
/// their locked digest when `locked` names one (so `--frozen` fetches exactly the
/// locked image even after the tag moved), otherwise by tag.
pub async fn resolve(
    project: &Project,
    images: &Images<'_>,
    locked: Option<&Lockfile>,
) -> Result<Resolved, ImageError> {
    let text = std::fs::read_to_string(&project.file).map_err(|err| ImageError::Context {
        service: String::new(),
        reason: format!("{}: {err}", project.file.display()),
    })?;
    let mut local = BTreeMap::new();
    let mut digests = BTreeMap::new();
    for (name, service) in &project.services {
        let (_, references) = references(service).map_err(|reason| ImageError::Context {
            service: name.clone(),
            reason,
        })?;
        for reference in references {
            let locked_digest = locked
                .and_then(|lock| lock.services.get(name))
                .and_then(|s| s.images.get(&unprefix(project, &reference)));
            let info = match (images.present(&reference).await?, locked_digest) {
                (Some(info), _) => info,
                (None, Some(digest)) => {
                    let (repository, _) = crate::engine::split_tag(&reference);
                    images
                        .present_or_pull(name, &format!("{repository}@{digest}"))
                        .await?
                }
                (None, None) => images.present_or_pull(name, &reference).await?,
            };
            digests.insert(reference.clone(), digest_of(&info));
            local.insert(reference, info);
        }
    }
    Ok(Resolved {
        lock: assemble(project, &text, &digests),
        images: local,
    })
}

/// The images a service's lock entry covers, and whether it is built: its own
/// image, or the base images of its Dockerfile.
pub fn references(service: &Service) -> Result<(bool, Vec<String>), String> {
    match &service.image {
        ImageSource::Pull { image } => Ok((false, vec![image.clone()])),
        ImageSource::Build { dockerfile, .. } => {
            Ok((true, base_images(&dockerfile_text(dockerfile)?)))
        }
    }
}

/// A lock from the project file's text and a digest for each (prefixed) image
/// reference; a reference with no digest is recorded as empty.
pub fn assemble(
    project: &Project,
    project_text: &str,
    digests: &BTreeMap<String, String>,
) -> Lockfile {
    let services = project
        .services
        .iter()
        .map(|(name, service)| {
            let (build, references) = references(service).unwrap_or_default();
            let images = references
                .iter()
                .map(|reference| {
                    let digest = digests.get(reference).cloned().unwrap_or_default();
                    (unprefix(project, reference), digest)
                })
                .collect();
            let locked = LockedService {
                template: service.template.as_ref().map(|t| t.name.clone()),
                template_revision: service.template.as_ref().map(|t| t.revision),
                build,
                images,
            };
            (name.clone(), locked)
        })
        .collect();
    Lockfile {
        version: LOCK_VERSION,
        gorae: env!("CARGO_PKG_VERSION").to_string(),
        project_file: file_fingerprint(project_text),
        services,
    }
}

/// The digest a lock records for an image: its registry digest where it has one
/// (the same on every machine that pulled it), otherwise its content id.
pub fn digest_of(info: &ImageInfo) -> String {
    info.repo_digests
        .iter()
        .find_map(|d| d.split_once('@').map(|(_, digest)| digest.to_string()))
        .unwrap_or_else(|| info.id.clone())
}

/// `reference` without the project's image prefix.
pub fn unprefix(project: &Project, reference: &str) -> String {
    project
        .image_prefix
        .as_deref()
        .and_then(|prefix| reference.strip_prefix(prefix))
        .unwrap_or(reference)
        .to_string()
}

/// Everything in which `current` differs from `locked`, in words, sorted by service.
/// The gorae version is informational and never makes a lock stale.
pub fn differences(locked: &Lockfile, current: &Lockfile) -> Vec<String> {
    let mut found = Vec::new();
    if locked.project_file != current.project_file {
        found.push("gorae.yaml changed since the lock was written".to_string());
    }
    for name in locked.services.keys() {
        if !current.services.contains_key(name) {
            found.push(format!("service `{name}` was removed"));
        }
    }
    for (name, now) in &current.services {
        let Some(then) = locked.services.get(name) else {
            found.push(format!("service `{name}` was added"));
            continue;
        };
        if then.template != now.template || then.template_revision != now.template_revision {
            found.push(format!(
                "service `{name}`: template {} is now {}",
                template_words(then),
                template_words(now)
            ));
        }
        for (reference, digest) in &now.images {
            match then.images.get(reference) {
                None => found.push(format!(
                    "service `{name}`: image `{reference}` is not in the lock (locked: {})",
                    then.images.keys().cloned().collect::<Vec<_>>().join(", ")
                )),
                Some(locked_digest) if locked_digest != digest => found.push(format!(
                    "service `{name}`: image `{reference}` resolves to {digest}, the lock has {locked_digest}"
                )),
                Some(_) => {}
            }
        }
    }
    found
}

fn template_words(service: &LockedService) -> String {
    match (&service.template, service.template_revision) {
        (Some(name), Some(revision)) => format!("{name} revision {revision}"),
        (Some(name), None) => name.clone(),
        _ => "none".to_string(),
    }
}

#[cfg(test)]
mod tests;
