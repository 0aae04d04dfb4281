//! Snapshots on disk: `.gorae/snapshots/NAME/` holds `manifest.json` and one
//! zstd-compressed tar per service. A save is written into a hidden directory beside
//! it and renamed into place only when complete, so a snapshot is never half there.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::manifest::{self, MANIFEST_FILE, Manifest};
use crate::config::Project;

/// Where a project's snapshots live, relative to its directory.
pub const SNAPSHOTS_DIR: &str = ".gorae/snapshots";

/// The project's snapshot directory.
pub fn root(project: &Project) -> PathBuf {
    project.dir.join(SNAPSHOTS_DIR)
}

/// Every snapshot of the project by name (sorted), each with its manifest or why it
/// cannot be read. Unfinished saves (hidden directories) are left out.
pub fn list(project: &Project) -> io::Result<Vec<(String, Result<Manifest, String>)>> {
    let entries = match fs::read_dir(root(project)) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !entry.path().is_dir() {
            continue;
        }
        found.push((name, read_manifest(&entry.path())));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

/// The manifest in snapshot directory `dir`.
pub fn read_manifest(dir: &Path) -> Result<Manifest, String> {
    let text = fs::read_to_string(dir.join(MANIFEST_FILE))
        .map_err(|err| format!("its {MANIFEST_FILE} cannot be read: {err}"))?;
    manifest::parse(&text)
}

/// The files of `services` in the snapshot at `dir` whose content is not what the
/// manifest recorded (missing, another size or checksum), each with what is wrong.
pub fn damaged_files(dir: &Path, manifest: &Manifest, services: &[String]) -> Vec<String> {
    let mut damaged = Vec::new();
    for service in services {
        let Some(saved) = manifest.services.get(service) else {
            continue;
        };
        // The manifest names the file; a name with a path in it would reach outside.
        if saved.file.contains(['/', '\\']) || saved.file.starts_with('.') {
            damaged.push(format!("{}: not a file name", saved.file));
            continue;
        }
        match sha256_of(&dir.join(&saved.file)) {
            Ok((digest, bytes)) if digest == saved.sha256 && bytes == saved.bytes => {}
            Ok(_) => damaged.push(format!("{}: checksum does not match", saved.file)),
            Err(err) => damaged.push(format!("{}: {err}", saved.file)),
        }
    }
    damaged
}

/// The sha256 (hex) and size of a file.
pub fn sha256_of(path: &Path) -> io::Result<(String, u64)> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        total += read as u64;
    }
    Ok((crate::hash::hex(&hasher.finalize()), total))
}

/// A snapshot being written: a hidden directory that becomes `NAME/` on
/// [`Staging::commit`] and is removed if dropped before.
pub struct Staging {
    dir: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl Staging {
    /// Starts writing snapshot `name` of `project`.
    pub fn new(project: &Project, name: &str) -> io::Result<Staging> {
        let root = root(project);
        fs::create_dir_all(&root)?;
        let dir = root.join(format!(".{name}.partial-{}", std::process::id()));
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir(&dir)?;
        Ok(Staging {
            dir,
            target: root.join(name),
            committed: false,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes the manifest and moves the snapshot into place, replacing an older one
    /// of the same name only when `replace`.
    pub fn commit(mut self, manifest: &Manifest, replace: bool) -> io::Result<PathBuf> {
        let text = serde_json::to_string_pretty(manifest).map_err(io::Error::other)? + "\n";
        fs::write(self.dir.join(MANIFEST_FILE), text)?;
        if replace && self.target.exists() {
            fs::remove_dir_all(&self.target)?;
        }
        fs::rename(&self.dir, &self.target)?;
        self.committed = true;
        Ok(self.target.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// A writer that hashes and counts what passes through it to the file beneath.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The writer beneath, the sha256 (hex) and the byte count of what was written.
    pub fn finish(self) -> (W, String, u64) {
        (
            self.inner,
            crate::hash::hex(&self.hasher.finalize()),
            self.bytes,
        )
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::template::SnapshotMethod;
    use std::collections::BTreeMap;

    fn manifest_for(file: &str, sha256: &str, bytes: u64) -> Manifest {
        Manifest {
            format: manifest::FORMAT,
            gorae_version: "0.1.0".into(),
            project: "shop".into(),
            created: 0,
            services: BTreeMap::from([(
                "db".to_string(),
                manifest::SavedService {
                    template: "postgres".into(),
                    version: "16".into(),
                    image: "postgres:16".into(),
                    image_id: String::new(),
                    method: SnapshotMethod::Archive,
                    data_dir: "/data".into(),
                    file: file.into(),
                    sha256: sha256.into(),
                    bytes,
                },
            )]),
        }
    }

    #[test]
    fn the_hashing_writer_and_the_file_checksum_agree() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("db.tar.zst");
        let mut writer = HashingWriter::new(fs::File::create(&path).expect("create"));
        writer.write_all(b"some data").expect("write");
        let (_, digest, bytes) = writer.finish();
        assert_eq!(sha256_of(&path).expect("hash"), (digest.clone(), bytes));
        assert_eq!(bytes, 9);

        let db = vec!["db".to_string()];
        let good = manifest_for("db.tar.zst", &digest, bytes);
        assert_eq!(damaged_files(dir.path(), &good, &db), Vec::<String>::new());
        fs::write(&path, b"some dat4").expect("corrupt");
        assert_eq!(
            damaged_files(dir.path(), &good, &db),
            vec!["db.tar.zst: checksum does not match".to_string()]
        );
        let outside = manifest_for("../db.tar.zst", &digest, bytes);
        assert_eq!(damaged_files(dir.path(), &outside, &db).len(), 1);
        fs::remove_file(&path).expect("remove");
        assert_eq!(damaged_files(dir.path(), &good, &db).len(), 1);
    }
}
