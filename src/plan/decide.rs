//! What `up` will do, decided with no I/O from the desired state and what
//! [`crate::observe`] found: every action in order, each with its reason. `gorae plan`
//! prints this decision, and `apply` carries it out.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{Plan, ServicePlan, config_hash, fields, selection, task_hash};
use crate::config::{Probe, ServiceKind};
use crate::engine::{ContainerAddress, ContainerSpec, ExistingContainer, labels};
use crate::observe::{ImageFound, Observed};

/// The full, ordered set of actions of one `up`.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    /// Containers no planned service owns, removed before anything starts.
    pub removals: Vec<Removal>,
    /// The services brought up, dependencies first.
    pub steps: Vec<Step>,
}

/// A container that goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Removal {
    pub service: String,
    pub container: String,
    #[serde(skip)]
    pub id: String,
    pub reason: String,
}

/// One service: how its image is had and what happens to its container.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub service: String,
    pub kind: ServiceKind,
    pub image: ImageStep,
    pub container: ContainerStep,
    pub depends_on: Vec<String>,
    /// The check that tells a kept, running service still answers: a connect to its
    /// port when it has one (unless a port proxy is in the way), else its probe.
    #[serde(skip)]
    pub quick_probe: Option<Probe>,
    /// Where that check finds the running container.
    #[serde(skip)]
    pub address: ContainerAddress,
    /// The container to create, without its image and hash labels (they are known
    /// once the image is: see [`Step::spec_for`]).
    #[serde(skip)]
    spec: ContainerSpec,
    /// The digest of a task's inputs, which stands for its image in its hash.
    #[serde(skip)]
    task_inputs: Option<String>,
}

/// How a service's image is had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ImageStep {
    /// On this machine already.
    Present {
        reference: String,
        id: String,
    },
    Pull {
        reference: String,
        reason: String,
    },
    /// Built from the project; `tag` is unknown until missing base images are pulled.
    Build {
        tag: Option<String>,
        reason: String,
    },
}

/// What happens to a service's container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ContainerStep {
    /// Up to date and running (a task still running is waited for).
    Keep {
        id: String,
    },
    /// A task that already succeeded with these inputs: nothing runs.
    Done {
        id: String,
    },
    /// Up to date but stopped: the same container starts again.
    Start {
        id: String,
    },
    Create,
    Recreate {
        id: String,
        reasons: Vec<String>,
    },
    /// Nothing changed but the image may: the pull or build decides. The same image
    /// gives `then`; another one re-creates the container.
    KeepIfSameImage {
        id: String,
        image_id: String,
        then: Box<ContainerStep>,
    },
}

impl Step {
    /// The container step once the image is known: a [`ContainerStep::KeepIfSameImage`]
    /// becomes what it said, anything else stays.
    pub fn settle(&self, image_id: &str) -> ContainerStep {
        match &self.container {
            ContainerStep::KeepIfSameImage {
                image_id: old,
                then,
                ..
            } if old == image_id => (**then).clone(),
            ContainerStep::KeepIfSameImage { id, .. } => ContainerStep::Recreate {
                id: id.clone(),
                reasons: vec![match self.image {
                    ImageStep::Build { .. } => "image rebuilt".to_string(),
                    _ => "new image".to_string(),
                }],
            },
            other => other.clone(),
        }
    }

    /// The exact container to create from image `reference` (content id `image_id`):
    /// with its configuration hash and the digest of each part, for the next `up`.
    pub fn spec_for(&self, reference: &str, image_id: &str) -> ContainerSpec {
        let mut spec = self.spec.clone();
        spec.image = reference.to_string();
        let (hash, parts) = hash_and_parts(&spec, image_id, self.task_inputs.as_deref());
        spec.labels.insert(labels::CONFIG_HASH.to_string(), hash);
        spec.labels
            .insert(labels::FIELDS.to_string(), fields::label(&parts));
        spec
    }

    /// The container as `up` would create it, with the image reference when known
    /// (for `gorae plan --docker`).
    pub fn planned_spec(&self) -> ContainerSpec {
        let mut spec = self.spec.clone();
        spec.image = match &self.image {
            ImageStep::Present { reference, .. } | ImageStep::Pull { reference, .. } => {
                reference.clone()
            }
            ImageStep::Build { tag, .. } => tag.clone().unwrap_or_default(),
        };
        spec
    }
}

/// The hash that decides re-creation and the digest of each part. A task built from
/// the project is hashed on its inputs instead of its image, which changes with any
/// file of the build context.
fn hash_and_parts(
    spec: &ContainerSpec,
    image_id: &str,
    task_inputs: Option<&str>,
) -> (String, std::collections::BTreeMap<String, String>) {
    match task_inputs {
        Some(inputs) => {
            let mut bare = spec.clone();
            bare.image.clear();
            let stands_for_image = format!("task-inputs:{inputs}");
            (
                task_hash(&bare, inputs),
                fields::digests(&bare, &stands_for_image),
            )
        }
        None => (config_hash(spec, image_id), fields::digests(spec, image_id)),
    }
}

