//! Where a service's image comes from: a template's image, `image:`, `dockerfile:` or
//! the Dockerfile in `build:`; the keys that exclude each other; the image prefix.

use super::fields::{Checker, suggest};
use super::model::{DockerfileSource, ImageSource};
use super::paths::Expect;
use super::service::{Context, Written};
use super::source::Span;
use crate::template::Template;

/// Reports an image reference Docker would reject.
pub fn check_image_name(check: &mut Checker, image: &str, span: Span) {
    if image.is_empty() || image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        check.error(
            span,
            format!("image `{image}` is not a valid image name"),
            "write NAME:TAG, such as redis:7 or ghcr.io/acme/worker:1.4",
        );
        return;
    }
    let repository = image.split('@').next().unwrap_or(image);
    let repository = match repository.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => repository,
    };
    if repository.chars().any(|c| c.is_ascii_uppercase()) {
        check.error(
            span,
            format!("image `{image}` has uppercase letters in its name"),
            "image names are lowercase (only the tag after `:` may have capitals)",
        );
    }
}

/// Puts the image prefix before unqualified image names: `redis:7` becomes
/// `mirror.corp/redis:7`, while `ghcr.io/acme/worker:1.4` (which names its registry)
/// stays as it is.
pub fn apply_image_prefix(prefix: Option<&str>, image: &str) -> String {
    let Some(prefix) = prefix else {
        return image.to_string();
    };
    let names_registry = image.split_once('/').is_some_and(|(first, _)| {
        first.contains('.') || first.contains(':') || first == "localhost"
    });
    if names_registry {
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
    if let Some((image, _)) = &w.image {
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
        conflict(
            check,
            &w.build,
            "`build` and `image` exclude each other",
            "`image` runs an existing image and `build` builds one; keep one of them",
        );
        conflict(
            check,
            &w.dockerfile,
            "`dockerfile` and `image` exclude each other",
            "`image` runs an existing image and `dockerfile` builds one; keep one of them",
        );
        return ImageFrom::Image(image.clone());
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
                    dockerfile: DockerfileSource::File { path },
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
                dockerfile: DockerfileSource::File { path },
            }
        }
        ImageFrom::Template(template, template_span) => {
            let image = apply_image_prefix(ctx.image_prefix, &render(&template.image));
            if !template.is_app() {
                if let Some((_, span)) = &w.build {
                    check.error(
                        *span,
                        format!("template `{}` runs an image and builds nothing", template.name),
                        "remove `build`, or build with an app template (node, python) or `dockerfile:`",
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
    }
}
