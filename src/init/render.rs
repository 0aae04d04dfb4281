//! A [`Draft`] written out as gorae.yaml: a header saying what to do next, one
//! block per service with comments saying what each value was guessed from, and a
//! `# not imported:` line for everything a compose file had that gorae cannot express.

use super::{Draft, DraftService, SecretFrom};
use crate::yaml_out::{flow_list, quoted, quoted_list, scalar};

/// Comments wrap before this column.
const WIDTH: usize = 88;

/// The file's text.
pub fn render(draft: &Draft) -> String {
    let mut out = String::new();
    for line in [
        "gorae.yaml: this project's development environment, written by `gorae init`.",
        "Check what it guessed (versions, commands, ports), then run `gorae up`.",
        "`gorae config` shows the file resolved; gorae's README explains every key.",
    ] {
        comment(&mut out, "", line);
    }
    if let Some(file) = &draft.imported_from {
        comment(
            &mut out,
            "",
            &format!(
                "Imported from {file}. Ports publish on 127.0.0.1 only, gorae's default, \
                 where Compose published on every interface (each says so); each `not \
                 imported:` line names something gorae cannot express."
            ),
        );
    }
    out.push('\n');
    if let Some(name) = &draft.name {
        out.push_str(&format!("name: {}\n", scalar(name)));
    }
    for skipped in &draft.skipped {
        out.push_str(&format!("# {}\n", one_line(&skipped.to_string())));
    }
    if draft.name.is_some() || !draft.skipped.is_empty() {
        out.push('\n');
    }
    out.push_str("services:\n");
    for (index, service) in draft.services.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        write_service(&mut out, service);
    }
    out
}

fn write_service(out: &mut String, service: &DraftService) {
    for line in &service.about {
        comment(out, "  ", line);
    }
    let name = scalar(&service.name);
    if let Some(version) = shorthand(service) {
        out.push_str(&format!("  {name}: {}\n", quoted(version)));
    } else {
        out.push_str(&format!("  {name}:\n"));
        let key = |out: &mut String, key: &str, value: String| {
            out.push_str(&format!("    {key}: {value}\n"));
        };
        if let Some(template) = &service.template {
            key(out, "template", scalar(template));
        }
        if let Some(version) = &service.version {
            key(out, "version", quoted(version));
        }
        if let Some(image) = &service.image {
            key(out, "image", scalar(image));
        }
        if let Some(dockerfile) = &service.dockerfile {
            key(out, "dockerfile", scalar(dockerfile));
        }
        if let Some(build) = &service.build {
            if service.build_target.is_none() && service.build_args.is_empty() {
                key(out, "build", scalar(build));
            } else {
                out.push_str("    build:\n");
                out.push_str(&format!("      context: {}\n", scalar(build)));
                if let Some(target) = &service.build_target {
                    out.push_str(&format!("      target: {}\n", scalar(target)));
                }
                if !service.build_args.is_empty() {
                    out.push_str("      args:\n");
                    for (name, value) in &service.build_args {
                        out.push_str(&format!("        {}: {}\n", scalar(name), scalar(value)));
                    }
                }
            }
        }
        if let Some(command) = &service.command {
            key(out, "command", quoted_list(command));
        }
        for (name, value) in &service.process {
            key(out, name, value.clone());
        }
        if !service.env.is_empty() {
            out.push_str("    env:\n");
            for (name, value) in &service.env {
                out.push_str(&format!("      {}: {}\n", scalar(name), scalar(value)));
            }
        }
        if !service.ports.is_empty() {
            if let Some(note) = &service.ports_note {
                comment(out, "    ", note);
            }
            if service.port_comments.iter().any(Option::is_some) {
                out.push_str("    ports:\n");
                for (index, port) in service.ports.iter().enumerate() {
                    match service.port_comments.get(index).cloned().flatten() {
                        Some(note) => out.push_str(&format!(
                            "      - {} # {}\n",
                            quoted(port),
                            one_line(&note)
                        )),
                        None => out.push_str(&format!("      - {}\n", quoted(port))),
                    }
                }
            } else {
                key(out, "ports", quoted_list(&service.ports));
            }
        }
        if !service.volumes.is_empty() {
            key(out, "volumes", quoted_list(&service.volumes));
        }
        if !service.secrets.is_empty() {
            out.push_str("    secrets:\n");
            for (name, from) in &service.secrets {
                let source = match from {
                    SecretFrom::File(file) => scalar(file),
                    // Empty when unset, as Compose's environment secrets and `$VAR`.
                    SecretFrom::Variable(variable) => {
                        format!("{{ value: {} }}", scalar(&format!("${{{variable}:-}}")))
                    }
                };
                out.push_str(&format!("      {}: {source}\n", scalar(name)));
            }
        }
        if !service.depends_on.is_empty() {
            if let Some(note) = &service.depends_note {
                comment(out, "    ", note);
            }
            key(out, "depends_on", flow_list(&service.depends_on));
        }
        if let Some(ready) = &service.ready {
            if let Some(note) = &service.ready_note {
                comment(out, "    ", note);
            }
            key(
                out,
                "ready",
                format!("{{ command: {} }}", quoted_list(ready)),
            );
        }
        if service.task {
            key(out, "kind", "task".to_string());
        }
    }
    for note in &service.notes {
        comment(out, "    ", note);
    }
    // One line each, unwrapped, so `grep "not imported"` finds them whole.
    for skipped in &service.skipped {
        out.push_str(&format!("    # {}\n", one_line(&skipped.to_string())));
    }
}

