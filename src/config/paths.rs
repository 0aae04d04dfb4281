//! Host paths written in gorae.yaml: build contexts, Dockerfiles and bind mounts,
//! resolved against the project directory and checked to exist.

use std::path::{Component, Path, PathBuf};

use super::fields::Checker;
use super::model::Mount;
use super::service::{Draft, KeyOf};
use super::source::Span;
use super::yaml::Node;

/// What a path must point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Dir,
    File,
}

/// The project directory, as given and canonicalised (symlinks resolved), so that
/// "inside the project" is decided on real paths.
pub struct ProjectDir {
    pub dir: PathBuf,
    pub canonical: PathBuf,
}

impl ProjectDir {
    pub fn new(dir: PathBuf) -> Self {
        let canonical = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        ProjectDir { dir, canonical }
    }

    /// Resolves a path written relative to gorae.yaml that must exist inside the project
    /// (a build context or Dockerfile). `what` names it in messages ("build directory").
    pub fn inside(
        &self,
        check: &mut Checker,
        text: &str,
        span: Span,
        what: &str,
        expect: Expect,
    ) -> Option<PathBuf> {
        let path = match self.dir.join(text).canonicalize() {
            Ok(path) => path,
            Err(_) => {
                check.error(
                    span,
                    format!("{what} `{text}` does not exist"),
                    "create it, or fix the path; it is relative to the directory of gorae.yaml",
                );
                return None;
            }
        };
        if !path.starts_with(&self.canonical) {
            check.error(
                span,
                format!("{what} `{text}` is outside the project directory"),
                "keep what gorae builds inside the directory of gorae.yaml, so the project builds the same anywhere; move it in, or move gorae.yaml up",
            );
            return None;
        }
        let (fits, kind) = match expect {
            Expect::Dir => (path.is_dir(), "a directory"),
            Expect::File => (path.is_file(), "a file"),
        };
        if !fits {
            check.error(
                span,
                format!("{what} `{text}` is not {kind}"),
                format!("point it at {kind}"),
            );
            return None;
        }
        Some(path)
    }
}

/// `path` relative to `dir` as `./x` (`.` for `dir` itself), or `path` unchanged when it
/// is not inside `dir`.
pub fn show_relative(path: &Path, dir: &Path) -> String {
    match path.strip_prefix(dir) {
        Ok(rest) if rest.as_os_str().is_empty() => ".".to_string(),
        Ok(rest) => format!("./{}", rest.display()),
        Err(_) => path.display().to_string(),
    }
}

/// `path` relative to `base` (both absolute), with `..` where needed; used to show the
/// project file relative to the current directory. Falls back to `path` when they share
/// nothing but the root.
pub fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let path_parts: Vec<Component> = path.components().collect();
    let base_parts: Vec<Component> = base.components().collect();
    let common = path_parts
        .iter()
        .zip(&base_parts)
        .take_while(|(a, b)| a == b)
        .count();
    if common <= 1 && base_parts.len() > 1 {
        return path.to_path_buf();
    }
    let mut relative = PathBuf::new();
    for _ in common..base_parts.len() {
        relative.push("..");
    }
    for part in &path_parts[common..] {
        relative.push(part);
    }
    relative
}

/// Reads a service's `volumes:` list: `./src:/app/src`, `~/x:/x`, `/abs:/x` (bind
/// mounts) or `cache:/root/.cache` (a named volume), each with an optional `:ro`/`:rw`.
pub fn read_volumes(
    check: &mut Checker,
    project: &ProjectDir,
    home: Option<&str>,
    node: &Node,
    service: &str,
) -> Vec<(Mount, Span)> {
    let what = KeyOf {
        key: "volumes",
        service,
    };
    let Some(items) = node.as_seq() else {
        check.error(
            node.span,
            format!("{what} must be a list, found {}", node.describe()),
            "write it as a list, such as [\"./src:/app/src\", \"cache:/root/.cache\"]",
        );
        return Vec::new();
    };
    let mut mounts = Vec::new();
    for item in items {
        let Some(text) = check.string(item, format_args!("an entry of {what}")) else {
            continue;
        };
        if let Some(mount) = read_volume(check, project, home, service, &text, item.span) {
            mounts.push((mount, item.span));
        }
    }
    mounts
}

