//! `.dockerignore` rules with Docker's semantics.
//!
//! Docker's matcher (moby/patternmatcher): patterns are cleaned paths relative to the
//! context root (a leading `/` means the same), `*` and `?` stay within one path
//! component, `**` spans any number of them, a pattern that matches a directory
//! matches everything beneath it, `!` re-includes, and the last matching rule wins.
//! Globbing itself is globset's: all rules are one `GlobSet`, so a path is matched
//! against every rule in one pass instead of one regex per rule (the defaults alone are
//! some twenty rules, and a no-op `up` asks about every file of every build context).

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// What the rules say about one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Included,
    /// Left out; `final_below`: no later rule can bring back anything beneath it, so
    /// a directory need not be walked.
    Ignored {
        final_below: bool,
    },
}

/// An ordered list of ignore rules.
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    /// Every rule's glob, at the rule's index.
    globs: GlobSet,
    /// Per rule: `!pattern`, which re-includes what earlier rules excluded.
    exceptions: Vec<bool>,
}

impl IgnoreRules {
    /// Parses `.dockerignore` text appended after `defaults`; a bad pattern is an
    /// error naming its line.
    pub fn parse(defaults: &[&str], text: &str) -> Result<IgnoreRules, String> {
        let mut globs = GlobSetBuilder::new();
        let mut exceptions = Vec::new();
        let lines = defaults
            .iter()
            .map(|d| (0, *d))
            .chain(text.lines().enumerate().map(|(i, l)| (i + 1, l)));
        for (line_no, line) in lines {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exception, pattern) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let pattern = clean(pattern);
            if pattern.is_empty() {
                continue;
            }
            let glob = GlobBuilder::new(&pattern)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|err| format!(".dockerignore line {line_no}: {err}"))?;
            globs.add(glob);
            exceptions.push(exception);
        }
        let globs = globs
            .build()
            .map_err(|err| format!(".dockerignore: {err}"))?;
        Ok(IgnoreRules { globs, exceptions })
    }

    /// Whether a context-relative path (`/`-separated) is left out of the context.
    pub fn is_ignored(&self, path: &str) -> bool {
        matches!(self.verdict(path), Verdict::Ignored { .. })
    }

    /// Whether a context-relative path is left out, and if so whether that holds for
    /// everything beneath it too: a rule that matches a directory matches all below
    /// it, and only an exception after that rule could bring something back.
    pub fn verdict(&self, path: &str) -> Verdict {
        let matching = self.rules_matching_self_or_parent(path);
        let mut deciding = None;
        for (index, &exception) in self.exceptions.iter().enumerate() {
            let ignored = deciding.is_some();
            if exception != ignored {
                // This rule cannot change the outcome.
                continue;
            }
            if matching[index] {
                deciding = (!exception).then_some(index);
            }
        }
        match deciding {
            None => Verdict::Included,
            // The deciding rule is no exception itself, so it may be part of the
            // rules looked at: only an exception after it could bring a path back.
            Some(index) => Verdict::Ignored {
                final_below: !self.exceptions[index..].contains(&true),
            },
        }
    }

    /// Per rule, whether it matches `path` or one of its parent directories (a rule
    /// that matches a directory matches everything beneath it).
    fn rules_matching_self_or_parent(&self, path: &str) -> Vec<bool> {
        let mut matching = vec![false; self.exceptions.len()];
        let mut found = Vec::new();
        let parents = path.match_indices('/').map(|(index, _)| &path[..index]);
        for candidate in std::iter::once(path).chain(parents) {
            self.globs.matches_into(candidate, &mut found);
            for &index in &found {
                matching[index] = true;
            }
        }
        matching
    }
}

/// Docker cleans patterns like Go's `filepath.Clean` and drops a leading `/`.
fn clean(pattern: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in pattern.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (rules, path, ignored?)
    const CASES: &[(&str, &str, bool)] = &[
        ("node_modules", "node_modules", true),
        ("node_modules", "node_modules/a/b.js", true),
        ("node_modules", "src/node_modules", false),
        ("*.log", "debug.log", true),
        ("*.log", "logs/debug.log", false),
        ("**/*.log", "logs/deep/debug.log", true),
        ("/build", "build/out.o", true),
        ("./build", "build", true),
        ("docs/*.md", "docs/a.md", true),
        ("docs/*.md", "docs/sub/a.md", false),
        ("*.md\n!README.md", "README.md", false),
        ("*.md\n!README.md", "CHANGES.md", true),
        ("*.md\n!README.md\nREADME.md", "README.md", true),
        ("secrets\n!secrets/public.pem", "secrets/public.pem", false),
        ("secrets\n!secrets/public.pem", "secrets/private.pem", true),
        ("# comment\n\n tmp ", "tmp/x", true),
        ("a?c", "abc", true),
        ("a?c", "a/c", false),
        ("[ab].txt", "b.txt", true),
        ("src/../dist", "dist/x", true),
    ];

    #[test]
    fn dockerignore_semantics_table() {
        for (rules, path, expected) in CASES {
            let parsed = IgnoreRules::parse(&[], rules).expect("valid rules");
            assert_eq!(
                parsed.is_ignored(path),
                *expected,
                "rules {rules:?} on path {path:?}"
            );
        }
    }

    #[test]
    fn user_rules_can_reinclude_defaults() {
        let rules = IgnoreRules::parse(&["node_modules"], "!node_modules").expect("valid");
        assert!(!rules.is_ignored("node_modules/x"));
        let rules = IgnoreRules::parse(&["**/.env"], "!.env").expect("valid");
        assert!(!rules.is_ignored(".env"));
        assert!(rules.is_ignored("sub/.env"));
    }

    /// A directory can be skipped whole only when no exception after the rule that
    /// ignored it could bring back something beneath it.
    #[test]
    fn a_directory_is_final_unless_a_later_exception_follows() {
        let rules = IgnoreRules::parse(&["**/.env.*", "!**/.env.example", "node_modules"], "")
            .expect("valid");
        assert_eq!(
            rules.verdict("node_modules"),
            Verdict::Ignored { final_below: true }
        );
        assert!(rules.is_ignored("node_modules/pkg/.env.example"));
        let rules = IgnoreRules::parse(&["node_modules"], "!node_modules/keep").expect("valid");
        assert_eq!(
            rules.verdict("node_modules"),
            Verdict::Ignored { final_below: false }
        );
        assert!(!rules.is_ignored("node_modules/keep/x"));
    }

    #[test]
    fn bad_pattern_names_its_line() {
        let err = IgnoreRules::parse(&[], "ok\n[unclosed").expect_err("invalid");
        assert!(err.contains("line 2"), "{err}");
    }
}
