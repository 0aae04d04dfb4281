//! Reads what is there before anything is decided, and changes nothing: this
//! project's containers, the images on the engine, each build's content tag and each
//! task's inputs. A no-op `up` is this and nothing else: three engine calls.

use std::collections::{BTreeSet, HashMap};

use crate::engine::{Engine, EngineError, ExistingContainer};
use crate::images::{ImageError, Images};
use crate::plan::{Plan, ServicePlan};
use crate::ports::{self, TakenPort};
use crate::scope::{self, NameClash, ObserveError};

/// What the engine and the project's files hold now, for [`crate::plan::decide`].
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Each planned service's container, by service name.
    pub containers: HashMap<String, ExistingContainer>,
    /// Containers of the project that no planned service owns (removed services,
    /// stray duplicates).
    pub orphans: Vec<ExistingContainer>,
    /// Each looked-at service's image, by service name.
    pub images: HashMap<String, ImageFound>,
    /// The digest of each task's inputs (tasks built from the project).
    pub task_inputs: HashMap<String, String>,
    /// Whether probes reach containers through ports published on loopback (the
    /// engine's networks are not routable from here; see
    /// [`Engine::probes_through_loopback`]).
    pub probes_through_loopback: bool,
}

/// A service's image as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageFound {
    /// On this machine: a pulled reference, a locked id, or a build's content tag.
    Present { reference: String, id: String },
    /// A reference to pull.
    Absent { reference: String },
    /// A build whose content tag is not here; `tag` is `None` while a base image is
    /// missing (its id is part of the tag).
    Build { tag: Option<String>, reason: String },
}

/// Why observing stopped: something `up` must not go past.
#[derive(Debug, thiserror::Error)]
pub enum ObserveFailure {
    #[error(transparent)]
    NameClash(#[from] NameClash),
    #[error("published ports are taken")]
    PortsTaken(Vec<TakenPort>),
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<ObserveError> for ObserveFailure {
    fn from(err: ObserveError) -> Self {
        match err {
            ObserveError::Clash(clash) => ObserveFailure::NameClash(clash),
            ObserveError::Engine(err) => ObserveFailure::Engine(err),
        }
    }
}

/// Observes what `up` of the `selected` services needs to decide: one container
/// list, one image list, and the files of each build and task.
pub async fn observe(
    engine: &Engine,
    plan: &Plan,
    images: &Images<'_>,
    selected: &BTreeSet<String>,
) -> Result<Observed, ObserveFailure> {
    let existing = scope::observe_containers(engine, &plan.scope()).await?;
    check_ports(engine, plan, selected, &existing).await?;
    let (containers, orphans) = match_containers(plan, existing);
    let wanted: Vec<&ServicePlan> = plan
        .services
        .iter()
        .filter(|s| selected.contains(&s.name))
        .collect();
    images.prefetch(wanted.iter().copied()).await?;
    let mut observed = Observed {
        containers,
        orphans,
        probes_through_loopback: engine.probes_through_loopback(),
        ..Observed::default()
    };
    for service in wanted {
        let found = images.observe(service).await?;
        observed.images.insert(service.name.clone(), found);
        match crate::task_inputs::digest(service) {
            None => {}
            Some(Ok(digest)) => {
                observed.task_inputs.insert(service.name.clone(), digest);
            }
            Some(Err(reason)) => {
                return Err(ImageError::context(&service.name, reason).into());
            }
        }
    }
    Ok(observed)
}

/// Pairs each planned service with its container; every other container of the
/// project (removed services, stray duplicates) is an orphan.
pub fn match_containers(
    plan: &Plan,
    existing: Vec<ExistingContainer>,
) -> (HashMap<String, ExistingContainer>, Vec<ExistingContainer>) {
    let mut current = HashMap::new();
    let mut orphans = Vec::new();
    for container in existing {
        let planned = plan
            .services
            .iter()
            .find(|s| s.name == container.service && s.spec.name == container.name);
        match planned {
            Some(service) if !current.contains_key(&service.name) => {
                current.insert(service.name.clone(), container);
            }
            _ => orphans.push(container),
        }
    }
    (current, orphans)
}

/// Every published port must be free, or already published by this project's
/// container for the same service.
async fn check_ports(
    engine: &Engine,
    plan: &Plan,
    selected: &BTreeSet<String>,
    existing: &[ExistingContainer],
) -> Result<(), ObserveFailure> {
    let mut taken = Vec::new();
    for service in plan.services.iter().filter(|s| selected.contains(&s.name)) {
        for mapping in &service.published {
            let ours = existing.iter().any(|c| {
                c.service == service.name
                    && c.is_running()
                    && c.ports
                        .iter()
                        .any(|(_, host, _)| *host == mapping.host_port)
            });
            if ours || ports::is_free(mapping) {
                continue;
            }
            taken.push(TakenPort {
                service: service.name.clone(),
                mapping: mapping.clone(),
                holder: ports::holder(engine, mapping).await,
            });
        }
    }
    if taken.is_empty() {
        Ok(())
    } else {
        Err(ObserveFailure::PortsTaken(taken))
    }
}
