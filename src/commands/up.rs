//! `gorae up`: build, start in dependency order, wait until ready.

use std::time::Duration;

use crate::apply::{self, UpOptions};
use crate::cli::UpArgs;
use crate::exit::ExitCode;

use crate::config::Project;
use crate::engine::{Engine, Mount};
use crate::images::Images;
use crate::lock::{self, LockError, Lockfile, Refresh};
use crate::plan::{self, Pins, Plan};
use crate::project_lock::ProjectLock;
use crate::ui::{Mode, Ui};

use super::{Failure, Interrupted};

pub async fn run(
    file: crate::commands::ProjectFile<'_>,
    verbose: bool,
    args: &UpArgs,
) -> anyhow::Result<ExitCode> {
    let mut project = super::load_project(file)?;
    for service in &args.services {
        super::known_service(&project, service)?;
    }
    if args.throwaway {
        for service in project.services.values_mut() {
            service.make_throwaway();
        }
    }
    super::seed::check_reseed(&project, &args.reseed)?;
    // A service to reseed is brought up too, so that its seed can run.
    let only = (!args.services.is_empty()).then(|| {
        let mut only = args.services.clone();
        only.extend(
            args.reseed
                .iter()
                .filter(|s| !only.contains(s))
                .cloned()
                .collect::<Vec<_>>(),
        );
        only
    });
    // Before the engine is asked anything: a secret that cannot be read changes nothing.
    let secrets = super::read_secrets(&project, only.as_deref()).await?;
    super::seed::confirm_reseed(&project, &args.reseed, args.yes)?;
    let engine = super::connect().await?;
    let ui = Ui::new(Mode::detect(args.ci, args.json), verbose)
        .with_services(project.services.keys().map(String::as_str));
    let _lock = lock_project(&project, &ui).await?;
    let images = Images::new(&engine, &ui, &project.name);
    let pins = follow_lock(&project, &engine, &images, &ui, args.frozen).await?;
    let mut plan = plan::desired_pinned(&project, &pins);
    secrets.fill(&mut plan);
    let seeds = super::seed::prepare(
        &project,
        &engine,
        &plan,
        &images,
        &ui,
        only.as_deref(),
        &args.reseed,
    )
    .await?;
    let mut options = UpOptions {
        timeout: args.timeout.map(Duration::from_secs),
        only,
        ..UpOptions::default()
    };
    super::seed::include(&mut options, seeds);
    let code = bring_up(&project, &engine, &plan, &ui, &options, &images).await?;
    if !args.watch {
        return Ok(code);
    }
    // Other gorae commands may run while watching; each applied change locks again.
    drop(_lock);
    let mode = Mode::detect(args.ci, args.json);
    crate::watch::run(project, plan, &engine, mode, verbose, args.logs).await?;
    Ok(code)
}

/// Takes the project's lock, saying so when another gorae holds it.
pub(super) async fn lock_project(project: &Project, ui: &Ui) -> std::io::Result<ProjectLock> {
    ProjectLock::acquire(&project.name, || {
        ui.note(&format!(
            "another gorae is changing project `{}`; waiting for it to finish",
            project.name
        ))
    })
    .await
}

/// Applies the plan (stopping cleanly on Ctrl-C) and prints the summary. The caller
/// holds the project's lock.
/// On an engine on another machine a bind mount would mount that machine's path,
/// not this one's: refused before anything is created, naming each mount.
fn refuse_host_paths_on_remote(
    engine: &Engine,
    plan: &Plan,
    only: Option<&[String]>,
) -> Result<(), Failure> {
    let Some(host) = engine.endpoint().remote_host() else {
        return Ok(());
    };
    let selected = crate::plan::selection(plan, only);
    let mut binds = Vec::new();
    let mut secrets = false;
    for service in plan.services.iter().filter(|s| selected.contains(&s.name)) {
        for mount in &service.spec.mounts {
            if let Mount::Bind { source, target, .. } = mount {
                secrets |= crate::config::is_secret_mount(target);
                binds.push(format!(
                    "`{}` mounts {} at {target}",
                    service.name,
                    crate::config::show_relative(source, std::path::Path::new(&plan.project_dir))
                ));
            }
        }
    }
    if binds.is_empty() {
        return Ok(());
    }
    let mut hint = format!(
        "drop these mounts and run `gorae up --watch`, which copies the source into the containers through the engine (see Watch in README), or run gorae on {host}"
    );
    if secrets {
        hint.push_str(
            "; a secret can be a value instead: `secrets: { NAME: { value: \"${VAR}\" } }`",
        );
    }
    Err(Failure::new(
        format!(
            "the engine runs on {host}, which cannot see this machine's files:\n  {}\n  hint: {hint}",
            binds.join("\n  ")
        ),
        ExitCode::Config,
    ))
}

