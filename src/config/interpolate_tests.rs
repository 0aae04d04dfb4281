//! Interpolation and `.env` parsing against exact results: values, error ranges and
//! the `file:line:col` each error is reported at.

use std::collections::BTreeMap;
use std::path::Path;

use super::interpolate::{InterpolationError, Vars, interpolate, is_var_name, parse_dotenv};
use super::source::Span;
use super::{LoadError, load_str};

fn no_env(_: &str) -> Option<String> {
    None
}

/// `text` interpolated with `A=x` in the environment and `D=dot` in `.env`.
fn expand(text: &str) -> Result<String, InterpolationError> {
    let env = |name: &str| (name == "A").then(|| "x".to_string());
    let vars = Vars {
        env: &env,
        dotenv: BTreeMap::from([
            ("D".to_string(), "dot".to_string()),
            ("A".to_string(), "shadowed".to_string()),
        ]),
    };
    interpolate(text, &vars)
}

#[test]
fn values_expand_exactly() {
    let cases: &[(&str, &str)] = &[
        ("", ""),
        ("plain", "plain"),
        ("${A}", "x"),
        ("${D}", "dot"),
        ("<${A}|${D}>", "<x|dot>"),
        ("${U:-}", ""),
        ("${U:-a:-b}", "a:-b"),
        ("${U:-{x}", "{x"),
        ("$$", "$"),
        ("$$$$", "$$"),
        ("$$${A}", "$x"),
        ("$", "$"),
        ("a$", "a$"),
        ("$a", "$a"),
        ("$}", "$}"),
        ("é${A}é", "éxé"),
    ];
    for (text, expected) in cases {
        assert_eq!(expand(text).as_deref(), Ok(*expected), "{text:?}");
    }
}

#[test]
fn faulty_references_report_their_exact_character_range() {
    // (value, offset, len, message)
    let cases: &[(&str, usize, usize, &str)] = &[
        ("${A", 0, 3, "`${` without a closing `}`"),
        ("ab${A", 2, 3, "`${` without a closing `}`"),
        ("é${", 1, 2, "`${` without a closing `}`"),
        ("${}", 0, 3, "`${}` is not a variable reference"),
        ("x${1A}", 1, 5, "`${1A}` is not a variable reference"),
        ("${A-b}y", 0, 6, "`${A-b}` is not a variable reference"),
        ("${:-d}", 0, 6, "`${:-d}` is not a variable reference"),
        ("${NOPE}", 0, 7, "variable `NOPE` is not set"),
        ("é${A}-${NOPE}!", 6, 7, "variable `NOPE` is not set"),
        ("$${A}${NOPE}", 5, 7, "variable `NOPE` is not set"),
    ];
    for (text, offset, len, message) in cases {
        let error = expand(text).expect_err(text);
        assert_eq!(
            (error.offset, error.len, error.message.as_str()),
            (*offset, *len, *message),
            "{text:?}"
        );
    }
    let unset = expand("${NOPE}").expect_err("unset");
    assert_eq!(
        unset.help,
        "set NOPE in the environment or in .env, or write ${NOPE:-default}"
    );
}

#[test]
fn variable_names_are_what_a_shell_exports() {
    for good in ["A", "_", "a", "A1", "_9", "snake_CASE_2"] {
        assert!(is_var_name(good), "{good}");
    }
    for bad in ["", "1A", "9", "A-B", "A B", "A.B", "é", "Aé", "-"] {
        assert!(!is_var_name(bad), "{bad}");
    }
}

/// Where a diagnostic points, and what it says: (line, col, len, message).
type Reported = (usize, usize, usize, String);

/// Every diagnostic loading `yaml` gives.
fn positions(yaml: &str) -> Vec<Reported> {
    match load_str(yaml, Path::new("/projects/shop/gorae.yaml"), &no_env) {
        Ok(_) => panic!("expected errors in {yaml:?}"),
        Err(LoadError::Invalid { diagnostics, .. }) => diagnostics
            .into_iter()
            .map(|d| {
                let at = d.location.expect("a position");
                (at.line, at.col, at.len, d.message)
            })
            .collect(),
        Err(other) => panic!("unexpected {other}"),
    }
}

#[test]
fn interpolation_errors_underline_the_reference_on_its_line() {
    let unset = |name: &str| format!("variable `{name}` is not set");
    let cases: &[(&str, Reported)] = &[
        (
            "services:\n  web:\n    image: \"registry/web:${WEB_TAG}\"\n",
            (3, 26, 10, unset("WEB_TAG")),
        ),
        (
            "services:\n  web:\n    image: registry/web:${WEB_TAG}\n",
            (3, 25, 10, unset("WEB_TAG")),
        ),
        // Escapes make the value shorter than the line: the line is searched.
        (
            "services:\n  web:\n    image: x\n    env: { A: \"\\t\\t${TAB}\" }\n",
            (4, 20, 6, unset("TAB")),
        ),
        // The first of two references on one line that is at fault, in the later value.
        (
            "services:\n  web: { image: x, env: { A: \"${OK:-1}\", B: \"${BAD}\" } }\n",
            (2, 46, 6, unset("BAD")),
        ),
        (
            "services:\n  web:\n    image: x\n    env:\n      B: \"${1X}\"\n",
            (5, 11, 5, "`${1X}` is not a variable reference".to_string()),
        ),
        (
            "services:\n  web:\n    image: x\n    env:\n      B: \"pre ${OPEN\"\n",
            (5, 15, 6, "`${` without a closing `}`".to_string()),
        ),
    ];
    for (yaml, expected) in cases {
        assert_eq!(positions(yaml), std::slice::from_ref(expected), "{yaml}");
    }
}

