//! Why a container is re-created: a short digest of each part of its configuration,
//! kept in a label, so the next `up` names the part that changed (`env PORT changed`)
//! without ever storing or printing a value.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::engine::{ContainerSpec, labels};
use crate::hash::hex;

/// The digest of each part of `spec` run on image `image_id`, by part name:
/// `image`, `command`, `env.NAME` for each variable, `ports`, `volumes`, `network`,
/// `labels`.
pub fn digests(spec: &ContainerSpec, image_id: &str) -> BTreeMap<String, String> {
    let mut labels = spec.labels.clone();
    labels.remove(labels::CONFIG_HASH);
    labels.remove(labels::FIELDS);
    let mut parts = BTreeMap::from([
        ("image".to_string(), short(&image_id)),
        ("command".to_string(), short(&spec.command)),
        ("ports".to_string(), short(&spec.ports)),
        ("volumes".to_string(), short(&spec.mounts)),
        (
            "network".to_string(),
            short(&(&spec.network, &spec.aliases)),
        ),
        ("labels".to_string(), short(&labels)),
    ]);
    for (name, value) in &spec.env {
        parts.insert(format!("env.{name}"), short(value));
    }
    // Only when set: a container labelled before these existed names no change.
    if !spec.run.is_default() {
        parts.insert("process".to_string(), short(&spec.run));
    }
    parts
}

/// The label value that records `digests`.
pub fn label(digests: &BTreeMap<String, String>) -> String {
    serde_json::to_string(digests).unwrap_or_default()
}

/// What differs between the parts a container was created with (its label, empty
/// for a container made before gorae kept one) and the wanted ones, in words.
/// Empty when the label is missing or unreadable: the caller then says only that
/// the configuration changed.
pub fn changes(old_label: &str, new: &BTreeMap<String, String>) -> Vec<String> {
    let Ok(old) = serde_json::from_str::<BTreeMap<String, String>>(old_label) else {
        return Vec::new();
    };
    let mut changed = Vec::new();
    let mut env_added = Vec::new();
    let mut env_removed = Vec::new();
    let mut env_changed = Vec::new();
    let names: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for name in names {
        let (before, after) = (old.get(name), new.get(name));
        if before == after {
            continue;
        }
        match name.strip_prefix("env.") {
            Some(var) if before.is_none() => env_added.push(var),
            Some(var) if after.is_none() => env_removed.push(var),
            Some(var) => env_changed.push(var),
            None => changed.push(format!("{name} changed")),
        }
    }
    for (words, vars) in [
        ("changed", env_changed),
        ("added", env_added),
        ("removed", env_removed),
    ] {
        if !vars.is_empty() {
            changed.push(format!("env {} {words}", vars.join(", ")));
        }
    }
    changed
}

fn short(value: &impl serde::Serialize) -> String {
    // Plain data always serialises.
    let json = serde_json::to_vec(value).unwrap_or_default();
    hex(&Sha256::digest(json))[..8].to_string()
}
