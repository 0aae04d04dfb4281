//! `${VAR}` interpolation in gorae.yaml values, and the `.env` file beside it.
//!
//! Precedence, highest first:
//!
//! 1. the process environment (the shell that runs gorae; in CI, the job's variables);
//! 2. `.env` in the directory of gorae.yaml (`KEY=VALUE` lines; `#` starts a comment
//!    line; an optional `export ` prefix; the value may be wrapped in single quotes,
//!    taken literally, or double quotes, where `\n`, `\"` and `\\` are escapes; an
//!    unquoted value ends at ` #`). `.env` values are not interpolated themselves;
//! 3. the default written in the file: `${VAR:-default}`, used when the variable is
//!    unset or empty.
//!
//! `${VAR}` with no value from any source is an error. `$$` writes a literal `$`; a `$`
//! not followed by `{` or `$` is kept as it is. Only values are interpolated, never keys,
//! and a value's YAML type is decided by what was written, so `version: ${PY}` is a
//! string whatever `PY` holds.

use std::collections::BTreeMap;

use super::diagnostic::Diagnostic;
use super::source::{Source, Span};
use super::yaml::{Node, Value};

/// Where variables come from, in precedence order.
pub struct Vars<'a> {
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub dotenv: BTreeMap<String, String>,
}

impl Vars<'_> {
    /// A variable's value, or `None` when unset everywhere.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.env)(name).or_else(|| self.dotenv.get(name).cloned())
    }
}

/// What went wrong in one value, with the character range of the fault in the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterpolationError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
    pub help: String,
}

/// Expands one value.
pub fn interpolate(text: &str, vars: &Vars) -> Result<String, InterpolationError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        if c != '$' {
            out.push(c);
            index += 1;
            continue;
        }
        match chars.get(index + 1) {
            Some('$') => {
                out.push('$');
                index += 2;
            }
            Some('{') => {
                let Some(close) = chars[index..].iter().position(|&c| c == '}') else {
                    return Err(InterpolationError {
                        offset: index,
                        len: chars.len() - index,
                        message: "`${` without a closing `}`".into(),
                        help: "close the variable with `}`, or write `$$` for a literal `$`".into(),
                    });
                };
                let inner: String = chars[index + 2..index + close].iter().collect();
                let (name, default) = match inner.split_once(":-") {
                    Some((name, default)) => (name, Some(default)),
                    None => (inner.as_str(), None),
                };
                if !is_var_name(name) {
                    return Err(InterpolationError {
                        offset: index,
                        len: close + 1,
                        message: format!("`${{{inner}}}` is not a variable reference"),
                        help: "write ${NAME} or ${NAME:-default}, where NAME is letters, digits and `_`; write `$$` for a literal `$`".into(),
                    });
                }
                match (vars.get(name), default) {
                    (Some(value), Some(default)) if value.is_empty() => out.push_str(default),
                    (Some(value), _) => out.push_str(&value),
                    (None, Some(default)) => out.push_str(default),
                    (None, None) => {
                        return Err(InterpolationError {
                            offset: index,
                            len: close + 1,
                            message: format!("variable `{name}` is not set"),
                            help: format!(
                                "set {name} in the environment or in .env, or write ${{{name}:-default}}"
                            ),
                        });
                    }
                }
                index += close + 1;
            }
            _ => {
                out.push('$');
                index += 1;
            }
        }
    }
    Ok(out)
}

/// `[A-Za-z_][A-Za-z0-9_]*`: the names a shell can export.
pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Interpolates every scalar value (not key) of the tree in place, reporting each
/// faulty value at the position of its `${`.
pub fn interpolate_tree(
    node: &mut Node,
    vars: &Vars,
    source: &Source,
    diagnostics: &mut Vec<Diagnostic>,
) {
    match &mut node.value {
        Value::Map(entries) => {
            for entry in entries {
                interpolate_tree(&mut entry.value, vars, source, diagnostics);
            }
        }
        Value::Seq(items) => {
            for item in items {
                interpolate_tree(item, vars, source, diagnostics);
            }
        }
        Value::Scalar(scalar) => {
            if !scalar.text.contains('$') {
                return;
            }
            match interpolate(&scalar.text, vars) {
                Ok(text) => scalar.text = text,
                Err(error) => {
                    scalar.broken = true;
                    let span = fault_span(source, node.span, &scalar.text, &error);
                    diagnostics.push(source.error(span, error.message, error.help));
                }
            }
        }
    }
}

/// Where the fault is on the source line. The value's text and the line differ by quotes
/// and escapes, so the faulty `${...}` is looked up on the line itself, falling back to
/// the start of the value.
fn fault_span(source: &Source, value: Span, text: &str, error: &InterpolationError) -> Span {
    let needle: String = text.chars().skip(error.offset).take(error.len).collect();
    let line = source.line(value.line);
    let from = value.col.saturating_sub(1);
    let rest: String = line.chars().skip(from).collect();
    match rest.find(&needle) {
        Some(byte) => value.shifted(rest[..byte].chars().count(), needle.chars().count()),
        None => value,
    }
}

/// One problem in a `.env` file: 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotenvError {
    pub span: Span,
    pub message: String,
    pub help: String,
}

