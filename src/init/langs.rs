//! Go, Ruby and PHP apps: each directory with `go.mod`, `Gemfile` or `composer.json`
//! (not inside another directory with the same manifest) becomes a service built with
//! the `go`, `ruby` or `php` template, publishing the template's port, with the
//! backing services its manifest's client libraries imply.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::hints::major_minor_version;
use super::scan::Tree;
use super::{App, DraftService, Use, build_path, clients, finish_uses, service_name, shown};
use crate::config::template::Templates;

/// One language: its template, manifest, source extensions, and where its version is
/// written (a file in the app's directory whose first line holds it, or a line of the
/// manifest after a prefix).
struct Lang {
    template: &'static str,
    manifest: &'static str,
    extensions: &'static [&'static str],
    version_file: Option<&'static str>,
    /// The version the manifest asks for: `go 1.22` in go.mod, `"php": ">=8.2"`.
    version_in: fn(&str) -> Option<String>,
    clients: fn(&str) -> Vec<(String, &'static str)>,
}

const LANGS: [Lang; 3] = [
    Lang {
        template: "go",
        manifest: "go.mod",
        extensions: &["go"],
        version_file: None,
        version_in: |text| line_version(text, "go "),
        clients: clients::go_modules,
    },
    Lang {
        template: "ruby",
        manifest: "Gemfile",
        extensions: &["rb"],
        version_file: Some(".ruby-version"),
        version_in: |text| line_version(text, "ruby "),
        clients: clients::gems,
    },
    Lang {
        template: "php",
        manifest: "composer.json",
        extensions: &["php"],
        version_file: None,
        version_in: |text| {
            let json: serde_json::Value = serde_json::from_str(text).ok()?;
            major_minor_version(json.get("require")?.get("php")?.as_str()?)
        },
        clients: clients::composer_packages,
    },
];

/// Every Go, Ruby and PHP app in the tree, in language then path order.
pub(super) fn detect_all(tree: &Tree, templates: &Templates) -> Vec<App> {
    let mut apps = Vec::new();
    for lang in &LANGS {
        let dirs: BTreeSet<PathBuf> = tree
            .files()
            .filter(|path| path.file_name().is_some_and(|n| n == lang.manifest))
            .map(|path| path.parent().unwrap_or(Path::new("")).to_path_buf())
            .collect();
        for dir in &dirs {
            if !dirs
                .iter()
                .any(|other| other != dir && dir.starts_with(other))
            {
                apps.push(detect(tree, dir, lang, templates));
            }
        }
    }
    apps
}

fn detect(tree: &Tree, dir: &Path, lang: &Lang, templates: &Templates) -> App {
    let manifest = dir.join(lang.manifest);
    let text = tree.read(&manifest).unwrap_or_default();
    let template = templates.get(lang.template);
    let from_file = lang.version_file.and_then(|file| {
        let path = dir.join(file);
        let line = tree.read(&path)?.lines().next()?.to_string();
        Some((
            major_minor_version(&line)?,
            format!("from {}", shown(&path)),
        ))
    });
    let from_manifest = || {
        Some((
            (lang.version_in)(&text)?,
            format!("from {}", shown(&manifest)),
        ))
    };
    let (version, version_from) = match from_file.or_else(from_manifest) {
        Some((version, from)) => (Some(version), from),
        None => (
            template.and_then(|t| t.default_version.clone()),
            "is the template's default".to_string(),
        ),
    };
    let mut service = DraftService {
        name: service_name(dir),
        about: vec![format!(
            "{}: a {} app; version {version_from}.",
            shown(&manifest),
            lang.template
        )],
        template: Some(lang.template.to_string()),
        version,
        build: Some(build_path(dir)),
        ..DraftService::default()
    };
    if let Some(port) = template.and_then(|t| t.port) {
        service.ports.push(port.to_string());
        service.ports_note = Some(format!(
            "127.0.0.1:{port} -> {port} (the template's port; the app listens on $PORT)"
        ));
    }
    let uses = (lang.clients)(&text)
        .into_iter()
        .map(|(library, template)| Use {
            template: template.to_string(),
            because: format!("{} requires {library}", shown(&manifest)),
        })
        .collect();
    let uses = finish_uses(tree, dir, lang.extensions, templates, uses);
    App { service, uses }
}

/// The `MAJOR.MINOR` on the first line that starts with `prefix` (`go 1.22.3`).
fn line_version(text: &str, prefix: &str) -> Option<String> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(prefix))?;
    major_minor_version(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_ruby_and_php_apps_are_detected_with_their_version_port_and_services() {
        let root = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let path = root.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(
            "api/go.mod",
            "module example.com/api\n\ngo 1.22.3\n\nrequire github.com/go-sql-driver/mysql v1.8.1\n",
        );
        write("api/tools/go.mod", "module example.com/tools\n");
        write(
            "shop/Gemfile",
            "source \"https://rubygems.org\"\ngem \"bunny\"\n",
        );
        write("shop/.ruby-version", "3.2.4\n");
        write(
            "site/composer.json",
            r#"{"require": {"php": "^8.2", "ext-memcached": "*"}}"#,
        );
        let (templates, _) = Templates::load(root.path(), Path::new(""));
        let apps = detect_all(&Tree::scan(root.path()), &templates);
        let summary: Vec<_> = apps
            .iter()
            .map(|app| {
                (
                    app.service.name.as_str(),
                    app.service.template.as_deref().unwrap(),
                    app.service.version.as_deref().unwrap(),
                    app.service.build.as_deref().unwrap(),
                    app.service.ports.join(","),
                    app.uses
                        .iter()
                        .map(|u| u.template.as_str())
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "api",
                    "go",
                    "1.22",
                    "./api",
                    "8080".to_string(),
                    vec!["mysql"]
                ),
                (
                    "shop",
                    "ruby",
                    "3.2",
                    "./shop",
                    "3000".to_string(),
                    vec!["rabbitmq"]
                ),
                (
                    "site",
                    "php",
                    "8.2",
                    "./site",
                    "8080".to_string(),
                    vec!["memcached"]
                ),
            ]
        );
    }
}
