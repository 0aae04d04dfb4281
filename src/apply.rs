//! Runs a plan against the engine: only the difference is applied, independent
//! services start in parallel, and each service starts once its dependencies are
//! ready (or, for tasks, exited 0).

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use tokio::sync::{OnceCell, watch};

use crate::config::{Probe, ServiceKind};
use crate::engine::{Engine, EngineError, ExistingContainer, labels};
use crate::exit::ExitCode;
use crate::images::{ImageError, Images};
use crate::plan::{self, Action, Plan, ServicePlan};
use crate::ports::{self, TakenPort};
use crate::readiness::{self, NotReady};
use crate::scope::{self, NameClash, ObserveError};
use crate::ui::{Event, Ui};

/// How many log lines of a failed service are shown.
pub const FAILURE_LOG_LINES: usize = 30;

/// Settings of one `up`.
#[derive(Debug, Clone, Default)]
pub struct UpOptions {
    /// Overall limit; each service's own timeout still applies within it.
    pub timeout: Option<Duration>,
    /// Bring up only these services and what they depend on, and touch nothing else.
    /// `None`: every service, and containers of services no longer in the file go.
    pub only: Option<Vec<String>>,
    /// Tasks to run again even when they already succeeded with this configuration.
    pub rerun: Vec<String>,
}

/// What `up` did, for the summary.
#[derive(Debug, Default)]
pub struct UpReport {
    pub created: Vec<String>,
    pub unchanged: Vec<String>,
    pub removed: Vec<String>,
    pub built: Vec<String>,
}

/// Why `up` did not finish.
#[derive(Debug, thiserror::Error)]
pub enum UpError {
    #[error(transparent)]
    NameClash(#[from] NameClash),
    #[error("{}\n  hint: stop what holds the port, or publish on another one (\"8081:{}\")", list(.0), .0.first().map(|p| p.mapping.container_port).unwrap_or_default())]
    PortsTaken(Vec<TakenPort>),
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error("{}{}", list(failures), left_running(running))]
    Services {
        failures: Vec<ServiceFailure>,
        /// Services that did come up; they are left running.
        running: Vec<String>,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl UpError {
    /// Services that only ran out of time are a timeout; any other failure of theirs
    /// is a service failure.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            UpError::NameClash(clash) => clash.exit_code(),
            UpError::PortsTaken(_) => ExitCode::Conflict,
            UpError::Image(err) => err.exit_code(),
            UpError::Engine(err) => err.exit_code(),
            UpError::Services { failures, .. } if failures.iter().all(|f| f.timed_out) => {
                ExitCode::Timeout
            }
            UpError::Services { .. } => ExitCode::ServiceFailed,
        }
    }
}

/// One service that failed, with its last log lines.
#[derive(Debug, Clone)]
pub struct ServiceFailure {
    pub service: String,
    pub reason: String,
    pub logs: String,
    pub timed_out: bool,
}

impl fmt::Display for ServiceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "service `{}` {}", self.service, self.reason)?;
        if !self.logs.trim().is_empty() {
            write!(f, "\n  last log lines of `{}`:", self.service)?;
            for line in self.logs.trim_end().lines() {
                write!(f, "\n  | {line}")?;
            }
        }
        Ok(())
    }
}

fn left_running(running: &[String]) -> String {
    if running.is_empty() {
        return String::new();
    }
    format!(
        "\nleft running: {} (`gorae down` stops them)",
        running.join(", ")
    )
}

fn list<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The state a service reached, as its dependents see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending,
    Ready,
    Failed,
}

/// Everything the service tasks of one `up` share.
struct Run<'a> {
    engine: &'a Engine,
    plan: &'a Plan,
    ui: &'a Ui,
    images: &'a Images<'a>,
    /// Tasks to run again whatever their last outcome.
    rerun: &'a [String],
    /// Set once no network or volume of the name belongs to another directory.
    resources_checked: OnceCell<()>,
    network: OnceCell<()>,
    deadline: Option<Instant>,
    status: HashMap<String, watch::Sender<Status>>,
}

