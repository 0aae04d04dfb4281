//! Where a service's image comes from: a template's image, `image:`, `dockerfile:` or
//! the Dockerfile in `build:`; the keys that exclude each other; the image prefix.

use super::fields::{Checker, suggest};
use super::model::{BuildOptions, DockerfileSource, ImageSource};
use super::paths::Expect;
use super::service::{Context, Written};
use super::source::Span;
use super::template::Template;

/// Reports an image reference Docker would reject, by the distribution reference
/// grammar: `[DOMAIN/]PATH[:TAG][@DIGEST]`.
pub fn check_image_name(check: &mut Checker, image: &str, span: Span) {
    if let Err((message, help)) = parse_reference(image) {
        check.error(span, message, help);
    }
}

/// The longest image name (domain and path, without tag or digest) the engine takes.
const MAX_NAME_LEN: usize = 255;

/// Checks an image reference; on error, the message and how to fix it.
pub fn parse_reference(image: &str) -> Result<(), (String, String)> {
    let shown: String = image.chars().take(80).collect();
    let shown = if shown.len() < image.len() {
        format!("{shown}…")
    } else {
        shown
    };
    let fault =
        |what: String, help: &str| Err((format!("image `{shown}` {what}"), help.to_string()));
    let example = "write NAME:TAG, such as redis:7 or ghcr.io/acme/worker:1.4";
    if image.is_empty() {
        return fault("is empty".into(), example);
    }
    if let Some(c) = image.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return fault(format!("contains {}", describe_char(c)), example);
    }
    let (rest, digest) = match image.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (image, None),
    };
    let (name, tag) = match rest.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (rest, None),
    };
    if let Some(digest) = digest
        && !is_digest(digest)
    {
        return fault(
            format!("has an invalid digest `{digest}`"),
            "a digest is ALGORITHM:HEX, such as sha256: followed by 64 hex digits",
        );
    }
    if let Some(tag) = tag {
        let mut chars = tag.chars();
        let valid = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            && tag.len() <= 128;
        if !valid {
            return fault(
                format!("has an invalid tag `{tag}`"),
                "a tag is up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`",
            );
        }
    }
    if name.len() > MAX_NAME_LEN {
        return fault(
            format!("has a name longer than {MAX_NAME_LEN} characters"),
            example,
        );
    }
    let mut components: Vec<&str> = name.split('/').collect();
    let first = components[0];
    let has_domain = components.len() > 1
        && (first.contains(['.', ':'])
            || first == "localhost"
            || first.chars().any(|c| c.is_ascii_uppercase()));
    if has_domain {
        if !is_domain(first) {
            return fault(
                format!("has an invalid registry `{first}`"),
                "a registry is a host name with an optional port, such as ghcr.io or localhost:5000",
            );
        }
        components.remove(0);
    }
    for component in components {
        if component.chars().any(|c| c.is_ascii_uppercase()) {
            return fault(
                "has uppercase letters in its name".into(),
                "image names are lowercase (only the tag after `:` may have capitals)",
            );
        }
        if !is_path_component(component) {
            return fault(
                format!("has an invalid name part `{component}`"),
                "each part of the name between `/` is lowercase letters and digits, joined by `.`, `_`, `__` or dashes",
            );
        }
    }
    Ok(())
}

