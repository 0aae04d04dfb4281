//! A small YAML tree that remembers where everything was written.
//!
//! Built from yaml-rust2's event parser so that every key and value carries its line
//! and column, scalars keep the text exactly as written (`DEBUG: 1` stays "1",
//! `python: 3.10` can be told apart from `"3.10"`), and duplicate keys are caught —
//! things a serde deserializer throws away. Anchors are resolved by cloning the
//! anchored node. Limits on depth and size keep hostile input from exhausting memory.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

use super::diagnostic::Diagnostic;
use super::source::{Source, Span};

/// Deeper nesting than this is certainly a mistake in a gorae file; the limit also keeps
/// recursive code on the tree (clone, drop) far from the stack's end.
const MAX_DEPTH: usize = 64;
/// Bounds the tree's size, including copies made by aliases ("billion laughs"). A
/// 1 MB project file of ordinary services holds about 150,000 values.
const MAX_NODES: usize = 200_000;
/// Bounds the text of all scalars together, including copies made by aliases: one long
/// string aliased many times is few nodes but many bytes.
pub const MAX_SCALAR_BYTES: usize = 8 * 1024 * 1024;

/// One value with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Span,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Entries in the order written; keys are unique.
    Map(Vec<Entry>),
    Seq(Vec<Node>),
    Scalar(Scalar),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    /// The value gorae uses: the parsed text after `${VAR}` interpolation.
    pub text: String,
    /// The parsed text before interpolation, kept only when interpolation changed it
    /// (see [`Scalar::written`]): nearly every value has no `${`, and a second copy of
    /// each would cost a large file an allocation per value.
    original: Option<String>,
    pub style: Style,
    /// `!!str` forces a string even for plain text such as `7`.
    pub forced_string: bool,
    /// Interpolation failed and was reported; readers skip the value silently rather
    /// than report a second, confusing error about the same text.
    pub broken: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    /// `|` or `>` blocks.
    Block,
}

/// What YAML (core schema) makes of a scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    Int,
    Float,
    Str,
}

impl Scalar {
    pub fn kind(&self) -> Kind {
        if self.style != Style::Plain || self.forced_string {
            return Kind::Str;
        }
        classify_plain(self.written())
    }

    /// The parsed text before interpolation; decides what YAML type the value has.
    pub fn written(&self) -> &str {
        self.original.as_deref().unwrap_or(&self.text)
    }

    /// Replaces the text with its interpolated form, keeping what was written.
    pub fn set_interpolated(&mut self, text: String) {
        if text != self.text {
            let written = std::mem::replace(&mut self.text, text);
            self.original.get_or_insert(written);
        }
    }
}

impl Node {
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.value {
            Value::Scalar(scalar) => Some(scalar),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        self.as_scalar().is_some_and(|s| s.kind() == Kind::Null)
    }

    /// What the value is, for messages like "expected a list, found a map".
    pub fn describe(&self) -> &'static str {
        match &self.value {
            Value::Map(_) => "a map",
            Value::Seq(_) => "a list",
            Value::Scalar(scalar) => match scalar.kind() {
                Kind::Null => "nothing (null)",
                Kind::Bool => "a boolean",
                Kind::Int | Kind::Float => "a number",
                Kind::Str => "a string",
            },
        }
    }
}

/// Classifies a plain scalar the way the YAML 1.2 core schema does.
pub fn classify_plain(text: &str) -> Kind {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Kind::Null,
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => return Kind::Bool,
        ".nan" | ".NaN" | ".NAN" => return Kind::Float,
        _ => {}
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") {
        return Kind::Float;
    }
    let digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    if digits(unsigned, 10)
        || text.strip_prefix("0o").is_some_and(|s| digits(s, 8))
        || text.strip_prefix("0x").is_some_and(|s| digits(s, 16))
    {
        return Kind::Int;
    }
    if is_float(unsigned) {
        return Kind::Float;
    }
    Kind::Str
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_float(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(index) => (&text[..index], Some(&text[index + 1..])),
        None => (text, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            whole.chars().all(|c| c.is_ascii_digit())
                && fraction.chars().all(|c| c.is_ascii_digit())
                && !(whole.is_empty() && fraction.is_empty())
        }
        None => !mantissa.is_empty() && mantissa.chars().all(|c| c.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

/// Parses one YAML document. Returns the root (`None` for an empty document or a
/// syntax error) and every problem found; duplicate keys leave a usable tree.
pub fn parse(source: &Source) -> (Option<Node>, Vec<Diagnostic>) {
    if let Some(diagnostic) = control_character(source) {
        return (None, vec![diagnostic]);
    }
    let mut builder = Builder {
        source,
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        nodes: 0,
        bytes: 0,
        diagnostics: Vec::new(),
        aliased: false,
        cursor: Cursor::default(),
    };
    let mut parser = Parser::new_from_str(&source.text);
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => break,
            Ok((event, mark)) => {
                if builder.event(event, mark).is_err() {
                    return (None, builder.diagnostics);
                }
            }
            Err(error) => {
                builder.diagnostics.push(syntax_error(source, &error));
                return (None, builder.diagnostics);
            }
        }
    }
    (builder.root, builder.diagnostics)
}

