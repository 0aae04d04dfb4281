//! The `.dockerignore` that `gorae init` writes into each build context: it shows
//! what gorae never sends to a build (secrets above all) and how to bring a path back.

use crate::context::DEFAULT_IGNORES;

/// The file's text, listing gorae's own rules so that the file stays true to them.
pub fn text() -> String {
    let mut out = String::from(
        "# Written by `gorae init`. Paths listed here stay out of the image gorae builds\n\
         # from this directory; one pattern a line, with Docker's rules.\n\
         #\n\
         # gorae leaves these out even without this file: dotenv files with their secrets\n\
         # (except .env.example), gorae's own files, CI configuration, version control,\n\
         # and folders the image installs itself:\n",
    );
    let mut line = String::from("#  ");
    for pattern in DEFAULT_IGNORES {
        if line.len() + pattern.len() + 1 > 86 {
            out.push_str(line.trim_end());
            out.push('\n');
            line = String::from("#  ");
        }
        line.push(' ');
        line.push_str(pattern);
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out.push_str(
        "#\n\
         # A line starting with `!` brings a path back into the build, for example:\n\
         # !.env.defaults\n\
         \n\
         # What else the build does not need:\n\
         *.log\n\
         coverage/\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use crate::context::IgnoreRules;

    #[test]
    fn dockerignore_written_by_init() {
        insta::assert_snapshot!(super::text());
    }

    /// The file's own rules parse, keep secrets out and keep the example in.
    #[test]
    fn dockerignore_written_by_init_keeps_secrets_out() {
        let rules =
            IgnoreRules::parse(crate::context::DEFAULT_IGNORES, &super::text()).expect("valid");
        for secret in [
            ".env",
            ".env.local",
            "config/.env.production",
            "gorae.yaml",
            ".github/workflows/ci.yml",
        ] {
            assert!(rules.is_ignored(secret), "{secret}");
        }
        for kept in [".env.example", "server.js", "package.json"] {
            assert!(!rules.is_ignored(kept), "{kept}");
        }
    }
}
