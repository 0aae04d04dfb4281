//! `gorae up --watch`: after `up`, watch each built service's context and apply every
//! saved change to the running container through the Engine API (no bind mounts):
//! sync the changed files, restart the app process when source changed, rebuild and
//! re-create only that service when a dependency manifest or its Dockerfile changed,
//! re-plan when gorae.yaml changed. A failure is reported and watching goes on; the
//! old container keeps serving until a new one is ready.

mod rules;
pub mod supervise;
mod sync;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::apply::{self, UpOptions};
use crate::config::{DockerfileSource, Project, ServiceKind};
use crate::engine::Engine;
use crate::images::Images;
use crate::plan::{self, BuildPlan, ImagePlan, Plan, ServicePlan};
use crate::project_lock::ProjectLock;
use crate::readiness;
use crate::ui::{Event, Mode, Ui};

pub use rules::{Need, Rules};
pub use sync::{Batch, batch};

/// Quiet time that ends a batch of changes: an editor's save (write, rename,
/// chmod) and a `git checkout` arrive as bursts; one batch applies them once.
const DEBOUNCE: Duration = Duration::from_millis(30);
/// A batch is applied at the latest this long after its first change, even while
/// changes keep coming.
const MAX_BATCH: Duration = Duration::from_millis(500);
/// Grace period of an app process being restarted; a dev app holds no data.
const RESTART_STOP_SECS: i32 = 2;
/// Log lines shown when a service crashes after a restart.
const CRASH_LOG_LINES: usize = 20;

/// One built service being watched.
struct Target {
    service: ServicePlan,
    context: PathBuf,
    /// The container's working directory: where the template's `COPY . .` put the context.
    workdir: String,
    rules: Rules,
    ignore: crate::context::IgnoreRules,
}

/// A changed path, and whether a directory at it must be sent whole (it was created
/// or moved here, so what is beneath it was never seen one by one).
type Changes = BTreeMap<String, bool>;

/// Watches until Ctrl-C, then leaves everything running. `project` is what `up` just
/// brought up.
/// With `logs`, the services' new log lines go to stdout meanwhile.
pub async fn run(
    project: Project,
    plan: Plan,
    engine: &Engine,
    mode: Mode,
    verbose: bool,
    logs: bool,
) -> anyhow::Result<()> {
    // A live display has nothing to redraw here: one line per applied change.
    let mode = if mode == Mode::Live {
        Mode::Plain
    } else {
        mode
    };
    let ui = Ui::new(mode, verbose).with_services(project.services.keys().map(String::as_str));
    let following = async {
        if logs && let Err(err) = crate::commands::logs::follow_from_now(engine, &project).await {
            ui.note(&format!("stopped showing logs: {err:#}"));
        }
        std::future::pending::<()>().await
    };
    tokio::select! {
        watched = watch(project.clone(), plan, engine, &ui) => watched,
        () = following => Ok(()),
    }
}

