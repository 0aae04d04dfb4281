//! gorae.lock: what every service's image resolved to, so that every machine runs
//! exactly the images the developers ran.
//!
//! The file is JSON with sorted keys (small diffs) and a format version. It records,
//! per service, the template revision and each image the service uses: its own
//! image, or for built services the base images of its Dockerfile (the built image
//! follows from those and the files). Each image is recorded twice: the registry
//! digest a pull uses, and the image id that says what the content is. References
//! are stored without the image prefix, so a mirror or the test stand-ins lock the
//! same names.
//!
//! Like Cargo.lock, the lock is used whenever it exists ([`pin`]): entries are kept
//! and their images used by id; only services whose images changed in gorae.yaml
//! get new entries. `--frozen` refuses where the lock would have to change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{ImageSource, LoadError, Project, Service};
use crate::dockerfile::{base_images, dockerfile_text};
use crate::engine::{Engine, ImageInfo, split_tag};
use crate::exit::ExitCode;
use crate::hash::hex;
use crate::images::{ImageError, Images};

pub const LOCK_FILE: &str = "gorae.lock";
/// The format version this gorae writes and reads.
pub const LOCK_VERSION: u32 = 2;

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
    /// Image reference (without prefix) -> what it is locked to.
    pub images: BTreeMap<String, LockedImage>,
}

/// One locked image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedImage {
    /// What a pull uses: the registry's digest of the image (for a multi-platform
    /// image, the digest of its index, which resolves on every platform). Absent
    /// for an image that came from no registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// What the content is: the image id (config digest) on `platform`.
    pub id: String,
    /// The platform `id` was recorded on (`linux/amd64`); on another platform the
    /// same digest gives another id, and only the digest is checked there.
    pub platform: String,
}

impl LockedImage {
    /// How the entry reads in messages: its digest, else its id.
    fn words(&self) -> &str {
        self.digest.as_deref().unwrap_or(&self.id)
    }
}

/// Why the lock cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("no {LOCK_FILE} beside {project_file}\n  hint: run `gorae lock` and commit the file")]
    Missing { project_file: PathBuf },
    #[error(
        "cannot read {path}: {reason}\n  hint: `gorae lock --update` writes it anew from gorae.yaml"
    )]
    Unreadable { path: PathBuf, reason: String },
    #[error(
        "{path} has format version {found}, but this gorae reads version {LOCK_VERSION}\n  hint: {}",
        if *found > LOCK_VERSION { "upgrade gorae to the version that wrote it" } else { "run `gorae lock --update` to rewrite it in this format" }
    )]
    UnsupportedVersion { path: PathBuf, found: u32 },
    #[error(
        "{path}: service `{service}`, image `{image}`: `{field}` is `{value}`, not a digest (`sha256:` and 64 hex digits)\n  hint: the file was edited by hand; `gorae lock --update {service}` writes the entry anew"
    )]
    Malformed {
        path: PathBuf,
        service: String,
        image: String,
        field: &'static str,
        value: String,
    },
    #[error("{path} is stale:\n{}\n  hint: {hint}", .differences.iter().map(|d| format!("  - {d}")).collect::<Vec<_>>().join("\n"))]
    Stale {
        path: PathBuf,
        differences: Vec<String>,
        hint: &'static str,
    },
}

impl LockError {
    /// A lock that cannot be used is a configuration error, like gorae.yaml's own.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::Config
    }
}

/// The hint of a lock that gorae.yaml no longer matches.
pub const STALE_HINT: &str =
    "run `gorae up` or `gorae lock` to update it, review the change and commit it";