/// YAML text may not hold control characters other than tab and line breaks; the
/// scanner would take a NUL for the end of the file and silently ignore the rest.
fn control_character(source: &Source) -> Option<Diagnostic> {
    let (byte, c) = source.text.char_indices().find(|&(_, c)| is_forbidden(c))?;
    let (line, col) = source.position_of(byte);
    Some(source.error(
        Span::new(line, col, 1),
        format!("the file contains the control character U+{:04X}", c as u32),
        "remove it; a gorae file is plain text (is this the right file?)",
    ))
}

fn is_forbidden(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{85}')
}

/// A YAML syntax error at the scanner's position, with advice for the common causes.
fn syntax_error(source: &Source, error: &ScanError) -> Diagnostic {
    let info = error.info();
    let help = if info.contains("mapping values are not allowed") {
        "check the indentation (a nested key goes under its parent, indented by the same amount as its siblings), and quote a value that contains `: `"
    } else if info.contains("did not find expected key") || info.contains("block end") {
        "check the indentation of this line against the lines above it"
    } else if info.contains("tab") {
        "indent with spaces; YAML does not allow tabs for indentation"
    } else if info.contains("cannot start any token") {
        "quote the value: YAML reserves characters such as @, ` and % at the start of a plain value"
    } else if info.contains("flow sequence") || info.contains("flow mapping") {
        "check the brackets: every `[` needs a `]`, every `{` a `}`, and entries are separated by commas"
    } else if info.contains("quoted scalar") {
        "check the quotes: a string ends with the quote it starts with; in double quotes, write a backslash as \\\\"
    } else if info.contains("alias") || info.contains("anchor") {
        "an alias (*name) must refer to an anchor (&name) defined earlier in the file"
    } else {
        "fix the YAML syntax at this position"
    };
    let mark = error.marker();
    source.error(point(mark), format!("invalid YAML: {info}"), help)
}

/// A one-character span at a parser marker (whose column is 0-based).
fn point(mark: &Marker) -> Span {
    Span::new(mark.line(), mark.col() + 1, 1)
}

/// How much of the limits a node uses: its nodes and the bytes of its scalars.
#[derive(Debug, Clone, Copy, Default)]
struct Size {
    nodes: usize,
    bytes: usize,
}

impl Size {
    fn plus(self, other: Size) -> Size {
        Size {
            nodes: self.nodes.saturating_add(other.nodes),
            bytes: self.bytes.saturating_add(other.bytes),
        }
    }
}

/// One node with no scalar text: a map or a list itself.
const ONE_NODE: Size = Size { nodes: 1, bytes: 0 };

/// Raised to stop building when going on makes no sense (limits, second document).
struct Abort;

enum Frame {
    Seq {
        span: Span,
        anchor: usize,
        items: Vec<Node>,
        size: Size,
    },
    Map {
        span: Span,
        anchor: usize,
        entries: Vec<Entry>,
        key: PendingKey,
        size: Size,
        /// Where each key is in `entries`, to find duplicates without a quadratic
        /// search; built only once the map has [`INDEXED_KEYS`] entries, as a short map
        /// is searched faster than it is hashed (and most maps are short).
        index: Option<HashMap<String, usize>>,
    },
}

/// From this many entries on, a map's keys are looked up in a hash map.
const INDEXED_KEYS: usize = 16;

/// In a map, nodes alternate between keys and values; this is what the last key was.
enum PendingKey {
    /// The next node is a key.
    None,
    /// The next node is the value of this key.
    Valid(String, Span),
    /// The next node is the value of a key already reported as wrong; drop it.
    Rejected,
}