/// `plan` is the one `up` just applied, already pinned to gorae.lock.
async fn watch(project: Project, plan: Plan, engine: &Engine, ui: &Ui) -> anyhow::Result<()> {
    let mut project = project;
    let mut plan = plan;
    let (sender, mut changes) = mpsc::unbounded_channel::<(PathBuf, bool)>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        let whole = match event.kind {
            EventKind::Access(_) => return,
            EventKind::Create(_) | EventKind::Any | EventKind::Other => true,
            EventKind::Modify(notify::event::ModifyKind::Name(_)) => true,
            _ => false,
        };
        for path in event.paths {
            let _ = sender.send((path, whole));
        }
    })?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut targets = targets(&project, &plan, engine).await?;
    let mut watched = start_watching(&mut watcher, &project, &targets)?;
    ui.note(&format!(
        "watching {} for changes; Ctrl-C stops watching and leaves the environment running",
        names(&targets)
    ));
    loop {
        let first = tokio::select! {
            first = changes.recv() => first,
            _ = interrupt.recv() => None,
        };
        let Some(first) = first else {
            ui.note(&format!(
                "stopped watching; {} is still running (`gorae down` stops it)",
                project.name
            ));
            return Ok(());
        };
        let mut paths = vec![first];
        let started = Instant::now();
        while started.elapsed() < MAX_BATCH {
            match tokio::time::timeout(DEBOUNCE, changes.recv()).await {
                Ok(Some(path)) => paths.push(path),
                _ => break,
            }
        }
        if paths.iter().any(|(path, _)| *path == project.file) {
            let _lock = lock(&project, ui).await?;
            let same = crate::commands::ProjectFile {
                path: Some(&project.file),
                profiles: Some(&project.profiles),
            };
            match crate::commands::load_project(same) {
                Ok(reloaded) => {
                    ui.note("gorae.yaml changed: applying the difference");
                    // As `up` does: gorae.lock, when there is one, decides the images.
                    let images = Images::new(engine, ui, &reloaded.name);
                    let pins =
                        crate::commands::up::follow_lock(&reloaded, engine, &images, ui, false)
                            .await;
                    let mut new_plan = plan::desired_pinned(
                        &reloaded,
                        pins.as_ref().unwrap_or(&plan::Pins::new()),
                    );
                    let revealed = crate::commands::read_secrets(&reloaded, None).await;
                    if let Ok(revealed) = &revealed {
                        revealed.fill(&mut new_plan);
                    }
                    let applied = match pins.and(revealed) {
                        Ok(_) => apply::up(engine, &new_plan, ui, &UpOptions::default(), &images)
                            .await
                            .map(|_| ())
                            .map_err(anyhow::Error::from),
                        Err(err) => Err(err),
                    };
                    if let Err(err) = applied {
                        ui.note(&format!("{err:#}"));
                    }
                    project = reloaded;
                    plan = new_plan;
                    targets = targets_or_report(&project, &plan, engine, ui).await;
                    for dir in watched.drain(..) {
                        let _ = watcher.unwatch(&dir);
                    }
                    watched = start_watching(&mut watcher, &project, &targets)?;
                }
                Err(err) => ui.note(&format!("{err:#}\ngorae.yaml not applied; still watching")),
            }
            continue;
        }
        for (index, changed) in group(&targets, paths) {
            // An edited .dockerignore changes what is sent from now on.
            if changed.contains_key(".dockerignore") {
                match crate::context::ignore_rules(&targets[index].context) {
                    Ok(rules) => targets[index].ignore = rules,
                    Err(err) => ui.note(&format!("{err}; the previous rules stay")),
                }
            }
            let target = &targets[index];
            if let Err(err) = apply_changes(engine, ui, &project, &plan, target, &changed).await {
                ui.service(
                    &target.service.name,
                    Event::Failed {
                        reason: format!("{err:#}"),
                    },
                );
            }
        }
    }
}

async fn lock(project: &Project, ui: &Ui) -> std::io::Result<ProjectLock> {
    ProjectLock::acquire(&project.name, || {
        ui.note("another gorae is changing this project; waiting for it to finish")
    })
    .await
}

