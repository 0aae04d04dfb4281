//! Python apps: each directory with `requirements.txt` or `pyproject.toml` (not
//! inside another such directory) becomes a service built with the `python` template;
//! in a project with no manifest at all, each directory with an entry file does.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::hints::{Lang, guess_port, major_minor_version};
use super::scan::Tree;
use super::{App, DraftService, Use, build_path, clients, finish_uses, service_name, shown};
use crate::config::template::Templates;

const TEMPLATE: &str = "python";
const MANIFESTS: [&str; 2] = ["requirements.txt", "pyproject.toml"];

/// Files that mark a Python app in a project with no Python manifest at all (one that
/// needs nothing from PyPI).
const ENTRY_FILES: [&str; 3] = ["manage.py", "app.py", "main.py"];

/// Every Python app in the tree, in path order: directories with a manifest, or, when
/// the project has none, directories with an entry file.
pub(super) fn detect_all(tree: &Tree, templates: &Templates) -> Vec<App> {
    let dirs_with = |names: &[&str]| -> BTreeSet<PathBuf> {
        tree.files()
            .filter(|path| {
                path.file_name()
                    .is_some_and(|n| names.iter().any(|m| n == *m))
            })
            .map(|path| path.parent().unwrap_or(Path::new("")).to_path_buf())
            .collect()
    };
    let mut dirs = dirs_with(&MANIFESTS);
    if dirs.is_empty() {
        // A directory that is already a Node.js app is not also a Python one.
        dirs = dirs_with(&ENTRY_FILES)
            .into_iter()
            .filter(|dir| !tree.has(&dir.join("package.json")))
            .collect();
    }
    dirs.iter()
        .filter(|dir| {
            !dirs
                .iter()
                .any(|other| other != *dir && dir.starts_with(other))
        })
        .map(|dir| detect(tree, dir, templates))
        .collect()
}

/// What the manifests say.
#[derive(Default)]
struct Manifest {
    dependencies: Vec<String>,
    requires_python: Option<String>,
    /// Which file each piece came from, for comments.
    dependencies_from: Vec<String>,
}

fn detect(tree: &Tree, dir: &Path, templates: &Templates) -> App {
    let requirements = dir.join("requirements.txt");
    let pyproject = dir.join("pyproject.toml");
    let mut about = Vec::new();
    let mut manifest = Manifest::default();
    if let Some(text) = tree.read(&requirements) {
        manifest.dependencies.extend(requirements_names(&text));
        manifest.dependencies_from.push(shown(&requirements));
    }
    if let Some(text) = tree.read(&pyproject) {
        match text.parse::<toml::Table>() {
            Ok(table) => {
                let (names, python) = pyproject_facts(&table);
                manifest.dependencies.extend(names);
                manifest.requires_python = python;
                manifest.dependencies_from.push(shown(&pyproject));
            }
            Err(error) => about.push(format!(
                "{} is not valid TOML ({}); it was not read.",
                shown(&pyproject),
                error.message()
            )),
        }
    }

    let (version, version_from) = version(tree, dir, &manifest, templates);
    let found = if manifest.dependencies_from.is_empty() {
        let place = if dir.as_os_str().is_empty() {
            "This directory".to_string()
        } else {
            format!("{}/", shown(dir))
        };
        format!(
            "{place}: a Python app with no requirements.txt or pyproject.toml (nothing to install)"
        )
    } else {
        format!("{}: a Python app", manifest.dependencies_from.join(" and "))
    };
    about.insert(0, format!("{found}; version {version_from}."));
    if tree.has(&pyproject) && !tree.has(&requirements) {
        about.push(
            "The python template installs requirements.txt; this app has only pyproject.toml, so write one (e.g. `pip freeze > requirements.txt` in its environment)."
                .to_string(),
        );
    }

    let has = |file: &str| tree.has(&dir.join(file));
    let uses_dependency = |name: &str| {
        manifest
            .dependencies
            .iter()
            .any(|d| clients::normalize_python_name(d) == name)
    };
    let (command, entry, fixed_port) = command(tree, dir, &has, &uses_dependency);
    if command.is_none() {
        about.push(
            "No app.py, main.py or manage.py found: the template's default command runs; set `command`."
                .to_string(),
        );
    }

    let mut service = DraftService {
        name: service_name(dir),
        about,
        template: Some(TEMPLATE.to_string()),
        version,
        build: Some(build_path(dir)),
        command,
        ..DraftService::default()
    };
    let entry_text = entry.as_ref().and_then(|path| tree.read(path));
    let port = fixed_port.or_else(|| {
        entry_text
            .as_deref()
            .and_then(|t| guess_port(t, Lang::Python))
    });
    if let Some(port) = port {
        service.ports.push(port.to_string());
        service.ports_note = Some(format!("127.0.0.1:{port} -> {port}"));
    }
    if let Some(text) = &entry_text
        && text.contains("app.run(")
        && !text.contains("host=")
    {
        service.notes.push(
            "Flask's app.run() listens on 127.0.0.1 inside the container unless given host=\"0.0.0.0\"."
                .to_string(),
        );
    }

    let mut uses = Vec::new();
    for name in &manifest.dependencies {
        if let Some(template) = clients::python_template(name) {
            uses.push(Use {
                template: template.to_string(),
                because: format!("{} lists {name}", manifest.dependencies_from.join(" or ")),
            });
        }
    }
    let uses = finish_uses(tree, dir, &["py"], templates, uses);
    App { service, uses }
}

