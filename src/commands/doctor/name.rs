//! The project name is this directory's alone: no other directory's containers,
//! network or data volumes carry it.

use super::Check;
use crate::config::Project;
use crate::engine::Engine;
use crate::scope::{self, ObserveError};

pub async fn check(engine: &Engine, project: &Project) -> Check {
    const NAME: &str = "project name";
    match scope::observe(engine, &crate::plan::scope_of(project)).await {
        Ok(_) => Check::pass(
            NAME,
            format!("`{}` is used by this directory only", project.name),
        ),
        Err(ObserveError::Clash(clash)) => {
            let text = clash.to_string();
            let (problem, fix) = text.split_once("\n  hint: ").unwrap_or((&text, ""));
            Check::fail(NAME, problem.to_string(), fix.to_string())
        }
        Err(ObserveError::Engine(err)) => Check::fail(
            NAME,
            format!("cannot ask the engine: {err}"),
            "see the engine check above",
        ),
    }
}
