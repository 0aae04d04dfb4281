//! `${VAR}` interpolation in gorae.yaml values, and the `.env` file beside it.
//!
//! Precedence, highest first:
//!
//! 1. the process environment (the shell that runs gorae; in CI, the job's variables);
//! 2. the `.env` files beside gorae.yaml, layered by [`super::variables`] (`KEY=VALUE`
//!    lines; `#` starts a comment line; an optional `export ` prefix; the value may be
//!    wrapped in single quotes, taken literally, or double quotes, where `\n`, `\"`
//!    and `\\` are escapes; an unquoted value ends at ` #`);
//! 3. the default written in the file: `${VAR:-default}`, used when the variable is
//!    unset or empty.
//!
//! A default may itself hold references, as in Compose: `${A:-${B:-b}}` is A, else B,
//! else `b`. Compose's other forms (`${A-b}`, `${A:?error}`, `${A:+other}`) are
//! refused with their position rather than read differently.
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

/// How deep `${A:-${B:-...}}` may nest; deeper is certainly a mistake.
const MAX_NESTING: usize = 8;

/// Expands one value.
pub fn interpolate(text: &str, vars: &Vars) -> Result<String, InterpolationError> {
    let chars: Vec<char> = text.chars().collect();
    let mut expander = Expander {
        chars: &chars,
        vars,
        index: 0,
    };
    let mut out = String::with_capacity(text.len());
    expander.expand(&mut out, true, 0)?;
    Ok(out)
}

/// Walks one value's characters once; a default is expanded by a nested call that
/// stops at the `}` closing its reference.
struct Expander<'a> {
    chars: &'a [char],
    vars: &'a Vars<'a>,
    index: usize,
}