/// Decides every action of one `up`. `only`: bring up those services and what they
/// depend on, and remove nothing; `rerun`: tasks that run again whatever their last
/// outcome.
pub fn decide(
    plan: &Plan,
    observed: &Observed,
    only: Option<&[String]>,
    rerun: &[String],
) -> Decision {
    let selected: BTreeSet<String> = selection(plan, only);
    let removals = if only.is_some() {
        // Bringing up some services leaves every other container alone.
        Vec::new()
    } else {
        observed
            .orphans
            .iter()
            .map(|orphan| Removal {
                service: orphan.service.clone(),
                container: orphan.name.clone(),
                id: orphan.id.clone(),
                reason: if plan.services.iter().any(|s| s.name == orphan.service) {
                    "a second container of the service".to_string()
                } else {
                    "no longer in gorae.yaml".to_string()
                },
            })
            .collect()
    };
    let steps = plan
        .services
        .iter()
        .filter(|service| selected.contains(&service.name))
        .map(|service| step(plan, service, observed, rerun.contains(&service.name)))
        .collect();
    Decision { removals, steps }
}

fn step(plan: &Plan, service: &ServicePlan, observed: &Observed, rerun: bool) -> Step {
    let image = match observed.images.get(&service.name) {
        Some(ImageFound::Present { reference, id }) => ImageStep::Present {
            reference: reference.clone(),
            id: id.clone(),
        },
        Some(ImageFound::Absent { reference }) => ImageStep::Pull {
            reference: reference.clone(),
            reason: if reference.starts_with("sha256:") || reference.contains("@sha256:") {
                "the image gorae.lock names is not on this machine".to_string()
            } else {
                "not on this machine".to_string()
            },
        },
        Some(ImageFound::Build { tag, reason }) => ImageStep::Build {
            tag: tag.clone(),
            reason: reason.clone(),
        },
        // Observe looks at every selected service; a missing entry is a pull to find out.
        None => ImageStep::Pull {
            reference: String::new(),
            reason: "not looked at".to_string(),
        },
    };
    let task_inputs = observed.task_inputs.get(&service.name).cloned();
    let mut spec = service.spec.clone();
    spec.labels.remove(labels::CONFIG_HASH);
    spec.labels.remove(labels::FIELDS);
    let container = container_step(
        service,
        &spec,
        &image,
        task_inputs.as_deref(),
        observed,
        rerun,
    );
    let quick_probe = match (service.port, &service.ready) {
        // Through a port proxy a bare connect proves nothing until the proxy has had
        // time to drop it; a command, an HTTP request or a handshake answers sooner.
        (Some(_), Some(own))
            if observed.probes_through_loopback && !matches!(own, Probe::Tcp { .. }) =>
        {
            Some(own.clone())
        }
        (Some(port), Some(_)) => Some(Probe::Tcp { port }),
        _ => service.ready.clone(),
    };
    Step {
        service: service.name.clone(),
        kind: service.kind,
        image,
        container,
        depends_on: service.depends_on.clone(),
        quick_probe,
        address: observed
            .containers
            .get(&service.name)
            .filter(|c| c.is_running())
            .map(|c| c.address_on(&plan.network))
            .unwrap_or_default(),
        spec,
        task_inputs,
    }
}

fn container_step(
    service: &ServicePlan,
    spec: &ContainerSpec,
    image: &ImageStep,
    task_inputs: Option<&str>,
    observed: &Observed,
    rerun: bool,
) -> ContainerStep {
    let Some(container) = observed.containers.get(&service.name) else {
        return ContainerStep::Create;
    };
    let id = container.id.clone();
    if rerun {
        return ContainerStep::Recreate {
            id,
            reasons: vec!["asked to run again".to_string()],
        };
    }
    let known_image = match image {
        ImageStep::Present { id, .. } => Some(id.as_str()),
        _ => None,
    };
    // Without a known image, compare with the image the container runs: equal
    // hashes then mean only the image can still make a difference.
    let image_id = match (task_inputs, known_image) {
        (Some(_), _) => "",
        (None, Some(id)) => id,
        (None, None) => container.image_id.as_str(),
    };
    let mut with_image = spec.clone();
    with_image.image.clear();
    let (hash, parts) = hash_and_parts(&with_image, image_id, task_inputs);
    if hash != container.config_hash {
        let mut reasons = fields::changes(&container.fields, &parts);
        if service.kind == ServiceKind::Task {
            for reason in &mut reasons {
                if reason == "image changed" {
                    *reason = "inputs changed".to_string();
                }
            }
        }
        if reasons.is_empty() {
            reasons.push("configuration changed".to_string());
        }
        return ContainerStep::Recreate { id, reasons };
    }
    let then = up_to_date(service.kind, container);
    if task_inputs.is_none() && known_image.is_none() {
        return ContainerStep::KeepIfSameImage {
            id,
            image_id: container.image_id.clone(),
            then: Box::new(then),
        };
    }
    then
}

/// A container whose configuration and image are what is wanted.
fn up_to_date(kind: ServiceKind, container: &ExistingContainer) -> ContainerStep {
    let id = container.id.clone();
    match kind {
        _ if container.is_running() => ContainerStep::Keep { id },
        ServiceKind::Task if container.exit_code() == Some(0) => ContainerStep::Done { id },
        // A task that failed runs again from the current image, not its old
        // container: the fix may be in a file its inputs do not cover.
        ServiceKind::Task => ContainerStep::Recreate {
            id,
            reasons: vec!["its last run failed".to_string()],
        },
        ServiceKind::Service => ContainerStep::Start { id },
    }
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