#[test]
fn an_interpolation_error_in_a_block_scalar_is_underlined_on_its_own_line() {
    let yaml = "services:\n  web:\n    image: x\n    command:\n      - |\n        echo ${GONE}\n";
    assert_eq!(
        positions(yaml),
        [(6, 14, 7, "variable `GONE` is not set".to_string())]
    );
}

#[test]
fn an_interpolation_error_not_written_out_on_the_line_points_at_the_value() {
    // `\u0024` is `$` once unescaped: the reference is not on the line as written, so
    // the whole value is underlined.
    let yaml = "services:\n  web:\n    image: \"\\u0024{NOPE}\"\n";
    let found = positions(yaml);
    assert_eq!(
        found,
        [(3, 12, 14, "variable `NOPE` is not set".to_string())]
    );
}

#[test]
fn a_reference_on_a_later_line_of_its_value_is_underlined_there() {
    let gone = || "variable `GONE` is not set".to_string();
    let cases: &[(&str, Reported)] = &[
        // Quoted and plain values folded onto a second line: the text has no line
        // break, but the reference is on the line after the value's first.
        (
            "services:\n  web:\n    image: x\n    env:\n      A: \"first\n        ${GONE}\"\n",
            (6, 9, 7, gone()),
        ),
        (
            "services:\n  web:\n    image: x\n    env:\n      A: first\n        then ${GONE}\n",
            (6, 14, 7, gone()),
        ),
        // With `|-` the text has no final line break.
        (
            "services:\n  web:\n    image: x\n    command:\n      - |-\n        echo start\n        echo ${GONE}\n",
            (7, 14, 7, gone()),
        ),
    ];
    for (yaml, expected) in cases {
        assert_eq!(positions(yaml), std::slice::from_ref(expected), "{yaml}");
    }
}

#[test]
fn the_search_for_a_reference_stays_within_its_value() {
    // The same characters outside the value are not taken for the faulty reference:
    // later on its line, on the line before it, or on a line past its own.
    let cases: &[(&str, Reported)] = &[
        // `\u0024` is `$` once unescaped, so the reference is not written out in the
        // value: the whole value is underlined.
        (
            "services:\n  web:\n    image: x\n    env: { A: \"\\u0024{NOPE}\", B: \"$${NOPE}\" }\n",
            (4, 15, 14, "variable `NOPE` is not set".to_string()),
        ),
        (
            "services:\n  web:\n    image: x\n    env:\n      A: \"\\u0024{NOPE}\\n\"\n      B: x\n      C: y\n      D: \"$${NOPE}\"\n",
            (5, 10, 16, "variable `NOPE` is not set".to_string()),
        ),
        // A comment on a block's `|` line is not part of its text.
        (
            "services:\n  web:\n    image: x\n    command:\n      - | # needs ${GONE}\n        a\n        echo ${GONE}\n",
            (7, 14, 7, "variable `GONE` is not set".to_string()),
        ),
    ];
    for (yaml, expected) in cases {
        assert_eq!(positions(yaml), std::slice::from_ref(expected), "{yaml}");
    }
}

/// The spans of `.env` errors.
fn dotenv_errors(text: &str) -> Vec<(Span, String)> {
    parse_dotenv(text)
        .1
        .into_iter()
        .map(|e| (e.span, e.message))
        .collect()
}

#[test]
fn dotenv_errors_have_exact_lines_and_columns() {
    let cases: &[(&str, (usize, usize, usize), &str)] = &[
        ("not a line", (1, 1, 10), "a line in .env without `=`"),
        (
            "GOOD=1\n   BAD LINE",
            (2, 4, 8),
            "a line in .env without `=`",
        ),
        ("export   NOEQ", (1, 10, 4), "a line in .env without `=`"),
        ("1BAD=2", (1, 1, 4), "`1BAD` is not a valid variable name"),
        (
            "  export   1BAD=2",
            (1, 12, 4),
            "`1BAD` is not a valid variable name",
        ),
        ("=x", (1, 1, 1), "`` is not a valid variable name"),
        ("A-B = 1", (1, 1, 3), "`A-B` is not a valid variable name"),
        (
            "Q=\"open",
            (1, 3, 5),
            "a value in .env opens a double quote it never closes",
        ),
        (
            "\n\n  export KEY='open",
            (3, 14, 5),
            "a value in .env opens a single quote it never closes",
        ),
        (
            "Q=\"ends in a backslash\\",
            (1, 3, 21),
            "a value in .env opens a double quote it never closes",
        ),
    ];
    for (text, (line, col, len), message) in cases {
        assert_eq!(
            dotenv_errors(text),
            [(Span::new(*line, *col, *len), message.to_string())],
            "{text:?}"
        );
    }
}