/// The short name of the volume that keeps a template's data directory.
pub fn data_volume_name(service: &str) -> String {
    format!("{service}_data")
}

/// Reports an anonymous volume whose generated name another volume of the project
/// already uses: `web_app` at `/node_modules` and `web` at `/app/node_modules`, or
/// `db` at `/data` and db's own data volume, would share one volume and each other's
/// files. A named volume shared on purpose between services is not reported.
pub fn check_volume_names(check: &mut Checker, drafts: &std::collections::BTreeMap<String, Draft>) {
    struct Use<'a> {
        service: &'a str,
        target: Option<&'a str>,
        anonymous: bool,
        span: Span,
    }
    let mut uses: Vec<(String, Use)> = Vec::new();
    for (service, draft) in drafts {
        if draft.service.data_dir.is_some() {
            let span = draft.name_span;
            uses.push((
                data_volume_name(service),
                Use {
                    service,
                    target: None,
                    anonymous: false,
                    span,
                },
            ));
        }
        for (mount, span) in draft.service.volumes.iter().zip(&draft.volume_spans) {
            if let Mount::Volume { name, target, .. } = mount {
                let anonymous = *name == anonymous_volume_name(service, target);
                uses.push((
                    name.clone(),
                    Use {
                        service,
                        target: Some(target),
                        anonymous,
                        span: *span,
                    },
                ));
            }
        }
    }
    // Sorted by name and then file position: the first use of a name is the one kept.
    uses.sort_by(|(a, x), (b, y)| a.cmp(b).then(x.span.cmp(&y.span)));
    for pair in uses.chunk_by(|(a, _), (b, _)| a == b) {
        let (name, first) = &pair[0];
        for (_, other) in &pair[1..] {
            let same_place = other.service == first.service && other.target == first.target;
            if same_place || !(first.anonymous || other.anonymous) {
                continue;
            }
            let (anonymous, them) = if other.anonymous {
                (other, first)
            } else {
                (first, other)
            };
            let path = anonymous.target.unwrap_or_default();
            let theirs = match them.target {
                None => format!("the data volume of `{}`", them.service),
                Some(target) => format!("`{target}` of `{}`", them.service),
            };
            let diagnostic = check
                .source
                .error(
                    anonymous.span,
                    format!("the volume gorae names `{name}` for `{path}` of `{}` is also {theirs}", anonymous.service),
                    format!("give it a name of its own: `NAME:{path}`, so that the two keep their files apart"),
                )
                .with_note("the other use", Some(check.source.locate(them.span)));
            check.push(diagnostic);
        }
    }
}

/// The short name of the volume kept at `target` for `service`:
/// `web` and `/app/node_modules` give `web_app_node_modules`.
pub fn anonymous_volume_name(service: &str, target: &str) -> String {
    let path: String = target
        .trim_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{service}_{path}")
}

