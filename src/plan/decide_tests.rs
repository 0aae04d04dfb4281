use std::collections::HashMap;
use std::path::Path;

use super::*;
use crate::config::load_str;
use crate::plan::{desired, fields};

const SHOP: &str = "name: shop
services:
  db: { template: postgres }
  web:
    image: node:20
    depends_on: [db]
    env: { PORT: \"3000\", MODE: dev }
  seed: { image: node:20, kind: task, depends_on: [db] }
";

fn plan_of(yaml: &str) -> Plan {
    let no_env = |_: &str| None;
    let project =
        load_str(yaml, Path::new("/projects/shop/gorae.yaml"), &no_env).expect("valid project");
    desired(&project)
}

/// Every service's image present with id `sha256:<service>`.
fn present(plan: &Plan) -> HashMap<String, ImageFound> {
    plan.services
        .iter()
        .map(|s| {
            let reference = match &s.image {
                crate::plan::ImagePlan::Pull { reference, .. } => reference.clone(),
                crate::plan::ImagePlan::Build(build) => format!("{}:t", build.repository),
            };
            (
                s.name.clone(),
                ImageFound::Present {
                    reference,
                    id: format!("sha256:{}", s.name),
                },
            )
        })
        .collect()
}

/// The container `up` creates for `service` from `plan` on image `image_id`, in
/// state `state` with status line `status`.
fn created(
    plan: &Plan,
    service: &str,
    image_id: &str,
    state: &str,
    status: &str,
) -> ExistingContainer {
    let mut observed = Observed {
        images: present(plan),
        ..Observed::default()
    };
    observed.images.insert(
        service.to_string(),
        ImageFound::Present {
            reference: "img".into(),
            id: image_id.into(),
        },
    );
    let decision = decide(plan, &observed, None, &[]);
    let step = decision
        .steps
        .iter()
        .find(|s| s.service == service)
        .expect("planned");
    let spec = step.spec_for("img", image_id);
    ExistingContainer {
        id: format!("{service}-id"),
        name: spec.name.clone(),
        service: service.into(),
        kind: spec.labels[labels::KIND].clone(),
        project_dir: "/projects/shop".into(),
        config_hash: spec.labels[labels::CONFIG_HASH].clone(),
        fields: spec.labels[labels::FIELDS].clone(),
        image_id: image_id.into(),
        state: state.into(),
        status: status.into(),
        created: 0,
        ports: Vec::new(),
        probe_ports: Vec::new(),
        addresses: Default::default(),
    }
}

fn with_containers(plan: &Plan, containers: Vec<ExistingContainer>) -> Observed {
    Observed {
        containers: containers
            .into_iter()
            .map(|c| (c.service.clone(), c))
            .collect(),
        images: present(plan),
        ..Observed::default()
    }
}

fn step_of<'a>(decision: &'a Decision, service: &str) -> &'a Step {
    decision
        .steps
        .iter()
        .find(|s| s.service == service)
        .expect("a step for the service")
}

fn container_of(decision: &Decision, service: &str) -> ContainerStep {
    step_of(decision, service).container.clone()
}

#[test]
fn each_container_state_gives_its_step() {
    let plan = plan_of(SHOP);
    let id = |s: &str| format!("{s}-id");
    let cases = [
        (
            "web",
            "running",
            "Up 1 minute",
            ContainerStep::Keep { id: id("web") },
        ),
        (
            "web",
            "exited",
            "Exited (0) 1 minute ago",
            ContainerStep::Start { id: id("web") },
        ),
        (
            "web",
            "created",
            "Created",
            ContainerStep::Start { id: id("web") },
        ),
        (
            "seed",
            "exited",
            "Exited (0) 5 seconds ago",
            ContainerStep::Done { id: id("seed") },
        ),
        (
            "seed",
            "running",
            "Up 2 seconds",
            ContainerStep::Keep { id: id("seed") },
        ),
        (
            "seed",
            "exited",
            "Exited (2) 5 seconds ago",
            ContainerStep::Recreate {
                id: id("seed"),
                reasons: vec!["its last run failed".into()],
            },
        ),
    ];
    for (service, state, status, expected) in cases {
        let container = created(&plan, service, &format!("sha256:{service}"), state, status);
        let decision = decide(&plan, &with_containers(&plan, vec![container]), None, &[]);
        assert_eq!(
            container_of(&decision, service),
            expected,
            "{service} {status}"
        );
    }
}

