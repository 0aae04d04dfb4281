//! `gorae export compose`: the environment as a Compose file that `docker compose up
//! --wait` brings up the same way: the images gorae.lock pins, the builds, the
//! readiness probes as healthchecks, dependencies with their conditions, the wired
//! variables written out, data volumes, ports on 127.0.0.1 and `init: true`.
//!
//! Written from the plan `up` would carry out, so the containers get what gorae's
//! would. Compose reads `$` as the start of a variable everywhere, so every `$`
//! gorae writes is doubled.

use std::path::Path;

use serde_yaml::{Mapping, Value};

use crate::config::env_secret::replace_each;
use crate::config::{DockerfileSource, Probe, Project, ServiceKind, show_relative};
use crate::lock::Lockfile;
use crate::mount::Mount;
use crate::plan::{BuildPlan, ImagePlan, Plan, ServicePlan};

/// How often Compose runs a healthcheck; gorae polls faster on its own.
const HEALTH_INTERVAL_SECS: u64 = 1;

/// The Compose file for `plan` (made without pins: images by their names), with
/// `locked` digests for pulled images where the lock has them, and paths relative to
/// the project's directory, where the file belongs.
pub fn compose_file(project: &Project, plan: &Plan, locked: Option<&Lockfile>) -> String {
    let (doc, not_exported) = document(project, plan, locked);
    let mut out = String::from(
        "# Written by `gorae export compose` from gorae.yaml: the same environment for\n\
         # `docker compose up --wait`. Write it again after changing gorae.yaml.\n",
    );
    out.push_str(&comments(project, &not_exported));
    out.push_str(&yaml(&doc));
    out
}

/// The Compose document and what could not be exported.
pub(super) fn document(
    project: &Project,
    plan: &Plan,
    locked: Option<&Lockfile>,
) -> (Mapping, Vec<String>) {
    let project_dir = project.dir.as_path();
    let mut not_exported = Vec::new();
    let mut services = Mapping::new();
    let mut volumes = Mapping::new();
    let mut secrets = Mapping::new();
    for service in &plan.services {
        let pin = |reference: &str| super::pinned(project, &service.name, reference, locked);
        let entry = service_entry(
            plan,
            service,
            project_dir,
            &pin,
            Collected {
                volumes: &mut volumes,
                secrets: &mut secrets,
                not_exported: &mut not_exported,
            },
        );
        services.insert(text(&service.name), Value::Mapping(entry));
    }
    let mut doc = Mapping::new();
    doc.insert(text("name"), text(&plan.project));
    doc.insert(text("services"), Value::Mapping(services));
    if !volumes.is_empty() {
        doc.insert(text("volumes"), Value::Mapping(volumes));
    }
    if !secrets.is_empty() {
        doc.insert(text("secrets"), Value::Mapping(secrets));
    }
    (doc, not_exported)
}

/// The comment lines every flavour of the file starts with: what was not exported
/// and which variables to set.
pub(super) fn comments(project: &Project, not_exported: &[String]) -> String {
    let mut out = String::new();
    for line in not_exported {
        out.push_str(&format!("# not exported: {line}\n"));
    }
    for line in secret_variables(project) {
        out.push_str(&format!("# {line}\n"));
    }
    out
}

/// The document as YAML; plain strings and maps always serialise.
pub(super) fn yaml(doc: &Mapping) -> String {
    serde_yaml::to_string(doc).unwrap_or_default()
}

/// Top-level entries the services add to as they are written.
struct Collected<'a> {
    volumes: &'a mut Mapping,
    secrets: &'a mut Mapping,
    not_exported: &'a mut Vec<String>,
}