/// The version, when the service can be written as `NAME: "VERSION"`: a template
/// named like the service, with nothing else set.
fn shorthand(s: &DraftService) -> Option<&str> {
    let bare = s.template.as_deref() == Some(s.name.as_str())
        && s.image.is_none()
        && s.dockerfile.is_none()
        && s.build.is_none()
        && s.command.is_none()
        && s.env.is_empty()
        && s.ports.is_empty()
        && s.volumes.is_empty()
        && s.depends_on.is_empty()
        && s.ready.is_none()
        && s.process.is_empty()
        && s.secrets.is_empty()
        && !s.task;
    if bare { s.version.as_deref() } else { None }
}

/// `text` made safe for one comment line: control characters and Unicode line breaks
/// (which some readers end a line at) are written as escapes, so nothing taken from
/// the input (a compose key with a line break in it) can start a line of its own.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` as `# ` comment lines under `indent`, wrapped at [`WIDTH`].
fn comment(out: &mut String, indent: &str, text: &str) {
    let room = WIDTH.saturating_sub(indent.len() + 2).max(20);
    let mut line = String::new();
    let text = one_line(text);
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > room {
            out.push_str(&format!("{indent}# {line}\n"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&format!("{indent}# {line}\n"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_comments_wrap_and_keep_their_indent() {
        let mut out = String::new();
        comment(&mut out, "  ", &"word ".repeat(30));
        for line in out.lines() {
            assert!(line.starts_with("  # word"), "{line}");
            assert!(line.len() <= WIDTH, "{line}");
        }
        assert!(out.lines().count() > 1);
    }

    #[test]
    fn nothing_in_a_comment_can_start_a_line() {
        let mut out = String::new();
        comment(
            &mut out,
            "  ",
            "a\nports: [\"0.0.0.0:22:22\"]\r\u{85}\u{2028}x",
        );
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(one_line("key\nports: [x]").starts_with("key\\nports"));
    }

    #[test]
    fn a_bare_template_service_is_written_as_shorthand() {
        let redis = DraftService {
            name: "redis".into(),
            template: Some("redis".into()),
            version: Some("7".into()),
            ..DraftService::default()
        };
        assert_eq!(shorthand(&redis), Some("7"));
        let with_ports = DraftService {
            ports: vec!["6379".into()],
            ..redis.clone()
        };
        assert_eq!(shorthand(&with_ports), None);
        let renamed = DraftService {
            name: "cache".into(),
            ..redis
        };
        assert_eq!(shorthand(&renamed), None);
    }
}