#[test]
fn a_service_without_a_container_is_created_in_dependency_order() {
    let plan = plan_of(SHOP);
    let decision = decide(&plan, &with_containers(&plan, Vec::new()), None, &[]);
    let order: Vec<&str> = decision.steps.iter().map(|s| s.service.as_str()).collect();
    assert_eq!(order, ["db", "seed", "web"]);
    for step in &decision.steps {
        assert_eq!(step.container, ContainerStep::Create, "{}", step.service);
    }
    assert!(decision.removals.is_empty());
}

#[test]
fn a_recreation_names_what_changed_and_never_a_value() {
    let before = plan_of(SHOP);
    let container = created(&before, "web", "sha256:web", "running", "Up");
    let cases = [
        (
            SHOP.replace("PORT: \"3000\"", "PORT: \"4000\""),
            vec!["env PORT changed"],
        ),
        (SHOP.replace(", MODE: dev", ""), vec!["env MODE removed"]),
        (
            SHOP.replace("MODE: dev", "MODE: prod, DEBUG: \"1\""),
            vec!["env MODE changed", "env DEBUG added"],
        ),
        (
            SHOP.replace(
                "depends_on: [db]\n    env",
                "depends_on: [db]\n    command: [node, a.js]\n    env",
            ),
            vec!["command changed"],
        ),
    ];
    for (yaml, expected) in cases {
        let after = plan_of(&yaml);
        let decision = decide(
            &after,
            &with_containers(&after, vec![container.clone()]),
            None,
            &[],
        );
        assert_eq!(
            container_of(&decision, "web"),
            ContainerStep::Recreate {
                id: "web-id".into(),
                reasons: expected.iter().map(ToString::to_string).collect(),
            },
            "{yaml}"
        );
        let json = serde_json::to_string(&decision).expect("serialises");
        assert!(!json.contains("4000") && !json.contains("prod"), "{json}");
    }
}

#[test]
fn another_image_id_recreates_and_says_so() {
    let plan = plan_of(SHOP);
    let container = created(&plan, "web", "sha256:old", "running", "Up");
    let decision = decide(&plan, &with_containers(&plan, vec![container]), None, &[]);
    assert_eq!(
        container_of(&decision, "web"),
        ContainerStep::Recreate {
            id: "web-id".into(),
            reasons: vec!["image changed".into()],
        }
    );
}

#[test]
fn a_container_from_before_the_fields_label_says_its_configuration_changed() {
    let plan = plan_of(SHOP);
    let mut container = created(&plan, "web", "sha256:web", "running", "Up");
    container.fields.clear();
    container.config_hash = "0123456789abcdef".into();
    let decision = decide(&plan, &with_containers(&plan, vec![container]), None, &[]);
    assert_eq!(
        container_of(&decision, "web"),
        ContainerStep::Recreate {
            id: "web-id".into(),
            reasons: vec!["configuration changed".into()],
        }
    );
}

/// A missing image the lock pins, by id or by registry digest, says the lock names
/// it; one by tag only that it is not here.
#[test]
fn a_missing_locked_image_says_the_lock_names_it() {
    let plan = plan_of(SHOP);
    for (reference, reason) in [
        (
            "sha256:0123abcd",
            "the image gorae.lock names is not on this machine",
        ),
        (
            "node@sha256:0123abcd",
            "the image gorae.lock names is not on this machine",
        ),
        ("node:20", "not on this machine"),
    ] {
        let mut observed = with_containers(&plan, vec![]);
        observed.images.insert(
            "web".into(),
            ImageFound::Absent {
                reference: reference.into(),
            },
        );
        let decision = decide(&plan, &observed, None, &[]);
        assert_eq!(
            step_of(&decision, "web").image,
            ImageStep::Pull {
                reference: reference.into(),
                reason: reason.into()
            }
        );
    }
}

