//! `gorae export swarm`: the Compose file for `docker stack deploy` on a Docker
//! Swarm (the engine's own cluster mode). It is the Compose export with what Swarm
//! reads differently rewritten, and each difference said in a comment at the top:
//!
//! - Swarm cannot build: each built service names the image `gorae up` built here.
//! - `depends_on` is a plain list, which Swarm ignores: services start at once and
//!   are restarted until what they need answers.
//! - Ports are published straight on the node (`mode: host`), on every interface:
//!   Swarm cannot bind 127.0.0.1, and its routing mesh is not needed on one node.
//! - A task (`kind: task`) is restarted only when it fails.
//! - Services find each other by DNS (`endpoint_mode: dnsrr`), not through a virtual
//!   IP: a virtual IP needs the kernel's IPVS, which many machines (and containers
//!   running an engine) lack, and one replica per service gains nothing from it.

use std::collections::BTreeMap;

use serde_yaml::{Mapping, Value};

use super::compose::{comments, document, text, yaml};
use crate::config::{Project, ServiceKind};
use crate::lock::Lockfile;
use crate::plan::{ImagePlan, Plan};

/// The file for `docker stack deploy`; `built` gives the image each built service's
/// build made on this engine (its content tag).
pub fn swarm_file(
    project: &Project,
    plan: &Plan,
    locked: Option<&Lockfile>,
    built: &BTreeMap<String, String>,
) -> String {
    let (mut doc, not_exported) = document(project, plan, locked);
    // The stack's name is given to `docker stack deploy`; its schema has no `name`.
    doc.remove(text("name"));
    let mut differences = Vec::new();
    if let Some(Value::Mapping(services)) = doc.get_mut(text("services")) {
        for service in &plan.services {
            let Some(Value::Mapping(entry)) = services.get_mut(text(&service.name)) else {
                continue;
            };
            if let ImagePlan::Build(_) = service.image {
                entry.remove(text("build"));
                if let Some(image) = built.get(&service.name) {
                    entry.insert(text("image"), text(image));
                }
                differences.push(format!(
                    "`{}` runs the image `gorae up` built on this machine; on a swarm of several nodes, push it to a registry they all reach",
                    service.name
                ));
            }
            if !service.depends_on.is_empty() {
                entry.insert(text("depends_on"), list(&service.depends_on));
                differences.push(format!(
                    "`{}` waits for {} under gorae and Compose; Swarm ignores depends_on, starts it at once and restarts it until it works",
                    service.name,
                    service
                        .depends_on
                        .iter()
                        .map(|name| format!("`{name}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !service.spec.ports.is_empty() {
                let ports = service.spec.ports.iter().map(|port| {
                    let mut entry = Mapping::new();
                    entry.insert(text("target"), Value::from(port.container_port));
                    entry.insert(text("published"), Value::from(port.host_port));
                    entry.insert(text("protocol"), text(port.protocol.as_str()));
                    entry.insert(text("mode"), text("host"));
                    Value::Mapping(entry)
                });
                entry.insert(text("ports"), Value::Sequence(ports.collect()));
                differences.push(format!(
                    "`{}` publishes its ports on every interface of the node: Swarm cannot bind 127.0.0.1",
                    service.name
                ));
            }
            let mut deploy = Mapping::new();
            deploy.insert(text("endpoint_mode"), text("dnsrr"));
            if service.kind == ServiceKind::Task {
                entry.remove(text("restart"));
                let mut policy = Mapping::new();
                policy.insert(text("condition"), text("on-failure"));
                deploy.insert(text("restart_policy"), Value::Mapping(policy));
            }
            entry.insert(text("deploy"), Value::Mapping(deploy));
        }
    }
    let mut out = String::from(
        "# Written by `gorae export swarm` from gorae.yaml: the environment for\n\
         # `docker stack deploy -c FILE --resolve-image never STACK` on a Docker Swarm.\n\
         # Write it again after changing gorae.yaml. Where Swarm differs:\n\
         # swarm: services find each other by DNS (endpoint_mode: dnsrr), not a\n\
         # virtual IP, which needs the kernel's IPVS.\n",
    );
    for line in &differences {
        out.push_str(&format!("# swarm: {line}\n"));
    }
    out.push_str(&comments(project, &not_exported));
    out.push_str(&yaml(&doc));
    out
}

fn list(items: &[String]) -> Value {
    Value::Sequence(items.iter().map(|item| text(item)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_swarm_reads_differently_is_rewritten_and_said() {
        let (_dir, project) = crate::export::fixture::shop();
        let built = BTreeMap::from([("api".to_string(), "gorae-shop-api:0123".to_string())]);
        let file = swarm_file(&project, &crate::plan::desired(&project), None, &built);
        let doc: serde_yaml::Value = serde_yaml::from_str(&file).expect("valid YAML");
        let yaml = |text: &str| serde_yaml::from_str::<serde_yaml::Value>(text).expect(text);
        let api = &doc["services"]["api"];
        assert_eq!(doc["name"], serde_yaml::Value::Null);
        assert_eq!(api["build"], serde_yaml::Value::Null);
        assert_eq!(api["image"], yaml("gorae-shop-api:0123"));
        assert_eq!(api["depends_on"], yaml("[cache, migrate, side]"));
        assert_eq!(
            api["ports"],
            yaml("[{target: 80, published: 8080, protocol: tcp, mode: host}]")
        );
        let migrate = &doc["services"]["migrate"];
        assert_eq!(migrate["restart"], serde_yaml::Value::Null);
        assert_eq!(
            migrate["deploy"],
            yaml("{endpoint_mode: dnsrr, restart_policy: {condition: on-failure}}")
        );
        for said in [
            "# swarm: `api` runs the image `gorae up` built on this machine",
            "# swarm: `api` waits for `cache`, `migrate`, `side` under gorae and Compose; Swarm ignores depends_on",
            "# swarm: `api` publishes its ports on every interface of the node",
        ] {
            assert!(file.contains(said), "{said}\n{file}");
        }
    }
}
