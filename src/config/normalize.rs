//! The resolved project as the user reads it (`gorae config`): every default filled
//! in, secrets masked, keys in a fixed order, paths relative to the project directory.
//! YAML and JSON show the same data.

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::{DockerfileSource, ImageSource, Mount, Probe, Project, Service, ServiceKind};
use super::paths::show_relative;
use super::ports::display as display_port;
use super::secrets::mask_value;

/// The resolved project as YAML, secrets masked.
pub fn to_normalized_yaml(project: &Project) -> String {
    to_yaml(&view(project))
}

/// The resolved project as pretty JSON (the same data as the YAML), secrets masked.
pub fn to_normalized_json(project: &Project) -> String {
    serde_json::to_string_pretty(&view(project)).unwrap_or_default()
}

/// Any plain data as YAML, for views built outside this module (`config --resolved`);
/// keeps the YAML writer inside `config`.
pub fn to_yaml<T: Serialize>(value: &T) -> String {
    // The fast writer covers nearly every project; serde_yaml writes the rest (and
    // serialising plain structs of strings and numbers cannot fail).
    super::block_yaml::to_string(value)
        .unwrap_or_else(|| serde_yaml::to_string(value).unwrap_or_default())
}

// The view borrows what it shows as written in the project and builds only what it
// shows differently (masked values, ports, paths): a project of thousands of services
// is not copied once more to be printed.

#[derive(Serialize)]
struct ProjectView<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_prefix: Option<&'a str>,
    services: Services<'a>,
}

/// The services by name, each made into its view only as it is written.
struct Services<'a>(&'a Project);

impl Serialize for Services<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let project = self.0;
        serializer.collect_map(
            project
                .services
                .iter()
                .map(|(name, service)| (name, service_view(project, service))),
        )
    }
}

#[derive(Serialize)]
struct ServiceView<'a> {
    kind: ServiceKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<TemplateView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    build: Option<BuildView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Masked::is_empty")]
    env: Masked<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ports: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    volumes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    depends_on: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    ready: Option<&'a Probe>,
    timeout: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
    #[serde(skip_serializing_if = "Masked::is_empty")]
    exports: Masked<'a>,
}

/// Variables with secrets masked (see [`mask_value`]), masked as they are written.
struct Masked<'a> {
    vars: &'a BTreeMap<String, String>,
    secret: &'a [String],
}

impl Masked<'_> {
    fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }
}

impl Serialize for Masked<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(
            self.vars
                .iter()
                .map(|(name, value)| (name, mask_value(name, value, self.secret))),
        )
    }
}

#[derive(Serialize)]
struct TemplateView<'a> {
    name: &'a str,
    revision: u32,
    origin: &'a str,
}

#[derive(Serialize)]
struct BuildView<'a> {
    context: String,
    /// A path, or `template NAME` for a Dockerfile rendered from a template.
    dockerfile: String,
    /// Target, arguments, platform and extra tag, where set.
    #[serde(flatten)]
    options: &'a crate::config::BuildOptions,
}

/// A probe in the shape the file uses to write it: a map with one of the keys. (A
/// struct, not an enum, because serde_yaml writes enums as YAML tags.)
fn view(project: &Project) -> ProjectView<'_> {
    ProjectView {
        name: &project.name,
        image_prefix: project.image_prefix.as_deref(),
        services: Services(project),
    }
}

fn service_view<'a>(project: &'a Project, service: &'a Service) -> ServiceView<'a> {
    let show = |path: &std::path::Path| show_relative(path, &project.dir);
    let (image, build) = match &service.image {
        ImageSource::Pull { image } => (Some(image.as_str()), None),
        ImageSource::Build {
            context,
            dockerfile,
            options,
        } => {
            let dockerfile = match dockerfile {
                DockerfileSource::File { path, .. } => show(path),
                DockerfileSource::Rendered { .. } => match &service.template {
                    Some(template) => format!("template {}", template.name),
                    None => "rendered".to_string(),
                },
            };
            (
                None,
                Some(BuildView {
                    context: show(context),
                    dockerfile,
                    options,
                }),
            )
        }
    };
    let volumes = service
        .volumes
        .iter()
        .map(|mount| {
            let (source, target, read_only) = match mount {
                Mount::Bind {
                    source,
                    target,
                    read_only,
                } => (show(source), target, *read_only),
                Mount::Volume {
                    name,
                    target,
                    read_only,
                } => (name.clone(), target, *read_only),
                Mount::Secret { target, .. } => (super::MASK.to_string(), target, true),
            };
            let mode = if read_only { ":ro" } else { "" };
            format!("{source}:{target}{mode}")
        })
        .collect();
    ServiceView {
        kind: service.kind,
        template: service.template.as_ref().map(|t| TemplateView {
            name: &t.name,
            revision: t.revision,
            origin: &t.origin,
        }),
        image,
        build,
        command: service.command.as_deref(),
        env: Masked {
            vars: &service.env,
            secret: &service.secret_env,
        },
        ports: service.ports.iter().map(display_port).collect(),
        volumes,
        data: service.data_dir.as_deref(),
        depends_on: &service.depends_on,
        ready: service.ready.as_ref(),
        timeout: format_duration(service.ready_timeout),
        port: service.port,
        exports: Masked {
            vars: &service.exports,
            secret: &service.secret_env,
        },
    }
}

/// `60s`, `2m`, `500ms`: the units the file accepts, largest exact one.
pub fn format_duration(duration: std::time::Duration) -> String {
    let millis = duration.as_millis();
    if !millis.is_multiple_of(1000) {
        format!("{millis}ms")
    } else if millis.is_multiple_of(3_600_000) && millis > 0 {
        format!("{}h", millis / 3_600_000)
    } else if millis.is_multiple_of(60_000) && millis > 0 {
        format!("{}m", millis / 60_000)
    } else {
        format!("{}s", millis / 1000)
    }
}
