//! Plain data (strings, integers, lists, maps) as block YAML, written exactly as
//! serde_yaml writes it but without its event emitter, which costs several thousand
//! instructions per value: `gorae config` on a 1 MB project prints some 100,000 values.
//!
//! Only what is certain is written here. Anything else (a string that needs quotes, a
//! float, a multi-line string) is either formatted by serde_yaml alone, as one scalar, or
//! makes [`to_string`] fail so that the caller writes the whole document with serde_yaml.
//! A property test holds the output to serde_yaml's on generated data.

use std::fmt::{self, Write as _};

use serde::Serialize;
use serde::ser::{self, Impossible};

/// `value` as serde_yaml would write it; `None` when it holds something this writer
/// leaves to serde_yaml.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Option<String> {
    let mut writer = Writer {
        out: String::new(),
        stack: Vec::new(),
        next: Place::Root,
        key: String::new(),
    };
    value.serialize(&mut writer).ok()?;
    Some(writer.out)
}

/// The only error: this value is left to serde_yaml.
#[derive(Debug)]
pub struct Unsupported;

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("left to serde_yaml")
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Unsupported
    }
}

/// Where the next value goes, which decides what is written before and after it.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// The document itself.
    Root,
    /// After `key:` on a line indented by `indent`.
    Value { indent: usize },
    /// After `- ` of a list item whose dash is at `indent`.
    Item { indent: usize },
}

/// An open list or map.
struct Frame {
    seq: bool,
    /// Where the list or map itself was placed.
    place: Place,
    /// The indentation of its entries or items.
    indent: usize,
    len: usize,
}

struct Writer {
    out: String,
    stack: Vec<Frame>,
    next: Place,
    /// The text of the map key being written, kept to save an allocation per key.
    key: String,
}