fn service_entry(
    plan: &Plan,
    service: &ServicePlan,
    project_dir: &Path,
    pin: &dyn Fn(&str) -> String,
    collected: Collected<'_>,
) -> Mapping {
    let spec = &service.spec;
    let mut entry = Mapping::new();
    match &service.image {
        ImagePlan::Pull { reference, .. } => {
            entry.insert(text("image"), text(&pin(reference)));
        }
        ImagePlan::Build(build) => {
            entry.insert(
                text("build"),
                Value::Mapping(build_entry(build, project_dir)),
            );
            if let Some(tag) = &build.options.tag {
                entry.insert(text("image"), text(tag));
            }
        }
    }
    if let Some(platform) = &spec.run.platform {
        entry.insert(text("platform"), text(platform));
    }
    if let Some(entrypoint) = &spec.run.entrypoint {
        entry.insert(text("entrypoint"), list(entrypoint));
    }
    if let Some(command) = &spec.command {
        entry.insert(text("command"), list(command));
    }
    for (key, value) in [
        ("user", &spec.run.user),
        ("working_dir", &spec.run.working_dir),
        ("stop_signal", &spec.run.stop_signal),
    ] {
        if let Some(value) = value {
            entry.insert(text(key), text(value));
        }
    }
    if !spec.run.extra_hosts.is_empty() {
        entry.insert(text("extra_hosts"), list(&spec.run.extra_hosts));
    }
    entry.insert(text("init"), Value::Bool(true));
    if service.kind == ServiceKind::Task {
        entry.insert(text("restart"), text("no"));
    }
    if !spec.env.is_empty() {
        let env: Mapping = spec
            .env
            .iter()
            .map(|(k, v)| (text(k), with_secret_references(v)))
            .collect();
        entry.insert(text("environment"), Value::Mapping(env));
    }
    if !spec.ports.is_empty() {
        let ports: Vec<String> = spec
            .ports
            .iter()
            .map(|p| {
                format!(
                    "{}:{}:{}/{}",
                    p.host_ip,
                    p.host_port,
                    p.container_port,
                    p.protocol.as_str()
                )
            })
            .collect();
        entry.insert(text("ports"), list(&ports));
    }
    let (mounts, secret_names) = mounts(plan, service, project_dir, collected);
    if !mounts.is_empty() {
        entry.insert(text("volumes"), list(&mounts));
    }
    if !secret_names.is_empty() {
        entry.insert(text("secrets"), list(&secret_names));
    }
    if let Some(healthcheck) = service
        .ready
        .as_ref()
        .and_then(|probe| healthcheck(service, probe))
    {
        entry.insert(text("healthcheck"), Value::Mapping(healthcheck));
    }
    if !service.depends_on.is_empty() {
        let depends: Mapping = service
            .depends_on
            .iter()
            .map(|dependency| {
                let condition = plan
                    .services
                    .iter()
                    .find(|s| s.name == *dependency)
                    .map_or("service_started", condition_on);
                let mut on = Mapping::new();
                on.insert(text("condition"), text(condition));
                (text(dependency), Value::Mapping(on))
            })
            .collect();
        entry.insert(text("depends_on"), Value::Mapping(depends));
    }
    entry
}

/// What a dependent waits for: a task to exit 0, a service with a healthcheck to be
/// healthy, any other service to have started (gorae waits a settle time for it).
fn condition_on(dependency: &ServicePlan) -> &'static str {
    if dependency.kind == ServiceKind::Task {
        "service_completed_successfully"
    } else if dependency
        .ready
        .as_ref()
        .is_some_and(|probe| healthcheck(dependency, probe).is_some())
    {
        "service_healthy"
    } else {
        "service_started"
    }
}

fn build_entry(build: &BuildPlan, project_dir: &Path) -> Mapping {
    let mut entry = Mapping::new();
    entry.insert(
        text("context"),
        text(&show_relative(&build.context, project_dir)),
    );
    match &build.dockerfile {
        DockerfileSource::File { path, .. } => {
            let inside = path.strip_prefix(&build.context).ok();
            let shown =
                inside.map_or_else(|| path.display().to_string(), |p| p.display().to_string());
            if shown != "Dockerfile" {
                entry.insert(text("dockerfile"), text(&shown));
            }
        }
        // A template's Dockerfile exists only in what gorae sends the engine.
        DockerfileSource::Rendered { text: dockerfile } => {
            entry.insert(text("dockerfile_inline"), text(dockerfile));
        }
    }
    if let Some(target) = &build.options.target {
        entry.insert(text("target"), text(target));
    }
    if !build.options.args.is_empty() {
        let args: Mapping = build
            .options
            .args
            .iter()
            .map(|(k, v)| (text(k), text(v)))
            .collect();
        entry.insert(text("args"), Value::Mapping(args));
    }
    entry
}

