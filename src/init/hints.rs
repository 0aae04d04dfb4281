//! Small guesses from text that `init` makes: a version from a version file or a
//! version range, the port a program listens on, the connection variables it reads.
//! Each is a best effort; `init` says in a comment what it guessed from where.

/// The major version in `text`: the first run of digits (`v20.11.0` -> `20`,
/// `>=18` -> `18`, `^20.1 || ^22` -> `20`). `None` for `lts/iron`, `node`, `*`.
pub fn major_version(text: &str) -> Option<String> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some(digits)
}

/// The first `MAJOR.MINOR` in `text` (`>=3.11` -> `3.11`, `3.12.4` -> `3.12`,
/// `pypy3.10` -> `3.10`). A bare major (`>=3`) says too little to pick a minor.
pub fn major_minor_version(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut index = 0;
    while index < chars.len() {
        if !chars[index].is_ascii_digit() || (index > 0 && chars[index - 1].is_ascii_digit()) {
            index += 1;
            continue;
        }
        let major: String = chars[index..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        let after = index + major.len();
        if chars.get(after) == Some(&'.') {
            let minor: String = chars[after + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            if !minor.is_empty() {
                return Some(format!("{major}.{minor}"));
            }
        }
        index = after;
    }
    None
}

/// The language of a source file, which decides the spellings [`guess_port`] trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// `listen(3000`, `PORT || 3000`, `PORT ?? 3000`.
    JavaScript,
    /// `os.environ.get("PORT", 8000)`, `port=8000`. (Not `listen(5)`: in Python
    /// that is a socket's backlog.)
    Python,
}

/// The port a program listens on, from common ways of writing it. The first match
/// wins; comment lines are skipped.
pub fn guess_port(source: &str, lang: Lang) -> Option<u16> {
    for line in source.lines() {
        let code = line.trim_start();
        if code.starts_with("//") || code.starts_with('#') {
            continue;
        }
        let found = match lang {
            Lang::JavaScript => after_marker(line, ".listen(", &[])
                .or_else(|| after_marker(line, "PORT", &["||", "??"])),
            Lang::Python => {
                after_marker(line, "PORT", &[","]).or_else(|| after_marker(line, "port=", &[]))
            }
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// A port number after `marker` in `line`. With `separators`, the number must follow
/// one of them within a short distance (`PORT) || 3000`); without, it must follow the
/// marker directly (spaces aside).
fn after_marker(line: &str, marker: &str, separators: &[&str]) -> Option<u16> {
    let mut rest = line;
    while let Some(found) = rest.find(marker) {
        let after = &rest[found + marker.len()..];
        rest = after;
        let candidate = if separators.is_empty() {
            Some(after)
        } else {
            // Close enough to belong to this PORT: `process.env.PORT) || 3000`.
            let window: String = after.chars().take(24).collect();
            separators
                .iter()
                .filter_map(|sep| window.find(sep).map(|at| (at, sep.len())))
                .min()
                .map(|(at, len)| &after[at + len..])
        };
        let Some(candidate) = candidate else {
            continue;
        };
        let candidate = candidate.trim_start_matches([' ', '\t', '"', '\'']);
        let candidate = candidate.trim_start_matches(|c: char| c.is_whitespace());
        let digits: String = candidate.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(port) = digits.parse::<u16>()
            && port > 0
        {
            return Some(port);
        }
    }
    None
}

/// Whether `source` mentions the variable `name` as a whole word (`REDIS_URL`, not
/// `MY_REDIS_URL_2`).
pub fn mentions_variable(source: &str, name: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    source.match_indices(name).any(|(at, _)| {
        let before = source[..at].chars().next_back();
        let after = source[at + name.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_versions_come_from_the_first_number() {
        for (text, expected) in [
            ("v20.11.0\n", Some("20")),
            ("20", Some("20")),
            (">=18", Some("18")),
            ("^20.1 || ^22", Some("20")),
            ("18.x", Some("18")),
            ("lts/iron", None),
            ("node", None),
            ("*", None),
        ] {
            assert_eq!(major_version(text).as_deref(), expected, "{text:?}");
        }
    }

    #[test]
    fn python_versions_keep_major_and_minor() {
        for (text, expected) in [
            (">=3.11", Some("3.11")),
            ("3.12.4\n", Some("3.12")),
            ("~=3.10", Some("3.10")),
            (">=3.9,<4", Some("3.9")),
            ("^3.11", Some("3.11")),
            ("pypy3.10", Some("3.10")),
            (">=3", None),
            ("system", None),
        ] {
            assert_eq!(major_minor_version(text).as_deref(), expected, "{text:?}");
        }
    }

    #[test]
    fn ports_are_guessed_from_common_spellings() {
        use Lang::{JavaScript as Js, Python as Py};
        for (source, lang, expected) in [
            ("app.listen(3000, () => {})", Js, Some(3000)),
            ("server.listen( 8080 )", Js, Some(8080)),
            ("const PORT = process.env.PORT || 4000;", Js, Some(4000)),
            (
                "const PORT = Number(process.env.PORT) || 3000;",
                Js,
                Some(3000),
            ),
            ("const port = process.env.PORT ?? 5000", Js, Some(5000)),
            ("server.listen(PORT)", Js, None),
            ("// app.listen(3000)", Js, None),
            ("const PORT = process.env.PORT || 99999", Js, None),
            ("port = int(os.environ.get(\"PORT\", 8000))", Py, Some(8000)),
            ("app.run(host=\"0.0.0.0\", port=5001)", Py, Some(5001)),
            ("sock.listen(5)", Py, None),
            ("# app.run(port=5000)", Py, None),
            ("nothing here", Py, None),
        ] {
            assert_eq!(guess_port(source, lang), expected, "{source:?}");
        }
    }

    #[test]
    fn variables_match_whole_words_only() {
        assert!(mentions_variable("process.env.REDIS_URL ||", "REDIS_URL"));
        assert!(mentions_variable("os.environ['REDIS_URL']", "REDIS_URL"));
        assert!(!mentions_variable("MY_REDIS_URL", "REDIS_URL"));
        assert!(!mentions_variable("REDIS_URL_2", "REDIS_URL"));
    }
}