/// The hint of tags that moved since the lock was written.
pub const MOVED_HINT: &str = "`gorae up` keeps running the locked images; `gorae lock --update [SERVICE...]` moves the entries on purpose";

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
    let lock: Lockfile = serde_json::from_str(text).map_err(unreadable)?;
    for (service, locked) in &lock.services {
        for (image, entry) in &locked.images {
            let fields = [("digest", entry.digest.as_deref()), ("id", Some(&entry.id))];
            for (field, value) in fields {
                if let Some(value) = value
                    && !is_digest(value)
                {
                    return Err(LockError::Malformed {
                        path: path.to_path_buf(),
                        service: service.clone(),
                        image: image.clone(),
                        field,
                        value: value.to_string(),
                    });
                }
            }
        }
    }
    Ok(lock)
}

/// `sha256:` and 64 lowercase hex digits.
pub fn is_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The lock if the project has one.
pub fn read_if_present(project: &Project) -> Result<Option<Lockfile>, LockError> {
    match read(project) {
        Ok(lock) => Ok(Some(lock)),
        Err(LockError::Missing { .. }) => Ok(None),
        Err(err) => Err(err),
    }
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

/// Which entries [`pin`] takes from the registry again instead of from the lock.
#[derive(Debug, Clone, Copy)]
pub enum Refresh<'a> {
    /// Keep every entry (`up`, `gorae lock`).
    Nothing,
    /// Every entry (`gorae lock --update`).
    All,
    /// These services' entries (`gorae lock --update SERVICE...`).
    Services(&'a [String]),
}

impl Refresh<'_> {
    fn covers(&self, service: &str) -> bool {
        match self {
            Refresh::Nothing => false,
            Refresh::All => true,
            Refresh::Services(names) => names.iter().any(|n| n == service),
        }
    }
}

/// The lock as it is after [`pin`], and the image to run for each reference.
#[derive(Debug)]
pub struct Pinned {
    pub lock: Lockfile,
    /// How `lock` differs from the lock that was read, in words (empty: unchanged).
    pub changes: Vec<String>,
    /// (service, prefixed reference) -> id of the local image that serves it. Per
    /// service: two services may use one tag with different locked entries (one
    /// moved by `lock --update SERVICE`, the other not).
    pub ids: BTreeMap<(String, String), String>,
}

/// Makes every image the project uses present as the lock names it, and says what
/// the lock should say now.
///
/// A locked entry is used as it is: an image with the locked id is accepted without
/// asking a registry (a CI cache restored with `docker load`), otherwise it is
/// pulled by its locked digest, never by its tag. References the lock lacks (a
/// changed or added service) resolve by tag. With `frozen`, any change the lock
/// would need fails before anything is pulled.
pub async fn pin(
    project: &Project,
    engine: &Engine,
    images: &Images<'_>,
    locked: Option<&Lockfile>,
    refresh: Refresh<'_>,
    frozen: bool,
) -> anyhow::Result<Pinned> {
    let text = project_text(project)?;
    let path = path_for(project);
    if frozen {
        let Some(locked) = locked else {
            return Err(LockError::Missing {
                project_file: project.file.clone(),
            }
            .into());
        };
        let differences = structure_changes(project, &text, locked);
        if !differences.is_empty() {
            return Err(LockError::Stale {
                path,
                differences,
                hint: STALE_HINT,
            }
            .into());
        }
    }
    let mut platform = None;
    let mut entries: BTreeMap<String, BTreeMap<String, LockedImage>> = BTreeMap::new();
    let mut ids = BTreeMap::new();
    for (name, service) in &project.services {
        let (_, references) =
            references(service).map_err(|reason| ImageError::context(name, reason))?;
        for reference in references {
            let key = unprefix(project, &reference);
            let kept = locked
                .filter(|_| !refresh.covers(name))
                .and_then(|lock| lock.services.get(name))
                .and_then(|s| s.images.get(&key));
            let (entry, id) = match kept {
                Some(entry) => {
                    let info = locked_image(engine, images, name, &reference, entry, &mut platform)
                        .await?;
                    (entry.clone(), info.id)
                }
                None => {
                    let info = if refresh.covers(name) {
                        images.pull_fresh(name, &reference).await?
                    } else {
                        images.present_or_pull(name, &reference).await?
                    };
                    let platform = cached_platform(engine, &mut platform).await?;
                    (entry_for(&info, &reference, platform), info.id)
                }
            };
            entries.entry(name.clone()).or_default().insert(key, entry);
            ids.insert((name.clone(), reference), id);
        }
    }
    let lock = assemble(project, &text, &entries);
    let changes = match locked {
        Some(locked) => differences(locked, &lock),
        None => Vec::new(),
    };
    Ok(Pinned { lock, changes, ids })
}