/// Brings the engine to the plan.
/// `images` is the run's image cache, shared with the lock step before it so that
/// one image list serves both.
pub async fn up<'a>(
    engine: &'a Engine,
    plan: &'a Plan,
    ui: &'a Ui,
    options: &'a UpOptions,
    images: &Images<'a>,
) -> Result<UpReport, UpError> {
    let started = Instant::now();
    let scope = plan.scope();
    let existing = scope::observe_containers(engine, &scope).await?;
    let selected = selection(plan, options.only.as_deref());
    check_ports(engine, plan, &selected, &existing).await?;

    let (current, orphans) = match_containers(plan, existing);
    // The network and volumes are listed only when something may be created: a
    // no-op `up` stays at three engine calls (version, containers, images). A
    // service without a container (a first `up`, a new service) needs them checked
    // before anything changes; a re-created one checks them before its creation.
    let resources_checked = OnceCell::new();
    if selected.iter().any(|name| !current.contains_key(name)) {
        scope::check_resources(engine, &scope).await?;
        resources_checked.set(()).ok();
    }
    // Bringing up some services leaves every other container alone.
    let orphans = if options.only.is_some() {
        Vec::new()
    } else {
        orphans
    };
    for ((service, reference), id) in &plan.pinned_bases {
        images.pin_base(service, reference, id);
    }
    let wanted: Vec<ServicePlan> = plan
        .services
        .iter()
        .filter(|s| selected.contains(&s.name))
        .cloned()
        .collect();
    images.prefetch(&wanted).await?;
    let mut report = UpReport::default();
    let removals = orphans.iter().map(|orphan| async move {
        ui.service(&orphan.service, Event::Stopping);
        engine.stop_and_remove(&orphan.id).await?;
        ui.service(&orphan.service, Event::Removed);
        Ok::<_, EngineError>(orphan.service.clone())
    });
    for removed in join_all(removals).await {
        report.removed.push(removed?);
    }

    let run = Run {
        engine,
        plan,
        ui,
        images,
        rerun: &options.rerun,
        resources_checked,
        network: OnceCell::new(),
        deadline: options.timeout.map(|t| started + t),
        status: plan
            .services
            .iter()
            .map(|s| (s.name.clone(), watch::channel(Status::Pending).0))
            .collect(),
    };
    let outcomes = join_all(
        wanted
            .iter()
            .map(|service| run.service(service, current.get(&service.name))),
    )
    .await;

    let mut failures = Vec::new();
    for (service, outcome) in wanted.iter().zip(outcomes) {
        match outcome {
            Ok(done) => {
                if done.built {
                    report.built.push(service.name.clone());
                }
                match done.action {
                    Action::Keep { .. } => report.unchanged.push(service.name.clone()),
                    _ => report.created.push(service.name.clone()),
                }
            }
            Err(ServiceError::Image(err)) => return Err(UpError::Image(err)),
            Err(ServiceError::Engine(err)) => return Err(UpError::Engine(err)),
            Err(ServiceError::Clash(clash)) => return Err(UpError::NameClash(clash)),
            Err(ServiceError::Failed(failure)) => failures.push(failure),
            Err(ServiceError::Skipped) => {}
        }
    }
    if failures.is_empty() {
        return Ok(report);
    }
    // Asked of the engine, not taken from the report: a finished task is not
    // running, and a skipped service may still run from an earlier `up`.
    let running = match engine.scoped_containers(&plan.scope()).await {
        Ok(containers) => running_services(&containers),
        Err(err) => return Err(UpError::Engine(err)),
    };
    Err(UpError::Services { failures, running })
}

/// The services with a running container, sorted.
pub fn running_services(containers: &[ExistingContainer]) -> Vec<String> {
    let running: BTreeSet<String> = containers
        .iter()
        .filter(|c| c.is_running())
        .map(|c| c.service.clone())
        .collect();
    running.into_iter().collect()
}

/// The services `only` names and everything they depend on, directly or not; every
/// service when `only` is `None`.
pub fn selection(plan: &Plan, only: Option<&[String]>) -> BTreeSet<String> {
    let Some(only) = only else {
        return plan.services.iter().map(|s| s.name.clone()).collect();
    };
    let mut selected = BTreeSet::new();
    let mut pending: Vec<String> = only.to_vec();
    while let Some(name) = pending.pop() {
        if !selected.insert(name.clone()) {
            continue;
        }
        if let Some(service) = plan.services.iter().find(|s| s.name == name) {
            pending.extend(service.depends_on.iter().cloned());
        }
    }
    selected
}

