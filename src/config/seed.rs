//! `seed:` of a stateful service: the data its empty volume starts with, one of a
//! SQL file of the project (`{ sql: ./seed.sql }`), a snapshot (`{ snapshot: demo }`)
//! or a task (`{ task: load-fixtures }`). Read here; whether the service can take it
//! is decided with its template in `service.rs`, and whether the task exists with
//! the other services in [`check_seed_tasks`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::fields::Checker;
use super::model::ServiceKind;
use super::paths::{Expect, ProjectDir};
use super::service::Draft;
use super::yaml::Node;

/// A `seed:` as written, its paths resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WrittenSeed {
    Sql(PathBuf),
    Snapshot(String),
    Task(String),
}

const KEYS: [&str; 3] = ["sql", "snapshot", "task"];

/// Reads `seed:` of `service`; `None` (with errors reported) when it is wrong.
pub fn read(
    check: &mut Checker,
    project: &ProjectDir,
    node: &Node,
    service: &str,
) -> Option<WrittenSeed> {
    let what = format!("`seed` of service `{service}`");
    let help =
        "write one of seed: { sql: ./seed.sql }, seed: { snapshot: NAME } or seed: { task: TASK }";
    // The likeliest slip: the file written alone. Which kind it is must be said.
    if let super::yaml::Value::Scalar(scalar) = &node.value {
        let text = &scalar.text;
        let help = if text.ends_with(".sql") {
            format!("for a SQL file, write seed: {{ sql: {text} }}")
        } else {
            format!(
                "write seed: {{ snapshot: {text} }} for a snapshot, or seed: {{ task: {text} }} for a task"
            )
        };
        check.error(node.span, format!("{what} must say what `{text}` is"), help);
        return None;
    }
    let entries = check.map(node, &what)?;
    check.known_keys(entries, &KEYS, &[], &what);
    let known: Vec<_> = entries
        .iter()
        .filter(|e| KEYS.contains(&e.key.as_str()))
        .collect();
    let [entry] = known.as_slice() else {
        if known.len() > 1 || entries.is_empty() {
            check.error(
                node.span,
                format!("{what} must name exactly one source"),
                help,
            );
        }
        return None;
    };
    let text = check.string(&entry.value, &what)?;
    let span = entry.value.span;
    match entry.key.as_str() {
        "sql" => project
            .inside(check, &text, span, "seed file", Expect::File)
            .map(WrittenSeed::Sql),
        "snapshot" => match crate::snapshot::manifest::check_name(&text) {
            Ok(()) => Some(WrittenSeed::Snapshot(text)),
            Err(_) => {
                check.error(
                    span,
                    format!("`{text}` is not a snapshot name"),
                    "name a snapshot of .gorae/snapshots/ (letters, digits, `.`, `_`, `-`), as `gorae snapshot ls` lists them",
                );
                None
            }
        },
        _ => Some(WrittenSeed::Task(text)),
    }
}

/// A seed task must be a `kind: task` service of the project that depends on the
/// service it seeds (it runs once that service answers, and gets its connection
/// variables that way), and none of its dependencies may wait for that service:
/// they would wait for the seed, and the seed for them.
pub fn check_seed_tasks(check: &mut Checker, drafts: &BTreeMap<String, Draft>) {
    let tasks: Vec<&str> = drafts
        .iter()
        .filter(|(_, d)| d.service.kind == ServiceKind::Task)
        .map(|(name, _)| name.as_str())
        .collect();
    for (name, draft) in drafts {
        let Some((task, span)) = &draft.seed_task else {
            continue;
        };
        let is_task = drafts
            .get(task)
            .is_some_and(|d| d.service.kind == ServiceKind::Task);
        if !is_task {
            let help = if tasks.is_empty() {
                format!("add a service `{task}` with `kind: task` that loads the data")
            } else {
                format!("name one of the tasks: {}", tasks.join(", "))
            };
            check.error(
                *span,
                format!(
                    "`seed` of service `{name}` names `{task}`, which is not a task of this project"
                ),
                help,
            );
            continue;
        }
        let needs = &drafts[task].depends_on;
        if !needs.iter().any(|(dependency, _)| dependency == name) {
            check.error(
                *span,
                format!("seed task `{task}` of `{name}` does not depend on `{name}`"),
                format!("add `depends_on: [{name}]` to `{task}`, so it runs once `{name}` answers and gets its connection variables"),
            );
            continue;
        }
        let waiting = needs
            .iter()
            .map(|(dependency, _)| dependency)
            .filter(|dependency| *dependency != name)
            .find(|dependency| reaches(drafts, dependency, name));
        if let Some(waiting) = waiting {
            check.error(
                *span,
                format!(
                    "seed task `{task}` of `{name}` depends on `{waiting}`, which waits for `{name}`'s seed: neither could start"
                ),
                format!("remove `{waiting}` from the depends_on of `{task}`"),
            );
        }
    }
}

/// Whether `from` depends on `to`, directly or through others.
fn reaches(drafts: &BTreeMap<String, Draft>, from: &str, to: &str) -> bool {
    let mut seen = std::collections::BTreeSet::new();
    let mut next = vec![from];
    while let Some(service) = next.pop() {
        if service == to {
            return true;
        }
        if !seen.insert(service) {
            continue;
        }
        if let Some(draft) = drafts.get(service) {
            next.extend(draft.depends_on.iter().map(|(d, _)| d.as_str()));
        }
    }
    false
}
