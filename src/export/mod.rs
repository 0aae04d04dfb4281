//! `gorae export`: the environment written as files that other tools run.

pub mod compose;
