//! Which WAL files a cleanly stopped Postgres cluster still needs: the segment that
//! holds its last (shutdown) checkpoint, as `global/pg_control` records it (and the
//! next, when the record may cross into it). Segments
//! before it were written into the data files by that checkpoint, and those after it
//! are old ones renamed for reuse; after a bulk load the two are most of the data
//! directory (302 of 546 MB in benches/run's data scenario), so a snapshot leaves
//! them out and a restore has half as much to unpack. Postgres makes new segments as
//! it needs them. Anything this cannot read with certainty keeps every file.

use std::path::{Component, Path};

/// The control file, relative to the data directory.
pub const CONTROL_FILE: &str = "global/pg_control";

/// `DBState::DB_SHUTDOWNED`: the cluster was stopped cleanly.
const SHUT_DOWN: u32 = 1;

/// Where a cleanly stopped cluster's WAL resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    timeline: u32,
    /// Where replay would start.
    redo: u64,
    /// Where the checkpoint record itself starts.
    location: u64,
}

/// Reads pg_control of PostgreSQL 11 or later (its layout since then: version at
/// byte 8, state at 16, checkpoint location at 32, then the checkpoint's redo and
/// timeline at 40 and 48). `None` unless the cluster was shut down cleanly and the
/// values are consistent.
pub fn clean_checkpoint(control: &[u8]) -> Option<Checkpoint> {
    let u32_at = |at: usize| {
        control
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |at: usize| {
        control
            .get(at..at + 8)
            .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    };
    // 1100 is PostgreSQL 11, 1300 13 to 16, 1700 17; an 18xx or later may move fields.
    if !(1100..1800).contains(&u32_at(8)?) || u32_at(16)? != SHUT_DOWN {
        return None;
    }
    let checkpoint = Checkpoint {
        location: u64_at(32)?,
        redo: u64_at(40)?,
        timeline: u32_at(48)?,
    };
    // A shutdown checkpoint's redo point is the record itself.
    let consistent = checkpoint.timeline > 0
        && checkpoint.redo <= checkpoint.location
        && checkpoint.location - checkpoint.redo < 1 << 20;
    consistent.then_some(checkpoint)
}

impl Checkpoint {
    /// Whether the archive entry at `path` (`DATA/pg_wal/NAME` and below, as the
    /// engine's tar names them) of `size` bytes is needed. Everything but WAL
    /// segments of this timeline, and their archive status files, is.
    pub fn needs(&self, path: &Path, size: u64) -> bool {
        let parts: Vec<&str> = path
            .components()
            .filter_map(|c| match c {
                Component::Normal(part) => part.to_str(),
                _ => None,
            })
            .collect();
        match parts.as_slice() {
            [_, "pg_wal", name] if size > 0 => self.needs_segment(name, size),
            // The status of a segment left out goes with it (archiving is off in
            // development, but a stray `.ready` would make an archiver look for it).
            [_, "pg_wal", "archive_status", status] => {
                match status.rsplit_once('.').map(|(name, _)| name) {
                    Some(name) => self.needs_segment_named(name),
                    None => true,
                }
            }
            _ => true,
        }
    }

    /// A segment of `size` bytes is needed when it holds the checkpoint record, or
    /// is the next one while the record starts near the end (a record may cross
    /// into it; 64 KB is the largest WAL page a server can be built with).
    fn needs_segment(&self, name: &str, size: u64) -> bool {
        // initdb allows 1 MB to 1 GB, powers of two.
        if !size.is_power_of_two() || !(1 << 20..=1 << 30).contains(&size) {
            return true;
        }
        let Some((timeline, number)) = segment(name, size) else {
            return true;
        };
        let first = self.redo / size;
        let near_end = self.location % size >= size - (64 << 10);
        let last = self.location / size + u64::from(near_end);
        timeline != self.timeline || (first..=last).contains(&number)
    }

    /// For a status file, whose segment's size is not at hand: 16 MB, the default;
    /// a cluster made with another size keeps its status files.
    fn needs_segment_named(&self, name: &str) -> bool {
        segment(name, DEFAULT_SEGMENT).is_none() || self.needs_segment(name, DEFAULT_SEGMENT)
    }
}

const DEFAULT_SEGMENT: u64 = 16 << 20;

/// A segment file name's timeline and segment number, for segments of `size` bytes:
/// 24 hex digits, the timeline, then the number as "log" and "segment in log".
fn segment(name: &str, size: u64) -> Option<(u32, u64)> {
    if name.len() != 24 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let timeline = u32::from_str_radix(&name[..8], 16).ok()?;
    let log = u64::from_str_radix(&name[8..16], 16).ok()?;
    let within = u64::from_str_radix(&name[16..], 16).ok()?;
    let per_log = 0x1_0000_0000 / size;
    (within < per_log).then_some((timeline, log * per_log + within))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first 64 bytes of pg_control of a PostgreSQL 15 cluster stopped after a
    /// million-row load (`od -t x4` of the real file): version 1300, shut down,
    /// checkpoint and redo at 0/122F7868, timeline 1.
    fn control() -> Vec<u8> {
        let words: [u32; 16] = [
            0x36903015, 0x6b1048b2, 0x00000514, 0x0c0d7725, 0x00000001, 0, 0x6b1048bc, 0,
            0x122f7868, 0, 0x122f7868, 0, 1, 1, 1, 0,
        ];
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    const SEGMENT: u64 = 16 << 20;

    fn wal(name: &str) -> std::path::PathBuf {
        Path::new("data/pg_wal").join(name)
    }

    #[test]
    fn only_the_checkpoints_segment_is_kept() {
        let checkpoint = clean_checkpoint(&control()).expect("a clean shutdown");
        assert!(checkpoint.needs(&wal("000000010000000000000012"), SEGMENT));
        for left_out in [
            "000000010000000000000011",
            "000000010000000000000013",
            "000000010000000000000023",
        ] {
            assert!(!checkpoint.needs(&wal(left_out), SEGMENT), "{left_out}");
        }
        assert!(!checkpoint.needs(&wal("archive_status/000000010000000000000011.done"), 0));
        assert!(checkpoint.needs(&wal("archive_status/000000010000000000000012.done"), 0));
    }

    #[test]
    fn a_checkpoint_near_the_end_of_its_segment_keeps_the_next_too() {
        let mut bytes = control();
        let near_end: u64 = 0x12FF_F000;
        bytes[32..40].copy_from_slice(&near_end.to_le_bytes());
        bytes[40..48].copy_from_slice(&near_end.to_le_bytes());
        let checkpoint = clean_checkpoint(&bytes).expect("a clean shutdown");
        assert!(checkpoint.needs(&wal("000000010000000000000012"), SEGMENT));
        assert!(checkpoint.needs(&wal("000000010000000000000013"), SEGMENT));
        assert!(!checkpoint.needs(&wal("000000010000000000000014"), SEGMENT));
    }

    #[test]
    fn everything_else_is_kept() {
        let checkpoint = clean_checkpoint(&control()).expect("a clean shutdown");
        for (path, size) in [
            ("data/base/5/16384", SEGMENT),
            ("data/global/pg_control", 8192),
            ("data/pg_wal", 0),
            ("data/pg_wal/archive_status", 0),
            ("data/pg_wal/00000002.history", 42),
            // Another timeline's, a partial one, an odd size: not this checkpoint's.
            ("data/pg_wal/000000020000000000000001", SEGMENT),
            ("data/pg_wal/000000010000000000000001.partial", SEGMENT),
            ("data/pg_wal/000000010000000000000001", 1000),
            ("data/other/pg_wal/000000010000000000000001", SEGMENT),
        ] {
            assert!(checkpoint.needs(Path::new(path), size), "{path}");
        }
    }

    #[test]
    fn segment_numbers_follow_the_segment_size() {
        // With 64 MB segments a "log" holds 64 of them.
        assert_eq!(segment("000000010000000100000003", 64 << 20), Some((1, 67)));
        assert_eq!(segment("000000010000000100000040", 64 << 20), None);
        assert_eq!(segment("00000001000000010000000G", 64 << 20), None);
    }

    #[test]
    fn a_cluster_not_cleanly_stopped_or_unknown_keeps_all_its_wal() {
        let with = |at: usize, value: u32| {
            let mut bytes = control();
            bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
            bytes
        };
        // In production (crashed or killed), an old or a future layout, no timeline,
        // a redo point far from its checkpoint, a short file.
        for bytes in [
            with(16, 6),
            with(8, 1002),
            with(8, 1800),
            with(48, 0),
            with(40, 0x0100_0000),
            with(44, 1),
            control()[..40].to_vec(),
        ] {
            assert_eq!(clean_checkpoint(&bytes), None);
        }
    }
}
