//! `gorae graph`: the project's services and the variables wired between them, as a
//! Mermaid or DOT diagram (see [`crate::graph_view`]). Reads gorae.yaml only, never
//! the engine.

use crate::cli::{GraphArgs, GraphFormat};
use crate::exit::ExitCode;
use crate::graph_view::{self, Graph};

pub fn run(file: crate::commands::ProjectFile<'_>, args: &GraphArgs) -> anyhow::Result<ExitCode> {
    let project = super::load_project(file)?;
    let graph = Graph::of(&project);
    let text = match args.format {
        GraphFormat::Mermaid => graph_view::mermaid(&graph),
        GraphFormat::Dot => graph_view::dot(&graph),
    };
    super::print_stdout(&text)?;
    Ok(ExitCode::Success)
}