/// The image a kept entry names, made present: by its id if here, else pulled by
/// its digest and checked against the id on the platform that recorded it.
async fn locked_image(
    engine: &Engine,
    images: &Images<'_>,
    service: &str,
    reference: &str,
    entry: &LockedImage,
    platform: &mut Option<String>,
) -> Result<ImageInfo, ImageError> {
    if let Some(info) = images.present(&entry.id).await? {
        return Ok(info);
    }
    let Some(digest) = &entry.digest else {
        return Err(ImageError::LockedOnlyById {
            service: service.to_string(),
            image: reference.to_string(),
            id: entry.id.clone(),
        });
    };
    let (repository, _) = split_tag(reference);
    let info = images
        .present_or_pull(service, &format!("{repository}@{digest}"))
        .await?;
    if info.id != entry.id && *cached_platform(engine, platform).await? == entry.platform {
        return Err(ImageError::LockedIdMismatch {
            service: service.to_string(),
            image: format!("{repository}@{digest}"),
            found: info.id,
            locked: entry.id.clone(),
        });
    }
    Ok(info)
}

async fn cached_platform<'p>(
    engine: &Engine,
    platform: &'p mut Option<String>,
) -> Result<&'p String, ImageError> {
    if platform.is_none() {
        *platform = Some(engine.platform().await?);
    }
    Ok(platform.get_or_insert_default())
}

/// The entry for an image just resolved by its tag.
fn entry_for(info: &ImageInfo, reference: &str, platform: &str) -> LockedImage {
    LockedImage {
        digest: registry_digest(info, reference),
        id: info.id.clone(),
        platform: platform.to_string(),
    }
}

/// The registry digest of `info` for `reference`'s repository. A digest the image
/// has under another name (pushed to another registry) does not count: a pull by
/// digest goes to the reference's own registry.
pub fn registry_digest(info: &ImageInfo, reference: &str) -> Option<String> {
    let (repository, _) = split_tag(reference);
    let repository = familiar(repository);
    info.repo_digests.iter().find_map(|entry| {
        let (repo, digest) = entry.split_once('@')?;
        (familiar(repo) == repository).then(|| digest.to_string())
    })
}

/// `docker.io/library/redis` and `redis` are one repository.
fn familiar(repository: &str) -> &str {
    let short = repository
        .strip_prefix("docker.io/")
        .or_else(|| repository.strip_prefix("index.docker.io/"))
        .unwrap_or(repository);
    short.strip_prefix("library/").unwrap_or(short)
}

/// Tags that moved since the lock was written: for an image from a registry, the
/// registry is asked what the tag names now (nothing is pulled); for an image from
/// no registry, the local tag is compared with the locked id.
pub async fn moves(
    project: &Project,
    engine: &Engine,
    locked: &Lockfile,
) -> Result<Vec<String>, ImageError> {
    let mut found = Vec::new();
    let platform = engine.platform().await?;
    for (name, service) in &project.services {
        let Some(locked_service) = locked.services.get(name) else {
            continue;
        };
        let (_, references) = references(service).unwrap_or_default();
        for reference in references {
            let key = unprefix(project, &reference);
            let Some(entry) = locked_service.images.get(&key) else {
                continue;
            };
            let now = match &entry.digest {
                Some(_) => Some(engine.registry_digest(&reference).await.map_err(|err| {
                    ImageError::Registry {
                        image: reference.clone(),
                        reason: err.to_string(),
                    }
                })?),
                None if entry.platform == platform => {
                    engine.image(&reference).await?.map(|info| info.id)
                }
                None => None,
            };
            if let Some(now) = now
                && now != entry.words()
            {
                found.push(format!(
                    "service `{name}`: `{key}` moved: it names {now} now, the lock has {}",
                    entry.words()
                ));
            }
        }
    }
    Ok(found)
}

