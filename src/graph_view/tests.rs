use std::path::{Path, PathBuf};

use super::*;
use crate::config::{load, load_str};

fn no_env(_: &str) -> Option<String> {
    None
}

fn project(yaml: &str) -> Project {
    load_str(yaml, Path::new("/projects/shop/gorae.yaml"), &no_env).expect("valid project")
}

fn example(name: &str) -> Project {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
        .join("gorae.yaml");
    load(&file, &no_env).expect("the example is valid")
}

#[test]
fn examples_as_mermaid_and_dot_are_pinned() {
    for name in ["node-redis", "python-postgres"] {
        let graph = Graph::of(&example(name));
        insta::assert_snapshot!(format!("{name}_mermaid"), mermaid(&graph));
        insta::assert_snapshot!(format!("{name}_dot"), dot(&graph));
    }
}

const SHOP: &str = "name: shop
services:
  web:
    image: shop/web:1
    depends_on: [db, cache, migrate]
    env: { PGUSER: me }
  worker:
    image: shop/worker:1
    depends_on: [cache]
  migrate:
    image: shop/web:1
    kind: task
    depends_on: [db]
  db:
    template: postgres
    version: \"16\"
    env: { POSTGRES_PASSWORD: hunter2 }
  cache: { template: redis, version: \"7\" }
";

fn shop() -> Project {
    project(SHOP)
}

fn edge<'a>(graph: &'a Graph, dependency: &str, dependent: &str) -> &'a Edge {
    graph
        .edges
        .iter()
        .find(|e| e.dependency == dependency && e.dependent == dependent)
        .unwrap_or_else(|| panic!("no edge {dependency} -> {dependent}: {graph:#?}"))
}

#[test]
fn nodes_are_sorted_by_name_and_edges_by_dependency_then_dependent() {
    let graph = Graph::of(&shop());
    let nodes: Vec<&str> = graph.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(nodes, ["cache", "db", "migrate", "web", "worker"]);
    let edges: Vec<(&str, &str)> = graph
        .edges
        .iter()
        .map(|e| (e.dependency.as_str(), e.dependent.as_str()))
        .collect();
    assert_eq!(
        edges,
        [
            ("cache", "web"),
            ("cache", "worker"),
            ("db", "migrate"),
            ("db", "web"),
            ("migrate", "web"),
        ]
    );
}

#[test]
fn an_edge_carries_the_names_the_dependency_exports_and_never_a_value() {
    let graph = Graph::of(&shop());
    assert_eq!(edge(&graph, "cache", "worker").variables, ["REDIS_URL"]);
    assert_eq!(
        edge(&graph, "db", "migrate").variables,
        [
            "DATABASE_URL",
            "PGDATABASE",
            "PGHOST",
            "PGPASSWORD",
            "PGPORT",
            "PGUSER"
        ]
    );
    for text in [mermaid(&graph), dot(&graph)] {
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("postgres://"), "{text}");
    }
}

#[test]
fn a_variable_the_dependent_sets_itself_does_not_come_along_the_edge() {
    let graph = Graph::of(&shop());
    // web writes PGUSER in its own env, and that value wins over db's export.
    let variables = &edge(&graph, "db", "web").variables;
    assert!(!variables.contains(&"PGUSER".to_string()), "{variables:?}");
    assert!(
        variables.contains(&"DATABASE_URL".to_string()),
        "{variables:?}"
    );
}

#[test]
fn a_dependency_with_nothing_to_hand_over_is_an_unlabelled_edge() {
    let graph = Graph::of(&shop());
    assert!(edge(&graph, "migrate", "web").variables.is_empty());
    assert!(
        mermaid(&graph).contains("\n    s2 --> s3\n"),
        "{}",
        mermaid(&graph)
    );
    assert!(dot(&graph).contains("\n    \"migrate\" -> \"web\";\n"));
}

#[test]
fn exports_without_a_port_to_reach_them_on_are_not_wired() {
    let mut shop = shop();
    shop.services.get_mut("cache").expect("cache").port = None;
    let graph = Graph::of(&shop);
    assert!(edge(&graph, "cache", "worker").variables.is_empty());
}

#[test]
fn a_node_says_what_it_runs_and_a_task_says_it_is_one() {
    let graph = Graph::of(&shop());
    let runs = |name: &str| {
        let node = graph.nodes.iter().find(|n| n.name == name).expect("node");
        (node.runs.as_str(), node.task)
    };
    assert_eq!(runs("cache"), ("image redis:7", false));
    assert_eq!(runs("db"), ("image postgres:16", false));
    assert_eq!(runs("migrate"), ("task, image shop/web:1", true));
    let mermaid = mermaid(&graph);
    assert!(
        mermaid.contains("    s2(\"migrate<br>task, image shop/web:1\")\n"),
        "{mermaid}"
    );
    assert!(dot(&graph).contains(
        "    \"migrate\" [label=\"migrate\\ntask, image shop/web:1\", style=rounded];\n"
    ));
}