/// The service's `volumes:` entries and `secrets:` names; named volumes and secret
/// files are added to the top-level maps.
fn mounts(
    plan: &Plan,
    service: &ServicePlan,
    project_dir: &Path,
    collected: Collected<'_>,
) -> (Vec<String>, Vec<String>) {
    let mut entries = Vec::new();
    let mut secret_names = Vec::new();
    let volume_prefix = format!("{}_", plan.project);
    for mount in &service.spec.mounts {
        match mount {
            Mount::Bind { source, target, .. } if crate::config::is_secret_mount(target) => {
                let name = target.rsplit('/').next().unwrap_or(target).to_string();
                let mut file = Mapping::new();
                file.insert(text("file"), text(&show_relative(source, project_dir)));
                collected.secrets.insert(text(&name), Value::Mapping(file));
                secret_names.push(name);
            }
            Mount::Bind {
                source,
                target,
                read_only,
            } => entries.push(format!(
                "{}:{target}{}",
                show_relative(source, project_dir),
                if *read_only { ":ro" } else { "" }
            )),
            Mount::Volume {
                name,
                target,
                read_only,
            } => {
                // Compose names it `<project>_<short>`: the very volume gorae uses, so
                // the data is the same whichever tool starts the environment.
                let short = name.strip_prefix(&volume_prefix).unwrap_or(name);
                collected.volumes.insert(text(short), Value::Mapping(Mapping::new()));
                entries.push(format!(
                    "{short}:{target}{}",
                    if *read_only { ":ro" } else { "" }
                ));
            }
            Mount::Secret { target, .. } => collected.not_exported.push(format!(
                "{target} of `{}` holds a value from a variable; add a top-level secret with `environment: VARIABLE` and list it under the service's `secrets:`",
                service.name
            )),
        }
    }
    (entries, secret_names)
}

/// The probe as a Compose healthcheck, run inside the container. gorae checks ports
/// and protocols from outside; inside, the check tries the tools images usually
/// have, down to bash's `/dev/tcp`. `Running` has no healthcheck: dependents wait
/// for the start only.
fn healthcheck(service: &ServicePlan, probe: &Probe) -> Option<Mapping> {
    let tcp = |port: u16| {
        format!("bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}' 2>/dev/null || nc -z 127.0.0.1 {port}")
    };
    let test = match probe {
        Probe::Command { command } => {
            let mut test = vec!["CMD".to_string()];
            test.extend(command.iter().cloned());
            test
        }
        Probe::Tcp { port } | Probe::Handshake { port, .. } => {
            vec!["CMD-SHELL".to_string(), tcp(*port)]
        }
        Probe::Http { port, path } => {
            let url = format!("http://127.0.0.1:{port}{path}");
            vec![
                "CMD-SHELL".to_string(),
                format!(
                    "curl -fsS -o /dev/null '{url}' 2>/dev/null || wget -q -O /dev/null '{url}' 2>/dev/null || {}",
                    tcp(*port)
                ),
            ]
        }
        Probe::Running { .. } => return None,
    };
    let retries = service
        .ready_timeout
        .as_secs()
        .div_ceil(HEALTH_INTERVAL_SECS)
        .max(1);
    let mut check = Mapping::new();
    check.insert(text("test"), list(&test));
    check.insert(text("interval"), text(&format!("{HEALTH_INTERVAL_SECS}s")));
    check.insert(text("timeout"), text("5s"));
    check.insert(text("retries"), Value::Number(retries.into()));
    Some(check)
}

/// A variable's value with each `env` secret (read from a file or command at `up`,
/// never written to a file) as a reference Compose fills from the shell or a `.env`
/// beside the file: `postgres://app:${POSTGRES_PASSWORD}@db/app`.
fn with_secret_references(value: &str) -> Value {
    let escaped = value.replace('$', "$$");
    Value::String(replace_each(&escaped, |_, name| format!("${{{name}}}")))
}

/// What to set before `docker compose up`, one line per `env` secret.
fn secret_variables(project: &Project) -> Vec<String> {
    project
        .services
        .values()
        .flat_map(|service| {
            service.env_secrets.iter().map(|(name, secret)| {
                format!(
                    "set {name} in the environment or a .env file beside this one first: gorae reads it for `{}` from its {}",
                    service.name,
                    secret.describe(&project.dir)
                )
            })
        })
        .collect()
}

/// A string as Compose reads it back unchanged: `$` doubled.
pub(super) fn text(value: &str) -> Value {
    Value::String(value.replace('$', "$$"))
}