struct Builder<'a> {
    source: &'a Source,
    stack: Vec<Frame>,
    /// Anchored nodes by the parser's anchor id, with their node counts and scalar bytes.
    anchors: HashMap<usize, (Node, Size)>,
    root: Option<Node>,
    nodes: usize,
    bytes: usize,
    diagnostics: Vec<Diagnostic>,
    /// Whether an alias has been copied: the help for a file over the limits differs.
    aliased: bool,
    /// Where the last scalar started, for [`Builder::byte_at`].
    cursor: Cursor,
}

/// A parser position (1-based line, 1-based column in characters) and its byte offset.
#[derive(Debug, Clone, Copy, Default)]
struct Cursor {
    line: usize,
    col: usize,
    byte: usize,
}

impl Builder<'_> {
    fn event(&mut self, event: Event, mark: Marker) -> Result<(), Abort> {
        match event {
            Event::StreamStart | Event::DocumentEnd | Event::Nothing | Event::StreamEnd => Ok(()),
            Event::DocumentStart => {
                if self.root.is_some() {
                    self.diagnostics.push(self.source.error(
                        Span::new(mark.line(), mark.col() + 1, 3),
                        "a second YAML document (`---`) in one file",
                        "keep one document: remove this `---` and what follows, or merge it into the first",
                    ));
                    return Err(Abort);
                }
                Ok(())
            }
            Event::Scalar(text, style, anchor, tag) => {
                let forced_string = self.check_tag(tag.as_ref(), mark, true);
                let style = match style {
                    TScalarStyle::Plain => Style::Plain,
                    TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => Style::Quoted,
                    TScalarStyle::Literal | TScalarStyle::Folded => Style::Block,
                };
                let span = self.scalar_span(mark, style, &text);
                let size = Size {
                    nodes: 1,
                    bytes: text.len(),
                };
                let node = Node {
                    span,
                    value: Value::Scalar(Scalar {
                        text,
                        original: None,
                        style,
                        forced_string,
                        broken: false,
                    }),
                };
                self.count(size, span)?;
                self.complete(node, anchor, size)
            }
            Event::SequenceStart(anchor, tag) => {
                self.check_tag(tag.as_ref(), mark, false);
                self.push(Frame::Seq {
                    span: point(&mark),
                    anchor,
                    items: Vec::new(),
                    size: ONE_NODE,
                })
            }
            Event::MappingStart(anchor, tag) => {
                self.check_tag(tag.as_ref(), mark, false);
                self.push(Frame::Map {
                    span: point(&mark),
                    anchor,
                    entries: Vec::new(),
                    key: PendingKey::None,
                    size: ONE_NODE,
                    index: None,
                })
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Ok(());
                };
                // A finished list or map keeps no spare room: a file of many small maps
                // would otherwise hold about twice the memory it needs.
                let (node, anchor, size) = match frame {
                    Frame::Seq {
                        span,
                        anchor,
                        mut items,
                        size,
                    } => (
                        Node {
                            span,
                            value: Value::Seq({
                                items.shrink_to_fit();
                                items
                            }),
                        },
                        anchor,
                        size,
                    ),
                    Frame::Map {
                        span,
                        anchor,
                        mut entries,
                        size,
                        ..
                    } => {
                        entries.shrink_to_fit();
                        // A block map's start marker sits after its first key; pointing at
                        // that key reads better in messages about the whole map.
                        let span = match entries.first() {
                            Some(first) if first.key_span < span => first.key_span,
                            _ => span,
                        };
                        (
                            Node {
                                span,
                                value: Value::Map(entries),
                            },
                            anchor,
                            size,
                        )
                    }
                };
                self.count(ONE_NODE, node.span)?;
                self.complete(node, anchor, size)
            }
            Event::Alias(id) => {
                let Some(&(_, size)) = self.anchors.get(&id) else {
                    self.diagnostics.push(self.source.error(
                        point(&mark),
                        "alias to an unknown anchor",
                        "define the anchor (&name) before the alias (*name) that uses it",
                    ));
                    return Err(Abort);
                };
                let span = Span::new(mark.line(), mark.col() + 1, 1);
                self.aliased = true;
                // Counted before the copy is made, so a copy over the limits is never made.
                self.count(size, span)?;
                let Some((node, _)) = self.anchors.get(&id) else {
                    return Err(Abort);
                };
                let node = Node {
                    span,
                    value: node.value.clone(),
                };
                self.complete(node, 0, size)
            }
        }
    }

    /// Only `!!str` is meaningful in a gorae file; other tags are reported. Returns
    /// whether the tag forces a string.
    fn check_tag(&mut self, tag: Option<&Tag>, mark: Marker, scalar: bool) -> bool {
        let Some(tag) = tag else { return false };
        if scalar && tag.handle == "tag:yaml.org,2002:" && tag.suffix == "str" {
            return true;
        }
        self.diagnostics.push(self.source.error(
            point(&mark),
            format!("unsupported YAML tag `{}{}`", tag.handle, tag.suffix),
            "remove the tag; quote a value to make it a string",
        ));
        false
    }

    fn push(&mut self, frame: Frame) -> Result<(), Abort> {
        if self.stack.len() >= MAX_DEPTH {
            let span = match &frame {
                Frame::Seq { span, .. } | Frame::Map { span, .. } => *span,
            };
            self.diagnostics.push(self.source.error(
                span,
                format!("values nested more than {MAX_DEPTH} levels deep"),
                "a gorae file needs only a few levels; check for unbalanced brackets or runaway indentation",
            ));
            return Err(Abort);
        }
        self.stack.push(frame);
        Ok(())
    }

    fn count(&mut self, size: Size, span: Span) -> Result<(), Abort> {
        self.nodes = self.nodes.saturating_add(size.nodes);
        self.bytes = self.bytes.saturating_add(size.bytes);
        // Only a file with aliases owes its size to them; for any other, the fix is a
        // smaller file.
        const ALIASES: &str =
            "aliases (*name) copy everything their anchor (&name) names; use fewer or smaller ones";
        if self.nodes > MAX_NODES {
            let help = if self.aliased {
                ALIASES.to_string()
            } else {
                format!(
                    "gorae reads at most {MAX_NODES} values (keys, values and list items) from one file; remove the services and entries the project does not need, or split it into smaller projects, each with its own gorae.yaml"
                )
            };
            self.diagnostics.push(self.source.error(
                span,
                format!("the file holds more than {MAX_NODES} values"),
                help,
            ));
            return Err(Abort);
        }
        if self.bytes > MAX_SCALAR_BYTES {
            let mib = MAX_SCALAR_BYTES / (1024 * 1024);
            let help = if self.aliased {
                ALIASES.to_string()
            } else {
                format!(
                    "gorae reads at most {mib} MiB of text in the values of one file; keep long text (scripts, certificates) in files the project mounts or builds from"
                )
            };
            self.diagnostics.push(self.source.error(
                span,
                format!("the file's values add up to more than {mib} MiB of text"),
                help,
            ));
            return Err(Abort);
        }
        Ok(())
    }

    /// Hands a finished node to its parent (or makes it the root).
    fn complete(&mut self, node: Node, anchor: usize, size: Size) -> Result<(), Abort> {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Frame::Seq {
                items, size: total, ..
            }) => {
                items.push(node);
                *total = total.plus(size);
                Ok(())
            }
            Some(Frame::Map {
                entries,
                key,
                size: total,
                index,
                ..
            }) => {
                *total = total.plus(size);
                match std::mem::replace(key, PendingKey::None) {
                    PendingKey::None => {
                        let span = node.span;
                        *key = match node.value {
                            Value::Scalar(scalar) => {
                                if let Some(first) = find_key(entries, index, &scalar.text) {
                                    let diagnostic = self
                                        .source
                                        .error(
                                            span,
                                            format!("duplicate key `{}`", scalar.text),
                                            "remove one of the two entries; YAML keeps only one of them",
                                        )
                                        .with_note(
                                            "first written here",
                                            Some(self.source.locate(entries[first].key_span)),
                                        );
                                    self.diagnostics.push(diagnostic);
                                    PendingKey::Rejected
                                } else {
                                    PendingKey::Valid(scalar.text, span)
                                }
                            }
                            _ => {
                                let diagnostic = self.source.error(
                                    span,
                                    format!("a key must be a name, not {}", node.describe()),
                                    "write a plain name before the colon",
                                );
                                self.diagnostics.push(diagnostic);
                                PendingKey::Rejected
                            }
                        };
                    }
                    PendingKey::Valid(name, key_span) => {
                        if let Some(index) = index {
                            index.insert(name.clone(), entries.len());
                        } else if entries.len() + 1 >= INDEXED_KEYS {
                            let mut keys: HashMap<String, usize> = entries
                                .iter()
                                .enumerate()
                                .map(|(at, entry)| (entry.key.clone(), at))
                                .collect();
                            keys.insert(name.clone(), entries.len());
                            *index = Some(keys);
                        }
                        let mut value = node;
                        // An empty value's marker is wherever the parser went next (often
                        // the next line); its key is the place to point at.
                        if value.is_null()
                            && value.as_scalar().is_some_and(|s| s.written().is_empty())
                        {
                            value.span = key_span;
                        }
                        entries.push(Entry {
                            key: name,
                            key_span,
                            value,
                        });
                    }
                    PendingKey::Rejected => {}
                }
                Ok(())
            }
        }
    }

    /// The span of a scalar: from its marker to the end of its text on that line. Costs
    /// the length of the scalar, not of the line, so a one-line file stays linear.
    fn scalar_span(&mut self, mark: Marker, style: Style, text: &str) -> Span {
        let (line, col) = (mark.line(), mark.col() + 1);
        let Some((_, end)) = self.source.line_bounds(line) else {
            return Span::new(line, col, 1);
        };
        let rest = &self.source.text[self.byte_at(line, col)..end];
        let len = match (style, rest.chars().next()) {
            (Style::Quoted, Some(quote)) if quote == '\'' || quote == '"' => {
                quoted_len(rest, quote)
            }
            _ => {
                let wanted = text.chars().take_while(|&c| c != '\n').count();
                rest.chars().take(wanted).count()
            }
        };
        Span::new(line, col, len.max(1))
    }

    /// The byte offset of a 1-based line and column, as [`Source::byte_at`] finds it.
    /// Scalars arrive in file order, so the walk starts where the previous scalar's did
    /// (or at the start of a later line): all lookups together cost the length of the
    /// file, where a search from the nearest checkpoint would cost up to a checkpoint
    /// interval for each value of a one-line file. (The parser's character index is no
    /// shortcut: it counts bytes inside block scalars.)
    fn byte_at(&mut self, line: usize, col: usize) -> usize {
        let Some((start, end)) = self.source.line_bounds(line) else {
            return self.source.byte_at(line, col);
        };
        let cursor = self.cursor;
        let (mut at, mut byte) = if line == cursor.line && col >= cursor.col {
            (cursor.col, cursor.byte)
        } else if line > cursor.line {
            (1, start)
        } else {
            return self.source.byte_at(line, col);
        };
        let mut chars = self.source.text[byte..end].chars();
        while at < col {
            let Some(c) = chars.next() else { break };
            byte += c.len_utf8();
            at += 1;
        }
        self.cursor = Cursor {
            line,
            col: at,
            byte,
        };
        byte
    }
}