/// Parses a `.env` file (format in the module docs). Bad lines are reported; good lines
/// still count.
pub fn parse_dotenv(text: &str) -> (BTreeMap<String, String>, Vec<DotenvError>) {
    let mut vars = BTreeMap::new();
    let mut errors = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let indent = raw.chars().take_while(|c| c.is_whitespace()).count();
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (line, col) = match line.strip_prefix("export ") {
            Some(rest) => (
                rest.trim_start(),
                indent + 1 + (line.len() - rest.trim_start().len()),
            ),
            None => (line, indent + 1),
        };
        let Some((key, value)) = line.split_once('=') else {
            errors.push(DotenvError {
                span: Span::new(line_no, col, line.chars().count()),
                message: "a line in .env without `=`".into(),
                help: "write KEY=VALUE, or start the line with # to make it a comment".into(),
            });
            continue;
        };
        let key = key.trim_end();
        if !is_var_name(key) {
            errors.push(DotenvError {
                span: Span::new(line_no, col, key.chars().count().max(1)),
                message: format!("`{key}` is not a valid variable name"),
                help: "names are letters, digits and `_`, and do not start with a digit".into(),
            });
            continue;
        }
        let value_col = col
            + line
                .find('=')
                .map_or(0, |byte| line[..=byte].chars().count());
        match dotenv_value(value.trim()) {
            Ok(value) => {
                vars.insert(key.to_string(), value);
            }
            Err(message) => errors.push(DotenvError {
                span: Span::new(line_no, value_col, value.chars().count().max(1)),
                message,
                help: "end the value with the quote it starts with".into(),
            }),
        }
    }
    (vars, errors)
}

fn dotenv_value(value: &str) -> Result<String, String> {
    if let Some(rest) = value.strip_prefix('\'') {
        return match rest.find('\'') {
            Some(end) => Ok(rest[..end].to_string()),
            None => Err("a value in .env opens a single quote it never closes".into()),
        };
    }
    if let Some(rest) = value.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return Ok(out),
                '\\' => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some(other) => out.push(other),
                    None => break,
                },
                c => out.push(c),
            }
        }
        return Err("a value in .env opens a double quote it never closes".into());
    }
    let value = match value.find(" #") {
        Some(comment) => &value[..comment],
        None => value,
    };
    Ok(value.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with<R>(env: &[(&str, &str)], dotenv: &str, f: impl FnOnce(&Vars) -> R) -> R {
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |name: &str| env.get(name).cloned();
        let (dotenv, errors) = parse_dotenv(dotenv);
        assert!(errors.is_empty(), "{errors:?}");
        f(&Vars {
            env: &lookup,
            dotenv,
        })
    }

    #[test]
    fn process_env_beats_dotenv_beats_default() {
        let dotenv = "A=from-dotenv\nB=from-dotenv\n";
        with(&[("A", "from-env")], dotenv, |vars| {
            assert_eq!(interpolate("${A:-d}", vars).unwrap(), "from-env");
            assert_eq!(interpolate("${B:-d}", vars).unwrap(), "from-dotenv");
            assert_eq!(interpolate("${C:-d}", vars).unwrap(), "d");
        });
    }

    #[test]
    fn default_applies_to_empty_values_too() {
        with(&[("A", "")], "", |vars| {
            assert_eq!(interpolate("${A:-d}", vars).unwrap(), "d");
            assert_eq!(interpolate("[${A}]", vars).unwrap(), "[]");
        });
    }

    #[test]
    fn dollar_dollar_is_a_literal_dollar_and_lone_dollars_stay() {
        with(&[("A", "x")], "", |vars| {
            assert_eq!(interpolate("$${A}", vars).unwrap(), "${A}");
            assert_eq!(interpolate("pa$word $", vars).unwrap(), "pa$word $");
            assert_eq!(interpolate("a${A}b${A}", vars).unwrap(), "axbx");
        });
    }

    #[test]
    fn unset_variable_is_an_error_at_its_position() {
        with(&[], "", |vars| {
            let error = interpolate("db-${NAME}", vars).unwrap_err();
            assert_eq!((error.offset, error.len), (3, 7));
            assert_eq!(error.message, "variable `NAME` is not set");
            assert!(error.help.contains("${NAME:-default}"));
        });
    }

    #[test]
    fn malformed_references_are_errors() {
        with(&[], "", |vars| {
            assert!(interpolate("${A", vars).is_err());
            assert!(interpolate("${1A}", vars).is_err());
            assert!(interpolate("${}", vars).is_err());
        });
    }

    #[test]
    fn dotenv_lines_quotes_comments_and_export() {
        let (vars, errors) = parse_dotenv(
            "# comment\n\nexport A=1\nB = 'it''s'\nC=\"a\\nb\"\nD=plain # trailing\nE=\nF='x y'\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(vars["A"], "1");
        assert_eq!(vars["B"], "it");
        assert_eq!(vars["C"], "a\nb");
        assert_eq!(vars["D"], "plain");
        assert_eq!(vars["E"], "");
        assert_eq!(vars["F"], "x y");
    }

    #[test]
    fn dotenv_reports_bad_lines_with_positions() {
        let (vars, errors) = parse_dotenv("GOOD=1\nnot a line\n1BAD=2\nQ=\"open\n");
        assert_eq!(vars.len(), 1);
        let lines: Vec<usize> = errors.iter().map(|e| e.span.line).collect();
        assert_eq!(lines, [2, 3, 4]);
    }
}
