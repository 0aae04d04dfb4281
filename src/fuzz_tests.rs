//! Property tests over everything that reads user input or writes a file for the user:
//! the YAML loader, `${VAR}` interpolation, `.env`, the compose importer and init's
//! writer. Each runs a bounded number of generated cases inside `cargo test`;
//! `GORAE_FUZZ_CASES=5000 cargo test --lib fuzz` runs a deeper search.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::config::diagnostic::MAX_SHOWN;
use crate::config::interpolate::{Vars, interpolate, parse_dotenv};
use crate::config::source::Source;
use crate::config::{LoadError, load_str};

/// Cases per property: a few dozen by default (the suite stays fast), more with
/// `GORAE_FUZZ_CASES`.
fn runner() -> TestRunner {
    let cases = std::env::var("GORAE_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(48);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Pieces that make up YAML as people (and editors, and attackers) write it.
fn yaml_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("services:".to_string()),
        Just("  web:".to_string()),
        Just("    image: redis:7".to_string()),
        Just("    ports: [\"3000\", \"3000\"]".to_string()),
        Just("    env: { A: \"${X:-${Y:-z}}\", B: $$ }".to_string()),
        Just("    command: |\n      echo ${NOPE}\n".to_string()),
        Just("    depends_on: [web, db, web]".to_string()),
        Just("  redis: \"7\"".to_string()),
        Just("  db: { template: postgres, biuld: . }".to_string()),
        Just("x-a: &a [1, 2, 3]".to_string()),
        Just("x-b: [*a, *a, *a]".to_string()),
        Just("'quoted: key': \"a\\nb\"".to_string()),
        Just("- item".to_string()),
        Just("[{".to_string()),
        Just("\t".to_string()),
        Just("\u{feff}".to_string()),
        Just("é€😀".to_string()),
        "[ -~]{0,30}".prop_map(|s| s),
        any::<char>().prop_map(|c| c.to_string()),
    ]
}

fn line_end() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("\n"), Just("\r\n"), Just("\r"), Just(" ")]
}

fn yaml_text() -> impl Strategy<Value = String> {
    prop::collection::vec((yaml_piece(), line_end()), 0..40).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(piece, end)| format!("{piece}{end}"))
            .collect()
    })
}

/// Loads `text` as gorae.yaml in an empty directory; every outcome is fine but a
/// panic, a position outside the file, or an unbounded report.
fn check_load(dir: &Path, text: &str) -> Result<(), TestCaseError> {
    let file = dir.join("gorae.yaml");
    match load_str(text, &file, &|_| None) {
        Ok(_) => Ok(()),
        Err(LoadError::Invalid {
            diagnostics,
            rendered,
        }) => {
            let lines = Source::new("", text).line_count();
            for diagnostic in &diagnostics {
                if let Some(location) = &diagnostic.location
                    && location.file == file.display().to_string()
                {
                    prop_assert!(
                        location.line <= lines.max(1),
                        "line {} of {lines}: {}",
                        location.line,
                        diagnostic.message
                    );
                }
            }
            prop_assert!(rendered.len() <= 64 * 1024);
            prop_assert!(rendered.matches("\nerror: ").count() < MAX_SHOWN);
            Ok(())
        }
        Err(other) => Err(TestCaseError::fail(format!("unexpected error: {other}"))),
    }
}

#[test]
fn the_loader_answers_any_text_with_a_project_or_positioned_errors() {
    let dir = tempfile::tempdir().unwrap();
    runner()
        .run(&yaml_text(), |text| check_load(dir.path(), &text))
        .unwrap();
}

#[test]
fn line_endings_do_not_change_what_a_file_means_or_where_errors_are() {
    let dir = tempfile::tempdir().unwrap();
    // One line each: the line ending is what varies.
    let one_line = yaml_piece().prop_map(|piece| piece.replace(['\n', '\r'], " "));
    let lines = prop::collection::vec(one_line, 1..20);
    runner()
        .run(&lines, |lines| {
            let outcome = |end: &str| {
                let text: String = lines.iter().map(|l| format!("{l}{end}")).collect();
                match load_str(&text, &dir.path().join("gorae.yaml"), &|_| None) {
                    Ok(project) => Ok(format!("{:?}", project.services.keys().collect::<Vec<_>>())),
                    Err(LoadError::Invalid { diagnostics, .. }) => Err(diagnostics
                        .iter()
                        .map(|d| {
                            (
                                d.message.clone(),
                                d.location.as_ref().map(|l| (l.line, l.col)),
                            )
                        })
                        .collect::<Vec<_>>()),
                    Err(other) => Err(vec![(other.to_string(), None)]),
                }
            };
            let lf = outcome("\n");
            prop_assert_eq!(&lf, &outcome("\r\n"));
            prop_assert_eq!(&lf, &outcome("\r"));
            Ok(())
        })
        .unwrap();
}

