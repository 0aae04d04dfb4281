//! The lock check of `gorae doctor`: when gorae.lock exists, it must be readable and
//! match gorae.yaml; locked images not on this machine are reported, since `up`
//! then pulls them by their locked digest. Doctor never pulls and never asks a
//! registry (`gorae lock --check` does that).

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
    let differences = lock::structure_changes(project, &project_text, &locked);
    if !differences.is_empty() {
        return Check::fail(
            "lock",
            format!("gorae.lock is stale: {}", differences.join("; ")),
            UPDATE,
        );
    }
    let not_compared = not_here(engine, &locked).await;
    match not_compared {
        0 => Check::pass(
            "lock",
            "gorae.lock matches gorae.yaml and every locked image is here",
        ),
        n => Check::warn(
            "lock",
            format!(
                "gorae.lock matches gorae.yaml; {n} locked image{} not here",
                if n == 1 { " is" } else { "s are" }
            ),
            "`gorae up` pulls them by their locked digest",
        ),
    }
}

/// How many locked images this machine does not have by their locked id (with no
/// engine, every one).
async fn not_here(engine: Option<&Engine>, locked: &Lockfile) -> usize {
    let mut missing = 0;
    for service in locked.services.values() {
        for entry in service.images.values() {
            let here = match engine {
                Some(engine) => engine.image(&entry.id).await.ok().flatten().is_some(),
                None => false,
            };
            if !here {
                missing += 1;
            }
        }
    }
    missing
}