impl Expander<'_> {
    /// Expands until the end of the text (depth 0) or the `}` that closes the reference
    /// this default belongs to. With `emit` false (the default of a variable that has a
    /// value) the text is only checked, not looked up.
    fn expand(
        &mut self,
        out: &mut String,
        emit: bool,
        depth: usize,
    ) -> Result<(), InterpolationError> {
        while let Some(&c) = self.chars.get(self.index) {
            if c == '}' && depth > 0 {
                return Ok(());
            }
            if c != '$' {
                if emit {
                    out.push(c);
                }
                self.index += 1;
                continue;
            }
            match self.chars.get(self.index + 1) {
                Some('$') => {
                    if emit {
                        out.push('$');
                    }
                    self.index += 2;
                }
                Some('{') => self.reference(out, emit, depth)?,
                _ => {
                    if emit {
                        out.push('$');
                    }
                    self.index += 1;
                }
            }
        }
        Ok(())
    }

    /// One `${NAME}` or `${NAME:-default}` starting at `self.index`.
    fn reference(
        &mut self,
        out: &mut String,
        emit: bool,
        depth: usize,
    ) -> Result<(), InterpolationError> {
        let start = self.index;
        let name_start = start + 2;
        let mut end = name_start;
        while self
            .chars
            .get(end)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
        {
            end += 1;
        }
        let name: String = self.chars[name_start..end].iter().collect();
        let unclosed = |len: usize| InterpolationError {
            offset: start,
            len,
            message: "`${` without a closing `}`".into(),
            help: "close the variable with `}`, or write `$$` for a literal `$`".into(),
        };
        let not_a_reference = |chars: &[char], to: usize| {
            let written: String = chars[start..to].iter().collect();
            InterpolationError {
                offset: start,
                len: to - start,
                message: format!("`{written}` is not a variable reference"),
                help: "write ${NAME} or ${NAME:-default}, where NAME is letters, digits and `_` (the default may hold ${...} itself); write `$$` for a literal `$`".into(),
            }
        };
        if !is_var_name(&name) {
            let to = self.chars[start..]
                .iter()
                .position(|&c| c == '}')
                .map_or(self.chars.len(), |p| start + p + 1);
            return Err(match self.chars.get(to - 1) {
                Some('}') => not_a_reference(self.chars, to),
                _ => unclosed(self.chars.len() - start),
            });
        }
        let value = if emit { self.vars.get(&name) } else { None };
        match (self.chars.get(end), self.chars.get(end + 1)) {
            (Some('}'), _) => {
                self.index = end + 1;
                if !emit {
                    return Ok(());
                }
                match value {
                    Some(value) => out.push_str(&value),
                    None => {
                        return Err(InterpolationError {
                            offset: start,
                            len: end + 1 - start,
                            message: format!("variable `{name}` is not set"),
                            help: format!(
                                "set {name} in the environment or in .env, or write ${{{name}:-default}}"
                            ),
                        });
                    }
                }
            }
            (Some(':'), Some('-')) => {
                if depth + 1 > MAX_NESTING {
                    return Err(InterpolationError {
                        offset: start,
                        len: 2,
                        message: format!("defaults nested more than {MAX_NESTING} deep"),
                        help: "a default may hold ${...}, but not this many levels of it".into(),
                    });
                }
                self.index = end + 2;
                let use_default = emit && value.as_deref().is_none_or(str::is_empty);
                if let Some(value) = value.filter(|_| !use_default) {
                    out.push_str(&value);
                }
                self.expand(out, use_default, depth + 1)?;
                if self.chars.get(self.index) != Some(&'}') {
                    return Err(unclosed(self.chars.len() - start));
                }
                self.index += 1;
            }
            (None, _) => return Err(unclosed(self.chars.len() - start)),
            _ => {
                let to = self.chars[end..]
                    .iter()
                    .position(|&c| c == '}')
                    .map_or(end + 1, |p| end + p + 1)
                    .min(self.chars.len());
                return Err(not_a_reference(self.chars, to));
            }
        }
        Ok(())
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`: the names a shell can export.
/// A name the engine takes for a container's environment variable: anything without
/// `=` or NUL (`discovery.type`, which Elasticsearch reads, included). Shells export
/// only [`is_var_name`] names.
pub fn is_env_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(['=', '\0'])
}

pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Interpolates every scalar value (not key) of the tree in place, reporting each
/// faulty value at the position of its `${`.
/// Past `super::fields::MAX_KEPT` diagnostics, further ones are only counted in
/// `dropped`.
pub fn interpolate_tree(
    node: &mut Node,
    vars: &Vars,
    source: &Source,
    diagnostics: &mut Vec<Diagnostic>,
    dropped: &mut usize,
) {
    match &mut node.value {
        Value::Map(entries) => {
            for entry in entries {
                interpolate_tree(&mut entry.value, vars, source, diagnostics, dropped);
            }
        }
        Value::Seq(items) => {
            for item in items {
                interpolate_tree(item, vars, source, diagnostics, dropped);
            }
        }
        Value::Scalar(scalar) => {
            if !scalar.text.contains('$') {
                return;
            }
            match interpolate(&scalar.text, vars) {
                Ok(text) => scalar.set_interpolated(text),
                Err(error) => {
                    scalar.broken = true;
                    if diagnostics.len() >= super::fields::MAX_KEPT {
                        *dropped += 1;
                        return;
                    }
                    let span = fault_span(source, node.span, &scalar.text, &error);
                    diagnostics.push(source.error(span, error.message, error.help));
                }
            }
        }
    }
}

/// Where the fault is in the file. The value's text and the file differ by quotes,
/// escapes and (in block scalars) indentation, so the faulty `${...}` is looked up in
/// the value's own lines: its first line within the value's span, then the lines its
/// text continues on (a block scalar starts on the line after its `|`). Falls back to
/// the start of the value. Costs the value's length, not the file's.
fn fault_span(source: &Source, value: Span, text: &str, error: &InterpolationError) -> Span {
    let needle: String = text
        .chars()
        .skip(error.offset)
        .take(error.len)
        .take_while(|&c| c != '\n')
        .collect();
    if needle.is_empty() {
        return value;
    }
    let first = source.rest_of_line(value.line, value.col);
    let first_len = first
        .char_indices()
        .nth(value.len)
        .map_or(first.len(), |(byte, _)| byte);
    if let Some(byte) = first[..first_len].find(&needle) {
        return value.shifted(first[..byte].chars().count(), needle.chars().count());
    }
    let more_lines = text.matches('\n').count() + 1;
    for line in value.line + 1..=(value.line + more_lines).min(source.line_count()) {
        let rest = source.line(line);
        if let Some(byte) = rest.find(&needle) {
            return Span::new(
                line,
                rest[..byte].chars().count() + 1,
                needle.chars().count(),
            );
        }
    }
    value
}

/// One problem in a `.env` file: 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotenvError {
    pub span: Span,
    pub message: String,
    pub help: String,
}

/// One `KEY=VALUE` line of a `.env` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotenvEntry {
    pub key: String,
    /// The value with quotes and escapes taken away.
    pub value: String,
    /// The line, and the column and width of the key.
    pub span: Span,
    /// Where the value starts as written, quotes included.
    pub value_span: Span,
    /// Written in single quotes: taken literally, never interpolated.
    pub literal: bool,
}

/// Parses a `.env` file (format in the module docs). Bad lines are reported; good lines
/// still count.
pub fn parse_dotenv(text: &str) -> (BTreeMap<String, String>, Vec<DotenvError>) {
    let (entries, errors) = parse_dotenv_entries(text);
    let vars = entries
        .into_iter()
        .map(|entry| (entry.key, entry.value))
        .collect();
    (vars, errors)
}

/// Like [`parse_dotenv`], keeping every line's position, in file order (a key set
/// twice appears twice; the later line wins).
pub fn parse_dotenv_entries(text: &str) -> (Vec<DotenvEntry>, Vec<DotenvError>) {
    let mut vars = Vec::new();
    let mut errors = Vec::new();
    let source = Source::new("", text);
    for index in 0..source.line_count() {
        let raw = source.line(index + 1);
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
        let trimmed = value.trim();
        let leading = value.chars().take_while(|c| c.is_whitespace()).count();
        match dotenv_value(trimmed) {
            Ok(parsed) => vars.push(DotenvEntry {
                key: key.to_string(),
                value: parsed,
                span: Span::new(line_no, col, key.chars().count()),
                value_span: Span::new(line_no, value_col + leading, trimmed.chars().count().max(1)),
                literal: trimmed.starts_with('\''),
            }),
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
