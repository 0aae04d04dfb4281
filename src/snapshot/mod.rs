//! Snapshots: a consistent copy of each stateful service's data, shared as files
//! under `.gorae/snapshots/NAME/` ([`store`]), described by a manifest with a
//! checksum per file ([`manifest`]), moved in and out of the engine by [`archive`].
//! The commands that use them are in `commands/snapshot.rs`.

pub mod archive;
pub mod manifest;
pub mod postgres_wal;
pub mod store;
