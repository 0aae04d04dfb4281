//! Carries out what [`crate::plan::decide`] decided: removals first, then every
//! service at once, each once its dependencies are ready (or, for tasks, exited 0).
//! It decides nothing but what to do on a failure.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use tokio::sync::{OnceCell, watch};

use crate::config::{Seed, ServiceKind};
use crate::engine::{ContainerSpec, Engine, EngineError, ExistingContainer};
use crate::exit::ExitCode;
use crate::images::{ImageError, Images};
use crate::observe::{self, ObserveFailure};
use crate::plan::{self, ContainerStep, Decision, Plan, ServicePlan, Step};
use crate::ports::TakenPort;
use crate::readiness::NotReady;
use crate::scope::{NameClash, ObserveError};
use crate::ui::{Event, Ui};

mod target;
#[cfg(test)]
mod tests;

pub use target::{Live, Target};

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
    /// Seeds this `up` applies, by service (`commands/seed.rs` finds them). A SQL or
    /// task seed goes in between the service answering and its dependents starting.
    pub seeds: BTreeMap<String, PendingSeed>,
}

/// A seed for a service's new data.
#[derive(Debug, Clone)]
pub struct PendingSeed {
    pub seed: Seed,
    /// Applied only when the service gets a new container or is started again: a
    /// throw-away service's data lives only as long as it runs.
    pub only_when_started: bool,
}

impl PendingSeed {
    /// The task that loads the seed, if it is one.
    pub fn task(&self) -> Option<&str> {
        match &self.seed {
            Seed::Task { name } => Some(name),
            _ => None,
        }
    }
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
    /// A container gorae does not manage holds a service's container name.
    #[error(
        "engine refused: {message}\n  hint: a container named `{name}` exists but gorae does not manage it; remove or rename it"
    )]
    NameTaken { name: String, message: String },
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
            UpError::PortsTaken(_) | UpError::NameTaken { .. } => ExitCode::Conflict,
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

/// The state a service reached, as its dependents see it. In order: a dependent
/// waits until its dependencies have reached a stage (or failed, the last one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Status {
    Pending,
    /// Its container was told to start: dependents may be created now.
    Started,
    /// Its probe passed; its seed task may start now, nothing else.
    Answering,
    /// Answering and seeded: dependents may start.
    Ready,
    Failed,
}

/// Everything the service tasks of one `up` share.
struct Run<'a, T> {
    target: &'a T,
    plan: &'a Plan,
    ui: &'a Ui,
    /// Set once no network or volume of the name belongs to another directory.
    resources_checked: OnceCell<()>,
    network: OnceCell<()>,
    /// When the whole `up` gives up, and the `--timeout` that set it.
    deadline: Option<(Instant, Duration)>,
    seeds: &'a BTreeMap<String, PendingSeed>,
    status: HashMap<String, watch::Sender<Status>>,
}

/// Brings the engine to the plan: observe, decide, then carry the decision out.
/// `images` is the run's image cache, shared with the lock step before it so that
/// one image list serves both.
pub async fn up<'a>(
    engine: &'a Engine,
    plan: &'a Plan,
    ui: &'a Ui,
    options: &'a UpOptions,
    images: &Images<'a>,
) -> Result<UpReport, UpError> {
    let decision = observe_and_decide(engine, plan, options, images).await?;
    apply(engine, plan, ui, options, images, &decision).await
}

/// What `up` would do now, changing nothing: `gorae plan` prints it.
pub async fn observe_and_decide(
    engine: &Engine,
    plan: &Plan,
    options: &UpOptions,
    images: &Images<'_>,
) -> Result<Decision, UpError> {
    for ((service, reference), id) in &plan.pinned_bases {
        images.pin_base(service, reference, id);
    }
    let selected = plan::selection(plan, options.only.as_deref());
    let observed = observe::observe(engine, plan, images, &selected).await?;
    Ok(plan::decide(
        plan,
        &observed,
        options.only.as_deref(),
        &options.rerun,
    ))
}

