//! A service's `watch:` key: how `gorae up --watch` treats its saved changes, over
//! the template's rules.
//!
//! ```yaml
//! watch:
//!   restart: false                 # the app reloads itself: changes are only synced
//!   rebuild: [package.json, .nvmrc] # paths whose change rebuilds the image (default: the template's manifests)
//!   sync: ["views/**", "**/*.css"]  # patterns only synced, never restarted for
//! ```

use serde::Serialize;

use super::fields::Checker;
use super::yaml::{Kind, Node};

const KEYS: [&str; 3] = ["restart", "rebuild", "sync"];

/// The `watch:` rules as written; what is not written comes from the template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WatchRules {
    /// `false` for an app that reloads itself (a dev server): source is only synced.
    pub restart: bool,
    /// Context-relative paths whose change rebuilds the image; replaces the template's
    /// dependency manifests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebuild: Option<Vec<String>>,
    /// Glob patterns (context-relative) that are only synced, in addition to the
    /// static-file patterns gorae knows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sync: Vec<String>,
}

/// Reads `watch:` of service `name`; errors are recorded in `check`.
pub fn read(check: &mut Checker, node: &Node, name: &str) -> Option<WatchRules> {
    let what = format!("`watch` of service `{name}`");
    let entries = check.map(node, &what)?;
    check.known_keys(entries, &KEYS, &[("reload", "restart")], &what);
    let mut rules = WatchRules {
        restart: true,
        rebuild: None,
        sync: Vec::new(),
    };
    for entry in entries {
        let inner = format!("`{}` of {what}", entry.key);
        match entry.key.as_str() {
            "restart" => match entry.value.as_scalar() {
                Some(scalar) if scalar.kind() == Kind::Bool => {
                    rules.restart = scalar.text == "true";
                }
                _ => check.error(
                    entry.value.span,
                    format!(
                        "{inner} must be true or false, found {}",
                        entry.value.describe()
                    ),
                    "write restart: false for an app that reloads itself, or leave it out",
                ),
            },
            "rebuild" => {
                rules.rebuild = check
                    .names(&entry.value, &inner)
                    .map(|paths| paths.into_iter().map(|(path, _)| path).collect());
            }
            "sync" => {
                for (pattern, span) in check.names(&entry.value, &inner).unwrap_or_default() {
                    match globset::Glob::new(&pattern) {
                        Ok(_) => rules.sync.push(pattern),
                        Err(err) => check.error(
                            span,
                            format!("pattern `{pattern}` in {inner} is not valid: {}", err.kind()),
                            "write a glob relative to the build context, e.g. \"public/**\" or \"**/*.css\"",
                        ),
                    }
                }
            }
            _ => {}
        }
    }
    Some(rules)
}

#[cfg(test)]
mod tests {
    fn load(service: &str) -> Result<crate::config::Project, String> {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("web")).expect("mkdir");
        let yaml = format!("name: shop\nservices:\n{service}");
        let no_env = |_: &str| None;
        crate::config::load_str(&yaml, &dir.path().join("gorae.yaml"), &no_env)
            .map_err(|err| err.to_string())
    }

    #[test]
    fn written_watch_rules_are_read_for_a_built_service() {
        let project = load(
            "  web:\n    template: node\n    build: ./web\n    watch: { restart: false, rebuild: [package.json, .nvmrc], sync: [\"views/**\"] }\n",
        )
        .expect("valid");
        let rules = project.services["web"].watch.clone().expect("watch");
        assert!(!rules.restart);
        assert_eq!(
            rules.rebuild,
            Some(vec!["package.json".into(), ".nvmrc".into()])
        );
        assert_eq!(rules.sync, ["views/**"]);
    }

    /// Each wrong `watch:` is one positioned error that says how to fix it.
    #[test]
    fn wrong_watch_rules_are_errors() {
        let cases = [
            (
                "    build: ./web\n    template: node\n    watch: { restart: maybe }\n",
                "must be true or false",
            ),
            (
                "    build: ./web\n    template: node\n    watch: { sync: [\"a/[\"] }\n",
                "is not valid",
            ),
            (
                "    build: ./web\n    template: node\n    watch: { reload: false }\n",
                "did you mean `restart`?",
            ),
            (
                "    build: ./web\n    template: node\n    watch: [x]\n",
                "must be a map",
            ),
            (
                "    template: redis\n    watch: { restart: false }\n",
                "`watch` has no meaning for `web`",
            ),
        ];
        for (body, expected) in cases {
            let err = load(&format!("  web:\n{body}")).expect_err(body);
            assert!(err.contains(expected), "{body}: {err}");
            assert!(err.contains("gorae.yaml:"), "{body}: {err}");
        }
    }
}