fn describe_char(c: char) -> String {
    if c == ' ' {
        "a space".to_string()
    } else {
        format!("the character U+{:04X}", c as u32)
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn is_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.first().is_none_or(|&b| !alnum(b)) || bytes.last().is_none_or(|&b| !alnum(b)) {
        return false;
    }
    let mut index = 0;
    while index < bytes.len() {
        if alnum(bytes[index]) {
            index += 1;
            continue;
        }
        let start = index;
        while index < bytes.len() && !alnum(bytes[index]) {
            index += 1;
        }
        let separator = &component[start..index];
        let valid = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !valid {
            return false;
        }
    }
    true
}

/// A host (`[A-Za-z0-9]` labels with inner dashes, joined by dots, or `[IPv6]`) with an
/// optional `:PORT`.
fn is_domain(domain: &str) -> bool {
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        let Some((ip, after)) = rest.split_once(']') else {
            return false;
        };
        if ip.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        match after {
            "" => return true,
            _ => match after.strip_prefix(':') {
                Some(port) => ("x", Some(port)),
                None => return false,
            },
        }
    } else {
        match domain.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (domain, None),
        }
    };
    let label_ok = |label: &str| {
        let bytes = label.as_bytes();
        !bytes.is_empty()
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            && bytes[0] != b'-'
            && bytes[bytes.len() - 1] != b'-'
    };
    host.split('.').all(label_ok)
        && port
            .is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `ALGORITHM:HEX`: `[a-z0-9]+([+._-][a-z0-9]+)*` and at least 32 hex digits (exactly 64
/// lowercase ones for sha256).
fn is_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let algorithm_ok = !algorithm.is_empty()
        && algorithm.split(['+', '.', '_', '-']).all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    let hex_ok = hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    let sha256_ok = algorithm != "sha256"
        || (hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    algorithm_ok && hex_ok && sha256_ok
}

/// Puts the image prefix before unqualified image names: `redis:7` becomes
/// `mirror.corp/redis:7`, while `ghcr.io/acme/worker:1.4` (which names its registry)
/// and a name that already starts with the prefix stay as they are.
pub fn apply_image_prefix(prefix: Option<&str>, image: &str) -> String {
    let Some(prefix) = prefix else {
        return image.to_string();
    };
    let names_registry = image.split_once('/').is_some_and(|(first, _)| {
        first.contains('.') || first.contains(':') || first == "localhost"
    });
    if names_registry || image.starts_with(prefix) {
        image.to_string()
    } else {
        format!("{prefix}{image}")
    }
}

/// Where the image of a service comes from, as decided from the keys present.
pub enum ImageFrom<'t> {
    Image(String),
    Dockerfile(String, Span),
    Template(&'t Template, Option<Span>),
    /// `build:` alone: the Dockerfile in the build directory.
    BuildDir,
    /// Nothing usable; already reported.
    Unknown,
}

/// Decides where the image comes from and reports keys that contradict each other.
pub fn source_of_image<'t>(
    check: &mut Checker,
    ctx: &Context<'t>,
    name: &str,
    name_span: Span,
    w: &Written,
) -> ImageFrom<'t> {
    let conflict =
        |check: &mut Checker, key: &Option<(String, Span)>, message: &str, help: &str| {
            if let Some((_, span)) = key {
                check.error(*span, format!("{message} in service `{name}`"), help);
            }
        };
    // `image` beside `build` or `dockerfile` names the built image (as in Compose).
    let built = w.build.is_some() || w.dockerfile.is_some();
    if let Some((image, _)) = &w.image
        && !built
    {
        conflict(
            check,
            &w.template,
            "`template` and `image` exclude each other",
            "use `image` to run any image as it is, or `template` for gorae's wiring (readiness, exports, data volume), not both",
        );
        conflict(
            check,
            &w.version,
            "`version` applies to templates, not to `image`",
            "put the tag in the image name, such as redis:7",
        );
        return ImageFrom::Image(image.clone());
    }
    if w.image.is_some() {
        conflict(
            check,
            &w.template,
            "`template` and `image` exclude each other",
            "beside `build`, `image` names the built image; a template names its own, so remove one of them",
        );
    }
    if let Some((dockerfile, span)) = &w.dockerfile {
        conflict(
            check,
            &w.template,
            "`template` and `dockerfile` exclude each other",
            "a template brings its own Dockerfile; remove `template` to build with yours",
        );
        conflict(
            check,
            &w.version,
            "`version` applies to templates, not to `dockerfile`",
            "set the version in your Dockerfile's FROM line, and remove `version`",
        );
        return ImageFrom::Dockerfile(dockerfile.clone(), *span);
    }
    if let Some((template, span)) = &w.template {
        return match ctx.templates.get(template) {
            Some(found) => ImageFrom::Template(found, Some(*span)),
            // The template's own errors were reported.
            None if ctx.templates.is_broken(template) => ImageFrom::Unknown,
            None => {
                let names: Vec<&str> = ctx.templates.names().collect();
                let help = match suggest(template, names.iter().copied()) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!(
                        "the templates are: {}; add your own in .gorae/templates/{template}/",
                        names.join(", ")
                    ),
                };
                check.error(
                    *span,
                    format!("unknown template `{template}` in service `{name}`"),
                    help,
                );
                ImageFrom::Unknown
            }
        };
    }
    if let Some(found) = ctx.templates.get(name) {
        return ImageFrom::Template(found, None);
    }
    if ctx.templates.is_broken(name) {
        return ImageFrom::Unknown;
    }
    if w.build.is_some() {
        conflict(
            check,
            &w.version,
            "`version` applies to templates",
            "set the version in your Dockerfile's FROM line, and remove `version`",
        );
        return ImageFrom::BuildDir;
    }
    if !w.source_reported {
        let names: Vec<&str> = ctx.templates.names().collect();
        check.error(
            name_span,
            format!("service `{name}` does not say what to run"),
            format!(
                "give one of: `template: NAME` (one of {}), `image: NAME:TAG`, or `dockerfile: PATH`",
                names.join(", ")
            ),
        );
    }
    ImageFrom::Unknown
}