/// The Python `MAJOR.MINOR` and where it came from: `.python-version` in the app's
/// directory or the project's, then `requires-python`, then the template's default.
fn version(
    tree: &Tree,
    dir: &Path,
    manifest: &Manifest,
    templates: &Templates,
) -> (Option<String>, String) {
    for base in [dir, Path::new("")] {
        let path = base.join(".python-version");
        let first_line = tree
            .read(&path)
            .and_then(|text| text.lines().next().map(str::to_string));
        if let Some(version) = first_line.as_deref().and_then(major_minor_version) {
            return (Some(version), format!("from {}", shown(&path)));
        }
    }
    if let Some(version) = manifest
        .requires_python
        .as_deref()
        .and_then(major_minor_version)
    {
        return (
            Some(version),
            "from requires-python in pyproject.toml".to_string(),
        );
    }
    let default = templates
        .get(TEMPLATE)
        .and_then(|t| t.default_version.clone());
    (
        default,
        "is the template's default (no .python-version or requires-python)".to_string(),
    )
}

/// The command, the file it runs (for the port guess) and a port it fixes, from the
/// files present: Django's manage.py, a FastAPI app served by uvicorn, else app.py,
/// main.py, server.py. `None` keeps the template's default.
fn command(
    tree: &Tree,
    dir: &Path,
    has: &dyn Fn(&str) -> bool,
    uses_dependency: &dyn Fn(&str) -> bool,
) -> (Option<Vec<String>>, Option<PathBuf>, Option<u16>) {
    let words = |words: &[&str]| Some(words.iter().map(|w| w.to_string()).collect());
    if has("manage.py") {
        let command = words(&["python", "manage.py", "runserver", "0.0.0.0:8000"]);
        return (command, Some(dir.join("manage.py")), Some(8000));
    }
    for file in ["main.py", "app.py"] {
        let path = dir.join(file);
        let serves_fastapi = uses_dependency("uvicorn")
            && tree
                .read(&path)
                .is_some_and(|text| text.contains("FastAPI("));
        if has(file) && serves_fastapi {
            let module = format!("{}:app", file.trim_end_matches(".py"));
            let command = words(&["uvicorn", &module, "--host", "0.0.0.0", "--port", "8000"]);
            return (command, Some(path), Some(8000));
        }
    }
    for file in ["app.py", "main.py", "server.py"] {
        if has(file) {
            return (words(&["python", file]), Some(dir.join(file)), None);
        }
    }
    (None, None, None)
}

/// Distribution names in requirements.txt, skipping comments, options (`-r`, `-e`,
/// `--index-url`) and direct URLs.
fn requirements_names(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| line.split(" #").next().unwrap_or("").trim())
        .filter(|line| !line.is_empty() && !line.starts_with(['#', '-']) && !line.contains("://"))
        .filter_map(clients::requirement_name)
        .map(str::to_string)
        .collect()
}

/// Dependencies and the Python requirement from pyproject.toml: PEP 621 `[project]`,
/// or Poetry's `[tool.poetry.dependencies]` (whose `python` key is the requirement).
fn pyproject_facts(table: &toml::Table) -> (Vec<String>, Option<String>) {
    let mut names = Vec::new();
    let project = table.get("project").and_then(|p| p.as_table());
    if let Some(deps) = project
        .and_then(|p| p.get("dependencies"))
        .and_then(|d| d.as_array())
    {
        names.extend(
            deps.iter()
                .filter_map(|d| d.as_str())
                .filter_map(clients::requirement_name)
                .map(str::to_string),
        );
    }
    let mut python = project
        .and_then(|p| p.get("requires-python"))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let poetry = table
        .get("tool")
        .and_then(|t| t.get("poetry"))
        .and_then(|p| p.get("dependencies"))
        .and_then(|d| d.as_table());
    if let Some(deps) = poetry {
        for (name, value) in deps {
            if name == "python" {
                python = python.or_else(|| value.as_str().map(str::to_string));
            } else {
                names.push(name.clone());
            }
        }
    }
    (names, python)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_lines_give_distribution_names() {
        let text = "# web\nflask==3.0 # the app\n-r base.txt\n-e .\npsycopg2-binary>=2.9\n\nhttps://x.example/p.whl\nredis[hiredis]\n";
        assert_eq!(
            requirements_names(text),
            ["flask", "psycopg2-binary", "redis"]
        );
    }

    #[test]
    fn pyproject_gives_dependencies_and_python_for_pep621_and_poetry() {
        let pep621: toml::Table = r#"
            [project]
            requires-python = ">=3.11"
            dependencies = ["psycopg[binary]>=3.1", "fastapi"]
        "#
        .parse()
        .unwrap();
        assert_eq!(
            pyproject_facts(&pep621),
            (
                vec!["psycopg".to_string(), "fastapi".to_string()],
                Some(">=3.11".to_string())
            )
        );
        let poetry: toml::Table = r#"
            [tool.poetry.dependencies]
            python = "^3.10"
            redis = "^5"
        "#
        .parse()
        .unwrap();
        assert_eq!(
            pyproject_facts(&poetry),
            (vec!["redis".to_string()], Some("^3.10".to_string()))
        );
    }
}