/// Carries a decision out: removals first, then every service at once, each after
/// its dependencies are ready. It decides nothing but what to do on a failure.
pub async fn apply<'a>(
    engine: &'a Engine,
    plan: &'a Plan,
    ui: &'a Ui,
    options: &UpOptions,
    images: &Images<'a>,
    decision: &Decision,
) -> Result<UpReport, UpError> {
    carry_out(&Live { engine, images }, plan, ui, options, decision).await
}

/// [`apply`] on any [`Target`]: the engine, or an in-memory one in the tests.
pub async fn carry_out<T: Target>(
    target: &T,
    plan: &Plan,
    ui: &Ui,
    options: &UpOptions,
    decision: &Decision,
) -> Result<UpReport, UpError> {
    let started = Instant::now();
    // The network and volumes are listed only when something may be created: a
    // no-op `up` stays at three engine calls (version, containers, images). A
    // service without a container (a first `up`, a new service) needs them checked
    // before anything changes; a re-created one checks them before its creation.
    let resources_checked = OnceCell::new();
    if decision
        .steps
        .iter()
        .any(|step| step.container == ContainerStep::Create)
    {
        target.check_resources(&plan.scope()).await?;
        resources_checked.set(()).ok();
    }
    let mut report = UpReport::default();
    let removals = decision.removals.iter().map(|removal| async move {
        ui.service(&removal.service, Event::Stopping);
        target.stop_and_remove(&removal.id).await?;
        ui.service(&removal.service, Event::Removed);
        Ok::<_, EngineError>(removal.service.clone())
    });
    for removed in join_all(removals).await {
        report.removed.push(removed?);
    }

    let run = Run {
        target,
        plan,
        ui,
        resources_checked,
        network: OnceCell::new(),
        deadline: options.timeout.map(|t| (started + t, t)),
        seeds: &options.seeds,
        // Only this `up`'s services: waiting for any other would never end.
        status: decision
            .steps
            .iter()
            .map(|s| (s.service.clone(), watch::channel(Status::Pending).0))
            .collect(),
    };
    let outcomes = join_all(decision.steps.iter().map(|step| run.service(step))).await;

    let mut failures = Vec::new();
    for (step, outcome) in decision.steps.iter().zip(outcomes) {
        match outcome {
            Ok(done) => {
                if done.built {
                    report.built.push(step.service.clone());
                }
                match done.container {
                    ContainerStep::Keep { .. } | ContainerStep::Done { .. } => {
                        report.unchanged.push(step.service.clone())
                    }
                    _ => report.created.push(step.service.clone()),
                }
            }
            Err(ServiceError::Image(err)) => return Err(UpError::Image(err)),
            Err(ServiceError::Engine(err)) => return Err(UpError::Engine(err)),
            Err(ServiceError::Clash(clash)) => return Err(UpError::NameClash(clash)),
            Err(ServiceError::NameTaken { name, message }) => {
                return Err(UpError::NameTaken { name, message });
            }
            Err(ServiceError::Failed(failure)) => failures.push(failure),
            Err(ServiceError::Skipped) => {}
        }
    }
    if failures.is_empty() {
        return Ok(report);
    }
    // Asked of the engine, not taken from the report: a finished task is not
    // running, and a skipped service may still run from an earlier `up`.
    let running = match target.scoped_containers(&plan.scope()).await {
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

/// What one service task ended with.
struct ServiceDone {
    container: ContainerStep,
    /// This service ran a build (counted once when services share an image).
    built: bool,
}

enum ServiceError {
    Image(ImageError),
    Engine(EngineError),
    Clash(NameClash),
    /// See [`UpError::NameTaken`].
    NameTaken {
        name: String,
        message: String,
    },
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

impl From<ObserveFailure> for UpError {
    fn from(err: ObserveFailure) -> Self {
        match err {
            ObserveFailure::NameClash(clash) => UpError::NameClash(clash),
            ObserveFailure::PortsTaken(taken) => UpError::PortsTaken(taken),
            ObserveFailure::Image(err) => UpError::Image(err),
            ObserveFailure::Engine(err) => UpError::Engine(err),
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

impl<T: Target> Run<'_, T> {
    async fn service(&self, step: &Step) -> Result<ServiceDone, ServiceError> {
        let result = self.bring_up(step).await;
        let status = if result.is_ok() {
            Status::Ready
        } else {
            Status::Failed
        };
        self.reached(&step.service, status);
        // Service failures and skips are reported where they happen; these two end
        // the whole `up` and are shown in full afterwards, so one line is enough here.
        let fatal = match &result {
            Err(ServiceError::Image(err)) => Some(with_causes(err)),
            Err(ServiceError::Engine(err)) => Some(err.to_string()),
            Err(ServiceError::Clash(clash)) => Some(clash.to_string()),
            Err(ServiceError::NameTaken { message, .. }) => Some(message.clone()),
            _ => None,
        };
        if let Some(message) = fatal {
            let reason = first_line(&message);
            self.ui.service(&step.service, Event::Failed { reason });
        }
        result
    }

    async fn bring_up(&self, step: &Step) -> Result<ServiceDone, ServiceError> {
        let name = step.service.as_str();
        let Some(service) = self.plan.services.iter().find(|s| s.name == name) else {
            return Err(ServiceError::Skipped);
        };
        // Images are fetched or built while dependencies are still starting.
        let image = self
            .target
            .image(service)
            .await
            .map_err(ServiceError::Image)?;
        let container = step.settle(&image.info.id);
        let done = ServiceDone {
            container: container.clone(),
            built: image.built_here,
        };
        // Create early, start late: a new container is created while its
        // dependencies get ready (nothing in it depends on them at run time), and
        // started only once they are ready.
        let mut still_answers = false;
        let created = match &container {
            ContainerStep::Create | ContainerStep::Recreate { .. } => {
                Some(self.create_early(step, service, &container, &image).await?)
            }
            // A kept, running service is checked while its dependencies are: it
            // runs already, and each check may take a moment (a port proxy's).
            ContainerStep::Keep { id } if step.kind == ServiceKind::Service => {
                let (waited, answers) =
                    tokio::join!(self.wait_for_dependencies(step), self.still_ready(step, id));
                waited?;
                still_answers = answers;
                None
            }
            _ => {
                self.wait_for_dependencies(step).await?;
                None
            }
        };

        let started = Instant::now();
        let id = match &container {
            ContainerStep::Done { .. } => {
                self.ui.service(name, Event::Unchanged);
                return Ok(done);
            }
            // A task still running from an interrupted `up` is waited for below.
            ContainerStep::Keep { id } | ContainerStep::KeepIfSameImage { id, .. } => id.clone(),
            ContainerStep::Start { id } => {
                self.ui.service(name, Event::Starting);
                self.target.start_container(id).await?;
                id.clone()
            }
            ContainerStep::Create | ContainerStep::Recreate { .. } => {
                let id = created.unwrap_or_default();
                self.target.start_container(&id).await?;
                id
            }
        };
        self.reached(name, Status::Started);

        match step.kind {
            ServiceKind::Task => self.wait_task(service, &id, started).await?,
            ServiceKind::Service => {
                let kept = matches!(container, ContainerStep::Keep { .. });
                // A kept service that answers at once needs no further look.
                if !still_answers {
                    if !kept {
                        self.ui.service(name, Event::Waiting);
                    }
                    self.wait_ready(service, &id).await?;
                }
                self.reached(name, Status::Answering);
                let event = if kept {
                    Event::Unchanged
                } else {
                    Event::Ready {
                        seconds: started.elapsed().as_secs_f64(),
                    }
                };
                self.ui.service(name, event);
                self.seed(service, &id, &container).await?;
            }
        }
        Ok(done)
    }

    /// Applies the service's pending seed, if this `up` has one for it: a SQL file
    /// is run in it, a seed task is waited for. Its dependents start after this.
    async fn seed(
        &self,
        service: &ServicePlan,
        id: &str,
        container: &ContainerStep,
    ) -> Result<(), ServiceError> {
        let Some(pending) = self.seeds.get(&service.name) else {
            return Ok(());
        };
        if pending.only_when_started && matches!(container, ContainerStep::Keep { .. }) {
            return Ok(());
        }
        let started = Instant::now();
        let seeded = match &pending.seed {
            Seed::Sql { path, command } => self.target.run_sql_file(id, path, command).await,
            Seed::Task { name } => match self.wait_for_service(name, Status::Ready).await {
                Status::Ready => Ok(()),
                _ => Err(anyhow::anyhow!("`{name}` did not succeed (above)")),
            },
            // Unpacked before the service first started.
            Seed::Snapshot { .. } => return Ok(()),
        };
        let from = pending.seed.describe();
        if let Err(err) = seeded {
            return Err(self
                .failure(
                    service,
                    id,
                    format!(
                        "was not seeded from {from}: {err:#}\n  hint: fix it, then `gorae up --reseed {}` deletes the half-seeded data and seeds it again",
                        service.name
                    ),
                    false,
                )
                .await);
        }
        self.ui.service(
            &service.name,
            Event::Seeded {
                from,
                seconds: started.elapsed().as_secs_f64(),
            },
        );
        Ok(())
    }

    /// Creates the step's container while its dependencies get ready, and returns
    /// its id once they are, not started. It is created once they have started, not
    /// before: the engine creates one container at a time (on fuse-overlayfs a create
    /// takes a few hundred ms), so a dependent's create at t = 0 only delays its
    /// dependencies' creates, which are on the way to everything; made while they
    /// boot, it costs nothing (benches/RESULTS.md, "create early"). A re-created service keeps its old
    /// container running until then: the new one is made under a spare name and takes
    /// the name over once the old one is gone. When a dependency fails, the new
    /// container is removed again (it never ran) and the old one is left running.
    async fn create_early(
        &self,
        step: &Step,
        service: &ServicePlan,
        container: &ContainerStep,
        image: &crate::images::ResolvedImage,
    ) -> Result<String, ServiceError> {
        let name = step.service.as_str();
        let spec = step.spec_for(&image.reference, &image.info.id);
        let ContainerStep::Recreate { id: old, reasons } = container else {
            self.wait_for(step, Status::Started).await?;
            self.ui.service(name, Event::Creating);
            self.prepare_resources(service).await?;
            let (created, ready) =
                tokio::join!(self.create_named(&spec), self.wait_for_dependencies(step));
            let id = created?;
            if let Err(skipped) = ready {
                self.target.remove_container(&id).await?;
                return Err(skipped);
            }
            return Ok(id);
        };
        self.ui.service(
            name,
            Event::Recreating {
                reason: reasons.join("; "),
            },
        );
        self.prepare_resources(service).await?;
        let mut spare = spec.clone();
        spare.name = format!("{}-next", spec.name);
        let retire_old = async {
            self.wait_for_dependencies(step).await?;
            self.target.stop_and_remove(old).await?;
            Ok::<_, ServiceError>(())
        };
        let (created, retired) = tokio::join!(self.target.create_container(&spare), retire_old);
        if let Err(err) = retired {
            if let Ok(id) = &created {
                self.target.remove_container(id).await?;
            }
            return Err(err);
        }
        match created {
            Ok(id) => {
                self.target.rename_container(&id, &spec.name).await?;
                Ok(id)
            }
            // A spare left by an interrupted `up` holds that name: make this one the
            // plain way (the next `up` removes the spare as an orphan).
            Err(EngineError::Conflict(_)) => self.create_named(&spec).await,
            Err(err) => Err(err.into()),
        }
    }

    /// Creates the container by its own name; a clash is a container gorae does not
    /// manage.
    async fn create_named(&self, spec: &ContainerSpec) -> Result<String, ServiceError> {
        self.target
            .create_container(spec)
            .await
            .map_err(|err| match err {
                EngineError::Conflict(message) => ServiceError::NameTaken {
                    name: spec.name.clone(),
                    message,
                },
                other => other.into(),
            })
    }

    /// Tells the service's dependents what it reached.
    fn reached(&self, service: &str, status: Status) {
        if let Some(sender) = self.status.get(service) {
            sender.send_if_modified(|now| {
                let later = status > *now;
                if later {
                    *now = status;
                }
                later
            });
        }
    }

    async fn wait_for_dependencies(&self, step: &Step) -> Result<(), ServiceError> {
        self.wait_for(step, Status::Ready).await
    }

    /// Waits until every dependency has reached `stage`; a failed one skips the step.
    /// A seed task waits only for the service it seeds to answer: that service is
    /// ready for everyone else once the task is done.
    async fn wait_for(&self, step: &Step, stage: Status) -> Result<(), ServiceError> {
        for dependency in &step.depends_on {
            let seeds_it = self
                .seeds
                .get(dependency)
                .and_then(PendingSeed::task)
                .is_some_and(|task| task == step.service);
            let stage = if seeds_it {
                stage.min(Status::Answering)
            } else {
                stage
            };
            if self.wait_for_service(dependency, stage).await == Status::Failed {
                self.ui.service(
                    &step.service,
                    Event::Skipped {
                        reason: format!("dependency `{dependency}` failed"),
                    },
                );
                return Err(ServiceError::Skipped);
            }
        }
        Ok(())
    }

    /// Waits until `service` has reached `stage` or failed; what it reached. One that
    /// is not part of this `up` has nothing to wait for.
    async fn wait_for_service(&self, service: &str, stage: Status) -> Status {
        let Some(sender) = self.status.get(service) else {
            return stage;
        };
        let mut receiver = sender.subscribe();
        receiver
            .wait_for(|status| *status >= stage)
            .await
            .map(|status| *status)
            .unwrap_or(Status::Failed)
    }

    /// The network once per `up`, and this service's volumes, after checking once
    /// that no other directory owns any of them.
    async fn prepare_resources(&self, service: &ServicePlan) -> Result<(), ServiceError> {
        self.resources_checked
            .get_or_try_init(|| async { self.target.check_resources(&self.plan.scope()).await })
            .await?;
        self.network
            .get_or_try_init(|| async {
                self.target
                    .ensure_network(&self.plan.network, &self.plan.resource_labels)
                    .await
            })
            .await?;
        for volume in &service.volumes {
            self.target
                .ensure_volume(volume, &self.plan.resource_labels)
                .await?;
        }
        Ok(())
    }

    /// When waiting for `service` ends, and the timeout that ends it, as the user
    /// set it (the service's own, or `--timeout` when that comes first), for messages.
    fn deadline_for(&self, service: &ServicePlan) -> (Instant, Duration) {
        let own = Instant::now() + service.ready_timeout;
        match self.deadline {
            Some((global, overall)) if global < own => (global, overall),
            _ => (own, service.ready_timeout),
        }
    }

    /// Whether a kept, running service still answers, checked at the address the
    /// container list gave with the step's quick probe: a service that passed its
    /// probe once and still accepts connections on its port is taken as ready, which
    /// costs one connect instead of a command run in the container.
    async fn still_ready(&self, step: &Step, id: &str) -> bool {
        self.target
            .still_ready(id, &step.address, step.quick_probe.as_ref())
            .await
    }

    async fn wait_ready(&self, service: &ServicePlan, id: &str) -> Result<(), ServiceError> {
        let (deadline, timeout) = self.deadline_for(service);
        let waited = self
            .target
            .wait_ready(
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
        let exit = tokio::time::timeout_at(deadline.into(), self.target.wait_exit(id)).await;
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
            .target
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

/// An error and its causes on one line, as the final report chains them.
fn with_causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(next) = cause {
        text.push_str(&format!(": {next}"));
        cause = next.source();
    }
    text
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_string()
}