/// The position in `entries` of `key`, through the map's index when it has one.
fn find_key(entries: &[Entry], index: &Option<HashMap<String, usize>>, key: &str) -> Option<usize> {
    match index {
        Some(index) => index.get(key).copied(),
        None => entries.iter().position(|entry| entry.key == key),
    }
}

/// Length in characters of a quoted scalar at the start of `rest`, quotes included; to
/// the end of the line when it continues on the next one.
fn quoted_len(rest: &str, quote: char) -> usize {
    let mut chars = rest.chars().skip(1).peekable();
    let mut len = 1;
    while let Some(c) = chars.next() {
        len += 1;
        if quote == '"' && c == '\\' {
            if chars.next().is_some() {
                len += 1;
            }
            continue;
        }
        if c == quote {
            if quote == '\'' && chars.peek() == Some(&'\'') {
                chars.next();
                len += 1;
                continue;
            }
            return len;
        }
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Node {
        let (root, diagnostics) = parse(&Source::new("t.yaml", text));
        assert!(diagnostics.is_empty(), "{diagnostics:#?}");
        root.expect("a document")
    }

    fn get<'a>(node: &'a Node, key: &str) -> &'a Node {
        &node
            .as_map()
            .unwrap()
            .iter()
            .find(|e| e.key == key)
            .unwrap()
            .value
    }

    #[test]
    fn scalars_keep_their_written_text_and_position() {
        let root = parse_ok("a:\n  version: 3.10\n  quoted: \"3.10\"\n");
        let version = get(get(&root, "a"), "version");
        assert_eq!(version.span, Span::new(2, 12, 4));
        let scalar = version.as_scalar().unwrap();
        assert_eq!((scalar.text.as_str(), scalar.kind()), ("3.10", Kind::Float));
        let quoted = get(get(&root, "a"), "quoted");
        assert_eq!(quoted.span, Span::new(3, 11, 6));
        assert_eq!(quoted.as_scalar().unwrap().kind(), Kind::Str);
    }

    #[test]
    fn yaml_core_schema_types_are_recognised() {
        for (text, kind) in [
            ("7", Kind::Int),
            ("-7", Kind::Int),
            ("0x1F", Kind::Int),
            ("3.10", Kind::Float),
            (".5", Kind::Float),
            ("1e3", Kind::Float),
            (".inf", Kind::Float),
            ("true", Kind::Bool),
            ("~", Kind::Null),
            ("", Kind::Null),
            ("3.10-slim", Kind::Str),
            ("1.2.3", Kind::Str),
            ("yes", Kind::Str),
            ("8080:3000", Kind::Str),
            (".", Kind::Str),
            ("e3", Kind::Str),
        ] {
            assert_eq!(classify_plain(text), kind, "{text}");
        }
    }

    #[test]
    fn duplicate_keys_are_reported_with_both_places() {
        let (root, diagnostics) = parse(&Source::new("t.yaml", "a: 1\nb: 2\na: 3\n"));
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].message, "duplicate key `a`");
        assert_eq!(diagnostics[0].location.as_ref().unwrap().line, 3);
        assert_eq!(diagnostics[0].notes[0].location.as_ref().unwrap().line, 1);
        // The first entry is kept.
        assert_eq!(get(&root.unwrap(), "a").as_scalar().unwrap().text, "1");
    }

    #[test]
    fn aliases_copy_their_anchor() {
        let root = parse_ok("x: &e {A: \"1\"}\ny: *e\n");
        assert_eq!(get(&root, "x").value, get(&root, "y").value);
    }

    #[test]
    fn alias_bombs_are_stopped() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let (root, diagnostics) = parse(&Source::new("t.yaml", text));
        assert!(root.is_none());
        assert!(diagnostics[0].message.contains("more than"));
    }

    #[test]
    fn a_file_of_many_values_without_aliases_is_told_the_limit_not_about_aliases() {
        let text: String = (0..MAX_NODES / 2 + 1)
            .map(|i| format!("k{i}: v\n"))
            .collect();
        let (root, diagnostics) = parse(&Source::new("t.yaml", text));
        assert!(root.is_none());
        assert_eq!(
            diagnostics[0].message,
            format!("the file holds more than {MAX_NODES} values")
        );
        let help = &diagnostics[0].help;
        assert!(
            help.contains(&format!("at most {MAX_NODES} values")),
            "{help}"
        );
        assert!(help.contains("split it"), "{help}");
        assert!(!help.contains("aliases"), "{help}");
    }

    #[test]
    fn a_file_over_the_limit_through_aliases_is_told_about_them() {
        let text = format!(
            "a: &a [{}]\nb: [{}]\n",
            vec!["x"; 1000].join(", "),
            vec!["*a"; 300].join(", ")
        );
        let (root, diagnostics) = parse(&Source::new("t.yaml", text));
        assert!(root.is_none());
        assert!(
            diagnostics[0].help.contains("aliases (*name)"),
            "{}",
            diagnostics[0].help
        );
    }

    #[test]
    fn aliases_of_long_strings_are_stopped_by_their_bytes() {
        // Few nodes, but 1000 copies of 100 KB would be 100 MB.
        let text = format!(
            "a: &a \"{}\"\nb: [{}]\n",
            "x".repeat(100_000),
            vec!["*a"; 1000].join(", ")
        );
        let (root, diagnostics) = parse(&Source::new("t.yaml", text));
        assert!(root.is_none());
        assert!(
            diagnostics[0].message.contains("MiB of text"),
            "{}",
            diagnostics[0].message
        );
    }

    #[test]
    fn positions_on_a_long_line_are_right_past_multibyte_text() {
        let text = format!("{{a: \"{}\", b: [x, \"y\"]}}\n", "é".repeat(3000));
        let root = parse_ok(&text);
        let b = get(&root, "b").as_seq().unwrap();
        assert_eq!(b[1].span, Span::new(1, 3000 + 16, 3));
    }

    #[test]
    fn positions_stay_right_after_block_scalars_line_endings_and_multibyte_text() {
        // The parser's character index counts bytes inside block scalars; spans come
        // from lines and columns, so the é's in the block do not shift what follows.
        let text = "a: |\n  ééé\n  ü\r\nb: [x, \"ü\", yé]\r\nc: {k: 'v', m: ñ}\rd: é\n";
        let root = parse_ok(text);
        assert_eq!(get(&root, "a").as_scalar().unwrap().text, "ééé\nü\n");
        let b = get(&root, "b").as_seq().unwrap();
        assert_eq!(
            b.iter().map(|n| n.span).collect::<Vec<_>>(),
            [Span::new(4, 5, 1), Span::new(4, 8, 3), Span::new(4, 13, 2)]
        );
        assert_eq!(get(get(&root, "c"), "k").span, Span::new(5, 8, 3));
        assert_eq!(get(get(&root, "c"), "m").span, Span::new(5, 16, 1));
        assert_eq!(get(&root, "d").span, Span::new(6, 4, 1));
    }

    #[test]
    fn duplicate_keys_in_a_long_map_are_found_through_its_index() {
        // k3 was written before the map was long enough to be indexed, k35 after.
        let mut text: String = (0..40).map(|i| format!("k{i}: {i}\n")).collect();
        text.push_str("k3: again\nk35: again\n");
        let (root, diagnostics) = parse(&Source::new("t.yaml", text));
        let found: Vec<(String, usize, usize)> = diagnostics
            .iter()
            .map(|d| {
                let line = d.location.as_ref().unwrap().line;
                let first = d.notes[0].location.as_ref().unwrap().line;
                (d.message.clone(), line, first)
            })
            .collect();
        assert_eq!(
            found,
            [
                ("duplicate key `k3`".to_string(), 41, 4),
                ("duplicate key `k35`".to_string(), 42, 36)
            ]
        );
        let root = root.unwrap();
        assert_eq!(root.as_map().unwrap().len(), 40);
        assert_eq!(get(&root, "k35").as_scalar().unwrap().text, "35");
    }

    #[test]
    fn interpolation_keeps_the_written_text_for_the_type() {
        let root = parse_ok("v: 3.10\n");
        let mut scalar = get(&root, "v").as_scalar().unwrap().clone();
        assert_eq!(scalar.written(), "3.10");
        scalar.set_interpolated("abc".to_string());
        assert_eq!((scalar.text.as_str(), scalar.written()), ("abc", "3.10"));
        assert_eq!(scalar.kind(), Kind::Float);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let text = "[".repeat(10_000);
        let (root, diagnostics) = parse(&Source::new("t.yaml", text));
        assert!(root.is_none());
        assert_eq!(diagnostics.len(), 1);
    }

    #[test]
    fn control_characters_are_reported_where_they_are() {
        let (root, diagnostics) = parse(&Source::new("t.yaml", "a: 1\nb: x\0y\n"));
        assert!(root.is_none());
        let location = diagnostics[0].location.as_ref().unwrap();
        assert_eq!((location.line, location.col), (2, 5));
        assert!(diagnostics[0].message.contains("U+0000"));
    }

    #[test]
    fn a_second_document_is_an_error() {
        let (_, diagnostics) = parse(&Source::new("t.yaml", "a: 1\n---\nb: 2\n"));
        assert_eq!(diagnostics[0].location.as_ref().unwrap().line, 2);
    }

    #[test]
    fn empty_values_point_at_their_key() {
        let root = parse_ok("redis:\nother: 1\n");
        assert_eq!(get(&root, "redis").span, Span::new(1, 1, 5));
    }

    #[test]
    fn an_error_at_the_end_of_a_file_without_a_final_line_break_is_on_its_last_line() {
        let (_, diagnostics) = parse(&Source::new("t.yaml", "[{ "));
        let location = diagnostics[0].location.as_ref().unwrap();
        assert_eq!((location.line, location.col), (1, 4));
    }

    #[test]
    fn syntax_errors_carry_the_scanner_position() {
        let (root, diagnostics) = parse(&Source::new("t.yaml", "a: b\n  c: d\n"));
        assert!(root.is_none());
        let location = diagnostics[0].location.as_ref().unwrap();
        assert_eq!((location.line, location.col), (2, 4));
    }
}
