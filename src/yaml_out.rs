//! Writing YAML by hand for the files gorae generates (gorae.yaml from `init`, CI
//! workflows), which carry comments that a serializer would drop. The helpers here
//! quote exactly when a value would otherwise read back as something else.

use crate::config::yaml::{Kind, classify_plain};

/// `text` as a YAML scalar: plain when it reads back as the same string, otherwise
/// double-quoted (JSON's string syntax is valid YAML).
pub fn scalar(text: &str) -> String {
    if is_plain_safe(text) {
        text.to_string()
    } else {
        quoted(text)
    }
}

/// `text` double-quoted, for values that should look like strings even when plain
/// would do (versions, ports, commands).
pub fn quoted(text: &str) -> String {
    // Serialising a string cannot fail.
    serde_json::to_string(text).unwrap_or_else(|_| format!("\"{text}\""))
}

/// A flow list of double-quoted strings: `["node", "server.js"]`.
pub fn quoted_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|item| quoted(item)).collect();
    format!("[{}]", items.join(", "))
}

/// A flow list of plain-if-possible scalars: `[redis, db]`.
pub fn flow_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|item| scalar(item)).collect();
    format!("[{}]", items.join(", "))
}

/// Whether `text` can be written without quotes, in block and flow context alike.
/// Deliberately narrow: letters, digits and a few punctuation marks that YAML gives
/// no meaning inside a word, and nothing YAML would read as a number, bool or null
/// (YAML 1.1 words such as `yes` included, since some editors still read 1.1).
fn is_plain_safe(text: &str) -> bool {
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-' | '+');
    (first.is_ascii_alphanumeric() || matches!(first, '_' | '.' | '/'))
        && text.chars().all(word)
        && classify_plain(text) == Kind::Str
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "yes" | "no" | "on" | "off" | "y" | "n"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_quoted_only_when_plain_would_change_them() {
        let cases = [
            ("./web", "./web"),
            ("redis", "redis"),
            ("node:20", "\"node:20\""),
            ("7", "\"7\""),
            ("3.10", "\"3.10\""),
            ("true", "\"true\""),
            ("yes", "\"yes\""),
            ("null", "\"null\""),
            ("", "\"\""),
            ("a b", "\"a b\""),
            ("#x", "\"#x\""),
            ("-x", "\"-x\""),
            ("${VAR}", "\"${VAR}\""),
            ("say \"hi\"\n", "\"say \\\"hi\\\"\\n\""),
        ];
        for (text, expected) in cases {
            assert_eq!(scalar(text), expected, "{text:?}");
        }
    }

    #[test]
    fn lists_are_written_in_flow_style() {
        let words = vec!["node".to_string(), "server.js".to_string()];
        assert_eq!(quoted_list(&words), r#"["node", "server.js"]"#);
        assert_eq!(
            flow_list(&["redis".to_string(), "db 2".to_string()]),
            r#"[redis, "db 2"]"#
        );
    }
}
