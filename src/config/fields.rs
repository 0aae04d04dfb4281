//! Typed readers over the spanned YAML tree, shared by gorae.yaml and template.yaml:
//! each returns the value or records a diagnostic at the value's position and returns
//! `None`, so one pass collects every error of a file.

use std::collections::HashMap;
use std::fmt::Display;

use super::diagnostic::Diagnostic;
use super::interpolate::is_env_name;
use super::source::{Source, Span};
use super::yaml::{Entry, Kind, Node, Value};

/// A readiness probe as written, before the service's port is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeSpec {
    /// Ready when this command, run in the container, exits 0.
    Command(Vec<String>),
    /// Ready when this container port accepts TCP connections.
    Tcp(u16),
    /// Ready when `GET path` answers 2xx/3xx; the port defaults to the service's port.
    Http { port: Option<u16>, path: String },
    /// Ready when the container has kept running this long.
    Running(std::time::Duration),
    /// Ready when this container port answers the opening of a protocol's session.
    Handshake(super::model::Handshake, u16),
}

/// At most this many diagnostics are kept per file; the rest are only counted. A
/// report shows far fewer (see `diagnostic::MAX_SHOWN`); the bound keeps a file with
/// a hundred thousand mistakes from holding a hundred thousand snippets in memory.
pub const MAX_KEPT: usize = 1000;

/// Collects diagnostics for one file.
pub struct Checker<'a> {
    pub source: &'a Source,
    pub diagnostics: Vec<Diagnostic>,
    /// Diagnostics past [`MAX_KEPT`], counted but not kept.
    pub dropped: usize,
}

impl<'a> Checker<'a> {
    pub fn new(source: &'a Source) -> Self {
        Checker {
            source,
            diagnostics: Vec::new(),
            dropped: 0,
        }
    }

    /// Whether further diagnostics are only counted; a caller may then skip working
    /// out a costly message (a "did you mean" among many names).
    pub fn is_full(&self) -> bool {
        self.diagnostics.len() >= MAX_KEPT
    }

    pub fn error(&mut self, span: Span, message: impl Into<String>, help: impl Into<String>) {
        if self.diagnostics.len() >= MAX_KEPT {
            self.dropped += 1;
            return;
        }
        let diagnostic = self.source.error(span, message, help);
        self.diagnostics.push(diagnostic);
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        if self.diagnostics.len() >= MAX_KEPT {
            self.dropped += 1;
            return;
        }
        self.diagnostics.push(diagnostic);
    }