/// The text of gorae.yaml, read again for its fingerprint. Failing to read it is a
/// failure to read the project (exit 3), whatever the command was doing.
pub fn project_text(project: &Project) -> Result<String, LoadError> {
    std::fs::read_to_string(&project.file).map_err(|source| LoadError::Read {
        path: project.file.clone(),
        source,
    })
}

/// The image ids gorae.lock names for the references gorae.yaml uses now, reading
/// nothing else: what `gorae plan` shows `up` would run. References without an entry
/// are left out (`up` would lock them).
pub fn locked_ids(project: &Project, locked: &Lockfile) -> crate::plan::Pins {
    let mut ids = crate::plan::Pins::new();
    for (name, service) in &project.services {
        let (_, references) = references(service).unwrap_or_default();
        for reference in references {
            if let Some(entry) = locked
                .services
                .get(name)
                .and_then(|s| s.images.get(&unprefix(project, &reference)))
            {
                ids.insert((name.clone(), reference), entry.id.clone());
            }
        }
    }
    ids
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

/// A lock from the project file's text and the entries of each service (by
/// unprefixed reference).
pub fn assemble(
    project: &Project,
    project_text: &str,
    entries: &BTreeMap<String, BTreeMap<String, LockedImage>>,
) -> Lockfile {
    let services = project
        .services
        .iter()
        .map(|(name, service)| {
            let (build, _) = references(service).unwrap_or_default();
            let locked = LockedService {
                template: service.template.as_ref().map(|t| t.name.clone()),
                template_revision: service.template.as_ref().map(|t| t.revision),
                build,
                images: entries.get(name).cloned().unwrap_or_default(),
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

/// How gorae.yaml no longer matches the lock, found without any image: the file's
/// fingerprint, services added or removed, templates, and the images each uses.
pub fn structure_changes(project: &Project, project_text: &str, locked: &Lockfile) -> Vec<String> {
    let mut wanted = BTreeMap::new();
    for (name, service) in &project.services {
        let (_, references) = references(service).unwrap_or_default();
        let placeholder = LockedImage {
            digest: None,
            id: String::new(),
            platform: String::new(),
        };
        let images = references
            .iter()
            .map(|r| {
                let key = unprefix(project, r);
                let entry = locked
                    .services
                    .get(name)
                    .and_then(|s| s.images.get(&key))
                    .cloned()
                    .unwrap_or_else(|| placeholder.clone());
                (key, entry)
            })
            .collect();
        wanted.insert(name.clone(), images);
    }
    differences(locked, &assemble(project, project_text, &wanted))
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
        for (reference, entry) in &now.images {
            match then.images.get(reference) {
                None => found.push(format!(
                    "service `{name}`: image `{reference}` is not in the lock (locked: {})",
                    then.images.keys().cloned().collect::<Vec<_>>().join(", ")
                )),
                Some(old)
                    if old.digest != entry.digest
                        || (old.id != entry.id && old.platform == entry.platform) =>
                {
                    found.push(format!(
                        "service `{name}`: image `{reference}` resolves to {}, the lock has {}",
                        entry.words(),
                        old.words()
                    ))
                }
                Some(_) => {}
            }
        }
        for reference in then.images.keys() {
            if !now.images.contains_key(reference) {
                found.push(format!(
                    "service `{name}`: image `{reference}` is in the lock but no longer used"
                ));
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
