//! The manifest of a snapshot (`manifest.json`): what was saved, from which template,
//! image and version, by which gorae, and the checksum of every file; and the pure
//! checks a restore makes against it before anything is touched.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::Snapshotting;
use crate::config::template::SnapshotMethod;

/// The manifest's file name inside a snapshot's directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The layout this gorae writes and reads. A manifest of another format is refused:
/// an older gorae must not half-understand a newer snapshot.
pub const FORMAT: u32 = 1;

/// One snapshot: every service saved in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// The gorae that wrote it (`0.1.0`).
    pub gorae_version: String,
    pub project: String,
    /// When it was saved, in Unix seconds.
    pub created: u64,
    pub services: BTreeMap<String, SavedService>,
}

/// One service's data in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedService {
    pub template: String,
    /// The service's version in gorae.yaml when it was saved (`16`).
    pub version: String,
    /// The image the service ran, as named and by id.
    pub image: String,
    pub image_id: String,
    pub method: SnapshotMethod,
    /// The data directory inside the container the archive was taken from.
    pub data_dir: String,
    /// The archive's file name beside the manifest (`db.tar.zst`).
    pub file: String,
    /// sha256 of that file, as stored (compressed).
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// The archive file of `service` in a snapshot.
pub fn archive_file(service: &str) -> String {
    format!("{service}.tar.zst")
}

/// Why a manifest cannot be used.
pub fn parse(text: &str) -> Result<Manifest, String> {
    #[derive(Deserialize)]
    struct Format {
        format: u32,
    }
    let format: Format =
        serde_json::from_str(text).map_err(|err| format!("its manifest is not readable: {err}"))?;
    if format.format != FORMAT {
        return Err(format!(
            "it has snapshot format {}, and this gorae reads format {FORMAT} (save it again with this gorae, or use the gorae that wrote it)",
            format.format
        ));
    }
    serde_json::from_str(text).map_err(|err| format!("its manifest is not readable: {err}"))
}

/// A snapshot name: letters, digits, `.`, `_` and `-`, not starting with `.` (those
/// are gorae's unfinished saves), at most 100 characters.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a snapshot name\n  hint: use letters, digits, `.`, `_` and `-`, not starting with `.`, such as `before-migration`"
        ))
    }
}

/// The major version: what comes before the first `.` or `-` (`16.2` -> `16`,
/// `7-alpine` -> `7`).
pub fn major(version: &str) -> &str {
    version.split(['.', '-']).next().unwrap_or(version)
}

/// Why `saved` cannot be restored into a service that is now `now`; `None` when it
/// can. A database's files are only readable by the major version that wrote them.
pub fn incompatibility(service: &str, saved: &SavedService, now: &Snapshotting) -> Option<String> {
    if saved.template != now.template {
        return Some(format!(
            "`{service}` was saved from template `{}`, and is now template `{}`",
            saved.template, now.template
        ));
    }
    if saved.method != now.method {
        return Some(format!(
            "`{service}` was saved with method `{}`, and its template now uses `{}`",
            saved.method.name(),
            now.method.name()
        ));
    }
    if major(&saved.version) != major(&now.version) {
        return Some(format!(
            "`{service}` was saved from {} {}, and is now version {}: its data files are only readable by major version {}",
            saved.template,
            saved.version,
            now.version,
            major(&saved.version)
        ));
    }
    if saved.data_dir != now.data_dir {
        return Some(format!(
            "`{service}` was saved from {}, and its data directory is now {}",
            saved.data_dir, now.data_dir
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(version: &str) -> SavedService {
        SavedService {
            template: "postgres".into(),
            version: version.into(),
            image: "postgres:16".into(),
            image_id: "sha256:abc".into(),
            method: SnapshotMethod::Archive,
            data_dir: "/var/lib/postgresql/data".into(),
            file: archive_file("db"),
            sha256: "00".into(),
            bytes: 1,
        }
    }

    fn now(template: &str, version: &str, data_dir: &str) -> Snapshotting {
        Snapshotting {
            template: template.into(),
            version: version.into(),
            method: SnapshotMethod::Archive,
            data_dir: data_dir.into(),
        }
    }

    const PG: &str = "/var/lib/postgresql/data";

    #[test]
    fn a_snapshot_restores_into_the_same_major_version_only() {
        let cases = [
            ("16", "16", true),
            ("16", "16.4", true),
            ("16.1", "16-alpine", true),
            ("16", "17", false),
            ("15", "16", false),
            ("7", "7.2", true),
        ];
        for (then, today, compatible) in cases {
            let found = incompatibility("db", &saved(then), &now("postgres", today, PG));
            assert_eq!(found.is_none(), compatible, "{then} -> {today}: {found:?}");
        }
        let message = incompatibility("db", &saved("15"), &now("postgres", "16", PG));
        assert_eq!(
            message.as_deref(),
            Some(
                "`db` was saved from postgres 15, and is now version 16: its data files are only readable by major version 15"
            )
        );
    }

    #[test]
    fn another_template_or_data_directory_is_incompatible() {
        let other = incompatibility("db", &saved("16"), &now("mysql", "16", PG));
        assert!(other.is_some_and(|m| m.contains("template `mysql`")));
        let moved = incompatibility("db", &saved("16"), &now("postgres", "16", "/data"));
        assert!(moved.is_some_and(|m| m.contains("now /data")));
    }

    #[test]
    fn snapshot_names_are_plain_words() {
        for good in ["before-migration", "v1.2_ok", "2026-12-02"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", ".partial", "a/b", "..", "x y", &"n".repeat(101)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_manifest_reads_back_and_another_format_is_refused() {
        let manifest = Manifest {
            format: FORMAT,
            gorae_version: "0.1.0".into(),
            project: "shop".into(),
            created: 1,
            services: BTreeMap::from([("db".to_string(), saved("16"))]),
        };
        let text = serde_json::to_string_pretty(&manifest).expect("json");
        assert_eq!(parse(&text), Ok(manifest));
        let newer = text.replace("\"format\": 1", "\"format\": 2");
        let err = parse(&newer).expect_err("format 2");
        assert!(err.contains("snapshot format 2"), "{err}");
        assert!(parse("{").is_err());
    }
}