#[allow(clippy::too_many_arguments)]
pub fn image_source(
    check: &mut Checker,
    ctx: &Context,
    name: &str,
    name_span: Span,
    w: &Written,
    from: &ImageFrom,
    version: &str,
    render: &dyn Fn(&str) -> String,
) -> ImageSource {
    let unknown = ImageSource::Pull {
        image: String::new(),
    };
    let options = BuildOptions {
        platform: w.run.platform.clone(),
        // Beside a build, `image` is a name for the result: no prefix, it is not pulled.
        tag: w.image.as_ref().map(|(image, _)| image.clone()),
        ..w.build_options.clone()
    };
    let context_of = |check: &mut Checker, (text, span): &(String, Span)| {
        ctx.project
            .inside(check, text, *span, "build directory", Expect::Dir)
    };
    match from {
        ImageFrom::Image(image) => ImageSource::Pull {
            image: apply_image_prefix(ctx.image_prefix, image),
        },
        ImageFrom::Dockerfile(text, span) => {
            let dockerfile = ctx
                .project
                .inside(check, text, *span, "Dockerfile", Expect::File);
            let context = match &w.build {
                Some(build) => context_of(check, build),
                None => dockerfile
                    .as_ref()
                    .and_then(|path| path.parent())
                    .map(|dir| dir.to_path_buf()),
            };
            match (dockerfile, context) {
                (Some(path), Some(context)) => ImageSource::Build {
                    context,
                    dockerfile: DockerfileSource::File {
                        path,
                        base_prefix: ctx.image_prefix.map(str::to_string),
                    },
                    options,
                },
                _ => unknown,
            }
        }
        ImageFrom::BuildDir => {
            let Some(build) = &w.build else {
                return unknown;
            };
            let Some(context) = context_of(check, build) else {
                return unknown;
            };
            let path = context.join("Dockerfile");
            if !path.is_file() {
                check.error(
                    build.1,
                    format!(
                        "build directory `{}` of service `{name}` has no Dockerfile",
                        build.0
                    ),
                    format!(
                        "add {}/Dockerfile, or use an app template such as `template: node`",
                        build.0.trim_end_matches('/')
                    ),
                );
                return unknown;
            }
            ImageSource::Build {
                context,
                dockerfile: DockerfileSource::File {
                    path,
                    base_prefix: ctx.image_prefix.map(str::to_string),
                },
                options,
            }
        }
        ImageFrom::Template(template, template_span) => {
            let image = apply_image_prefix(ctx.image_prefix, &render(&template.image));
            if !template.is_app() {
                if let Some((_, span)) = &w.build {
                    check.error(
                        *span,
                        format!("template `{}` runs an image and builds nothing", template.name),
                        "remove `build`, or build with an app template (node, python, go, ruby, php) or `dockerfile:`",
                    );
                }
                return ImageSource::Pull { image };
            }
            let Some(build) = &w.build else {
                if w.source_reported {
                    return unknown;
                }
                check.error(
                    template_span.unwrap_or(name_span),
                    format!("service `{name}` uses the app template `{}`, which needs `build:`", template.name),
                    "add build: ./DIR, the directory with the app's source (relative to gorae.yaml)",
                );
                return unknown;
            };
            let Some(context) = context_of(check, build) else {
                return unknown;
            };
            match template.render_dockerfile(&image, version, &context) {
                Some(text) => ImageSource::Build {
                    context,
                    dockerfile: DockerfileSource::Rendered { text },
                    options,
                },
                None => unknown,
            }
        }
        ImageFrom::Unknown => unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_follow_the_distribution_grammar() {
        let digest = format!("sha256:{}", "a".repeat(64));
        for good in [
            "redis",
            "redis:7",
            "redis:7.2-alpine",
            "library/redis:latest",
            "ghcr.io/acme/worker:1.4",
            "localhost:5000/x",
            "mirror.corp:443/a/b/c:T_1",
            "[::1]:5000/x:1",
            "a__b/c-d--e/f.g:1",
            "Registry.Example.com/x",
            &format!("redis@{digest}"),
            &format!("redis:7@{digest}"),
        ] {
            assert!(
                parse_reference(good).is_ok(),
                "{good}: {:?}",
                parse_reference(good)
            );
        }
        let long_name = "a".repeat(256);
        let long_tag = format!("redis:{}", "t".repeat(129));
        for bad in [
            "",
            "Redis:7",
            "redis:7 ",
            "redis:",
            "redis:-x",
            "redis:.x",
            "redis:a/b:c/d",
            "a..b",
            "a_-b",
            "-a",
            "a-",
            "a//b",
            "/a",
            "a/",
            "ex ample.com/x",
            "bad_host.com/x",
            "host.com:port/x",
            "redis@sha256:abc",
            "redis@md5",
            &long_name,
            &long_tag,
            "a\u{0}b",
            "a\u{85}b",
        ] {
            assert!(parse_reference(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn image_prefix_applies_to_unqualified_names_only() {
        let prefix = Some("mirror.corp/");
        assert_eq!(apply_image_prefix(prefix, "redis:7"), "mirror.corp/redis:7");
        assert_eq!(
            apply_image_prefix(prefix, "acme/worker"),
            "mirror.corp/acme/worker"
        );
        assert_eq!(
            apply_image_prefix(prefix, "ghcr.io/acme/worker:1.4"),
            "ghcr.io/acme/worker:1.4"
        );
        assert_eq!(
            apply_image_prefix(prefix, "localhost:5000/x"),
            "localhost:5000/x"
        );
        assert_eq!(apply_image_prefix(None, "redis:7"), "redis:7");
        // Already behind the prefix: once is enough.
        let mirror = Some("mirror/");
        assert_eq!(
            apply_image_prefix(mirror, "mirror/redis:7"),
            "mirror/redis:7"
        );
        assert_eq!(
            apply_image_prefix(mirror, "mirrors/redis"),
            "mirror/mirrors/redis"
        );
    }
}