/// What one service task ended with.
struct ServiceDone {
    action: Action,
    /// This service ran a build (counted once when services share an image).
    built: bool,
}

enum ServiceError {
    Image(ImageError),
    Engine(EngineError),
    Clash(NameClash),
    Failed(ServiceFailure),
    /// A dependency failed; that one is reported.
    Skipped,
}

impl From<ObserveError> for UpError {
    fn from(err: ObserveError) -> Self {
        match err {
            ObserveError::Clash(clash) => UpError::NameClash(clash),
            ObserveError::Engine(err) => UpError::Engine(err),
        }
    }
}

impl From<ObserveError> for ServiceError {
    fn from(err: ObserveError) -> Self {
        match err {
            ObserveError::Clash(clash) => ServiceError::Clash(clash),
            ObserveError::Engine(err) => ServiceError::Engine(err),
        }
    }
}

impl From<EngineError> for ServiceError {
    fn from(err: EngineError) -> Self {
        ServiceError::Engine(err)
    }
}

impl Run<'_> {
    async fn service(
        &self,
        service: &ServicePlan,
        existing: Option<&ExistingContainer>,
    ) -> Result<ServiceDone, ServiceError> {
        let result = self.bring_up(service, existing).await;
        let status = if result.is_ok() {
            Status::Ready
        } else {
            Status::Failed
        };
        if let Some(sender) = self.status.get(&service.name) {
            sender.send_replace(status);
        }
        // Service failures and skips are reported where they happen; these two end
        // the whole `up` and are shown in full afterwards, so one line is enough here.
        let fatal = match &result {
            Err(ServiceError::Image(err)) => Some(err.to_string()),
            Err(ServiceError::Engine(err)) => Some(err.to_string()),
            Err(ServiceError::Clash(clash)) => Some(clash.to_string()),
            _ => None,
        };
        if let Some(message) = fatal {
            let reason = first_line(&message);
            self.ui.service(&service.name, Event::Failed { reason });
        }
        result
    }

    async fn bring_up(
        &self,
        service: &ServicePlan,
        existing: Option<&ExistingContainer>,
    ) -> Result<ServiceDone, ServiceError> {
        let name = service.name.as_str();
        // Images are fetched or built while dependencies are still starting.
        let image = self
            .images
            .resolve(service)
            .await
            .map_err(ServiceError::Image)?;
        let mut spec = service.spec.clone();
        spec.image = image.reference.clone();
        let hash = match crate::task_inputs::digest(service) {
            None => plan::config_hash(&spec, &image.info.id),
            Some(Ok(inputs)) => plan::task_hash(&spec, &inputs),
            Some(Err(reason)) => {
                return Err(ServiceError::Image(ImageError::Context {
                    service: name.to_string(),
                    reason,
                }));
            }
        };
        spec.labels
            .insert(labels::CONFIG_HASH.to_string(), hash.clone());
        let rerun = self.rerun.contains(&service.name);
        let action = match (existing, plan::decide(service.kind, &hash, existing)) {
            (Some(container), _) if rerun => Action::Recreate {
                old_id: container.id.clone(),
            },
            // A task that failed runs again from the current image, not its old
            // container: the fix may be in a file its inputs do not cover.
            (_, Action::Start { id }) if service.kind == ServiceKind::Task => {
                Action::Recreate { old_id: id }
            }
            (_, decided) => decided,
        };
        let retry = service.kind == ServiceKind::Task
            && !rerun
            && existing.is_some_and(|c| c.config_hash == hash);

        self.wait_for_dependencies(service).await?;

        let started = Instant::now();
        let id = match &action {
            Action::Keep { id } => {
                // A task still running from an interrupted `up` is waited for below.
                if service.kind == ServiceKind::Task && !existing.is_some_and(|c| c.is_running()) {
                    self.ui.service(name, Event::Unchanged);
                    return Ok(ServiceDone {
                        action,
                        built: image.built_here,
                    });
                }
                id.clone()
            }
            Action::Start { id } => {
                self.ui.service(name, Event::Starting);
                self.engine.start_container(id).await?;
                id.clone()
            }
            Action::Create | Action::Recreate { .. } => {
                if let Action::Recreate { old_id } = &action {
                    let reason = if rerun {
                        "asked to run again"
                    } else if retry {
                        "its last run failed"
                    } else if image.built {
                        "image rebuilt"
                    } else {
                        "configuration changed"
                    };
                    self.ui.service(
                        name,
                        Event::Recreating {
                            reason: reason.into(),
                        },
                    );
                    self.engine.stop_and_remove(old_id).await?;
                } else {
                    self.ui.service(name, Event::Creating);
                }
                self.prepare_resources(service).await?;
                let id = self.engine.create_container(&spec).await.map_err(|err| match err {
                    EngineError::Conflict(message) => EngineError::Conflict(format!(
                        "{message}\n  hint: a container named `{}` exists but gorae does not manage it; remove or rename it",
                        spec.name
                    )),
                    other => other,
                })?;
                self.engine.start_container(&id).await?;
                id
            }
        };

        match service.kind {
            ServiceKind::Task => self.wait_task(service, &id, started).await?,
            ServiceKind::Service => {
                let kept = matches!(action, Action::Keep { .. });
                // A kept service that answers at once needs no further look.
                if !(kept && self.still_ready(service, existing).await) {
                    if !kept {
                        self.ui.service(name, Event::Waiting);
                    }
                    self.wait_ready(service, &id).await?;
                }
                let event = match action {
                    Action::Keep { .. } => Event::Unchanged,
                    _ => Event::Ready {
                        seconds: started.elapsed().as_secs_f64(),
                    },
                };
                self.ui.service(name, event);
            }
        }
        Ok(ServiceDone {
            action,
            built: image.built_here,
        })
    }

    async fn wait_for_dependencies(&self, service: &ServicePlan) -> Result<(), ServiceError> {
        for dependency in &service.depends_on {
            let Some(sender) = self.status.get(dependency) else {
                continue;
            };
            let mut receiver = sender.subscribe();
            let status = receiver
                .wait_for(|status| *status != Status::Pending)
                .await
                .map(|status| *status)
                .unwrap_or(Status::Failed);
            if status == Status::Failed {
                self.ui.service(
                    &service.name,
                    Event::Skipped {
                        reason: format!("dependency `{dependency}` failed"),
                    },
                );
                return Err(ServiceError::Skipped);
            }
        }
        Ok(())
    }

    /// The network once per `up`, and this service's volumes, after checking once
    /// that no other directory owns any of them.
    async fn prepare_resources(&self, service: &ServicePlan) -> Result<(), ServiceError> {
        self.resources_checked
            .get_or_try_init(|| async {
                scope::check_resources(self.engine, &self.plan.scope()).await
            })
            .await?;
        self.network
            .get_or_try_init(|| async {
                self.engine
                    .ensure_network(&self.plan.network, &self.plan.resource_labels)
                    .await
                    .map(drop)
            })
            .await?;
        for volume in &service.volumes {
            self.engine
                .ensure_volume(volume, &self.plan.resource_labels)
                .await?;
        }
        Ok(())
    }

    fn deadline_for(&self, service: &ServicePlan) -> (Instant, Duration) {
        let own = Instant::now() + service.ready_timeout;
        match self.deadline {
            Some(global) if global < own => {
                (global, global.saturating_duration_since(Instant::now()))
            }
            _ => (own, service.ready_timeout),
        }
    }

    /// Whether an unchanged, running service still answers, checked at the address
    /// the container list gave. A service that passed its probe once and still
    /// accepts connections on its port is taken as ready, which costs one connect
    /// instead of a command run in the container; anything else gets its probe.
    async fn still_ready(
        &self,
        service: &ServicePlan,
        existing: Option<&ExistingContainer>,
    ) -> bool {
        let Some(container) = existing.filter(|c| c.is_running()) else {
            return false;
        };
        let address = container
            .addresses
            .get(&self.plan.network)
            .map(String::as_str);
        let quick = match (service.port, &service.ready) {
            (Some(port), Some(_)) => Some(Probe::Tcp { port }),
            _ => service.ready.clone(),
        };
        readiness::attempt(self.engine, &container.id, address, quick.as_ref())
            .await
            .is_ok()
    }

    async fn wait_ready(&self, service: &ServicePlan, id: &str) -> Result<(), ServiceError> {
        let (deadline, timeout) = self.deadline_for(service);
        let waited = readiness::wait_ready(
            self.engine,
            id,
            &self.plan.network,
            service.ready.as_ref(),
            deadline,
            timeout,
        )
        .await;
        match waited {
            Ok(()) => Ok(()),
            Err(NotReady::Engine(err)) => Err(err.into()),
            Err(not_ready) => {
                let timed_out = matches!(not_ready, NotReady::Timeout { .. });
                Err(self
                    .failure(service, id, not_ready.to_string(), timed_out)
                    .await)
            }
        }
    }

    async fn wait_task(
        &self,
        service: &ServicePlan,
        id: &str,
        started: Instant,
    ) -> Result<(), ServiceError> {
        self.ui.service(&service.name, Event::Waiting);
        let (deadline, timeout) = self.deadline_for(service);
        let exit = tokio::time::timeout_at(deadline.into(), self.engine.wait_exit(id)).await;
        match exit {
            Ok(Ok(0)) => {
                self.ui.service(
                    &service.name,
                    Event::Completed {
                        seconds: started.elapsed().as_secs_f64(),
                    },
                );
                Ok(())
            }
            Ok(Ok(code)) => Err(self
                .failure(service, id, format!("exited with code {code}"), false)
                .await),
            Ok(Err(err)) => Err(err.into()),
            Err(_) => Err(self
                .failure(
                    service,
                    id,
                    format!("did not finish within {}s", timeout.as_secs()),
                    true,
                )
                .await),
        }
    }

    async fn failure(
        &self,
        service: &ServicePlan,
        id: &str,
        reason: String,
        timed_out: bool,
    ) -> ServiceError {
        self.ui.service(
            &service.name,
            Event::Failed {
                reason: reason.clone(),
            },
        );
        let logs = self
            .engine
            .last_logs(id, FAILURE_LOG_LINES)
            .await
            .unwrap_or_else(|err| format!("(logs unavailable: {err})"));
        ServiceError::Failed(ServiceFailure {
            service: service.name.clone(),
            reason,
            logs,
            timed_out,
        })
    }
}

