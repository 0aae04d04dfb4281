//! Node.js apps: each `package.json` (not inside another one's directory) becomes a
//! service built with the `node` template.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::hints::{Lang, guess_port, major_version};
use super::scan::Tree;
use super::{App, DraftService, Use, build_path, clients, finish_uses, service_name, shown};
use crate::config::template::Templates;

const TEMPLATE: &str = "node";
/// Source files read for the port and the connection variables.
const SOURCES: [&str; 5] = ["js", "mjs", "cjs", "ts", "mts"];
/// Entry files tried, in order, when package.json names none.
const ENTRY_FILES: [&str; 4] = ["index.js", "server.js", "app.js", "main.js"];

/// Every Node.js app in the tree, in path order.
pub(super) fn detect_all(tree: &Tree, templates: &Templates) -> Vec<App> {
    let manifests: Vec<(PathBuf, bool)> = tree
        .files()
        .filter(|path| path.file_name().is_some_and(|n| n == "package.json"))
        .map(|path| (path.to_path_buf(), runnable(tree, path)))
        .collect();
    manifests
        .iter()
        .filter(|(manifest, runs)| {
            let dir = parent(manifest);
            let others = manifests.iter().filter(|(other, _)| other != manifest);
            // A package below a runnable one is part of it (a workspace package, an
            // example); a root that runs nothing but has packages below it is only
            // a workspace or tooling root.
            let mut others_above = others.clone().filter(|(o, _)| dir.starts_with(parent(o)));
            let has_below = others.clone().any(|(o, _)| parent(o).starts_with(dir));
            !others_above.any(|(_, runs)| *runs) && (*runs || !has_below)
        })
        .map(|(manifest, _)| detect(tree, manifest, templates))
        .collect()
}

fn parent(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new(""))
}

/// Whether a package.json says how to run something: a start script, `main`, or an
/// entry file beside it.
fn runnable(tree: &Tree, manifest: &Path) -> bool {
    let dir = parent(manifest);
    let package: Value = tree
        .read(manifest)
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null);
    package["scripts"]["start"].is_string()
        || package["main"].is_string()
        || ENTRY_FILES.iter().any(|file| tree.has(&dir.join(file)))
}

fn detect(tree: &Tree, manifest: &Path, templates: &Templates) -> App {
    let dir = manifest.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut about = Vec::new();
    let package: Value = match tree.read(manifest).map(|t| serde_json::from_str(&t)) {
        Some(Ok(value)) => value,
        Some(Err(error)) => {
            about.push(format!(
                "{} is not valid JSON ({error}); defaults were used.",
                shown(manifest)
            ));
            Value::Null
        }
        None => Value::Null,
    };

    let (version, version_from) = version(tree, &dir, &package, templates);
    about.insert(
        0,
        format!(
            "{}: a Node.js app; version {version_from}.",
            shown(manifest)
        ),
    );

    let (command, command_note) = command(tree, &dir, &package);
    if let Some(note) = command_note {
        about.push(note);
    }
    let entry = command
        .iter()
        .skip(1)
        .find(|word| !word.starts_with('-'))
        .map(|file| dir.join(file));

    let mut service = DraftService {
        name: service_name(&dir),
        about,
        template: Some(TEMPLATE.to_string()),
        version,
        build: Some(build_path(&dir)),
        command: Some(command),
        ..DraftService::default()
    };
    if let Some(entry) = &entry
        && let Some(port) = tree
            .read(entry)
            .and_then(|text| guess_port(&text, Lang::JavaScript))
    {
        service.ports.push(port.to_string());
        service.ports_note = Some(format!(
            "127.0.0.1:{port} -> {port}; {} listens on {port}",
            shown(entry.strip_prefix(&dir).unwrap_or(entry))
        ));
    }

    let mut uses = Vec::new();
    for name in dependency_names(&package) {
        if let Some(template) = clients::npm_template(&name) {
            uses.push(Use {
                template: template.to_string(),
                because: format!("{} depends on {name}", shown(manifest)),
            });
        }
    }
    let uses = finish_uses(tree, &dir, &SOURCES, templates, uses);
    App { service, uses }
}

/// The Node.js major version and where it came from: `.nvmrc` or `.node-version` in the
/// app's directory or the project's, then `engines.node`, then the template's default.
fn version(
    tree: &Tree,
    dir: &Path,
    package: &Value,
    templates: &Templates,
) -> (Option<String>, String) {
    for base in [dir, Path::new("")] {
        for file in [".nvmrc", ".node-version"] {
            let path = base.join(file);
            if let Some(major) = tree.read(&path).as_deref().and_then(major_version) {
                return (Some(major), format!("from {}", shown(&path)));
            }
        }
    }
    if let Some(major) = package["engines"]["node"].as_str().and_then(major_version) {
        return (Some(major), "from engines.node in package.json".to_string());
    }
    let default = templates
        .get(TEMPLATE)
        .and_then(|t| t.default_version.clone());
    (
        default,
        "is the template's default (no .nvmrc, .node-version or engines.node)".to_string(),
    )
}

/// The command, and a comment when it is a guess: `scripts.start` when it is a plain
/// `node FILE`, else `node` with `main` or a common entry file, else `npm start`.
fn command(tree: &Tree, dir: &Path, package: &Value) -> (Vec<String>, Option<String>) {
    let start = package["scripts"]["start"].as_str();
    if let Some(words) = start.and_then(simple_node_command) {
        return (words, None);
    }
    let main = package["main"]
        .as_str()
        .map(|m| m.trim_start_matches("./").to_string())
        .filter(|m| tree.has(&dir.join(m)));
    let entry = main.or_else(|| {
        ENTRY_FILES
            .iter()
            .find(|file| tree.has(&dir.join(file)))
            .map(|file| file.to_string())
    });
    let start_note = start.map(|s| format!("scripts.start is `{s}`; "));
    match entry {
        Some(file) => (
            vec!["node".to_string(), file],
            start_note.map(|note| format!("{note}check that the command below does the same.")),
        ),
        None if start.is_some() => (
            vec!["npm".to_string(), "start".to_string()],
            start_note.map(|note| format!("{note}it runs through npm.")),
        ),
        None => (
            vec!["node".to_string(), "index.js".to_string()],
            Some("No entry file found: set `command` to what starts the app.".to_string()),
        ),
    }
}

/// `node server.js` or `node --enable-source-maps dist/main.js` as words; `None` for
/// anything a shell would treat specially or that runs another program.
fn simple_node_command(script: &str) -> Option<Vec<String>> {
    if script.contains(['&', '|', ';', '<', '>', '$', '`', '(', ')']) {
        return None;
    }
    let words = shlex::split(script)?;
    (words.first().map(String::as_str) == Some("node") && words.len() > 1).then_some(words)
}

/// Names in `dependencies` and `devDependencies`.
fn dependency_names(package: &Value) -> Vec<String> {
    ["dependencies", "devDependencies"]
        .iter()
        .filter_map(|key| package[key].as_object())
        .flat_map(|deps| deps.keys().cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_node_start_scripts_become_the_command() {
        let words = |s: &str| simple_node_command(s);
        assert_eq!(
            words("node server.js"),
            Some(vec!["node".to_string(), "server.js".to_string()])
        );
        assert_eq!(
            words("node --enable-source-maps dist/main.js").map(|w| w.len()),
            Some(3)
        );
        assert_eq!(words("nodemon server.js"), None);
        assert_eq!(words("node build.js && node server.js"), None);
        assert_eq!(words("NODE_ENV=production node server.js"), None);
        assert_eq!(words("node"), None);
    }
}