pub(super) async fn bring_up(
    project: &Project,
    engine: &Engine,
    plan: &Plan,
    ui: &Ui,
    options: &UpOptions,
    images: &Images<'_>,
) -> anyhow::Result<ExitCode> {
    refuse_host_paths_on_remote(engine, plan, options.only.as_deref())?;
    let outcome = tokio::select! {
        outcome = apply::up(engine, plan, ui, options, images) => outcome,
        _ = tokio::signal::ctrl_c() => {
            ui.finish();
            return Err(Interrupted.into());
        }
    };
    ui.finish();
    let report = outcome?;
    let services = report.created.len() + report.unchanged.len();
    let mut details = Vec::new();
    for (count, what) in [
        (report.built.len(), "built"),
        (report.created.len(), "started"),
        (report.unchanged.len(), "unchanged"),
        (report.removed.len(), "removed"),
    ] {
        if count > 0 {
            details.push(format!("{count} {what}"));
        }
    }
    ui.note(&format!(
        "{}: {services} service{} ready in {:.1}s ({})",
        project.name,
        if services == 1 { "" } else { "s" },
        ui.elapsed().as_secs_f64(),
        details.join(", ")
    ));
    Ok(ExitCode::Success)
}

/// Like Cargo.lock: whenever gorae.lock exists, it decides the images of every
/// command that creates containers (`up`, `restart`, `run`); `frozen` also refuses a
/// missing lock and any change to it.
/// `gorae up --watch` follows it too, for every change it applies.
pub(crate) async fn follow_lock(
    project: &Project,
    engine: &Engine,
    images: &Images<'_>,
    ui: &Ui,
    frozen: bool,
) -> anyhow::Result<Pins> {
    let locked = lock::read_if_present(project)?;
    if !frozen && locked.is_none() {
        return Ok(Pins::new());
    }
    // The lock names images by id: one list of every image answers for them and
    // for what `up` looks up next, so a no-op `up` stays at three engine calls.
    images.prefetch_all().await?;
    pin_to_lock(project, engine, images, ui, locked.as_ref(), frozen).await
}

/// The image ids gorae.lock names, made present, for [`plan::desired_pinned`].
/// Entries for services that changed in gorae.yaml are updated (and said so); with
/// `frozen`, any change to the lock is refused instead.
async fn pin_to_lock(
    project: &Project,
    engine: &Engine,
    images: &Images<'_>,
    ui: &Ui,
    locked: Option<&Lockfile>,
    frozen: bool,
) -> anyhow::Result<Pins> {
    let pinned = lock::pin(project, engine, images, locked, Refresh::Nothing, frozen).await?;
    if !pinned.changes.is_empty() {
        if frozen {
            return Err(LockError::Stale {
                path: lock::path_for(project),
                differences: pinned.changes,
                hint: lock::STALE_HINT,
            }
            .into());
        }
        let path = lock::path_for(project);
        std::fs::write(&path, lock::render(&pinned.lock))
            .map_err(|err| anyhow::anyhow!("cannot write {}: {err}", path.display()))?;
        ui.note(&format!(
            "updated {} for what changed in gorae.yaml (review and commit it):\n{}",
            path.display(),
            pinned
                .changes
                .iter()
                .map(|c| format!("  - {c}"))
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    Ok(pinned.ids)
}
