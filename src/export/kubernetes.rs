//! `gorae export kubernetes`: the environment as manifests for a cluster. Per service
//! a Deployment (a StatefulSet with a claim per volume when it keeps data, a Job for a
//! task) and a Service for its ports; the readiness probes as readinessProbes; each
//! dependency as an init container that waits until the dependency's Service answers
//! (it answers only once the dependency's readinessProbe passes); every value gorae
//! would mask in a Secret; images by gorae.lock's digests; `app.kubernetes.io/*`
//! labels. What a cluster cannot take from gorae.yaml is listed in comments.

use std::collections::BTreeSet;

use serde_yaml::{Mapping, Value};

use crate::config::env_secret::{EnvSecret, placeholder, placeholders_in, replace_each};
use crate::config::{Probe, Project, ServiceKind, mask_value};
use crate::lock::Lockfile;
use crate::mount::Mount;
use crate::plan::{ImagePlan, Plan, ServicePlan};

/// The image init containers wait with (for `nc`).
const WAIT_IMAGE: &str = "busybox:1.36";

/// The size each volume claim asks for; clusters grow or shrink it as they allow.
const CLAIM_SIZE: &str = "1Gi";

/// One manifest: its file name in a kustomization and the object.
pub struct Manifest {
    pub file: String,
    pub object: Value,
}

