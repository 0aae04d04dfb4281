//! The lock check of `gorae doctor`: when gorae.lock exists, it must be readable,
//! match gorae.yaml, and name the digests of the images present here. Unlike
//! `gorae lock --check`, doctor never pulls, so an image not present is reported as
//! not compared rather than resolved.
//! It assembles the current lock with `crate::lock`, looking digests up locally.

use std::collections::BTreeMap;

use super::Check;
use crate::config::Project;
use crate::engine::Engine;
use crate::lock::{self, Lockfile};

const UPDATE: &str = "`gorae lock` updates it; review the change and commit it";

pub async fn check(engine: Option<&Engine>, project: &Project) -> Check {
    let path = lock::path_for(project);
    if !path.exists() {
        return Check::pass(
            "lock",
            "no gorae.lock (optional: `gorae lock` pins every image's digest so CI runs the same)",
        );
    }
    let locked = match lock::read(project) {
        Ok(locked) => locked,
        Err(err) => {
            let text = err.to_string();
            let (detail, hint) = text.split_once("\n  hint: ").unwrap_or((&text, UPDATE));
            return Check::fail("lock", detail, hint);
        }
    };
    let project_text = match std::fs::read_to_string(&project.file) {
        Ok(text) => text,
        Err(err) => {
            return Check::fail(
                "lock",
                format!("cannot read {}: {err}", project.file.display()),
                "check the file's permissions",
            );
        }
    };
    let (current, not_compared) = current_lock(engine, project, &locked, &project_text).await;
    let differences = lock::differences(&locked, &current);
    if !differences.is_empty() {
        return Check::fail(
            "lock",
            format!("gorae.lock is stale: {}", differences.join("; ")),
            UPDATE,
        );
    }
    match not_compared {
        0 => Check::pass("lock", "gorae.lock matches gorae.yaml and the images here"),
        n => Check::warn(
            "lock",
            format!(
                "gorae.lock matches gorae.yaml; {n} image{} not here, so not compared",
                if n == 1 { " is" } else { "s are" }
            ),
            "`gorae up --frozen` compares them once pulled",
        ),
    }
}

/// The lock as it would be written now from what is here. An image that is not
/// here (or with no engine, every image) keeps its locked digest, so it cannot
/// show up as a difference; the count of those is returned alongside.
async fn current_lock(
    engine: Option<&Engine>,
    project: &Project,
    locked: &Lockfile,
    project_text: &str,
) -> (Lockfile, usize) {
    let mut not_compared = 0;
    let mut digests = BTreeMap::new();
    for (name, service) in &project.services {
        let (_, references) = lock::references(service).unwrap_or_default();
        for reference in references {
            let here = match engine {
                Some(engine) => engine.image(&reference).await.ok().flatten(),
                None => None,
            };
            let digest = match here {
                Some(info) => lock::digest_of(&info),
                None => {
                    not_compared += 1;
                    let key = lock::unprefix(project, &reference);
                    locked
                        .services
                        .get(name)
                        .and_then(|s| s.images.get(&key))
                        .cloned()
                        .unwrap_or_default()
                }
            };
            digests.insert(reference, digest);
        }
    }
    (
        lock::assemble(project, project_text, &digests),
        not_compared,
    )
}