fn names(targets: &[Target]) -> String {
    if targets.is_empty() {
        return "gorae.yaml (no built service to sync)".to_string();
    }
    targets
        .iter()
        .map(|t| t.service.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Watches every target's context and the project file's directory.
fn start_watching(
    watcher: &mut notify::RecommendedWatcher,
    project: &Project,
    targets: &[Target],
) -> notify::Result<Vec<PathBuf>> {
    let mut watched = Vec::new();
    let mut contexts: BTreeSet<&Path> = targets.iter().map(|t| t.context.as_path()).collect();
    let project_dir = project.file.parent().unwrap_or(&project.dir).to_path_buf();
    if !contexts.contains(project_dir.as_path()) {
        watcher.watch(&project_dir, RecursiveMode::NonRecursive)?;
        watched.push(project_dir);
    }
    for context in std::mem::take(&mut contexts) {
        watcher.watch(context, RecursiveMode::Recursive)?;
        watched.push(context.to_path_buf());
    }
    Ok(watched)
}

/// The changed paths of each target, context-relative; paths the target's ignore
/// rules leave out (and paths of no target) are dropped here.
fn group(targets: &[Target], paths: Vec<(PathBuf, bool)>) -> BTreeMap<usize, Changes> {
    let mut grouped: BTreeMap<usize, Changes> = BTreeMap::new();
    for (path, whole) in paths {
        for (index, target) in targets.iter().enumerate() {
            let Ok(rel) = path.strip_prefix(&target.context) else {
                continue;
            };
            let rel = crate::context::slash_path(rel);
            if rel.is_empty() || target.ignore.is_ignored(&rel) {
                continue;
            }
            let entry = grouped.entry(index).or_default().entry(rel).or_default();
            *entry |= whole;
        }
    }
    grouped
}

async fn targets_or_report(
    project: &Project,
    plan: &Plan,
    engine: &Engine,
    ui: &Ui,
) -> Vec<Target> {
    match targets(project, plan, engine).await {
        Ok(targets) => targets,
        Err(err) => {
            ui.note(&format!("{err:#}"));
            Vec::new()
        }
    }
}

/// The built, long-running services and what they need to be watched.
async fn targets(project: &Project, plan: &Plan, engine: &Engine) -> anyhow::Result<Vec<Target>> {
    let (templates, _) = crate::config::template::Templates::load(&project.dir, &project.dir);
    let mut targets = Vec::new();
    for service in &plan.services {
        let ImagePlan::Build(BuildPlan {
            context,
            dockerfile,
            ..
        }) = &service.image
        else {
            continue;
        };
        if service.kind != ServiceKind::Service {
            continue;
        }
        let config = project.services.get(&service.name);
        let written = config.and_then(|s| s.watch.as_ref());
        let manifests = match written.and_then(|w| w.rebuild.clone()) {
            Some(rebuild) => rebuild,
            None => config
                .and_then(|s| s.template.as_ref())
                .and_then(|t| templates.get(&t.name))
                .map(|t| t.manifests.clone())
                .unwrap_or_default(),
        };
        let own_dockerfile = match dockerfile {
            DockerfileSource::File { path, .. } => path
                .strip_prefix(context)
                .ok()
                .map(crate::context::slash_path),
            DockerfileSource::Rendered { .. } => None,
        };
        let restart = written.is_none_or(|w| w.restart);
        let sync_only = written.map(|w| w.sync.clone()).unwrap_or_default();
        let workdir = engine.working_dir(&service.spec.name).await?;
        targets.push(Target {
            service: service.clone(),
            context: context.clone(),
            workdir,
            rules: Rules::new(&manifests, own_dockerfile, &sync_only, restart),
            ignore: crate::context::ignore_rules(context)?,
        });
    }
    Ok(targets)
}

/// Applies one batch of one service: the strongest need decides.
async fn apply_changes(
    engine: &Engine,
    ui: &Ui,
    project: &Project,
    plan: &Plan,
    target: &Target,
    changed: &Changes,
) -> anyhow::Result<()> {
    let name = target.service.name.as_str();
    let batch = sync::batch(&target.context, changed, &target.ignore)?;
    // Judged by the files sent and the paths removed: a directory's own event (a
    // file created in it) asks for nothing by itself.
    let need = batch
        .files
        .iter()
        .chain(&batch.removed)
        .map(|path| target.rules.need(path))
        .max();
    let Some(need) = need else {
        return Ok(());
    };
    if need == Need::Rebuild {
        // The image's content hash changes with the manifest: `up` of this service
        // builds, and only once the build succeeded replaces the container.
        let _lock = lock(project, ui).await?;
        let options = UpOptions {
            only: Some(vec![name.to_string()]),
            ..UpOptions::default()
        };
        let images = Images::new(engine, ui, &project.name);
        if let Err(err) = apply::up(engine, plan, ui, &options, &images).await {
            ui.service(
                name,
                Event::Failed {
                    reason: "rebuild failed; the running container is kept".into(),
                },
            );
            ui.note(&format!("{:#}", anyhow::Error::from(err)));
        }
        return Ok(());
    }
    let started = Instant::now();
    let container = target.service.spec.name.as_str();
    if !batch.files.is_empty() {
        engine
            .upload_tar(container, &target.workdir, batch.tar)
            .await?;
    }
    let removed: Vec<String> = batch
        .removed
        .iter()
        .map(|rel| format!("{}/{rel}", target.workdir.trim_end_matches('/')))
        .collect();
    engine.remove_paths(container, &removed).await?;
    let restarted = if need == Need::Restart {
        let supervised = target
            .service
            .spec
            .command
            .as_deref()
            .is_some_and(supervise::is_wrapped);
        // In place when the app runs under the supervisor; else the engine restarts
        // the container (a user's own Dockerfile).
        let in_place = supervised
            && engine
                .exec(container, &supervise::restart_command())
                .await
                .is_ok_and(|out| out.exit_code == 0);
        if !in_place {
            engine
                .restart_container(container, RESTART_STOP_SECS)
                .await?;
        }
        let timeout = target.service.ready_timeout;
        let ready = readiness::wait_ready(
            engine,
            container,
            &plan.network,
            target.service.ready.as_ref(),
            Instant::now() + timeout,
            timeout,
        )
        .await;
        if let Err(not_ready) = ready {
            ui.service(
                name,
                Event::Failed {
                    reason: format!("{not_ready} after restart; still watching"),
                },
            );
            let logs = engine
                .last_logs(container, CRASH_LOG_LINES)
                .await
                .unwrap_or_default();
            let mut text = format!("last log lines of `{name}`:");
            for line in logs.trim_end().lines() {
                text.push_str(&format!("\n  | {line}"));
            }
            ui.note(&text);
            return Ok(());
        }
        Some(started.elapsed().as_secs_f64())
    } else {
        None
    };
    ui.service(
        name,
        Event::Synced {
            files: batch.files.len(),
            removed: batch.removed.len(),
            restarted,
        },
    );
    Ok(())
}
