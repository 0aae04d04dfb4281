//! One mount into a container: the type the project model and the engine's requests
//! share, so a mount is written down once from gorae.yaml to the create call.

use std::path::PathBuf;

use serde::Serialize;

use crate::secret::Secret;

/// One mount into the container. In the project model a volume is named by the
/// user's short name; in an engine request by its engine name (`<project>_<name>`),
/// which the plan gives it ([`Mount::with_volume_name`]).
// Serialised as it always was, since the configuration hash of every container
// covers its mounts: a new form would re-create every container once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Mount {
    /// A host path (absolute) bound into the container.
    Bind {
        source: PathBuf,
        target: String,
        read_only: bool,
    },
    /// A named volume.
    Volume {
        name: String,
        target: String,
        read_only: bool,
    },
    /// A value written into the container as a read-only file before it starts (a
    /// secret from a variable); the configuration hash covers its digest only.
    Secret { target: String, value: Secret },
}

impl Mount {
    /// Where the mount appears inside the container.
    pub fn target(&self) -> &str {
        match self {
            Mount::Bind { target, .. }
            | Mount::Volume { target, .. }
            | Mount::Secret { target, .. } => target,
        }
    }

    /// The same mount with a volume renamed by `rename` (anything else stays as it is).
    pub fn with_volume_name(&self, rename: impl FnOnce(&str) -> String) -> Mount {
        match self {
            Mount::Volume {
                name,
                target,
                read_only,
            } => Mount::Volume {
                name: rename(name),
                target: target.clone(),
                read_only: *read_only,
            },
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renaming_changes_a_volume_and_leaves_a_bind_alone() {
        let volume = Mount::Volume {
            name: "cache".into(),
            target: "/root/.cache".into(),
            read_only: true,
        };
        let bind = Mount::Bind {
            source: "/src".into(),
            target: "/app".into(),
            read_only: false,
        };
        let rename = |name: &str| format!("shop_{name}");
        assert_eq!(
            volume.with_volume_name(rename),
            Mount::Volume {
                name: "shop_cache".into(),
                target: "/root/.cache".into(),
                read_only: true,
            }
        );
        assert_eq!(bind.with_volume_name(rename), bind);
        assert_eq!(bind.target(), "/app");
    }

    #[test]
    fn a_mount_serialises_in_the_form_container_hashes_were_made_with() {
        let bind = Mount::Bind {
            source: "/src".into(),
            target: "/app".into(),
            read_only: false,
        };
        assert_eq!(
            serde_json::to_string(&bind).unwrap(),
            r#"{"Bind":{"source":"/src","target":"/app","read_only":false}}"#
        );
    }
}
