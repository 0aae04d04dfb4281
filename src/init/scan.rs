//! Reading the project directory for `init`: the files a few levels down, skipping
//! what is never the project's own source (VCS data, installed dependencies, build
//! output, virtual environments, hidden directories).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use walkdir::{DirEntry, WalkDir};

/// How deep `init` looks: `package.json`, `web/package.json`, `apps/web/package.json`.
/// Deeper manifests are usually vendored or test fixtures, not services.
pub const MAX_DEPTH: usize = 3;

/// Directories that hold dependencies or generated files, never a service.
const SKIPPED_DIRS: [&str; 6] = [
    "node_modules",
    "target",
    "venv",
    "__pycache__",
    "site-packages",
    "bower_components",
];

/// Larger files are not what `init` reads (manifests, entry points); skipping them
/// keeps a stray data file from being loaded into memory.
const MAX_READ: u64 = 1024 * 1024;

/// Compose file names, in the order Compose itself prefers them.
pub const COMPOSE_FILES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

/// The files of a project directory, by path relative to it.
pub struct Tree {
    root: PathBuf,
    files: BTreeSet<PathBuf>,
}

impl Tree {
    /// Walks `root` down to [`MAX_DEPTH`]. Unreadable entries are skipped: `init` makes a
    /// best guess from what it can see.
    pub fn scan(root: &Path) -> Tree {
        let files = WalkDir::new(root)
            .max_depth(MAX_DEPTH)
            .into_iter()
            .filter_entry(|entry| entry.depth() == 0 || !is_skipped(entry))
            .flatten()
            .filter(|entry| entry.file_type().is_file())
            .filter_map(|entry| entry.path().strip_prefix(root).ok().map(Path::to_path_buf))
            .collect();
        Tree {
            root: root.to_path_buf(),
            files,
        }
    }

    /// Every file, sorted.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(PathBuf::as_path)
    }

    pub fn has(&self, path: &Path) -> bool {
        self.files.contains(path)
    }

    /// Files under `dir` (relative to the root) whose name ends with one of `extensions`.
    pub fn sources_under<'a>(
        &'a self,
        dir: &'a Path,
        extensions: &'a [&'a str],
    ) -> impl Iterator<Item = &'a Path> {
        self.files().filter(move |path| {
            path.starts_with(dir)
                && path
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| extensions.contains(&e))
        })
    }

    /// A file's text, or `None` when it is missing, too large or not UTF-8.
    pub fn read(&self, path: &Path) -> Option<String> {
        let full = self.root.join(path);
        let size = std::fs::metadata(&full).ok()?.len();
        if size > MAX_READ {
            return None;
        }
        String::from_utf8(std::fs::read(full).ok()?).ok()
    }

    /// The first compose file directly in the root, if any.
    pub fn compose_file(&self) -> Option<&'static str> {
        COMPOSE_FILES
            .into_iter()
            .find(|name| self.has(Path::new(name)))
    }
}

fn is_skipped(entry: &DirEntry) -> bool {
    if !entry.file_type().is_dir() {
        return false;
    }
    let name = entry.file_name().to_string_lossy();
    // Hidden directories (.git, .venv, .cache, .next, ...) hold tools' data.
    name.starts_with('.') || SKIPPED_DIRS.contains(&name.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_skips_dependencies_hidden_dirs_and_deep_files() {
        let dir = tempfile::tempdir().unwrap();
        for file in [
            "package.json",
            "web/package.json",
            "apps/api/requirements.txt",
            "apps/api/deep/package.json",
            "node_modules/redis/package.json",
            "web/node_modules/pg/package.json",
            ".git/config",
            ".venv/pyvenv.cfg",
            "venv/pyvenv.cfg",
            "target/debug/x",
            "api/__pycache__/x.pyc",
        ] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "{}").unwrap();
        }
        let tree = Tree::scan(dir.path());
        let files: Vec<String> = tree
            .files()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .collect();
        assert_eq!(
            files,
            [
                "apps/api/requirements.txt",
                "package.json",
                "web/package.json"
            ]
        );
    }
}