#[test]
fn the_image_prefix_is_part_of_what_a_service_runs() {
    let prefixed = |name: &str| {
        (name == crate::config::IMAGE_PREFIX_VAR).then(|| "mirror.example/".to_string())
    };
    let shop = load_str(
        "services:\n  redis: \"7\"\n",
        Path::new("/p/gorae.yaml"),
        &prefixed,
    )
    .expect("valid");
    assert_eq!(
        Graph::of(&shop).nodes[0].runs,
        "image mirror.example/redis:7"
    );
}

#[test]
fn a_build_shows_its_context_and_its_base_image_or_its_own_dockerfile() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("api/docker")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("site")).expect("mkdir");
    std::fs::write(
        dir.path().join("api/docker/dev.Dockerfile"),
        "FROM alpine:3\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("site/Dockerfile"), "FROM nginx:1\n").expect("write");
    let yaml = "services:
  api: { build: ./api, dockerfile: ./api/docker/dev.Dockerfile }
  site: { build: ./site }
  web: { template: node, version: \"22\", build: ./site }
  seed: { template: python, build: ./site, kind: task }
";
    std::fs::write(dir.path().join("gorae.yaml"), yaml).expect("write");
    let project = load(&dir.path().join("gorae.yaml"), &no_env).expect("valid");
    let graph = Graph::of(&project);
    let runs: Vec<(&str, &str)> = graph
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), n.runs.as_str()))
        .collect();
    assert_eq!(
        runs,
        [
            ("api", "build ./api with ./api/docker/dev.Dockerfile"),
            ("seed", "task, build ./site from python:3.12"),
            ("site", "build ./site"),
            ("web", "build ./site from node:22"),
        ]
    );
}

/// Labels full of what Mermaid and DOT treat as syntax.
const ODD: [&str; 9] = [
    "say \"hi\"",
    "#quot; and #35;",
    "%% comment\n%%{init: {}}%%",
    "<b>bold</b> & <br> &amp;",
    "a|b]c[d(e)f{g}h",
    "back\\slash\\n \\N \\",
    "end; subgraph x; click s0 call alert()",
    "tab\there\r\u{7}",
    "ünïcødé 漢字 ✓",
];

fn odd_graph() -> Graph {
    Graph {
        project: "odd".into(),
        nodes: ODD
            .iter()
            .enumerate()
            .map(|(index, runs)| Node {
                name: format!("n{index}"),
                runs: runs.to_string(),
                task: index % 2 == 1,
            })
            .collect(),
        edges: (1..ODD.len())
            .map(|index| Edge {
                dependency: "n0".into(),
                dependent: format!("n{index}"),
                variables: vec![ODD[index].to_string(), "PLAIN".into()],
            })
            .collect(),
    }
}

/// What Mermaid shows for a `"..."` string: `<br>` a line break, `#N;` character N.
fn mermaid_decode(text: &str) -> String {
    let text = text.replace("<br>", "\n");
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find('#') {
        out.push_str(&rest[..at]);
        let (code, after) = rest[at + 1..].split_once(';').expect("a code ends with ;");
        let code: u32 = code.parse().expect("a decimal code");
        out.push(char::from_u32(code).expect("a character"));
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The one `"..."` string that `line` holds between `open` and `close`, checking that
/// nothing but the delimiters can end it: inside, no `"` and no line break.
fn quoted<'a>(line: &'a str, open: &str, close: &str) -> &'a str {
    let inner = line
        .strip_prefix(open)
        .and_then(|l| l.strip_suffix(close))
        .unwrap_or_else(|| panic!("{line:?} is not {open:?}...{close:?}"));
    assert!(!inner.contains(['"', '\n', '\r']), "{line:?}");
    inner
}

#[test]
fn mermaid_labels_stay_inside_their_strings_and_show_the_text_as_it_is() {
    let graph = odd_graph();
    let text = mermaid(&graph);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        &lines[..4],
        ["---", "title: \"odd\"", "---", "flowchart LR"],
        "{text}"
    );
    assert_eq!(
        lines.len(),
        4 + graph.nodes.len() + graph.edges.len(),
        "{text}"
    );
    for (index, node) in graph.nodes.iter().enumerate() {
        let (open, close) = if node.task { ("(", ")") } else { ("[", "]") };
        let line = lines[4 + index];
        let label = quoted(
            line,
            &format!("    s{index}{open}\""),
            &format!("\"{close}"),
        );
        // `#` only as a code, and none of Mermaid's comment, HTML or string marks.
        assert!(!label.contains(['%', '&', '\\', '|', '`']), "{line:?}");
        assert!(!label.replace("<br>", "").contains(['<', '>']), "{line:?}");
        assert_eq!(
            mermaid_decode(label),
            format!("{}\n{}", node.name, visible(&node.runs))
        );
    }
    for (index, edge) in graph.edges.iter().enumerate() {
        let line = lines[4 + graph.nodes.len() + index];
        let to = graph
            .nodes
            .iter()
            .position(|n| n.name == edge.dependent)
            .expect("node");
        let label = quoted(line, "    s0 -->|\"", &format!("\"| s{to}"));
        assert_eq!(mermaid_decode(label), shown(&edge.variables));
    }
}