#[test]
fn dotenv_values_are_read_exactly() {
    let (vars, errors) = parse_dotenv(concat!(
        "# comment\n",
        "   # indented comment\n",
        "\n",
        "PLAIN=a b\n",
        "TRAILING=v # note\n",
        "HASH=a#b\n",
        "SPACED =  padded  \n",
        "SINGLE='$x \\n # kept'\n",
        "DOUBLE=\"q\\\"b\\\\s\\nn\\tx\"\n",
        "AFTER_QUOTE='v' # note\n",
        "exportX=1\n",
        "  export   E=2\n",
        "EMPTY=\n",
        "DUP=first\n",
        "DUP=second\n",
        "CRLF=1\r\n",
    ));
    assert!(errors.is_empty(), "{errors:?}");
    let expected: BTreeMap<String, String> = [
        ("PLAIN", "a b"),
        ("TRAILING", "v"),
        ("HASH", "a#b"),
        ("SPACED", "padded"),
        ("SINGLE", "$x \\n # kept"),
        ("DOUBLE", "q\"b\\s\nntx"),
        ("AFTER_QUOTE", "v"),
        ("exportX", "1"),
        ("E", "2"),
        ("EMPTY", ""),
        ("DUP", "second"),
        ("CRLF", "1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(vars, expected);
}

#[test]
fn defaults_nest_and_only_the_chosen_branch_is_looked_up() {
    let cases: &[(&str, &str)] = &[
        ("${U:-${A}}", "x"),
        ("${U:-${V:-${D}}}", "dot"),
        ("${U:-<${A}|${D}>}!", "<x|dot>!"),
        // A default that is not used is checked but never looked up.
        ("${A:-${U:-z}}", "x"),
        ("${A:-${NOPE}}", "x"),
        ("${A:-${U:-z}}-${U:-${D:-q}}", "x-dot"),
        ("${U:-a$b}", "a$b"),
    ];
    for (text, expected) in cases {
        assert_eq!(expand(text).as_deref(), Ok(*expected), "{text:?}");
    }
}

#[test]
fn defaults_nest_eight_deep_and_no_deeper() {
    let nested = |depth: usize| format!("{}z{}", "${U:-".repeat(depth), "}".repeat(depth));
    assert_eq!(expand(&nested(8)).as_deref(), Ok("z"));
    // The ninth `${` is underlined, five characters after each of the eight before it.
    for text in [nested(9), format!("${{A:-{}}}", nested(8))] {
        let error = expand(&text).expect_err("nine deep");
        assert_eq!(
            (error.offset, error.len, error.message.as_str()),
            (40, 2, "defaults nested more than 8 deep"),
            "{text}"
        );
    }
}

#[test]
fn faulty_defaults_report_their_exact_character_range() {
    let unclosed = "`${` without a closing `}`";
    // (value, offset, len, message)
    let cases: &[(&str, usize, usize, &str)] = &[
        ("x${U:-abc", 1, 8, unclosed),
        ("${U:-${V:-a}", 0, 12, unclosed),
        ("${A:-${V:-a}", 0, 12, unclosed),
        ("${U:-${NOPE}}", 5, 7, "variable `NOPE` is not set"),
        ("${U:-${1}}", 5, 4, "`${1}` is not a variable reference"),
        ("${A-b", 0, 4, "`${A-` is not a variable reference"),
        ("${A:x}", 0, 6, "`${A:x}` is not a variable reference"),
        ("${A:", 0, 4, "`${A:` is not a variable reference"),
    ];
    for (text, offset, len, message) in cases {
        let error = expand(text).expect_err(text);
        assert_eq!(
            (error.offset, error.len, error.message.as_str()),
            (*offset, *len, *message),
            "{text:?}"
        );
    }
}

#[test]
fn interpolation_errors_past_the_kept_limit_are_counted() {
    let mut yaml = String::from("services:\n  web:\n    image: x\n    env:\n");
    for n in 0..1005 {
        yaml.push_str(&format!("      V{n}: ${{NOPE{n}}}\n"));
    }
    match load_str(&yaml, Path::new("/projects/shop/gorae.yaml"), &no_env) {
        Err(LoadError::Invalid {
            diagnostics,
            rendered,
        }) => {
            assert_eq!(diagnostics.len(), 1000);
            assert!(rendered.ends_with(": 1005 errors"), "{rendered}");
        }
        Ok(_) => panic!("expected errors"),
        Err(other) => panic!("unexpected {other}"),
    }
}