impl Writer {
    /// Writes a scalar already in its final form (plain or quoted).
    fn scalar(&mut self, text: &str) {
        if let Place::Value { .. } = self.next {
            self.out.push(' ');
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// Writes a number (or a boolean), which is always plain.
    fn number(&mut self, value: impl fmt::Display) {
        if let Place::Value { .. } = self.next {
            self.out.push(' ');
        }
        // Writing to a String cannot fail.
        let _ = write!(self.out, "{value}");
        self.out.push('\n');
    }

    fn string(&mut self, text: &str) -> Result<(), Unsupported> {
        if is_plain(text) {
            self.scalar(text);
        } else {
            let quoted = quoted_alone(text)?;
            self.scalar(&quoted);
        }
        Ok(())
    }

    fn open(&mut self, seq: bool) {
        let place = self.next;
        let indent = match place {
            Place::Root => 0,
            // serde_yaml indents a map under its key, but not a list.
            Place::Value { indent } if seq => indent,
            Place::Value { indent } | Place::Item { indent } => indent + 2,
        };
        self.stack.push(Frame {
            seq,
            place,
            indent,
            len: 0,
        });
    }

    /// Starts the next entry or item of the innermost open list or map.
    fn element(&mut self) -> Result<(), Unsupported> {
        let frame = self.stack.last_mut().ok_or(Unsupported)?;
        match (frame.len, frame.place) {
            // The first entry of a map that is a list item shares the dash's line.
            (0, Place::Item { .. }) => {}
            (0, Place::Value { .. }) => {
                self.out.push('\n');
                push_indent(&mut self.out, frame.indent);
            }
            _ => push_indent(&mut self.out, frame.indent),
        }
        frame.len += 1;
        if frame.seq {
            self.out.push_str("- ");
            self.next = Place::Item {
                indent: frame.indent,
            };
        }
        Ok(())
    }

    fn key(&mut self, key: &str) -> Result<(), Unsupported> {
        // A key over 128 characters is written in serde_yaml's `? key` form (as is one
        // with a line break, which `quoted_alone` leaves to serde_yaml).
        if key.len() > 128 {
            return Err(Unsupported);
        }
        let indent = self.stack.last().ok_or(Unsupported)?.indent;
        if is_plain(key) {
            self.out.push_str(key);
        } else {
            self.out.push_str(&quoted_alone(key)?);
        }
        self.out.push(':');
        self.next = Place::Value { indent };
        Ok(())
    }

    fn close(&mut self) -> Result<(), Unsupported> {
        let frame = self.stack.pop().ok_or(Unsupported)?;
        if frame.len == 0 {
            self.next = frame.place;
            self.scalar(if frame.seq { "[]" } else { "{}" });
        }
        Ok(())
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Whether serde_yaml writes `text` as it is. Errs on the side of no: a string it
/// would read back as another type (`true`, `7`, `1.5`, `0x1F`, `007`) is quoted,
/// as is one whose first character means something in YAML, one with `: ` or ` #`,
/// surrounding spaces, or anything but printable ASCII. One pass over the bytes: it
/// runs for every value printed.
fn is_plain(text: &str) -> bool {
    let bytes = text.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    let starts_ok = match first {
        b'-' => bytes.get(1).is_some_and(|&b| b != b' ') && !text.starts_with("---"),
        b'.' => !text.starts_with("..."),
        b' ' | b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!'
        | b'|' | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`' => false,
        _ => true,
    };
    if !starts_ok || last == b' ' || last == b':' {
        return false;
    }
    let mut previous = first;
    for &b in bytes {
        let printable = (b' '..=b'~').contains(&b);
        if !printable || (previous == b':' && b == b' ') || (previous == b' ' && b == b'#') {
            return false;
        }
        previous = b;
    }
    !may_read_as_other_type(text)
}

/// Whether YAML (as serde_yaml reads it) might take `text` for null, a boolean or a
/// number. Errs on the side of yes: a number, in any base or form, starts with a digit
/// or a dot once its sign is off, and has only characters a number can have.
fn may_read_as_other_type(text: &str) -> bool {
    if matches!(
        text,
        "~" | "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
    ) {
        return true;
    }
    let unsigned = text.trim_start_matches(['+', '-']);
    let Some(first) = unsigned.bytes().next() else {
        return true;
    };
    if !(first.is_ascii_digit() || first == b'.') {
        return false;
    }
    let number_char = |b: u8| {
        b.is_ascii_hexdigit()
            || matches!(
                b,
                b'.' | b'+'
                    | b'-'
                    | b'_'
                    | b'x'
                    | b'X'
                    | b'o'
                    | b'O'
                    | b'i'
                    | b'I'
                    | b'n'
                    | b'N'
                    | b't'
                    | b'T'
                    | b'y'
                    | b'Y'
            )
    };
    unsigned.bytes().all(number_char)
}

/// Line breaks as YAML counts them: a string with one is written over several lines,
/// indented by where it stands, or as a `? key`.
const BREAKS: [char; 5] = ['\r', '\n', '\u{85}', '\u{2028}', '\u{2029}'];

/// One string as serde_yaml writes it alone (quoted, usually), when that does not
/// depend on where it stands: a string without line breaks.
fn quoted_alone(text: &str) -> Result<String, Unsupported> {
    if text.contains(BREAKS) {
        return Err(Unsupported);
    }
    let written = serde_yaml::to_string(text).map_err(|_| Unsupported)?;
    let line = written.strip_suffix('\n').ok_or(Unsupported)?;
    if line.contains(BREAKS) || line.starts_with("---") || line.ends_with("...") {
        return Err(Unsupported);
    }
    Ok(line.to_string())
}

macro_rules! integers {
    ($($method:ident: $type:ty),*) => {
        $(fn $method(self, value: $type) -> Result<(), Unsupported> {
            self.number(value);
            Ok(())
        })*
    };
}

impl ser::Serializer for &mut Writer {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Self;
    type SerializeTuple = Impossible<(), Unsupported>;
    type SerializeTupleStruct = Impossible<(), Unsupported>;
    type SerializeTupleVariant = Impossible<(), Unsupported>;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), Unsupported>;

    integers!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64);

    fn serialize_bool(self, value: bool) -> Result<(), Unsupported> {
        self.number(value);
        Ok(())
    }

    fn serialize_f32(self, _: f32) -> Result<(), Unsupported> {
        Err(Unsupported)
    }

    fn serialize_f64(self, _: f64) -> Result<(), Unsupported> {
        Err(Unsupported)
    }

    fn serialize_char(self, value: char) -> Result<(), Unsupported> {
        self.string(value.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, value: &str) -> Result<(), Unsupported> {
        self.string(value)
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<(), Unsupported> {
        Err(Unsupported)
    }

    fn serialize_none(self) -> Result<(), Unsupported> {
        self.scalar("null");
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Unsupported> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Unsupported> {
        self.scalar("null");
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Unsupported> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Unsupported> {
        self.string(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Unsupported> {
        Err(Unsupported)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Unsupported> {
        self.open(true);
        Ok(self)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Unsupported> {
        Err(Unsupported)
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Unsupported> {
        Err(Unsupported)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Unsupported> {
        Err(Unsupported)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self, Unsupported> {
        self.open(false);
        Ok(self)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Unsupported> {
        self.open(false);
        Ok(self)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Unsupported> {
        Err(Unsupported)
    }
}

impl ser::SerializeSeq for &mut Writer {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        self.element()?;
        value.serialize(&mut **self)
    }

    fn end(self) -> Result<(), Unsupported> {
        self.close()
    }
}

impl ser::SerializeMap for &mut Writer {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Unsupported> {
        let mut text = std::mem::take(&mut self.key);
        text.clear();
        key.serialize(KeyText(&mut text))?;
        self.element()?;
        let written = self.key(&text);
        self.key = text;
        written
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        value.serialize(&mut **self)
    }

    fn end(self) -> Result<(), Unsupported> {
        self.close()
    }
}

impl ser::SerializeStruct for &mut Writer {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        self.element()?;
        self.key(key)?;
        value.serialize(&mut **self)
    }

    fn end(self) -> Result<(), Unsupported> {
        self.close()
    }
}

/// A map key's text, written into the buffer; keys other than strings are left to
/// serde_yaml.
struct KeyText<'a>(&'a mut String);

impl ser::Serializer for KeyText<'_> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Impossible<(), Unsupported>;
    type SerializeTuple = Impossible<(), Unsupported>;
    type SerializeTupleStruct = Impossible<(), Unsupported>;
    type SerializeTupleVariant = Impossible<(), Unsupported>;
    type SerializeMap = Impossible<(), Unsupported>;
    type SerializeStruct = Impossible<(), Unsupported>;
    type SerializeStructVariant = Impossible<(), Unsupported>;

    fn serialize_str(self, value: &str) -> Result<(), Unsupported> {
        self.0.push_str(value);
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Unsupported> {
        self.0.push_str(variant);
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        value.serialize(self)
    }

    fn serialize_bool(self, _: bool) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_i8(self, _: i8) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_i16(self, _: i16) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_i32(self, _: i32) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_i64(self, _: i64) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_u8(self, _: u8) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_u16(self, _: u16) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_u32(self, _: u32) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_u64(self, _: u64) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_f32(self, _: f32) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_f64(self, _: f64) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_char(self, _: char) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_none(self) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_unit(self) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Unsupported> {
        Err(Unsupported)
    }
}

#[cfg(test)]
#[path = "block_yaml_tests.rs"]
mod tests;
