//! `.dockerignore` rules with Docker's semantics.
//!
//! Docker's matcher (moby/patternmatcher): patterns are cleaned paths relative to the
//! context root (a leading `/` means the same), `*` and `?` stay within one path
//! component, `**` spans any number of them, a pattern that matches a directory
//! matches everything beneath it, `!` re-includes, and the last matching rule wins.
//! Globbing itself is globset's.

use globset::{GlobBuilder, GlobMatcher};

/// One compiled rule.
#[derive(Debug, Clone)]
struct Rule {
    matcher: GlobMatcher,
    /// `!pattern`: re-include what earlier rules excluded.
    exception: bool,
}

/// An ordered list of ignore rules.
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    rules: Vec<Rule>,
}

impl IgnoreRules {
    /// Parses `.dockerignore` text appended after `defaults`; a bad pattern is an
    /// error naming its line.
    pub fn parse(defaults: &[&str], text: &str) -> Result<IgnoreRules, String> {
        let mut rules = Vec::new();
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
            rules.push(Rule {
                matcher: glob.compile_matcher(),
                exception,
            });
        }
        Ok(IgnoreRules { rules })
    }

    /// Whether a context-relative path (`/`-separated) is left out of the context.
    pub fn is_ignored(&self, path: &str) -> bool {
        let mut ignored = false;
        for rule in &self.rules {
            if rule.exception != ignored {
                // This rule cannot change the outcome.
                continue;
            }
            if matches_self_or_parent(&rule.matcher, path) {
                ignored = !rule.exception;
            }
        }
        ignored
    }

    /// Whether any rule re-includes paths; without one, an ignored directory can be
    /// skipped whole.
    pub fn has_exceptions(&self) -> bool {
        self.rules.iter().any(|rule| rule.exception)
    }
}

fn matches_self_or_parent(matcher: &GlobMatcher, path: &str) -> bool {
    if matcher.is_match(path) {
        return true;
    }
    path.match_indices('/')
        .any(|(index, _)| matcher.is_match(&path[..index]))
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
        assert!(rules.has_exceptions());
    }

    #[test]
    fn bad_pattern_names_its_line() {
        let err = IgnoreRules::parse(&[], "ok\n[unclosed").expect_err("invalid");
        assert!(err.contains("line 2"), "{err}");
    }
}
