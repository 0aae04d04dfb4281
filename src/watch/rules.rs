//! What a changed path in a service's build context asks for: a rebuild (a
//! dependency manifest or the Dockerfile), a sync and a restart (source), or a sync
//! alone (static and data files, or any file of an app that reloads itself).

use globset::{Glob, GlobSet, GlobSetBuilder};

/// Patterns that are only synced, whatever the template: the app reads them on each
/// request, so restarting it would only cost time.
pub const STATIC_PATTERNS: &[&str] = &[
    "**/*.html",
    "**/*.css",
    "**/*.txt",
    "**/*.md",
    "**/*.json",
    "**/*.svg",
    "**/*.png",
    "**/*.jpg",
    "**/*.jpeg",
    "**/*.gif",
    "**/*.ico",
    "**/*.webp",
    "**/*.csv",
    "public/**",
    "static/**",
    "assets/**",
];

/// What one change needs, weakest first, so the strongest of a batch wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    Sync,
    Restart,
    Rebuild,
}

/// The rules of one service.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Context-relative paths whose change rebuilds the image.
    rebuild: Vec<String>,
    sync_only: GlobSet,
    /// `false` for an app that reloads itself: source changes are only synced.
    restart: bool,
}

impl Rules {
    /// `manifests`: the template's dependency files (or `watch: rebuild:`);
    /// `dockerfile`: the user's Dockerfile, relative to the context, when it lies
    /// inside it; `sync_only`: `watch: sync:` patterns, checked when the file was read.
    pub fn new(
        manifests: &[String],
        dockerfile: Option<String>,
        sync_only: &[String],
        restart: bool,
    ) -> Rules {
        let mut rebuild: Vec<String> = manifests.to_vec();
        rebuild.extend(dockerfile);
        let mut builder = GlobSetBuilder::new();
        for pattern in STATIC_PATTERNS
            .iter()
            .copied()
            .chain(sync_only.iter().map(String::as_str))
        {
            if let Ok(glob) = Glob::new(pattern) {
                builder.add(glob);
            }
        }
        Rules {
            rebuild,
            sync_only: builder.build().unwrap_or_else(|_| GlobSet::empty()),
            restart,
        }
    }

    /// What a change of `path` (relative to the context, `/`-separated) needs.
    pub fn need(&self, path: &str) -> Need {
        if path == ".dockerignore" {
            // It decides what is sent, not what the app runs.
            Need::Sync
        } else if self.rebuild.iter().any(|r| r == path) {
            // Manifests are read at build time only: their change needs new dependencies.
            Need::Rebuild
        } else if !self.restart || self.sync_only.is_match(path)
        // A JSON manifest is handled above; other JSON is data.
        {
            Need::Sync
        } else {
            Need::Restart
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_rebuild_static_files_sync_and_source_restarts() {
        let rules = Rules::new(
            &["package.json".into(), "package-lock.json".into()],
            Some("docker/Dockerfile".into()),
            &["views/**".into()],
            true,
        );
        let cases = [
            ("package.json", Need::Rebuild),
            ("package-lock.json", Need::Rebuild),
            ("docker/Dockerfile", Need::Rebuild),
            ("sub/package.json", Need::Sync),
            ("server.js", Need::Restart),
            ("lib/deep/util.js", Need::Restart),
            ("app.py", Need::Restart),
            ("public/index.html", Need::Sync),
            ("public/app.js", Need::Sync),
            ("data.txt", Need::Sync),
            ("styles/site.css", Need::Sync),
            ("views/page.ejs", Need::Sync),
            (".dockerignore", Need::Sync),
            ("viewsx/page.ejs", Need::Restart),
        ];
        for (path, need) in cases {
            assert_eq!(rules.need(path), need, "{path}");
        }
        let reloading = Rules::new(&["package.json".into()], None, &[], false);
        assert_eq!(reloading.need("server.js"), Need::Sync);
        assert_eq!(reloading.need("package.json"), Need::Rebuild);
    }
}