#[test]
fn an_image_still_to_come_keeps_the_container_only_if_it_is_the_same() {
    let plan = plan_of(SHOP);
    let container = created(&plan, "web", "sha256:web", "running", "Up");
    let mut observed = with_containers(&plan, vec![container]);
    observed.images.insert(
        "web".into(),
        ImageFound::Absent {
            reference: "node:20".into(),
        },
    );
    let decision = decide(&plan, &observed, None, &[]);
    let step = step_of(&decision, "web");
    assert_eq!(
        step.image,
        ImageStep::Pull {
            reference: "node:20".into(),
            reason: "not on this machine".into()
        }
    );
    let keep = ContainerStep::Keep {
        id: "web-id".into(),
    };
    assert_eq!(
        step.container,
        ContainerStep::KeepIfSameImage {
            id: "web-id".into(),
            image_id: "sha256:web".into(),
            then: Box::new(keep.clone()),
        }
    );
    assert_eq!(step.settle("sha256:web"), keep);
    assert_eq!(
        step.settle("sha256:pulled"),
        ContainerStep::Recreate {
            id: "web-id".into(),
            reasons: vec!["new image".into()],
        }
    );
    // A changed configuration re-creates whatever the image turns out to be.
    let changed = plan_of(&SHOP.replace("MODE: dev", "MODE: prod"));
    let mut observed = with_containers(
        &changed,
        vec![created(&plan, "web", "sha256:web", "running", "Up")],
    );
    observed.images.insert(
        "web".into(),
        ImageFound::Build {
            tag: None,
            reason: "base image node:20 is not on this machine".into(),
        },
    );
    let decision = decide(&changed, &observed, None, &[]);
    let step = step_of(&decision, "web");
    let expected = ContainerStep::Recreate {
        id: "web-id".into(),
        reasons: vec!["env MODE changed".into()],
    };
    assert_eq!(step.container, expected);
    assert_eq!(step.settle("sha256:web"), expected);
}

#[test]
fn settling_after_a_build_says_the_image_was_rebuilt() {
    let plan = plan_of(SHOP);
    let mut observed = with_containers(
        &plan,
        vec![created(
            &plan,
            "web",
            "sha256:web",
            "exited",
            "Exited (0) 1 second ago",
        )],
    );
    observed.images.insert(
        "web".into(),
        ImageFound::Build {
            tag: Some("gorae-shop:abc".into()),
            reason: "server.js changed".into(),
        },
    );
    let step = step_of(&decide(&plan, &observed, None, &[]), "web").clone();
    assert_eq!(
        step.settle("sha256:web"),
        ContainerStep::Start {
            id: "web-id".into()
        }
    );
    assert_eq!(
        step.settle("sha256:new"),
        ContainerStep::Recreate {
            id: "web-id".into(),
            reasons: vec!["image rebuilt".into()],
        }
    );
}

#[test]
fn asking_to_run_again_recreates_even_an_up_to_date_task() {
    let plan = plan_of(SHOP);
    let container = created(
        &plan,
        "seed",
        "sha256:seed",
        "exited",
        "Exited (0) 1 second ago",
    );
    let observed = with_containers(&plan, vec![container]);
    let rerun = ["seed".to_string()];
    let decision = decide(&plan, &observed, Some(&rerun), &rerun);
    assert_eq!(
        container_of(&decision, "seed"),
        ContainerStep::Recreate {
            id: "seed-id".into(),
            reasons: vec!["asked to run again".into()],
        }
    );
    let order: Vec<&str> = decision.steps.iter().map(|s| s.service.as_str()).collect();
    assert_eq!(order, ["db", "seed"]);
}

#[test]
fn a_task_on_inputs_ignores_the_image_id_and_names_changed_inputs() {
    let plan = plan_of(SHOP);
    let mut observed = with_containers(&plan, Vec::new());
    observed
        .task_inputs
        .insert("seed".into(), "inputs-1".into());
    let step = step_of(&decide(&plan, &observed, None, &[]), "seed").clone();
    let spec = step.spec_for("img", "sha256:one");
    let mut container = created(
        &plan,
        "seed",
        "sha256:one",
        "exited",
        "Exited (0) 1 second ago",
    );
    container.config_hash = spec.labels[labels::CONFIG_HASH].clone();
    container.fields = spec.labels[labels::FIELDS].clone();
    // Another image id, the same inputs: done.
    let mut observed = with_containers(&plan, vec![container.clone()]);
    observed
        .task_inputs
        .insert("seed".into(), "inputs-1".into());
    assert_eq!(
        container_of(&decide(&plan, &observed, None, &[]), "seed"),
        ContainerStep::Done {
            id: "seed-id".into()
        }
    );
    // Other inputs: it runs again, and says why.
    observed
        .task_inputs
        .insert("seed".into(), "inputs-2".into());
    assert_eq!(
        container_of(&decide(&plan, &observed, None, &[]), "seed"),
        ContainerStep::Recreate {
            id: "seed-id".into(),
            reasons: vec!["inputs changed".into()],
        }
    );
}

