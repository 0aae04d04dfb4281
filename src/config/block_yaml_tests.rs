//! The block writer against serde_yaml: whatever it writes must be byte for byte what
//! serde_yaml writes, on generated trees full of strings YAML treats specially.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq};

use super::to_string;

/// Plain data of every shape the writer handles.
#[derive(Debug, Clone)]
enum Tree {
    Str(String),
    Int(u64),
    Bool(bool),
    None,
    Seq(Vec<Tree>),
    Map(Vec<(String, Tree)>),
}

impl Serialize for Tree {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Tree::Str(text) => serializer.serialize_str(text),
            Tree::Int(n) => serializer.serialize_u64(*n),
            Tree::Bool(b) => serializer.serialize_bool(*b),
            Tree::None => serializer.serialize_none(),
            Tree::Seq(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Tree::Map(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

/// Strings near every rule of YAML's plain style and of serde_yaml's types.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z0-9]{1,8}",
        4 => "[-a-zA-Z0-9 .:_/+#'\"?,\\[\\]{}*&!|>%@`~=$()<;\\\\]{0,10}",
        3 => "[-+.0-9eExXoObB_infaINFAty:]{0,6}",
        1 => "[ -~\t\n\r\u{85}\u{2028}\u{a0}\u{feff}é€]{0,6}",
        1 => "[a-z]{129,131}",
        2 => prop::sample::select(vec![
            "", "~", "null", "Null", "NULL", "true", "False", "yes", "no", "on", "y",
            "0", "007", "-007", "+7", "0x1F", "0o17", "0b101", "-0x1F", "1e5", "1_000", ".5",
            "5.", "-.inf", "+.INF", ".NaN", "inf", "nan", "infinity", "1.2.3", "127.0.0.1",
            "3000:3000", "127.0.0.1:5432:5432/tcp", "-", "- a", "-c", "--x", "---", "---x",
            "...", "..x", ":", "a:", "a: b", "a:b", "a #b", "a#b", "#a", "?", "?a", "? a",
            "*a", "&a", "!a", "%a", "@a", "`a", "|", ">", "'a'", "\"a\"", "a'b", "{a}",
            "[a]", "a,b", " a", "a ", "a\nb", "a\n", "\ta", "é", "<<", "=",
        ])
        .prop_map(str::to_string),
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        6 => text().prop_map(Tree::Str),
        1 => any::<u64>().prop_map(Tree::Int),
        1 => any::<bool>().prop_map(Tree::Bool),
        1 => Just(Tree::None),
    ];
    leaf.prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Tree::Seq),
            prop::collection::vec((text(), inner), 0..5).prop_map(Tree::Map),
        ]
    })
}

fn runner() -> TestRunner {
    let cases = std::env::var("GORAE_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn whatever_it_writes_is_what_serde_yaml_writes() {
    let mut runner = runner();
    let cases = runner.config().cases;
    let written = std::cell::Cell::new(0);
    runner
        .run(&tree(), |tree| {
            if let Some(text) = to_string(&tree) {
                written.set(written.get() + 1);
                let expected = serde_yaml::to_string(&tree).unwrap();
                prop_assert_eq!(text, expected, "{:?}", tree);
            }
            Ok(())
        })
        .unwrap();
    // The comparison means something only if the writer takes most trees itself.
    assert!(written.get() * 2 > cases, "{} of {cases}", written.get());
}

#[test]
fn every_special_string_is_written_as_serde_yaml_writes_it_in_each_place() {
    // Each string as a value, a list item, a key, and inside nested lists and maps.
    let strings = [
        "",
        "~",
        "null",
        "True",
        "007",
        "+7",
        "0x1F",
        "1e5",
        ".5",
        "-.inf",
        "inf",
        "1.2.3",
        "127.0.0.1",
        "3000:3000",
        "-",
        "-c",
        "- a",
        "---",
        "...",
        ":",
        "a:",
        "a: b",
        "a:b",
        "a #b",
        "a#b",
        "#a",
        "?a",
        "*a",
        "&a",
        "!a",
        "%a",
        "@a",
        "`a",
        "|",
        ">",
        "'a'",
        "\"a\"",
        "a'b",
        "{a}",
        "[a]",
        "a,b",
        " a",
        "a ",
        "\ta",
        "é",
        "<<",
        "echo 0",
    ];
    for s in strings {
        let s = s.to_string();
        let trees = [
            Tree::Str(s.clone()),
            Tree::Map(vec![(s.clone(), Tree::Str(s.clone()))]),
            Tree::Seq(vec![
                Tree::Str(s.clone()),
                Tree::Seq(vec![Tree::Str(s.clone())]),
            ]),
            Tree::Map(vec![(
                "k".into(),
                Tree::Seq(vec![Tree::Map(vec![
                    (s.clone(), Tree::Map(vec![])),
                    ("v".into(), Tree::Seq(vec![])),
                ])]),
            )]),
        ];
        for tree in trees {
            let expected = serde_yaml::to_string(&tree).unwrap();
            assert_eq!(to_string(&tree).as_ref(), Some(&expected), "{tree:?}");
        }
    }
}

#[test]
fn multi_line_strings_and_long_keys_are_left_to_serde_yaml() {
    assert_eq!(to_string(&Tree::Str("a\nb".into())), None);
    let long = "k".repeat(129);
    assert_eq!(to_string(&Tree::Map(vec![(long, Tree::Int(1))])), None);
}