    /// The entries of a map; `what` names the value in messages ("`env` of service `web`").
    pub fn map<'n>(&mut self, node: &'n Node, what: impl Display) -> Option<&'n [Entry]> {
        if let Some(entries) = node.as_map() {
            return Some(entries);
        }
        self.error(
            node.span,
            format!("{what} must be a map, found {}", node.describe()),
            "write it as `key: value` lines indented under it, or as `{ key: value }`",
        );
        None
    }

    /// Reports keys not in `allowed`, suggesting the closest one. `aliases` maps names
    /// people bring from other tools (Compose) to gorae's key.
    pub fn known_keys<'e>(
        &mut self,
        entries: impl IntoIterator<Item = &'e Entry>,
        allowed: &[&str],
        aliases: &[(&str, &str)],
        context: impl Display,
    ) {
        for entry in entries {
            if allowed.contains(&entry.key.as_str()) {
                continue;
            }
            if self.is_full() {
                self.dropped += 1;
                continue;
            }
            let help = match aliases.iter().find(|(alias, _)| *alias == entry.key) {
                Some((_, key)) => format!("did you mean `{key}`?"),
                None => match suggest(&entry.key, allowed.iter().copied()) {
                    Some(key) => format!("did you mean `{key}`?"),
                    None => format!("valid keys are: {}", allowed.join(", ")),
                },
            };
            self.error(
                entry.key_span,
                format!("unknown key `{}` in {context}", entry.key),
                help,
            );
        }
    }

    /// The allowed keys that `entries` probably misspelt: an unknown key's suggestion
    /// that is not written itself. What follows from such a key being missing (a
    /// template that "needs `build:`" when `biuld:` is written) is not reported: the
    /// typo is the cause, and it is reported already.
    pub fn probably_meant(
        entries: &[Entry],
        allowed: &[&str],
        aliases: &[(&str, &str)],
    ) -> Vec<String> {
        entries
            .iter()
            .filter(|entry| !allowed.contains(&entry.key.as_str()))
            .filter_map(|entry| {
                aliases
                    .iter()
                    .find(|(alias, _)| *alias == entry.key)
                    .map(|(_, key)| *key)
                    .or_else(|| suggest(&entry.key, allowed.iter().copied()))
            })
            .filter(|key| !entries.iter().any(|e| e.key == *key))
            .map(str::to_string)
            .collect()
    }

    /// A string; numbers and booleans count as the text written (`1` is "1"). Control
    /// characters other than tab are refused: the engine rejects NUL anywhere, and a line
    /// break in a name, path, image or variable is a mistake that would only show later.
    pub fn string(&mut self, node: &Node, what: impl Display) -> Option<String> {
        let text = self.any_string(node, &what)?;
        self.no_control(node, &what, &text, false)?;
        Some(text)
    }

    /// `true` or `false`, as YAML writes them.
    pub fn bool(&mut self, node: &Node, what: impl Display) -> Option<bool> {
        match node.as_scalar().map(|s| (s.kind(), s.text.as_str())) {
            Some((super::yaml::Kind::Bool, text)) => Some(text.eq_ignore_ascii_case("true")),
            _ => {
                self.error(
                    node.span,
                    format!("{what} must be true or false"),
                    "write true or false, unquoted",
                );
                None
            }
        }
    }

    /// Like [`Self::string`], but line breaks are kept: an argument of a command may be
    /// a multi-line shell script.
    pub fn argument(&mut self, node: &Node, what: impl Display) -> Option<String> {
        let text = self.any_string(node, &what)?;
        self.no_control(node, &what, &text, true)?;
        Some(text)
    }

    fn no_control(
        &mut self,
        node: &Node,
        what: impl Display,
        text: &str,
        line_breaks: bool,
    ) -> Option<()> {
        let allowed = |c: char| c == '\t' || (line_breaks && c == '\n');
        let Some(c) = text.chars().find(|&c| c.is_control() && !allowed(c)) else {
            return Some(());
        };
        let help = if line_breaks {
            "remove it; only tabs and line breaks may appear in an argument"
        } else if c == '\n' || c == '\r' {
            "write the value on one line (a `|` or `>` block adds a line break at its end; use `|-` or a quoted string)"
        } else {
            "remove it; values are plain text"
        };
        self.error(
            node.span,
            format!("{what} contains the control character U+{:04X}", c as u32),
            help,
        );
        None
    }

    /// A string of any content, control characters included: what a file may hold
    /// (a secret's value).
    pub fn any_string(&mut self, node: &Node, what: impl Display) -> Option<String> {
        match &node.value {
            Value::Scalar(scalar) if scalar.broken => None,
            Value::Scalar(scalar) if scalar.kind() != Kind::Null => Some(scalar.text.clone()),
            _ => {
                self.error(
                    node.span,
                    format!("{what} must be a string, found {}", node.describe()),
                    "write a single value, quoted if it contains special characters",
                );
                None
            }
        }
    }

    /// A non-empty string that YAML did not read as a number. A version written `3.10`
    /// is the float 3.1 to any YAML reader, so it must be quoted.
    pub fn version(&mut self, node: &Node, what: impl Display) -> Option<String> {
        if let Some(scalar) = node.as_scalar()
            && matches!(scalar.kind(), Kind::Int | Kind::Float | Kind::Bool)
        {
            let written = scalar.written();
            let reads_as = written.parse::<f64>().ok().map(|v| v.to_string());
            let message = match reads_as {
                _ if scalar.kind() == Kind::Bool => {
                    format!("{what} {written} is a boolean in YAML")
                }
                Some(value) if value != written => {
                    format!("{what} {written} is a number in YAML and reads as {value}")
                }
                _ => format!("{what} {written} is a number in YAML"),
            };
            self.error(node.span, message, format!("quote it: \"{written}\""));
            return None;
        }
        let text = self.string(node, &what)?;
        let valid = text
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && text.len() <= 128
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !valid {
            self.error(
                node.span,
                format!("{what} `{text}` is not a valid version"),
                "a version is an image tag: letters, digits, `.`, `_` and `-`, such as \"16\" or \"3.12-slim\"",
            );
            return None;
        }
        Some(text)
    }

    /// A list of strings (a command). A single string is rejected with the list it
    /// probably means, because splitting it would need shell rules nobody can see.
    pub fn command(&mut self, node: &Node, what: impl Display) -> Option<Vec<String>> {
        if let Some(scalar) = node.as_scalar()
            && scalar.kind() != Kind::Null
        {
            let words: Vec<String> = scalar
                .text
                .split_whitespace()
                .map(|w| format!("{w:?}"))
                .collect();
            self.error(
                node.span,
                format!("{what} must be a list of arguments, found a string"),
                format!("write it as a list: [{}]", words.join(", ")),
            );
            return None;
        }
        let Some(items) = node.as_seq() else {
            self.error(
                node.span,
                format!(
                    "{what} must be a list of arguments, found {}",
                    node.describe()
                ),
                "write it as a list, such as [\"node\", \"server.js\"]",
            );
            return None;
        };
        if items.is_empty() {
            self.error(
                node.span,
                format!("{what} is an empty list"),
                "give the program to run and its arguments, such as [\"node\", \"server.js\"], or remove the key",
            );
            return None;
        }
        let mut words = Vec::new();
        for item in items {
            words.push(self.argument(item, format_args!("an argument of {what}"))?);
        }
        Some(words)
    }

    /// A TCP/UDP port number, 1 to 65535, written as a number or a string of digits.
    pub fn port(&mut self, node: &Node, what: impl Display) -> Option<u16> {
        let text = self.string(node, &what)?;
        match parse_port(&text) {
            Some(port) => Some(port),
            None => {
                self.error(
                    node.span,
                    format!("{what} `{text}` is not a valid port"),
                    "a port is a number from 1 to 65535",
                );
                None
            }
        }
    }

    /// Environment variables: a map of scalars, or a list of `KEY=VALUE`. Values keep the
    /// text written. Returns the variables with the span of each entry.
    pub fn env(&mut self, node: &Node, what: impl Display) -> Option<Vec<(String, String, Span)>> {
        let mut vars: Vec<(String, String, Span)> = Vec::new();
        match &node.value {
            Value::Map(entries) => {
                for entry in entries {
                    if !is_env_name(&entry.key) {
                        self.bad_var_name(&entry.key, entry.key_span);
                        continue;
                    }
                    if entry.value.is_null() {
                        self.error(
                            entry.value.span,
                            format!("variable `{}` in {what} has no value", entry.key),
                            format!(
                                "write {}: \"\" for an empty value, or remove the line",
                                entry.key
                            ),
                        );
                        continue;
                    }
                    let Some(value) =
                        self.string(&entry.value, format_args!("variable `{}`", entry.key))
                    else {
                        continue;
                    };
                    vars.push((entry.key.clone(), value, entry.key_span));
                }
            }
            Value::Seq(items) => {
                // Where each name was first set, so a repeat is found without a search.
                let mut first_set: HashMap<String, Span> = HashMap::new();
                for item in items {
                    let Some(text) = self.string(item, format_args!("an entry of {what}")) else {
                        continue;
                    };
                    let Some((key, value)) = text.split_once('=') else {
                        self.error(
                            item.span,
                            format!("`{text}` in {what} has no `=`"),
                            "write KEY=VALUE, or use a map: `KEY: value`",
                        );
                        continue;
                    };
                    if !is_env_name(key) {
                        self.bad_var_name(key, item.span);
                        continue;
                    }
                    if let Some(first) = first_set.get(key) {
                        let first = self.source.locate(*first);
                        let diagnostic = self
                            .source
                            .error(
                                item.span,
                                format!("variable `{key}` is set twice in {what}"),
                                "remove one of the two entries",
                            )
                            .with_note("first set here", Some(first));
                        self.push(diagnostic);
                        continue;
                    }
                    first_set.insert(key.to_string(), item.span);
                    vars.push((key.to_string(), value.to_string(), item.span));
                }
            }
            Value::Scalar(_) => {
                self.error(
                    node.span,
                    format!("{what} must be a map, found {}", node.describe()),
                    "write variables as `NAME: value` lines indented under it",
                );
                return None;
            }
        }
        Some(vars)
    }

    fn bad_var_name(&mut self, name: &str, span: Span) {
        self.error(
            span,
            format!("`{name}` is not a valid environment variable name"),
            "a name is any text without `=`; write NAME: value",
        );
    }

    /// A list of plain names (`depends_on`, `secret_env`), each with its span.
    pub fn names(&mut self, node: &Node, what: impl Display) -> Option<Vec<(String, Span)>> {
        let Some(items) = node.as_seq() else {
            self.error(
                node.span,
                format!("{what} must be a list, found {}", node.describe()),
                "write it as a list, such as [redis, db]",
            );
            return None;
        };
        let mut names = Vec::new();
        for item in items {
            if let Some(name) = self.string(item, format_args!("an entry of {what}")) {
                names.push((name, item.span));
            }
        }
        Some(names)
    }

    /// A readiness probe: a map with exactly one of `command`, `tcp`, `http`, `running`,
    /// or a protocol's handshake (`mysql`, `amqp`, `memcached`) with its port.
    pub fn probe(&mut self, node: &Node, what: impl Display) -> Option<ProbeSpec> {
        const KINDS: [&str; 7] = [
            "command",
            "tcp",
            "http",
            "running",
            "mysql",
            "amqp",
            "memcached",
        ];
        let entries = self.map(node, &what)?;
        self.known_keys(entries, &KINDS, &[], &what);
        let chosen: Vec<&Entry> = entries
            .iter()
            .filter(|e| KINDS.contains(&e.key.as_str()))
            .collect();
        let [entry] = chosen.as_slice() else {
            // A map of only unknown keys was reported key by key already.
            if chosen.len() > 1 || entries.is_empty() {
                self.error(
                    node.span,
                    format!("{what} needs exactly one of `command`, `tcp`, `http`, `running`, `mysql`, `amqp` or `memcached`"),
                    "write one of: { command: [\"redis-cli\", \"ping\"] }, { tcp: 5432 }, { http: /health }, { running: 2s }, { mysql: 3306 }",
                );
            }
            return None;
        };
        let inner = format!("`{}` of {what}", entry.key);
        match entry.key.as_str() {
            "command" => self.command(&entry.value, &inner).map(ProbeSpec::Command),
            "tcp" => self.port(&entry.value, &inner).map(ProbeSpec::Tcp),
            "mysql" | "amqp" | "memcached" => {
                let protocol = super::model::Handshake::from_name(&entry.key)?;
                let port = self.port(&entry.value, &inner)?;
                Some(ProbeSpec::Handshake(protocol, port))
            }
            "running" => {
                let text = self.string(&entry.value, &inner)?;
                match super::service::parse_duration(&text) {
                    Some(settle) => Some(ProbeSpec::Running(settle)),
                    None => {
                        self.error(
                            entry.value.span,
                            format!("{inner} `{text}` is not a duration"),
                            "write a whole number with a unit, at most 24h: 500ms, 2s, 1m",
                        );
                        None
                    }
                }
            }
            _ => match &entry.value.value {
                Value::Map(fields) => {
                    self.known_keys(fields, &["port", "path"], &[], &inner);
                    let port = match fields.iter().find(|e| e.key == "port") {
                        Some(port) => {
                            Some(self.port(&port.value, format_args!("`port` of {inner}"))?)
                        }
                        None => None,
                    };
                    let path = match fields.iter().find(|e| e.key == "path") {
                        Some(path) => self.http_path(&path.value, &inner)?,
                        None => "/".to_string(),
                    };
                    Some(ProbeSpec::Http { port, path })
                }
                _ => {
                    let path = self.http_path(&entry.value, &inner)?;
                    Some(ProbeSpec::Http { port: None, path })
                }
            },
        }
    }

    /// A request path: `/` and then only the characters a URL's path and query may hold
    /// (RFC 3986), so nothing written here can end the request line or add a header.
    fn http_path(&mut self, node: &Node, what: impl Display) -> Option<String> {
        let path = self.string(node, &what)?;
        if !path.starts_with('/') {
            self.error(
                node.span,
                format!("{what} `{path}` is not a path"),
                "write a path starting with `/`, such as /health",
            );
            return None;
        }
        if let Some(c) = path.chars().find(|&c| !is_url_char(c)) {
            self.error(
                node.span,
                format!(
                    "{what} `{path}` has `{}`, which a URL path cannot hold",
                    c.escape_default()
                ),
                "percent-encode it (a space is %20), such as /health?name=a%20b",
            );
            return None;
        }
        Some(path)
    }
}

