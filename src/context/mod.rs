//! Build contexts: which files go to the engine, their content hash, and the tar.
//!
//! The hash covers every input of a build (Dockerfile text, each file's relative
//! path, mode and content, base image ids) and nothing else, so it is stable across
//! machines, walk order and timestamps. It names the image tag: an existing tag
//! means the build can be skipped.

mod ignore;

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use walkdir::WalkDir;

pub use ignore::{IgnoreRules, Verdict};

/// Paths no build may or need see, read before `.dockerignore`, whose `!pattern`
/// brings one back. Secrets first: dotenv files hold passwords and tokens, and an
/// image carries them wherever it is saved or pushed (a CI cache); only the example
/// file, which by convention holds none, goes in. Then gorae's own files and CI
/// configuration, which describe the environment rather than the app (editing
/// gorae.yaml must not rebuild the app), version control, dependency folders the
/// image installs itself, and caches. The `.env` exception comes before every
/// directory rule, so that it never re-includes a file inside an ignored directory.
pub const DEFAULT_IGNORES: &[&str] = &[
    "**/.env",
    "**/.env.*",
    "!**/.env.example",
    "gorae.yaml",
    "gorae.lock",
    ".gorae",
    ".github",
    ".gitlab",
    ".gitlab-ci.yml",
    ".circleci",
    ".travis.yml",
    ".buildkite",
    ".woodpecker",
    ".woodpecker.yml",
    ".drone.yml",
    "azure-pipelines.yml",
    "bitbucket-pipelines.yml",
    "Jenkinsfile",
    ".git",
    "node_modules",
    "**/__pycache__",
    ".venv",
    "**/.DS_Store",
];

/// Name of the Dockerfile gorae adds to the tar; the daemon drops it from the
/// context after reading it because the added `.dockerignore` lists it.
pub const DOCKERFILE_NAME: &str = ".gorae-Dockerfile";

/// What is in a context, by relative path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildContext {
    pub root: PathBuf,
    pub entries: BTreeMap<String, Entry>,
}

/// One path in the context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: EntryKind,
    /// Permission bits.
    pub mode: u32,
    /// sha256 of the content (files) or of the link target (symlinks).
    pub digest: [u8; 32],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
}

/// Why reading a context failed.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// The `io::Error` is the source, printed after this in the chain.
    #[error("cannot read {path}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{0}")]
    Ignore(String),
}

/// The defaults followed by the context's `.dockerignore`, if it has one.
pub fn ignore_rules(root: &Path) -> Result<IgnoreRules, ContextError> {
    let ignore_text = match fs::read_to_string(root.join(".dockerignore")) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(ContextError::Read {
                path: root.join(".dockerignore"),
                source,
            });
        }
    };
    IgnoreRules::parse(DEFAULT_IGNORES, &ignore_text).map_err(ContextError::Ignore)
}

/// Walks `root`, leaving out what `.dockerignore` and the defaults exclude, and
/// hashes every file.
pub fn scan(root: &Path) -> Result<BuildContext, ContextError> {
    scan_without(root, &[])
}

/// [`scan`], also leaving out the `never_sent` paths (context-relative,
/// `/`-separated), whatever `.dockerignore` says: the project's secret files.
pub fn scan_without(root: &Path, never_sent: &[String]) -> Result<BuildContext, ContextError> {
    let rules = ignore_rules(root)?;
    let mut entries = BTreeMap::new();
    let mut walk = WalkDir::new(root).min_depth(1).into_iter();
    while let Some(item) = walk.next() {
        let item = item.map_err(|err| ContextError::Read {
            path: err.path().unwrap_or(root).to_path_buf(),
            source: err.into(),
        })?;
        let rel = relative(root, item.path());
        let is_dir = item.file_type().is_dir();
        if never_sent.contains(&rel) {
            continue;
        }
        match rules.verdict(&rel) {
            Verdict::Included => {}
            Verdict::Ignored { final_below } => {
                if is_dir && final_below {
                    walk.skip_current_dir();
                }
                continue;
            }
        }
        let read_error = |source| ContextError::Read {
            path: item.path().to_path_buf(),
            source,
        };
        let metadata = item.path().symlink_metadata().map_err(read_error)?;
        let (kind, digest) = if item.path_is_symlink() {
            let target = fs::read_link(item.path()).map_err(read_error)?;
            let target = target.to_string_lossy().into_owned();
            (EntryKind::Symlink, Sha256::digest(target.as_bytes()).into())
        } else if is_dir {
            (EntryKind::Dir, [0; 32])
        } else {
            let content = fs::read(item.path()).map_err(read_error)?;
            (EntryKind::File, Sha256::digest(&content).into())
        };
        entries.insert(
            rel,
            Entry {
                kind,
                mode: permissions(&metadata),
                digest,
            },
        );
    }
    Ok(BuildContext {
        root: root.to_path_buf(),
        entries,
    })
}

impl BuildContext {
    /// The content hash of a build: this context, the Dockerfile and the base images.
    pub fn build_hash(&self, dockerfile: &str, base_image_ids: &[String], options: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"gorae-build-1\0");
        hasher.update(dockerfile.as_bytes());
        hasher.update(b"\0");
        // Only when set (target, args, platform): builds without them keep their tags.
        if !options.is_empty() {
            hasher.update(b"options\0");
            hasher.update(options.as_bytes());
            hasher.update(b"\0");
        }
        for id in base_image_ids {
            hasher.update(id.as_bytes());
            hasher.update(b"\0");
        }
        for (path, entry) in &self.entries {
            hasher.update(path.as_bytes());
            hasher.update([0, entry.kind as u8]);
            hasher.update(entry.mode.to_le_bytes());
            hasher.update(entry.digest);
        }
        crate::hash::hex(&hasher.finalize())
    }

    /// The tar stream sent to the engine: the context plus the Dockerfile.
    pub fn tar(&self, dockerfile: &str) -> Result<Vec<u8>, ContextError> {
        let mut builder = tar::Builder::new(Vec::new());
        builder.follow_symlinks(false);
        let read_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ContextError::Read { path, source }
        };
        for path in self.entries.keys() {
            let full = self.root.join(path);
            builder
                .append_path_with_name(&full, path)
                .map_err(read_error(&full))?;
        }
        let extras = [
            (DOCKERFILE_NAME, dockerfile.to_string()),
            (
                ".dockerignore",
                format!("{DOCKERFILE_NAME}\n.dockerignore\n"),
            ),
        ];
        for (name, text) in extras {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder
                .append_data(&mut header, name, text.as_bytes())
                .map_err(read_error(Path::new(name)))?;
        }
        builder.into_inner().map_err(read_error(&self.root))
    }

    /// Paths whose presence or content differ from `older`, for "rebuilding because".
    pub fn changed_paths(&self, older: &BuildContext) -> Vec<String> {
        let mut changed: Vec<String> = self
            .entries
            .iter()
            .filter(|(path, entry)| older.entries.get(*path) != Some(entry))
            .map(|(path, _)| path.clone())
            .collect();
        changed.extend(
            older
                .entries
                .keys()
                .filter(|path| !self.entries.contains_key(*path))
                .cloned(),
        );
        changed.sort();
        changed
    }
}

fn relative(root: &Path, path: &Path) -> String {
    slash_path(path.strip_prefix(root).unwrap_or(path))
}

/// A relative path as the context names it: components joined by `/`.
pub fn slash_path(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(unix)]
fn permissions(metadata: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn permissions(metadata: &fs::Metadata) -> u32 {
    if metadata.permissions().readonly() {
        0o444
    } else {
        0o644
    }
}

#[cfg(test)]
mod tests;