fn interpolation_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("$"),
        Just("$$"),
        Just("${"),
        Just("}"),
        Just(":-"),
        Just("-"),
        Just("A"),
        Just("UNSET"),
        Just("EMPTY"),
        Just("x"),
        Just("é"),
        Just(" "),
    ];
    prop::collection::vec(piece, 0..30).prop_map(|p| p.concat())
}

#[test]
fn interpolation_never_panics_and_keeps_text_without_references() {
    let env = |name: &str| match name {
        "A" => Some("a".to_string()),
        "EMPTY" => Some(String::new()),
        _ => None,
    };
    let vars = Vars {
        env: &env,
        dotenv: BTreeMap::new(),
    };
    runner()
        .run(&interpolation_text(), |text| {
            match interpolate(&text, &vars) {
                Ok(out) => {
                    if !text.contains('$') {
                        prop_assert_eq!(&out, &text);
                    }
                    prop_assert!(out.len() <= text.len() * 2 + 8);
                }
                Err(error) => {
                    prop_assert!(error.offset + error.len <= text.chars().count());
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn nested_defaults_work_as_in_compose() {
    let env = |name: &str| (name == "B").then(|| "b".to_string());
    let vars = Vars {
        env: &env,
        dotenv: BTreeMap::new(),
    };
    let names = prop_oneof![Just("A"), Just("B")];
    runner()
        .run(
            &(names.clone(), names, "[a-z]{0,3}"),
            |(outer, inner, fallback)| {
                let text = format!("${{{outer}:-${{{inner}:-{fallback}}}}}");
                let value = |n: &str| {
                    if n == "B" {
                        Some("b".to_string())
                    } else {
                        None
                    }
                };
                let expected = value(outer)
                    .or_else(|| value(inner))
                    .unwrap_or_else(|| fallback.clone());
                prop_assert_eq!(interpolate(&text, &vars).unwrap(), expected);
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn dotenv_reads_the_same_whatever_the_line_endings_and_bom() {
    let line = prop_oneof![
        "[A-Z_]{1,5}=[ -~]{0,10}",
        Just("# comment".to_string()),
        Just("export K='v v'".to_string()),
        Just("Q=\"open".to_string()),
        Just("bad line".to_string()),
        Just(String::new()),
    ];
    runner()
        .run(&prop::collection::vec(line, 0..15), |lines| {
            let lf = parse_dotenv(&lines.join("\n"));
            let crlf = parse_dotenv(&format!("\u{feff}{}", lines.join("\r\n")));
            let cr = parse_dotenv(&lines.join("\r"));
            prop_assert_eq!(&lf.0, &crlf.0);
            prop_assert_eq!(&lf.0, &cr.0);
            let spans = |e: &Vec<crate::config::interpolate::DotenvError>| {
                e.iter().map(|e| e.span).collect::<Vec<_>>()
            };
            prop_assert_eq!(spans(&lf.1), spans(&crlf.1));
            prop_assert_eq!(spans(&lf.1), spans(&cr.1));
            Ok(())
        })
        .unwrap();
}

/// Strings a compose file may hold where gorae has rules: names, keys and values with
/// line breaks, control characters, variables, and lengths past the limits.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("web".to_string()),
        Just("Web.API".to_string()),
        Just("db".to_string()),
        Just("a\nports: [\"0.0.0.0:22:22\"]".to_string()),
        Just("x".repeat(70)),
        Just(String::new()),
        Just("-".to_string()),
        Just("é".to_string()),
        Just("$HOME/x".to_string()),
        Just("${A}".to_string()),
        Just("${A:-${B:-b}}".to_string()),
        Just("${A?required}".to_string()),
        Just("a\u{0}b".to_string()),
        Just("a\u{85}b".to_string()),
        Just("# not a comment".to_string()),
        "[a-zA-Z0-9_.:/ -]{0,12}",
    ]
}

fn compose_port() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(serde_json::json!(3000)),
        Just(serde_json::json!("8080:80")),
        Just(serde_json::json!("127.0.0.1:5432:5432")),
        Just(serde_json::json!("0.0.0.0:9000:9000")),
        Just(serde_json::json!("${P:-3001}:3001")),
        Just(serde_json::json!("${P}:3002")),
        Just(serde_json::json!("1-3:1-3")),
        Just(serde_json::json!("99999")),
        Just(serde_json::json!({ "target": 80, "published": 8081 })),
        hostile().prop_map(serde_json::Value::String),
    ]
}

fn compose_service() -> impl Strategy<Value = serde_json::Value> {
    let image = prop_oneof![
        Just("redis:7".to_string()),
        Just("postgres:16".to_string()),
        Just("nginx:1.25".to_string()),
        Just("Bad Image".to_string()),
        hostile(),
    ];
    (
        image,
        prop::collection::btree_map(hostile(), hostile(), 0..4),
        prop::option::of(prop_oneof![
            compose_port().prop_map(|p| serde_json::json!([p])),
            compose_port(),
            prop::collection::vec(compose_port(), 0..4).prop_map(|p| serde_json::json!(p)),
        ]),
        prop::option::of(prop_oneof![
            hostile().prop_map(serde_json::Value::String),
            prop::collection::vec(hostile(), 0..3).prop_map(|c| serde_json::json!(c)),
        ]),
        prop::collection::vec(hostile(), 0..3),
        prop::collection::btree_map(hostile(), hostile(), 0..2),
    )
        .prop_map(|(image, env, ports, command, depends_on, extra)| {
            let mut service = serde_json::Map::new();
            service.insert("image".into(), image.into());
            service.insert("environment".into(), serde_json::json!(env));
            if let Some(ports) = ports {
                service.insert("ports".into(), ports);
            }
            if let Some(command) = command {
                service.insert("command".into(), command);
            }
            service.insert("depends_on".into(), serde_json::json!(depends_on));
            for (key, value) in extra {
                service.entry(key).or_insert(value.into());
            }
            serde_json::Value::Object(service)
        })
}

#[test]
fn init_writes_only_files_that_load_and_only_keys_the_input_had() {
    let compose = prop::collection::btree_map(hostile(), compose_service(), 1..5);
    runner()
        .run(&compose, |services| {
            let dir = tempfile::tempdir().unwrap();
            let file = serde_json::json!({ "services": services });
            // JSON is YAML; the compose importer reads it like any compose file.
            std::fs::write(dir.path().join("compose.yaml"), file.to_string()).unwrap();
            let Ok(draft) = crate::init::detect(dir.path()) else {
                return Ok(());
            };
            let text = crate::init::render(&draft);
            if draft.services.is_empty() {
                return Ok(());
            }
            let project = load_str(&text, &dir.path().join("gorae.yaml"), &|_| None);
            prop_assert!(project.is_ok(), "{text}\n{}", project.err().unwrap());
            let project = project.unwrap();

            let input_vars: BTreeSet<&str> = services
                .values()
                .flat_map(|s| s["environment"].as_object().into_iter().flatten())
                .map(|(k, _)| k.as_str())
                .collect();
            let open_in_input = services
                .values()
                .any(|s| s["ports"].to_string().contains("0.0.0.0"));
            prop_assert!(project.services.len() <= services.len());
            for service in project.services.values() {
                for key in service.env.keys() {
                    let from_template = service.template.is_some();
                    prop_assert!(
                        input_vars.contains(key.as_str()) || from_template,
                        "`{key}` is not in the input\n{text}"
                    );
                }
                for port in &service.ports {
                    prop_assert!(
                        port.host_ip != "0.0.0.0" || open_in_input,
                        "{port:?} opened\n{text}"
                    );
                }
            }
            // Nothing the input said became a line of its own.
            for line in text.lines() {
                let trimmed = line.trim_start();
                prop_assert!(
                    !trimmed.starts_with("ports: [\"0.0.0.0:22"),
                    "injected: {line}\n{text}"
                );
            }
            Ok(())
        })
        .unwrap();
}