#[test]
fn orphans_go_only_when_every_service_is_brought_up() {
    let plan = plan_of(SHOP);
    let mut gone = created(&plan, "web", "sha256:web", "running", "Up");
    gone.service = "old".into();
    gone.name = "shop-old".into();
    gone.id = "old-id".into();
    let mut duplicate = created(&plan, "db", "sha256:db", "running", "Up");
    duplicate.id = "dup-id".into();
    duplicate.name = "shop-db-2".into();
    let observed = Observed {
        orphans: vec![gone, duplicate],
        ..with_containers(&plan, Vec::new())
    };
    let decision = decide(&plan, &observed, None, &[]);
    assert_eq!(
        decision.removals,
        vec![
            Removal {
                service: "old".into(),
                container: "shop-old".into(),
                id: "old-id".into(),
                reason: "no longer in gorae.yaml".into(),
            },
            Removal {
                service: "db".into(),
                container: "shop-db-2".into(),
                id: "dup-id".into(),
                reason: "a second container of the service".into(),
            },
        ]
    );
    let only = ["web".to_string()];
    assert!(
        decide(&plan, &observed, Some(&only), &[])
            .removals
            .is_empty()
    );
}

#[test]
fn a_kept_service_is_checked_on_its_port_at_its_network_address() {
    let plan = plan_of(SHOP);
    let mut container = created(&plan, "db", "sha256:db", "running", "Up");
    container
        .addresses
        .insert("shop_default".into(), "172.18.0.2".into());
    // Published for the probe alone on an engine whose networks are not routable.
    container.probe_ports = vec![("127.0.0.1".into(), 49153, 5432)];
    let decision = decide(&plan, &with_containers(&plan, vec![container]), None, &[]);
    let step = step_of(&decision, "db");
    assert_eq!(step.quick_probe, Some(Probe::Tcp { port: 5432 }));
    assert_eq!(step.address.ip.as_deref(), Some("172.18.0.2"));
    assert_eq!(
        step.address.published,
        [("127.0.0.1".to_string(), 49153, 5432)]
    );
}

#[test]
fn the_spec_carries_the_hash_the_next_decision_compares() {
    let plan = plan_of(SHOP);
    let decision = decide(&plan, &with_containers(&plan, Vec::new()), None, &[]);
    let spec = step_of(&decision, "web").spec_for("node:20", "sha256:web");
    assert_eq!(spec.image, "node:20");
    let parts: HashMap<String, String> =
        serde_json::from_str(&spec.labels[labels::FIELDS]).expect("json label");
    assert!(parts.contains_key("env.PORT") && parts.contains_key("image"));
    assert_eq!(
        parts,
        fields::digests(&spec, "sha256:web").into_iter().collect()
    );
    assert!(!spec.labels[labels::FIELDS].contains("3000"));
}

/// How the process runs is a field of its own only once something of it is set, so
/// a container labelled before those keys existed names no change.
#[test]
fn process_options_are_a_field_only_when_set() {
    let plan = plan_of(SHOP);
    let web = plan.services.iter().find(|s| s.name == "web").expect("web");
    assert!(!fields::digests(&web.spec, "sha256:web").contains_key("process"));
    let mut spec = web.spec.clone();
    spec.run.stop_signal = Some("SIGINT".into());
    let digests = fields::digests(&spec, "sha256:web");
    assert!(digests.contains_key("process"), "{digests:?}");
}

#[test]
fn through_a_port_proxy_a_kept_service_is_checked_by_its_own_probe_unless_it_is_a_connect() {
    let plan = plan_of(
        "name: shop
services:
  db: { template: postgres }
  api: { image: node:20, ports: [\"3000\"], ready: { tcp: 3000 } }
",
    );
    let running = vec![
        created(&plan, "db", "sha256:db", "running", "Up"),
        created(&plan, "api", "sha256:api", "running", "Up"),
    ];
    let own = plan
        .services
        .iter()
        .find(|s| s.name == "db")
        .and_then(|s| s.ready.clone());
    assert!(matches!(own, Some(Probe::Command { .. })), "{own:?}");

    let mut observed = with_containers(&plan, running);
    let direct = decide(&plan, &observed, None, &[]);
    assert_eq!(
        step_of(&direct, "db").quick_probe,
        Some(Probe::Tcp { port: 5432 })
    );

    observed.probes_through_loopback = true;
    let proxied = decide(&plan, &observed, None, &[]);
    assert_eq!(step_of(&proxied, "db").quick_probe, own);
    // A connect is what its own probe is anyway.
    assert_eq!(
        step_of(&proxied, "api").quick_probe,
        Some(Probe::Tcp { port: 3000 })
    );
}
