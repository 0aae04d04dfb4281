//! `gorae graph`'s picture of a project: each service with what it runs, and each
//! dependency with the variables it wires in, rendered as Mermaid or DOT. Pure: built
//! from the validated [`Project`] alone, so it needs no engine.
//!
//! Arrows point from a dependency to the service that depends on it: the order `up`
//! starts them in, and the way the connection variables flow (`redis --REDIS_URL--> web`).
//! Only variable names are ever shown, never values, so secrets stay out of the picture.

use std::fmt::Write as _;

use crate::config::{DockerfileSource, ImageSource, Project, Service, ServiceKind};

/// The services and their dependencies, in a fixed order (nodes by name, edges by
/// dependency then dependent) so the output is the same on every run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    pub project: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// One service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    /// What it runs, in words: `image redis:7`, `build ./web from node:20`.
    pub runs: String,
    pub task: bool,
}

/// `dependent` waits for `dependency`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub dependency: String,
    pub dependent: String,
    /// Names of the variables the dependency hands the dependent, sorted.
    pub variables: Vec<String>,
}

impl Graph {
    /// The graph of `project`'s services.
    pub fn of(project: &Project) -> Graph {
        let nodes = project
            .services
            .values()
            .map(|service| Node {
                name: service.name.clone(),
                runs: runs(project, service),
                task: service.kind == ServiceKind::Task,
            })
            .collect();
        let mut edges: Vec<Edge> = project
            .services
            .values()
            .flat_map(|dependent| {
                dependent.depends_on.iter().filter_map(|name| {
                    let dependency = project.services.get(name)?;
                    Some(Edge {
                        dependency: dependency.name.clone(),
                        dependent: dependent.name.clone(),
                        variables: wired(dependency, dependent),
                    })
                })
            })
            .collect();
        edges.sort_by(|a, b| (&a.dependency, &a.dependent).cmp(&(&b.dependency, &b.dependent)));
        Graph {
            project: project.name.clone(),
            nodes,
            edges,
        }
    }
}

/// The names of the variables `dependency` hands `dependent` (see
/// [`Service::wired_from`]).
fn wired(dependency: &Service, dependent: &Service) -> Vec<String> {
    dependent.wired_from(dependency).into_keys().collect()
}

/// What a service runs: its image, or what it is built from.
fn runs(project: &Project, service: &Service) -> String {
    let what = match &service.image {
        ImageSource::Pull { image } => format!("image {image}"),
        ImageSource::Build {
            context,
            dockerfile,
            options,
        } => {
            let mut text = format!(
                "build {}",
                crate::config::show_relative(context, &project.dir)
            );
            if let Some(target) = &options.target {
                text.push_str(&format!(" target {target}"));
            }
            match dockerfile {
                // A template's Dockerfile: its base image names the template's version.
                DockerfileSource::Rendered { text: dockerfile } => {
                    if let Some(base) = crate::dockerfile::base_images(dockerfile).last() {
                        text.push_str(&format!(" from {base}"));
                    }
                }
                DockerfileSource::File { path, .. } if *path != context.join("Dockerfile") => {
                    let shown = crate::config::show_relative(path, &project.dir);
                    text.push_str(&format!(" with {shown}"));
                }
                DockerfileSource::File { .. } => {}
            }
            text
        }
    };
    match service.kind {
        ServiceKind::Task => format!("task, {what}"),
        ServiceKind::Service => what,
    }
}

/// The diagram as a Mermaid flowchart (GitHub renders it in a ```mermaid block).
pub fn mermaid(graph: &Graph) -> String {
    // Node ids are `s0`, `s1`, ...: service names may hold `--` or be a keyword
    // (`end`), which Mermaid would read as syntax; the name is in the label.
    let id = |name: &str| {
        graph
            .nodes
            .iter()
            .position(|node| node.name == name)
            .map_or_else(|| "s".to_string(), |index| format!("s{index}"))
    };
    // The project name is `[a-z0-9][a-z0-9_-]*`; quoted so `true` or `123` stays text.
    let mut out = format!("---\ntitle: \"{}\"\n---\nflowchart LR\n", graph.project);
    for (index, node) in graph.nodes.iter().enumerate() {
        let label = format!(
            "{}<br>{}",
            mermaid_text(&node.name),
            mermaid_text(&node.runs)
        );
        // A task is drawn with round ends, a service as a box.
        let (open, close) = if node.task { ("(", ")") } else { ("[", "]") };
        let _ = writeln!(out, "    s{index}{open}\"{label}\"{close}");
    }
    for edge in &graph.edges {
        let (from, to) = (id(&edge.dependency), id(&edge.dependent));
        if edge.variables.is_empty() {
            let _ = writeln!(out, "    {from} --> {to}");
        } else {
            let label: Vec<String> = edge.variables.iter().map(|v| mermaid_text(v)).collect();
            let _ = writeln!(out, "    {from} -->|\"{}\"| {to}", label.join("<br>"));
        }
    }
    out
}

/// The diagram in Graphviz's DOT language (`gorae graph --format dot | dot -Tsvg`).
pub fn dot(graph: &Graph) -> String {
    let mut out = format!(
        "digraph {} {{\n    rankdir=LR;\n    node [shape=box];\n",
        dot_string(&graph.project)
    );
    for node in &graph.nodes {
        let label = format!("{}\\n{}", dot_text(&node.name), dot_text(&node.runs));
        let style = if node.task { ", style=rounded" } else { "" };
        let _ = writeln!(
            out,
            "    {} [label=\"{label}\"{style}];",
            dot_string(&node.name)
        );
    }
    for edge in &graph.edges {
        let arrow = format!(
            "{} -> {}",
            dot_string(&edge.dependency),
            dot_string(&edge.dependent)
        );
        if edge.variables.is_empty() {
            let _ = writeln!(out, "    {arrow};");
        } else {
            let label: Vec<String> = edge.variables.iter().map(|v| dot_text(v)).collect();
            let _ = writeln!(out, "    {arrow} [label=\"{}\"];", label.join("\\n"));
        }
    }
    out.push_str("}\n");
    out
}

/// Control characters (a newline in a directory name) shown as Rust writes them
/// (`\n`), so that no label spans lines or hides a character.
fn visible(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `text` for inside a Mermaid `"..."` string. Anything but letters, digits and a few
/// harmless marks becomes a `#NN;` code, which Mermaid decodes after parsing: a `"`
/// would end the string, `#` starts a code, `%%` a comment, `<` and `&` are HTML.
fn mermaid_text(text: &str) -> String {
    visible(text)
        .chars()
        .map(|c| {
            if c.is_alphanumeric()
                || matches!(c, ' ' | '.' | '/' | ':' | '_' | '-' | ',' | '+' | '=')
            {
                c.to_string()
            } else {
                format!("#{};", u32::from(c))
            }
        })
        .collect()
}

/// `text` for inside a DOT `"..."` label. Backslashes are doubled because Graphviz
/// reads `\n`, `\l`, `\N` and the like in labels as line breaks and names.
fn dot_text(text: &str) -> String {
    visible(text).replace('\\', "\\\\").replace('"', "\\\"")
}

/// A DOT id: always quoted, so `node` or `graph` is a name, not a keyword.
fn dot_string(text: &str) -> String {
    format!("\"{}\"", dot_text(text))
}

#[cfg(test)]
mod tests;