pub fn read_volume(
    check: &mut Checker,
    project: &ProjectDir,
    home: Option<&str>,
    service: &str,
    text: &str,
    span: Span,
) -> Option<Mount> {
    let parts: Vec<&str> = text.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [source, target] => (*source, *target, None),
        [source, target, mode] => (*source, *target, Some(*mode)),
        // An anonymous volume, as in Compose: a project volume named after the service
        // and the path. A new volume is filled from the image's content at that path
        // (the engine copies it on first use), which keeps an image's node_modules
        // visible under a bind mount of the source.
        [target] if target.starts_with('/') && !target.trim_end_matches('/').is_empty() => {
            return Some(Mount::Volume {
                name: anonymous_volume_name(service, target),
                target: target.to_string(),
                read_only: false,
            });
        }
        [_] => {
            check.error(
                span,
                format!("volume `{text}` names only one path"),
                format!("write /{text} for a volume of this service at that container path, NAME:/{text} for a named volume, or ./{text}:/PATH to mount a directory of the project"),
            );
            return None;
        }
        _ => {
            check.error(
                span,
                format!("volume `{text}` has too many `:`"),
                "write SOURCE:CONTAINER_PATH or SOURCE:CONTAINER_PATH:ro",
            );
            return None;
        }
    };
    let read_only = match mode {
        None | Some("rw") => false,
        Some("ro") => true,
        Some(other) => {
            check.error(
                span,
                format!("unknown volume mode `{other}` in `{text}`"),
                "write :ro for read-only, or leave it out",
            );
            return None;
        }
    };
    if !target.starts_with('/') {
        check.error(
            span,
            format!("container path `{target}` in volume `{text}` is not absolute"),
            "write the path inside the container, starting with /",
        );
        return None;
    }
    if target.trim_end_matches('/').is_empty() {
        check.error(
            span,
            format!("volume `{text}` mounts over `/`, the container's whole filesystem"),
            "mount at a directory inside the container, such as /data or /app/src",
        );
        return None;
    }
    let target = target.to_string();
    if source.starts_with(['.', '/', '~']) {
        let host = expand_home(check, home, source, span)?;
        let Ok(path) = project.dir.join(&host).canonicalize() else {
            check.error(
                span,
                format!("bind mount source `{source}` does not exist"),
                format!("create it (mkdir -p {source}) or fix the path; relative paths start at the directory of gorae.yaml"),
            );
            return None;
        };
        return Some(Mount::Bind {
            source: path,
            target,
            read_only,
        });
    }
    let valid = source
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && source
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !valid {
        check.error(
            span,
            format!("`{source}` in volume `{text}` is neither a path nor a volume name"),
            "start a host path with ./, / or ~/; a volume name is letters, digits, `_`, `.` and `-`",
        );
        return None;
    }
    Some(Mount::Volume {
        name: source.to_string(),
        target,
        read_only,
    })
}

fn expand_home(
    check: &mut Checker,
    home: Option<&str>,
    source: &str,
    span: Span,
) -> Option<PathBuf> {
    let Some(rest) = source.strip_prefix('~') else {
        return Some(PathBuf::from(source));
    };
    if !(rest.is_empty() || rest.starts_with('/')) {
        check.error(
            span,
            format!("`{source}` refers to another user's home directory"),
            "write the full path instead",
        );
        return None;
    }
    let Some(home) = home.filter(|h| !h.is_empty()) else {
        check.error(
            span,
            format!("`{source}` needs HOME, which is not set"),
            "set HOME, or write the full path",
        );
        return None;
    };
    Some(PathBuf::from(format!("{home}{rest}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_to_walks_up_with_dot_dot() {
        assert_eq!(
            relative_to(Path::new("/a/b/gorae.yaml"), Path::new("/a/b")),
            Path::new("gorae.yaml")
        );
        assert_eq!(
            relative_to(Path::new("/a/gorae.yaml"), Path::new("/a/b/c")),
            Path::new("../../gorae.yaml")
        );
        assert_eq!(
            relative_to(Path::new("/x/gorae.yaml"), Path::new("/a/b")),
            Path::new("/x/gorae.yaml")
        );
    }

    #[test]
    fn show_relative_uses_dot_slash() {
        assert_eq!(show_relative(Path::new("/p/web"), Path::new("/p")), "./web");
        assert_eq!(show_relative(Path::new("/p"), Path::new("/p")), ".");
        assert_eq!(
            show_relative(Path::new("/q/web"), Path::new("/p")),
            "/q/web"
        );
    }
}