/// A DOT `"..."` string's text as Graphviz shows it in a label, and where it ends:
/// `\"` is a quote, `\\` a backslash, `\n` a line break.
fn dot_decode(text: &str) -> (String, &str) {
    let text = text
        .strip_prefix('"')
        .expect("a DOT string starts with a quote");
    let mut out = String::new();
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return (out, &text[at + 1..]),
            '\\' => match chars.next().map(|(_, c)| c) {
                Some('n') => out.push('\n'),
                Some(c @ ('"' | '\\')) => out.push(c),
                other => panic!("Graphviz would read \\{other:?} as an escape: {text:?}"),
            },
            '\n' | '\r' => panic!("a line break inside a DOT string: {text:?}"),
            c => out.push(c),
        }
    }
    panic!("unterminated DOT string: {text:?}");
}

#[test]
fn dot_labels_stay_inside_their_strings_and_show_the_text_as_it_is() {
    let graph = odd_graph();
    let text = dot(&graph);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        &lines[..3],
        [
            "digraph \"odd\" {",
            "    rankdir=LR;",
            "    node [shape=box];"
        ]
    );
    assert_eq!(lines.last(), Some(&"}"));
    assert_eq!(
        lines.len(),
        4 + graph.nodes.len() + graph.edges.len(),
        "{text}"
    );
    for (index, node) in graph.nodes.iter().enumerate() {
        let line = lines[3 + index].strip_prefix("    ").expect("indented");
        let (id, rest) = dot_decode(line);
        assert_eq!(id, node.name);
        let (label, rest) = dot_decode(rest.strip_prefix(" [label=").expect("a label"));
        assert_eq!(label, format!("{}\n{}", node.name, visible(&node.runs)));
        let style = if node.task { ", style=rounded" } else { "" };
        assert_eq!(rest, format!("{style}];"));
    }
    for (index, edge) in graph.edges.iter().enumerate() {
        let line = lines[3 + graph.nodes.len() + index]
            .strip_prefix("    ")
            .expect("indented");
        let (from, rest) = dot_decode(line);
        let (to, rest) = dot_decode(rest.strip_prefix(" -> ").expect("an arrow"));
        assert_eq!(
            (from.as_str(), to.as_str()),
            ("n0", edge.dependent.as_str())
        );
        let (label, rest) = dot_decode(rest.strip_prefix(" [label=").expect("a label"));
        assert_eq!(label, shown(&edge.variables));
        assert_eq!(rest, "];");
    }
}

/// Variable names as a label shows them, one a line.
fn shown(variables: &[String]) -> String {
    let lines: Vec<String> = variables.iter().map(|v| visible(v)).collect();
    lines.join("\n")
}

#[test]
fn control_characters_are_shown_not_sent() {
    assert_eq!(visible("a\nb\t\u{7}c ✓"), "a\\nb\\t\\u{7}c ✓");
}

#[test]
fn a_build_directory_with_an_odd_name_is_escaped_in_both_formats() {
    // Everything here is a valid directory name that gorae accepts in `build:`.
    let odd = "we\"b #1 <&> %% |x| [y] \\z";
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join(odd)).expect("mkdir");
    std::fs::write(dir.path().join(odd).join("Dockerfile"), "FROM alpine:3\n").expect("write");
    let yaml = format!(
        "services:\n  web:\n    build: './{}'\n",
        odd.replace('\'', "''")
    );
    std::fs::write(dir.path().join("gorae.yaml"), yaml).expect("write");
    let project = load(&dir.path().join("gorae.yaml"), &no_env).expect("valid");
    let graph = Graph::of(&project);
    assert_eq!(graph.nodes[0].runs, format!("build ./{odd}"));

    let mermaid = mermaid(&graph);
    let line = mermaid.lines().nth(4).expect("the node");
    let label = quoted(line, "    s0[\"", "\"]");
    assert_eq!(mermaid_decode(label), format!("web\nbuild ./{odd}"));

    let dot = dot(&graph);
    let line = dot.lines().nth(3).expect("the node");
    let (_, rest) = dot_decode(line.trim_start());
    let (label, rest) = dot_decode(rest.strip_prefix(" [label=").expect("a label"));
    assert_eq!(label, format!("web\nbuild ./{odd}"));
    assert_eq!(rest, "];");
}