/// A character a URL's path or query may hold as it is (RFC 3986: unreserved,
/// sub-delims, `:`, `@`, `/`, `?` and `%` of a percent-encoding).
pub fn is_url_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/?%".contains(c)
}

/// A port number from 1 to 65535, as digits.
pub fn parse_port(text: &str) -> Option<u16> {
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    text.parse::<u16>().ok().filter(|&port| port > 0)
}

/// Suggestions compare a word with at most this many candidates: a "did you mean" among
/// thousands of names would cost time for every mistake and help no one.
pub const MAX_SUGGESTION_CANDIDATES: usize = 200;

/// The candidate most like `word`, if any is close enough to be a likely typo.
pub fn suggest<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    candidates
        .into_iter()
        .take(MAX_SUGGESTION_CANDIDATES)
        .map(|candidate| (strsim::jaro_winkler(word, candidate), candidate))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_but_not_unrelated_words() {
        let keys = ["template", "version", "depends_on", "ports", "env"];
        assert_eq!(suggest("dependson", keys), Some("depends_on"));
        assert_eq!(suggest("port", keys), Some("ports"));
        assert_eq!(suggest("verison", keys), Some("version"));
        assert_eq!(suggest("banana", keys), None);
    }

    #[test]
    fn ports_are_one_to_65535() {
        assert_eq!(parse_port("3000"), Some(3000));
        assert_eq!(parse_port("65535"), Some(65535));
        for bad in ["0", "65536", "-1", "abc", "", "30 00", "+1"] {
            assert_eq!(parse_port(bad), None, "{bad}");
        }
    }
}