fn list(items: &[String]) -> Value {
    Value::Sequence(items.iter().map(|item| text(item)).collect())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::lock::{LockedImage, LockedService};

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn exported(locked: Option<&Lockfile>) -> (String, serde_yaml::Value) {
        let (_dir, project) = crate::export::fixture::shop();
        let file = compose_file(&project, &crate::plan::desired(&project), locked);
        let doc = serde_yaml::from_str(&file).expect("valid YAML");
        (file, doc)
    }

    #[test]
    fn env_secrets_are_references_compose_fills_in_never_values() {
        let project = crate::export::fixture::vault();
        let file = compose_file(&project, &crate::plan::desired(&project), None);
        let doc: serde_yaml::Value = serde_yaml::from_str(&file).expect("valid YAML");
        assert_eq!(
            doc["services"]["db"]["environment"]["POSTGRES_PASSWORD"],
            serde_yaml::Value::from("${POSTGRES_PASSWORD}")
        );
        let url = doc["services"]["web"]["environment"]["DATABASE_URL"]
            .as_str()
            .expect("a URL");
        assert!(url.contains(":${POSTGRES_PASSWORD}@db:5432/"), "{url}");
        assert!(
            file.contains("# set POSTGRES_PASSWORD in the environment or a .env file beside this one first: gorae reads it for `db` from its secret command `pass show db`"),
            "{file}"
        );
        assert!(!file.contains("gorae-secret"), "{file}");
    }

    #[test]
    fn every_service_keeps_its_image_process_wiring_mounts_and_readiness() {
        let (file, doc) = exported(None);
        let api = &doc["services"]["api"];
        let yaml = |text: &str| serde_yaml::from_str::<serde_yaml::Value>(text).expect(text);
        assert_eq!(
            api["build"],
            yaml("{context: ./api, target: dev, args: {MODE: a$$b}}")
        );
        assert_eq!(api["image"], yaml("acme/api:dev"));
        assert_eq!(api["init"], yaml("true"));
        assert_eq!(api["stop_signal"], yaml("SIGINT"));
        assert_eq!(api["user"], yaml("node"));
        assert_eq!(
            api["extra_hosts"],
            yaml("[host.docker.internal:host-gateway]")
        );
        assert_eq!(api["ports"], yaml("[127.0.0.1:8080:80/tcp]"));
        assert_eq!(
            api["volumes"],
            yaml("[./api:/app, api_app_node_modules:/app/node_modules, cache:/root/.cache:ro]")
        );
        assert_eq!(api["secrets"], yaml("[token]"));
        assert_eq!(doc["secrets"], yaml("{token: {file: ./secrets/token}}"));
        assert_eq!(
            doc["volumes"],
            yaml("{cache_data: {}, db_data: {}, api_app_node_modules: {}, cache: {}}")
        );
        // The wired variables, written out; `$` doubled so Compose reads it back.
        assert_eq!(api["environment"]["REDIS_URL"], yaml("redis://cache:6379"));
        assert_eq!(api["environment"]["PRICE"], yaml("5$$"));
        assert_eq!(
            doc["services"]["migrate"]["command"],
            yaml("[sh, -c, echo $$HOME]")
        );
        // What each dependent waits for.
        assert_eq!(
            api["depends_on"],
            yaml(
                "{cache: {condition: service_healthy}, migrate: {condition: service_completed_successfully}, side: {condition: service_started}}"
            )
        );
        assert_eq!(doc["services"]["migrate"]["restart"], yaml("no"));
        assert_eq!(doc["services"]["db"]["healthcheck"]["test"][0], yaml("CMD"));
        assert_eq!(
            doc["services"]["side"]["healthcheck"],
            serde_yaml::Value::Null
        );
        // The secret value is nowhere; the file says what to do about it.
        assert!(!file.contains("hunter2"), "{file}");
        assert!(
            file.contains("# not exported: /run/secrets/pw of `api` holds a value from a variable"),
            "{file}"
        );
        // Unpinned without a lock.
        assert_eq!(doc["services"]["cache"]["image"], yaml("redis:7"));
    }

    #[test]
    fn a_pulled_image_is_pinned_by_the_digest_gorae_lock_holds() {
        let image = |digest: Option<&str>| LockedImage {
            digest: digest.map(str::to_string),
            id: "sha256:1d".into(),
            platform: "linux/amd64".into(),
        };
        let service = |reference: &str, digest| LockedService {
            template: None,
            template_revision: None,
            build: false,
            images: BTreeMap::from([(reference.to_string(), image(digest))]),
        };
        let locked = Lockfile {
            version: crate::lock::LOCK_VERSION,
            gorae: "0".into(),
            project_file: String::new(),
            services: BTreeMap::from([
                ("cache".to_string(), service("redis:7", Some(DIGEST))),
                // Built or loaded here: no registry digest, the tag stays.
                ("side".to_string(), service("side:1", None)),
            ]),
        };
        let (_, doc) = exported(Some(&locked));
        assert_eq!(
            doc["services"]["cache"]["image"].as_str(),
            Some(format!("redis:7@{DIGEST}").as_str())
        );
        assert_eq!(doc["services"]["side"]["image"].as_str(), Some("side:1"));
        assert_eq!(doc["services"]["db"]["image"].as_str(), Some("postgres:16"));
    }
}