/// The manifests for `plan` (made without pins), with notes on what is not exported.
pub fn manifests(
    project: &Project,
    plan: &Plan,
    locked: Option<&Lockfile>,
) -> (Vec<Manifest>, Vec<String>) {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    if let Some(note) = external_secret_note(project, plan) {
        notes.push(note);
    }
    for service in &plan.services {
        let secret_env = &project.services[&service.name].secret_env;
        let name = object_name(&service.name);
        if name != service.name {
            notes.push(format!(
                "`{}` is named `{name}` here (Kubernetes names take no `_`); other services reach it under its old name only after renaming it in gorae.yaml",
                service.name
            ));
        }
        let image = image_of(project, service, locked, &mut notes);
        // Values read at `up` (env secrets) are in no file: they come from a Secret
        // the user creates, and these values refer to it.
        let secret_vars: Vec<&String> = service
            .spec
            .env
            .iter()
            .filter(|(key, value)| {
                placeholders_in(value).is_empty() && mask_value(key, value, secret_env) != **value
            })
            .map(|(key, _)| key)
            .collect();
        if !secret_vars.is_empty() {
            let data: Mapping = secret_vars
                .iter()
                .map(|key| (s(key), s(&service.spec.env[*key])))
                .collect();
            let mut secret = object("v1", "Secret", &format!("{name}-env"), plan, service);
            secret.insert(s("type"), s("Opaque"));
            secret.insert(s("stringData"), Value::Mapping(data));
            out.push(manifest(&format!("{name}-env"), "secret", secret));
        }
        let pod = pod_spec(plan, service, &name, &image, &secret_vars, &mut notes);
        let workload = workload(plan, service, &name, pod);
        let kind = workload
            .get(s("kind"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_lowercase();
        out.push(manifest(&name, &kind, workload));
        if let Some(svc) = service_object(plan, service, &name) {
            out.push(manifest(&name, "service", svc));
        }
        for port in &service.spec.ports {
            notes.push(format!(
                "`{}` publishes {}:{} on this machine; on a cluster: kubectl port-forward service/{name} {}:{}",
                service.name, port.host_port, port.container_port, port.host_port, port.container_port
            ));
        }
    }
    (out, notes)
}

/// The manifests as one YAML stream, notes first.
pub fn single_file(manifests: &[Manifest], notes: &[String]) -> String {
    let mut text = header(notes);
    for manifest in manifests {
        text.push_str("---\n");
        text.push_str(&serde_yaml::to_string(&manifest.object).unwrap_or_default());
    }
    text
}

/// A kustomization listing every manifest's file, notes first.
pub fn kustomization(manifests: &[Manifest], notes: &[String]) -> String {
    let mut text = header(notes);
    text.push_str("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n");
    for manifest in manifests {
        text.push_str(&format!("- {}\n", manifest.file));
    }
    text
}

fn header(notes: &[String]) -> String {
    let mut text = String::from(
        "# Written by `gorae export kubernetes` from gorae.yaml: apply with\n\
         # `kubectl apply -f FILE` (or `kubectl apply -k DIR` for a kustomization).\n",
    );
    for note in notes {
        text.push_str(&format!("# not exported: {note}\n"));
    }
    text
}

fn manifest(name: &str, kind: &str, object: Mapping) -> Manifest {
    Manifest {
        file: format!("{name}-{kind}.yaml"),
        object: Value::Mapping(object),
    }
}

/// A DNS-1123 name: lowercase, `-` for anything else, at most 63 characters.
fn object_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    out.truncate(63);
    out.trim_matches('-').to_string()
}

fn labels(plan: &Plan, service: &ServicePlan) -> Mapping {
    let component = match service.kind {
        ServiceKind::Service => "service",
        ServiceKind::Task => "task",
    };
    [
        ("app.kubernetes.io/name", object_name(&service.name)),
        ("app.kubernetes.io/part-of", object_name(&plan.project)),
        ("app.kubernetes.io/component", component.to_string()),
        ("app.kubernetes.io/managed-by", "gorae".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (s(k), s(&v)))
    .collect()
}

/// `apiVersion`, `kind` and `metadata` (name and labels).
fn object(api: &str, kind: &str, name: &str, plan: &Plan, service: &ServicePlan) -> Mapping {
    let mut metadata = Mapping::new();
    metadata.insert(s("name"), s(name));
    metadata.insert(s("labels"), Value::Mapping(labels(plan, service)));
    let mut object = Mapping::new();
    object.insert(s("apiVersion"), s(api));
    object.insert(s("kind"), s(kind));
    object.insert(s("metadata"), Value::Mapping(metadata));
    object
}

fn image_of(
    project: &Project,
    service: &ServicePlan,
    locked: Option<&Lockfile>,
    notes: &mut Vec<String>,
) -> String {
    match &service.image {
        ImagePlan::Pull { reference, .. } => {
            super::pinned(project, &service.name, reference, locked)
        }
        ImagePlan::Build(build) => {
            let image = build
                .options
                .tag
                .clone()
                .unwrap_or_else(|| format!("gorae-{}-{}:latest", project.name, service.name));
            notes.push(format!(
                "`{}` is built by gorae; build and push it where the cluster pulls from (docker build -t {image} {} && docker push {image}), or set `image:` beside `build:`",
                service.name,
                crate::config::show_relative(&build.context, &project.dir)
            ));
            image
        }
    }
}

fn pod_spec(
    plan: &Plan,
    service: &ServicePlan,
    name: &str,
    image: &str,
    secret_vars: &[&String],
    notes: &mut Vec<String>,
) -> Mapping {
    let spec = &service.spec;
    let mut container = Mapping::new();
    container.insert(s("name"), s(name));
    container.insert(s("image"), s(image));
    // Docker's ENTRYPOINT is Kubernetes' command, and CMD its args.
    if let Some(entrypoint) = &spec.run.entrypoint {
        container.insert(s("command"), list(entrypoint));
    }
    if let Some(command) = &spec.command {
        container.insert(s("args"), list(command));
    }
    if let Some(dir) = &spec.run.working_dir {
        container.insert(s("workingDir"), s(dir));
    }
    if !spec.env.is_empty() {
        // The env secrets that values are built from come first: Kubernetes fills
        // `$(NAME)` only from variables listed before it.
        let mut read_at_up: Vec<(String, String)> = Vec::new();
        for value in spec.env.values() {
            for found in placeholders_in(value) {
                if !read_at_up.contains(&found) && *value != placeholder(&found.0, &found.1) {
                    read_at_up.push(found);
                }
            }
        }
        let external = format!("{}-external", object_name(&plan.project));
        let mut env: Vec<Value> = read_at_up
            .iter()
            .map(|(service, variable)| {
                let key = format!("{service}.{variable}");
                env_from_secret(&external_variable(service, variable), &external, &key)
            })
            .collect();
        env.extend(spec.env.iter().map(|(key, value)| {
            if secret_vars.contains(&key) {
                return env_from_secret(key, &format!("{name}-env"), key);
            }
            if let [(service, variable)] = placeholders_in(value).as_slice()
                && *value == placeholder(service, variable)
            {
                return env_from_secret(key, &external, &format!("{service}.{variable}"));
            }
            let mut var = Mapping::new();
            var.insert(s("name"), s(key));
            // Kubernetes reads `$(NAME)` in a value as a variable; `$$(` keeps it text.
            let value = replace_each(&value.replace("$(", "$$("), |service, variable| {
                format!("$({})", external_variable(service, variable))
            });
            var.insert(s("value"), s(&value));
            Value::Mapping(var)
        }));
        container.insert(s("env"), Value::Sequence(env));
    }
    let ports = container_ports(service);
    if !ports.is_empty() {
        let ports: Vec<Value> = ports
            .iter()
            .map(|port| {
                let mut entry = Mapping::new();
                entry.insert(s("containerPort"), Value::Number((*port).into()));
                Value::Mapping(entry)
            })
            .collect();
        container.insert(s("ports"), Value::Sequence(ports));
    }
    if let Some(probe) = service.ready.as_ref().and_then(readiness_probe) {
        container.insert(s("readinessProbe"), Value::Mapping(probe));
    }
    let mut mounts = Vec::new();
    for mount in &spec.mounts {
        match mount {
            Mount::Volume {
                name: volume,
                target,
                ..
            } if is_anonymous(plan, service, volume, target) => {
                notes.push(format!(
                    "`{}` keeps {} in a volume only so a source bind mount does not hide the image's files; the image has them here",
                    service.name,
                    mount.target()
                ));
            }
            Mount::Volume {
                name: volume,
                target,
                read_only,
            } => {
                let mut entry = Mapping::new();
                entry.insert(s("name"), s(&claim_name(plan, volume)));
                entry.insert(s("mountPath"), s(target));
                if *read_only {
                    entry.insert(s("readOnly"), Value::Bool(true));
                }
                mounts.push(Value::Mapping(entry));
            }
            Mount::Bind { target, .. } | Mount::Secret { target, .. }
                if crate::config::is_secret_mount(target) =>
            {
                notes.push(format!(
                    "`{}` gets a secret at {target}; create a Secret (kubectl create secret generic) and mount it there",
                    service.name
                ))
            }
            Mount::Bind { source, target, .. } => notes.push(format!(
                "`{}` mounts {} at {target}; a cluster has no such host path: put the files in the image, a ConfigMap or a Secret",
                service.name,
                crate::config::show_relative(source, std::path::Path::new(&plan.project_dir))
            )),
            Mount::Secret { target, .. } => notes.push(format!(
                "`{}` gets a value at {target}; create a Secret and mount it there",
                service.name
            )),
        }
    }
    if !mounts.is_empty() {
        container.insert(s("volumeMounts"), Value::Sequence(mounts));
    }
    if let Some(user) = &spec.run.user {
        notes.push(format!(
            "`{}` runs as user `{user}`; set securityContext.runAsUser to its numeric id",
            service.name
        ));
    }
    if let Some(signal) = &spec.run.stop_signal {
        notes.push(format!(
            "`{}` stops on {signal}; Kubernetes sends SIGTERM (bake STOPSIGNAL into the image)",
            service.name
        ));
    }
    if !spec.run.extra_hosts.is_empty() {
        notes.push(format!(
            "`{}` has extra_hosts; a cluster has no host-gateway: use hostAliases with real addresses",
            service.name
        ));
    }

    let mut pod = Mapping::new();
    let waits = waits_for(plan, service, notes);
    if !waits.is_empty() {
        pod.insert(s("initContainers"), Value::Sequence(waits));
    }
    pod.insert(
        s("containers"),
        Value::Sequence(vec![Value::Mapping(container)]),
    );
    if service.kind == ServiceKind::Task {
        pod.insert(s("restartPolicy"), s("Never"));
    }
    if let Some(platform) = &spec.run.platform {
        let mut parts = platform.split('/');
        let mut selector = Mapping::new();
        if let Some(os) = parts.next() {
            selector.insert(s("kubernetes.io/os"), s(os));
        }
        if let Some(arch) = parts.next() {
            selector.insert(s("kubernetes.io/arch"), s(arch));
        }
        pod.insert(s("nodeSelector"), Value::Mapping(selector));
    }
    pod
}

/// One init container per dependency with a port: it waits until the dependency's
/// Service takes a connection, which happens only once a pod behind it is ready.
fn waits_for(plan: &Plan, service: &ServicePlan, notes: &mut Vec<String>) -> Vec<Value> {
    let mut waits = Vec::new();
    for dependency in &service.depends_on {
        let Some(dep) = plan.services.iter().find(|s| s.name == *dependency) else {
            continue;
        };
        let port = container_ports(dep).into_iter().next();
        let port = match (dep.kind, port) {
            (ServiceKind::Service, Some(port)) => port,
            (ServiceKind::Task, _) => {
                notes.push(format!(
                    "`{}` waits for the task `{dependency}`, which a pod cannot see finish; apply its Job first and wait for it (kubectl wait --for=condition=complete job/{})",
                    service.name,
                    object_name(dependency)
                ));
                continue;
            }
            (ServiceKind::Service, None) => {
                notes.push(format!(
                    "`{}` waits for `{dependency}`, which has no port to wait on; here it starts without waiting",
                    service.name
                ));
                continue;
            }
        };
        let host = object_name(dependency);
        let mut wait = Mapping::new();
        wait.insert(s("name"), s(&format!("wait-for-{host}")));
        wait.insert(s("image"), s(WAIT_IMAGE));
        wait.insert(
            s("command"),
            list(&[
                "sh".to_string(),
                "-c".to_string(),
                format!("until nc -z {host} {port}; do sleep 1; done"),
            ]),
        );
        waits.push(Value::Mapping(wait));
    }
    waits
}

/// The container ports of a service: its main port and those it publishes.
fn container_ports(service: &ServicePlan) -> Vec<u16> {
    let ports: BTreeSet<u16> = service
        .port
        .into_iter()
        .chain(service.spec.ports.iter().map(|p| p.container_port))
        .collect();
    ports.into_iter().collect()
}

fn readiness_probe(probe: &Probe) -> Option<Mapping> {
    let mut check = Mapping::new();
    match probe {
        Probe::Command { command } => {
            let mut exec = Mapping::new();
            exec.insert(s("command"), list(command));
            check.insert(s("exec"), Value::Mapping(exec));
        }
        Probe::Tcp { port } | Probe::Handshake { port, .. } => {
            let mut tcp = Mapping::new();
            tcp.insert(s("port"), Value::Number((*port).into()));
            check.insert(s("tcpSocket"), Value::Mapping(tcp));
        }
        Probe::Http { port, path } => {
            let mut http = Mapping::new();
            http.insert(s("path"), s(path));
            http.insert(s("port"), Value::Number((*port).into()));
            check.insert(s("httpGet"), Value::Mapping(http));
        }
        Probe::Running { .. } => return None,
    }
    check.insert(s("periodSeconds"), Value::Number(1.into()));
    check.insert(s("failureThreshold"), Value::Number(3.into()));
    Some(check)
}

/// Whether a volume mount is one of the service's anonymous ones (`/app/node_modules`,
/// named after the service and its own target). A template's data volume is not,
/// though an anonymous one at `/data` would have its name.
fn is_anonymous(plan: &Plan, service: &ServicePlan, volume: &str, target: &str) -> bool {
    let named = |short: String| crate::plan::volume_name(&plan.project, &short);
    volume != named(crate::config::data_volume_name(&service.name))
        && volume == named(crate::config::anonymous_volume_name(&service.name, target))
}

/// The name of the claim for an engine volume (`shop_db_data` -> `db-data`).
fn claim_name(plan: &Plan, volume: &str) -> String {
    let short = volume
        .strip_prefix(&format!("{}_", plan.project))
        .unwrap_or(volume);
    object_name(short)
}

/// A Job for a task; a StatefulSet, with a claim per volume, for a service that
/// mounts volumes; else a Deployment.
fn workload(plan: &Plan, service: &ServicePlan, name: &str, pod: Mapping) -> Mapping {
    let mut template = Mapping::new();
    let mut metadata = Mapping::new();
    metadata.insert(s("labels"), Value::Mapping(labels(plan, service)));
    template.insert(s("metadata"), Value::Mapping(metadata));
    template.insert(s("spec"), Value::Mapping(pod));
    let mut spec = Mapping::new();
    if service.kind == ServiceKind::Task {
        spec.insert(s("backoffLimit"), Value::Number(0.into()));
        spec.insert(s("template"), Value::Mapping(template));
        let mut job = object("batch/v1", "Job", name, plan, service);
        job.insert(s("spec"), Value::Mapping(spec));
        return job;
    }
    let mut selector = Mapping::new();
    let mut match_labels = Mapping::new();
    match_labels.insert(s("app.kubernetes.io/name"), s(name));
    match_labels.insert(
        s("app.kubernetes.io/part-of"),
        s(&object_name(&plan.project)),
    );
    selector.insert(s("matchLabels"), Value::Mapping(match_labels));
    spec.insert(s("replicas"), Value::Number(1.into()));
    spec.insert(s("selector"), Value::Mapping(selector));
    let claims: Vec<Value> = service
        .spec
        .mounts
        .iter()
        .filter_map(|mount| match mount {
            Mount::Volume {
                name: volume,
                target,
                ..
            } if !is_anonymous(plan, service, volume, target) => Some(claim(plan, volume)),
            _ => None,
        })
        .collect();
    let kind = if claims.is_empty() {
        "Deployment"
    } else {
        spec.insert(s("serviceName"), s(name));
        "StatefulSet"
    };
    spec.insert(s("template"), Value::Mapping(template));
    if !claims.is_empty() {
        spec.insert(s("volumeClaimTemplates"), Value::Sequence(claims));
    }
    let mut workload = object("apps/v1", kind, name, plan, service);
    workload.insert(s("spec"), Value::Mapping(spec));
    workload
}

fn claim(plan: &Plan, volume: &str) -> Value {
    let mut metadata = Mapping::new();
    metadata.insert(s("name"), s(&claim_name(plan, volume)));
    let mut requests = Mapping::new();
    requests.insert(s("storage"), s(CLAIM_SIZE));
    let mut resources = Mapping::new();
    resources.insert(s("requests"), Value::Mapping(requests));
    let mut spec = Mapping::new();
    spec.insert(s("accessModes"), list(&["ReadWriteOnce".to_string()]));
    spec.insert(s("resources"), Value::Mapping(resources));
    let mut claim = Mapping::new();
    claim.insert(s("metadata"), Value::Mapping(metadata));
    claim.insert(s("spec"), Value::Mapping(spec));
    Value::Mapping(claim)
}

/// A ClusterIP Service named like the service, so the wired addresses (`db:5432`)
/// resolve in the namespace; none for a task or a service without ports.
fn service_object(plan: &Plan, service: &ServicePlan, name: &str) -> Option<Mapping> {
    let ports = container_ports(service);
    if service.kind == ServiceKind::Task || ports.is_empty() {
        return None;
    }
    let mut selector = Mapping::new();
    selector.insert(s("app.kubernetes.io/name"), s(name));
    selector.insert(
        s("app.kubernetes.io/part-of"),
        s(&object_name(&plan.project)),
    );
    let ports: Vec<Value> = ports
        .iter()
        .map(|port| {
            let mut entry = Mapping::new();
            entry.insert(s("name"), s(&format!("port-{port}")));
            entry.insert(s("port"), Value::Number((*port).into()));
            entry.insert(s("targetPort"), Value::Number((*port).into()));
            Value::Mapping(entry)
        })
        .collect();
    let mut spec = Mapping::new();
    spec.insert(s("selector"), Value::Mapping(selector));
    spec.insert(s("ports"), Value::Sequence(ports));
    let mut object = object("v1", "Service", name, plan, service);
    object.insert(s("spec"), Value::Mapping(spec));
    Some(object)
}

fn s(text: &str) -> Value {
    Value::String(text.to_string())
}

fn list(items: &[String]) -> Value {
    Value::Sequence(items.iter().map(|item| s(item)).collect())
}

/// A container variable `name` read from `key` of the Secret `secret`.
fn env_from_secret(name: &str, secret: &str, key: &str) -> Value {
    let mut reference = Mapping::new();
    reference.insert(s("name"), s(secret));
    reference.insert(s("key"), s(key));
    let mut from = Mapping::new();
    from.insert(s("secretKeyRef"), Value::Mapping(reference));
    let mut var = Mapping::new();
    var.insert(s("name"), s(name));
    var.insert(s("valueFrom"), Value::Mapping(from));
    Value::Mapping(var)
}

/// The container variable that holds `variable` of `service`'s env secrets where
/// another value is built from it: `GORAE_SECRET_DB_POSTGRES_PASSWORD`.
fn external_variable(service: &str, variable: &str) -> String {
    format!("GORAE_SECRET_{service}_{variable}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// How to create the Secret that holds the `env` secrets gorae reads at `up`.
fn external_secret_note(project: &Project, plan: &Plan) -> Option<String> {
    let sources: Vec<String> = project
        .services
        .values()
        .flat_map(|service| {
            service.env_secrets.iter().map(|(variable, secret)| {
                let key = format!("{}.{variable}", service.name);
                match secret {
                    EnvSecret::File { path } => format!(
                        "--from-file={key}={}",
                        crate::config::show_relative(path, &project.dir)
                    ),
                    EnvSecret::Command { command } => {
                        format!("--from-literal={key}=\"$({})\"", command.join(" "))
                    }
                }
            })
        })
        .collect();
    (!sources.is_empty()).then(|| {
        format!(
            "values gorae reads at `up` from files or commands are in no manifest; create their Secret first: kubectl create secret generic {}-external {}",
            object_name(&plan.project),
            sources.join(" ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exported() -> (Vec<Manifest>, Vec<String>) {
        let (_dir, project) = crate::export::fixture::shop();
        manifests(&project, &crate::plan::desired(&project), None)
    }

    fn kind_of(manifests: &[Manifest], file: &str) -> String {
        let manifest = manifests
            .iter()
            .find(|m| m.file == file)
            .unwrap_or_else(|| panic!("no {file}"));
        manifest.object["kind"].as_str().expect("kind").to_string()
    }

    #[test]
    fn each_service_becomes_the_workload_its_kind_and_volumes_call_for() {
        let (manifests, _) = exported();
        let files: Vec<&str> = manifests.iter().map(|m| m.file.as_str()).collect();
        assert_eq!(
            files,
            [
                "cache-statefulset.yaml",
                "cache-service.yaml",
                "db-env-secret.yaml",
                "db-statefulset.yaml",
                "db-service.yaml",
                "side-deployment.yaml",
                "migrate-env-secret.yaml",
                "migrate-job.yaml",
                "api-statefulset.yaml",
                "api-service.yaml",
            ]
        );
        assert_eq!(kind_of(&manifests, "migrate-job.yaml"), "Job");
        assert_eq!(kind_of(&manifests, "side-deployment.yaml"), "Deployment");
        let api = &manifests[8].object;
        // The anonymous node_modules volume is the image's own files: no claim.
        let claims: Vec<&str> = api["spec"]["volumeClaimTemplates"]
            .as_sequence()
            .expect("claims")
            .iter()
            .map(|c| c["metadata"]["name"].as_str().expect("name"))
            .collect();
        assert_eq!(claims, ["cache"]);
        let pod = &api["spec"]["template"]["spec"];
        // Waits for the services it depends on, at their Service's port.
        let waits: Vec<&str> = pod["initContainers"]
            .as_sequence()
            .expect("init containers")
            .iter()
            .map(|c| c["command"][2].as_str().expect("command"))
            .collect();
        assert_eq!(waits, ["until nc -z cache 6379; do sleep 1; done"]);
        let container = &pod["containers"][0];
        assert_eq!(container["args"][0].as_str(), None);
        // gorae's probe of a published port, from inside the cluster.
        assert_eq!(
            container["readinessProbe"]["tcpSocket"]["port"].as_u64(),
            Some(80)
        );
    }

    #[test]
    fn env_secrets_come_from_a_secret_the_user_creates_never_from_a_file() {
        let project = crate::export::fixture::vault();
        let (manifests, notes) = manifests(&project, &crate::plan::desired(&project), None);
        let text = single_file(&manifests, &notes);
        assert!(!text.contains("gorae-secret"), "{text}");
        assert!(
            notes.iter().any(|note| note.contains(
                "kubectl create secret generic vault-external --from-literal=db.POSTGRES_PASSWORD=\"$(pass show db)\""
            )),
            "{notes:?}"
        );
        let env_of = |workload: &str| {
            let found = manifests
                .iter()
                .find(|m| {
                    m.object["metadata"]["name"] == s(workload) && m.object["kind"] != s("Service")
                })
                .expect(workload);
            found.object["spec"]["template"]["spec"]["containers"][0]["env"].clone()
        };
        let db = env_of("db");
        let password = db
            .as_sequence()
            .and_then(|vars| vars.iter().find(|v| v["name"] == s("POSTGRES_PASSWORD")))
            .expect("POSTGRES_PASSWORD");
        assert_eq!(
            password["valueFrom"]["secretKeyRef"]["name"],
            s("vault-external")
        );
        assert_eq!(
            password["valueFrom"]["secretKeyRef"]["key"],
            s("db.POSTGRES_PASSWORD")
        );
        let web = env_of("web");
        let vars = web.as_sequence().expect("env");
        assert_eq!(vars[0]["name"], s("GORAE_SECRET_DB_POSTGRES_PASSWORD"));
        let url = vars
            .iter()
            .find(|v| v["name"] == s("DATABASE_URL"))
            .and_then(|v| v["value"].as_str())
            .expect("DATABASE_URL");
        assert!(
            url.contains(":$(GORAE_SECRET_DB_POSTGRES_PASSWORD)@db:5432/"),
            "{url}"
        );
    }

    #[test]
    fn a_value_that_looks_like_a_kubernetes_variable_stays_text() {
        let project = crate::config::load_str(
            "name: x\nservices:\n  app: { image: \"app:1\", env: { CMD: \"echo $(date)\" } }\n",
            std::path::Path::new("/p/gorae.yaml"),
            &|_| None,
        )
        .expect("valid project");
        let (manifests, _) = manifests(&project, &crate::plan::desired(&project), None);
        let env = &manifests[0].object["spec"]["template"]["spec"]["containers"][0]["env"];
        assert_eq!(env[0]["value"], s("echo $$(date)"), "{env:?}");
    }

    #[test]
    fn passwords_go_into_a_secret_that_the_container_reads_by_reference() {
        let (manifests, _) = exported();
        let secret = &manifests[2].object;
        assert_eq!(secret["kind"], s("Secret"));
        assert_eq!(secret["stringData"]["POSTGRES_PASSWORD"], s("postgres"));
        let db = &manifests[3].object["spec"]["template"]["spec"]["containers"][0];
        let env = db["env"].as_sequence().expect("env");
        let password = env
            .iter()
            .find(|v| v["name"] == s("POSTGRES_PASSWORD"))
            .expect("POSTGRES_PASSWORD");
        assert_eq!(password["value"], Value::Null);
        assert_eq!(password["valueFrom"]["secretKeyRef"]["name"], s("db-env"));
        let user = env
            .iter()
            .find(|v| v["name"] == s("POSTGRES_USER"))
            .expect("user");
        assert_eq!(user["value"], s("postgres"));
    }

    #[test]
    fn the_whole_export_is_pinned() {
        let (manifests, notes) = exported();
        let text = single_file(&manifests, &notes);
        assert!(!text.contains("hunter2"), "{text}");
        insta::assert_snapshot!("kubernetes_shop", text);
        insta::assert_snapshot!(
            "kubernetes_shop_kustomization",
            kustomization(&manifests, &notes)
        );
    }
}