/// Pairs each planned service with its container; every other container of the
/// project (removed services, stray duplicates) is an orphan.
fn match_containers(
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
) -> Result<(), UpError> {
    let mut taken = Vec::new();
    for service in plan.services.iter().filter(|s| selected.contains(&s.name)) {
        for mapping in &service.spec.ports {
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
        Err(UpError::PortsTaken(taken))
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Named services bring what they depend on, directly or not, and nothing else.
    #[test]
    fn a_selection_closes_over_dependencies() {
        let yaml = "name: shop\nservices:\n  db: { template: postgres }\n  cache: { template: redis }\n  migrate: { image: x, kind: task, depends_on: [db] }\n  web: { image: x, depends_on: [migrate, cache] }\n  admin: { image: x, depends_on: [db] }\n";
        let no_env = |_: &str| None;
        let project =
            crate::config::load_str(yaml, Path::new("/shop/gorae.yaml"), &no_env).expect("valid");
        let plan = plan::desired(&project);
        let names = |only: Option<&[String]>| -> Vec<String> {
            selection(&plan, only).into_iter().collect()
        };
        let cases: [(&[&str], &[&str]); 4] = [
            (&["web"], &["cache", "db", "migrate", "web"]),
            (&["migrate"], &["db", "migrate"]),
            (&["cache", "admin"], &["admin", "cache", "db"]),
            (&["db"], &["db"]),
        ];
        for (only, expected) in cases {
            let only: Vec<String> = only.iter().map(ToString::to_string).collect();
            assert_eq!(names(Some(&only)), expected, "{only:?}");
        }
        assert_eq!(names(None).len(), 5);
    }
}
