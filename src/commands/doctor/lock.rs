//! The lock check of `gorae doctor`: when gorae.lock exists, it must be readable,
//! match gorae.yaml, and name the digests of the images present here. Unlike
//! `gorae lock --check`, doctor never pulls, so an image not present is reported as
//! not compared rather than resolved.
//!
//! Extension point: this builds the "current" lock from local images only, with the
//! pieces `crate::lock` offers. When `crate::lock` gains a check that needs no pull,
//! this module should become a call to it.

use std::collections::BTreeMap;

use super::Check;
use crate::config::{ImageSource, Project};
use crate::engine::Engine;
use crate::images::{base_images, dockerfile_text};
use crate::lock::{self, LockedService, Lockfile};

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
    let mut services = BTreeMap::new();
    for (name, service) in &project.services {
        let (build, references) = match &service.image {
            ImageSource::Pull { image } => (false, vec![image.clone()]),
            ImageSource::Build { dockerfile, .. } => (
                true,
                dockerfile_text(dockerfile)
                    .map(|text| base_images(&text))
                    .unwrap_or_default(),
            ),
        };
        let mut images = BTreeMap::new();
        for reference in references {
            let key = lock::unprefix(project, &reference);
            let here = match engine {
                Some(engine) => engine.image(&reference).await.ok().flatten(),
                None => None,
            };
            let digest = match here {
                Some(info) => lock::digest_of(&info),
                None => {
                    not_compared += 1;
                    locked
                        .services
                        .get(name)
                        .and_then(|s| s.images.get(&key))
                        .cloned()
                        .unwrap_or_default()
                }
            };
            images.insert(key, digest);
        }
        services.insert(
            name.clone(),
            LockedService {
                template: service.template.as_ref().map(|t| t.name.clone()),
                template_revision: service.template.as_ref().map(|t| t.revision),
                build,
                images,
            },
        );
    }
    let current = Lockfile {
        version: locked.version,
        gorae: locked.gorae.clone(),
        project_file: lock::file_fingerprint(project_text),
        services,
    };
    (current, not_compared)
}
