//! One batch of changes in a build context, as the engine takes it: a tar of the
//! paths that exist now (files with their modes, directories with what is beneath
//! them, symlinks as links) and the paths that no longer exist. Whatever happened in
//! between (edits, creates, deletes, renames), the host's present state is what is
//! sent, so after the batch the container holds what the host holds.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::Path;

use walkdir::WalkDir;

use crate::context::{IgnoreRules, slash_path};

/// What to send for one batch.
#[derive(Debug, Default)]
pub struct Batch {
    pub tar: Vec<u8>,
    /// Files and symlinks in the tar, context-relative.
    pub files: Vec<String>,
    /// Context-relative paths to remove in the container.
    pub removed: Vec<String>,
}

/// Builds the batch for `paths` (context-relative, `/`-separated) under `root`, each
/// with whether a directory there is sent with everything beneath it (it was created
/// or moved in) or alone; paths the ignore rules leave out are neither sent nor removed.
pub fn batch(
    root: &Path,
    paths: &BTreeMap<String, bool>,
    ignore: &IgnoreRules,
) -> io::Result<Batch> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    let mut batch = Batch::default();
    let mut sent = BTreeSet::new();
    for (rel, whole) in paths {
        if ignore.is_ignored(rel) {
            continue;
        }
        let host = root.join(rel);
        let meta = match fs::symlink_metadata(&host) {
            Ok(meta) => meta,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                batch.removed.push(rel.clone());
                continue;
            }
            Err(err) => return Err(err),
        };
        if meta.is_dir() {
            let depth = if *whole { usize::MAX } else { 0 };
            for item in WalkDir::new(&host).follow_links(false).max_depth(depth) {
                let item = item.map_err(io::Error::other)?;
                let Ok(below) = item.path().strip_prefix(root) else {
                    continue;
                };
                let below = slash_path(below);
                if ignore.is_ignored(&below) || !sent.insert(below.clone()) {
                    continue;
                }
                append(&mut builder, item.path(), &below, &mut batch)?;
            }
        } else if sent.insert(rel.clone()) {
            append(&mut builder, &host, rel, &mut batch)?;
        }
    }
    batch.tar = builder.into_inner()?;
    Ok(batch)
}

fn append(
    builder: &mut tar::Builder<Vec<u8>>,
    host: &Path,
    rel: &str,
    batch: &mut Batch,
) -> io::Result<()> {
    let meta = fs::symlink_metadata(host)?;
    // A file that is replaced while it is read (an editor's save) is read next batch.
    match builder.append_path_with_name(host, rel) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err),
    }
    if !meta.is_dir() {
        batch.files.push(rel.to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn present_paths_are_sent_with_their_modes_and_missing_ones_removed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        fs::create_dir_all(root.join("lib/deep")).expect("mkdir");
        fs::write(root.join("lib/deep/a.js"), "a").expect("write");
        fs::write(root.join("run.sh"), "#!/bin/sh").expect("write");
        fs::set_permissions(root.join("run.sh"), fs::Permissions::from_mode(0o755)).expect("chmod");
        fs::create_dir_all(root.join("node_modules/x")).expect("mkdir");
        fs::write(root.join("node_modules/x/i.js"), "x").expect("write");
        let ignore = IgnoreRules::parse(crate::context::DEFAULT_IGNORES, "").expect("rules");
        let paths: BTreeMap<String, bool> = ["lib", "run.sh", "gone.js", "node_modules/x/i.js"]
            .into_iter()
            .map(|p| (p.to_string(), true))
            .collect();
        let batch = batch(root, &paths, &ignore).expect("batch");
        assert_eq!(batch.removed, ["gone.js"]);
        assert_eq!(batch.files, ["lib/deep/a.js", "run.sh"]);
        let mut archive = tar::Archive::new(batch.tar.as_slice());
        let mut entries: Vec<(String, u32)> = archive
            .entries()
            .expect("entries")
            .map(|e| {
                let e = e.expect("entry");
                let path = e.path().expect("path").display().to_string();
                (path, e.header().mode().expect("mode") & 0o777)
            })
            .collect();
        entries.sort();
        let names: Vec<&str> = entries
            .iter()
            .map(|(p, _)| p.trim_end_matches('/'))
            .collect();
        assert_eq!(names, ["lib", "lib/deep", "lib/deep/a.js", "run.sh"]);
        assert!(entries.iter().any(|(p, m)| p == "run.sh" && *m == 0o755));
    }
}
