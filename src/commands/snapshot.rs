//! `gorae snapshot save|restore|ls|rm`: the stateful services' data as files the
//! team can share. Everything a restore can refuse for (an unknown snapshot or
//! service, a damaged file, another major version) is checked before the engine is
//! asked to change anything.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::future::try_join_all;

use super::Failure;
use crate::apply::UpOptions;
use crate::cli::{SnapshotAction, SnapshotArgs, SnapshotRestoreArgs, SnapshotSaveArgs};
use crate::config::{Project, Service};
use crate::engine::{Engine, ExistingContainer, STOP_TIMEOUT_SECS, labels};
use crate::exit::ExitCode;
use crate::images::Images;
use crate::plan::{self, Plan};
use crate::snapshot::manifest::{self, Manifest, SavedService};
use crate::snapshot::{archive, store};
use crate::ui::{Event, Mode, Ui, human_bytes};

pub async fn run(
    file: super::ProjectFile<'_>,
    verbose: bool,
    args: &SnapshotArgs,
) -> anyhow::Result<ExitCode> {
    let project = super::load_project(file)?;
    match &args.action {
        SnapshotAction::Save(args) => save(&project, verbose, args).await,
        SnapshotAction::Restore(args) => restore(&project, verbose, args).await,
        SnapshotAction::Ls => list(&project),
        SnapshotAction::Rm(args) => remove(&project, &args.name),
    }
}

/// The services of the project whose data a snapshot can hold, by name.
fn snapshottable(project: &Project) -> Vec<&Service> {
    project
        .services
        .values()
        .filter(|s| s.snapshot.is_some() && !s.throwaway)
        .collect()
}

/// `name` as a service whose data can be saved, or why not.
fn stateful<'a>(project: &'a Project, name: &str) -> Result<&'a Service, Failure> {
    let service = super::known_service(project, name)?;
    if service.throwaway {
        return Err(Failure::new(
            format!(
                "`{name}` is throw-away (`throwaway: true`): its data lives in memory only while it runs, so there is nothing to save or restore into\n  hint: remove `throwaway: true` from `{name}` in gorae.yaml to keep its data"
            ),
            ExitCode::Usage,
        ));
    }
    if service.snapshot.is_some() {
        return Ok(service);
    }
    let names: Vec<&str> = snapshottable(project)
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    let hint = if names.is_empty() {
        "no service of this project can: services from a template that keeps data (postgres, mysql, mariadb, redis, rabbitmq) can".to_string()
    } else {
        format!(
            "the services whose data can be saved are: {}",
            names.join(", ")
        )
    };
    Err(Failure::new(
        format!("`{name}` keeps no data that gorae can snapshot\n  hint: {hint}"),
        ExitCode::Usage,
    ))
}

/// The environment as `up` would make it, for the services named: to start them
/// again after a save and after a restore.
struct Environment<'a> {
    engine: &'a Engine,
    ui: &'a Ui,
    plan: Plan,
    images: Images<'a>,
}

impl Environment<'_> {
    /// Brings `services` up (creating or starting their containers) and waits until
    /// they are ready. The caller holds the project's lock.
    async fn bring_up(
        &self,
        project: &Project,
        services: Vec<String>,
        timeout: Option<u64>,
    ) -> anyhow::Result<ExitCode> {
        let options = UpOptions {
            timeout: timeout.map(Duration::from_secs),
            only: Some(services),
            ..UpOptions::default()
        };
        super::up::bring_up(
            project,
            self.engine,
            &self.plan,
            self.ui,
            &options,
            &self.images,
        )
        .await
    }
}

/// Makes the plan for `services` as `gorae restart` does (secrets read, gorae.lock
/// followed), so that the services come back exactly as `up` would start them.
async fn environment<'a>(
    project: &Project,
    engine: &'a Engine,
    ui: &'a Ui,
    services: &[String],
) -> anyhow::Result<Environment<'a>> {
    let secrets = super::read_secrets(project, Some(services)).await?;
    let images = Images::new(engine, ui, &project.name);
    let pins = super::up::follow_lock(project, engine, &images, ui, false).await?;
    let mut plan = plan::desired_pinned(project, &pins);
    secrets.fill(&mut plan);
    Ok(Environment {
        engine,
        ui,
        plan,
        images,
    })
}

/// The snapshot name and services `save` was given: the first word is the name
/// unless it names a service, in which case every word is a service and the name is
/// the date and time.
fn save_words(project: &Project, words: &[String]) -> (String, Vec<String>) {
    match words.split_first() {
        Some((first, rest)) if !project.services.contains_key(first) => {
            (first.clone(), rest.to_vec())
        }
        _ => (default_name(), words.to_vec()),
    }
}

/// The date and time in UTC, `2026-12-02-134501`: sorts in the order taken.
fn default_name() -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]-[hour][minute][second]");
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_else(|_| "snapshot".to_string())
}

async fn save(
    project: &Project,
    verbose: bool,
    args: &SnapshotSaveArgs,
) -> anyhow::Result<ExitCode> {
    let (name, named) = save_words(project, &args.words);
    manifest::check_name(&name).map_err(|message| Failure::new(message, ExitCode::Usage))?;
    let services: Vec<&Service> = if named.is_empty() {
        snapshottable(project)
    } else {
        named
            .iter()
            .map(|service| stateful(project, service))
            .collect::<Result<_, _>>()?
    };
    if services.is_empty() {
        return Err(Failure::new(
            format!(
                "no service of {} keeps data that gorae can snapshot\n  hint: services from a template that keeps data (postgres, mysql, mariadb, redis, rabbitmq) can",
                project.file.display()
            ),
            ExitCode::Usage,
        )
        .into());
    }
    let target = store::root(project).join(&name);
    if target.exists() && !args.force {
        return Err(Failure::new(
            format!(
                "snapshot `{name}` already exists\n  hint: save under another name, add --force to replace it, or `gorae snapshot rm {name}` first"
            ),
            ExitCode::Conflict,
        )
        .into());
    }
    let names: Vec<String> = services.iter().map(|s| s.name.clone()).collect();
    let engine = super::connect().await?;
    let ui = Ui::new(Mode::detect(args.ci, false), verbose)
        .with_services(project.services.keys().map(String::as_str));
    let _lock = super::up::lock_project(project, &ui).await?;
    let containers = super::observe(&engine, project).await?.containers;
    let found = containers_of(&containers, &names, "save")?;
    let env = environment(project, &engine, &ui, &names).await?;

    // Every service is stopped before any is copied, so the snapshot is one moment
    // of the whole environment, not of each service at its own time.
    let running: Vec<&ExistingContainer> =
        found.iter().copied().filter(|c| c.is_running()).collect();
    try_join_all(running.iter().map(|container| async {
        ui.service(&container.service, Event::Stopping);
        engine
            .stop_container(&container.id, STOP_TIMEOUT_SECS)
            .await?;
        ui.service(&container.service, Event::Stopped);
        Ok::<_, anyhow::Error>(())
    }))
    .await?;
    let saved = save_all(project, &env, &found, &name).await;
    // Started again whatever the copy did: a failed save must not leave the
    // environment down.
    let restarted: Vec<String> = running.iter().map(|c| c.service.clone()).collect();
    let code = if restarted.is_empty() {
        ExitCode::Success
    } else {
        env.bring_up(project, restarted, None).await?
    };
    let (staging, services) = saved?;
    let manifest = Manifest {
        format: manifest::FORMAT,
        gorae_version: env!("CARGO_PKG_VERSION").to_string(),
        project: project.name.clone(),
        created: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        services,
    };
    let path = staging.commit(&manifest, args.force)?;
    ui.note(&format!(
        "saved snapshot `{name}` ({}) in {}; `gorae snapshot restore {name}` puts it back",
        names.join(", "),
        crate::config::show_relative(&path, &project.dir)
    ));
    Ok(code)
}

/// The containers of `services`, or which service has none yet (nothing to copy
/// from or into before its first `up`).
fn containers_of<'a>(
    containers: &'a [ExistingContainer],
    services: &[String],
    doing: &str,
) -> Result<Vec<&'a ExistingContainer>, Failure> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for service in services {
        match containers.iter().find(|c| &c.service == service) {
            Some(container) => found.push(container),
            None => missing.push(service.as_str()),
        }
    }
    if missing.is_empty() {
        return Ok(found);
    }
    Err(Failure::new(
        format!(
            "nothing to {doing}: {} not been started yet\n  hint: run `gorae up {}` first",
            match missing.as_slice() {
                [one] => format!("`{one}` has"),
                more => format!("{} have", more.join(", ")),
            },
            missing.join(" ")
        ),
        ExitCode::ServiceFailed,
    ))
}

/// Copies the data of every container in `found` (all stopped) into a staged
/// snapshot, one after the other (they share the disk).
async fn save_all(
    project: &Project,
    env: &Environment<'_>,
    found: &[&ExistingContainer],
    name: &str,
) -> anyhow::Result<(
    store::Staging,
    std::collections::BTreeMap<String, SavedService>,
)> {
    let staging = store::Staging::new(project, name)?;
    let mut services = std::collections::BTreeMap::new();
    for container in found {
        let service = &project.services[&container.service];
        let Some(how) = &service.snapshot else {
            continue;
        };
        let started = Instant::now();
        let file = manifest::archive_file(&service.name);
        let (sha256, bytes) = archive::save(
            env.engine,
            &container.id,
            &how.data_dir,
            &staging.dir().join(&file),
        )
        .await?;
        env.ui.service(
            &service.name,
            Event::Saved {
                snapshot: name.to_string(),
                bytes,
                seconds: started.elapsed().as_secs_f64(),
            },
        );
        let image = env
            .plan
            .services
            .iter()
            .find(|s| s.name == service.name)
            .and_then(|s| match &s.image {
                plan::ImagePlan::Pull { reference, .. } => Some(reference.clone()),
                plan::ImagePlan::Build(_) => None,
            })
            .unwrap_or_default();
        services.insert(
            service.name.clone(),
            SavedService {
                template: how.template.clone(),
                version: how.version.clone(),
                image,
                image_id: container.image_id.clone(),
                method: how.method,
                data_dir: how.data_dir.clone(),
                file,
                sha256,
                bytes,
            },
        );
    }
    Ok((staging, services))
}

/// The snapshot `name`'s manifest, or a message naming the snapshots there are.
pub(super) fn find(project: &Project, name: &str) -> Result<Manifest, Failure> {
    manifest::check_name(name).map_err(|message| Failure::new(message, ExitCode::Usage))?;
    let dir = store::root(project).join(name);
    if !dir.is_dir() {
        let known: Vec<String> = store::list(project)
            .unwrap_or_default()
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        let hint = if known.is_empty() {
            "this project has no snapshots yet: `gorae snapshot save NAME` makes one".to_string()
        } else {
            format!("the snapshots are: {}", known.join(", "))
        };
        return Err(Failure::new(
            format!(
                "no snapshot `{name}` in {}\n  hint: {hint}",
                store::SNAPSHOTS_DIR
            ),
            ExitCode::Usage,
        ));
    }
    store::read_manifest(&dir).map_err(|why| {
        Failure::new(
            format!("snapshot `{name}` cannot be restored: {why}; nothing was changed"),
            ExitCode::Failure,
        )
    })
}

/// Everything a restore checks before it touches anything: the services are in the
/// snapshot and the project, their versions are compatible, and every file is
/// whole. Returns the services to restore.
pub(super) fn check_restore(
    project: &Project,
    name: &str,
    manifest: &Manifest,
    named: &[String],
) -> Result<Vec<String>, Failure> {
    let services: Vec<String> = if named.is_empty() {
        manifest.services.keys().cloned().collect()
    } else {
        named.to_vec()
    };
    let refuse = |why: String| {
        Failure::new(
            format!("snapshot `{name}` cannot be restored: {why}; nothing was changed"),
            ExitCode::Failure,
        )
    };
    for service in &services {
        let Some(saved) = manifest.services.get(service) else {
            let held: Vec<&str> = manifest.services.keys().map(String::as_str).collect();
            return Err(Failure::new(
                format!(
                    "snapshot `{name}` holds no data of `{service}`\n  hint: it holds: {}",
                    held.join(", ")
                ),
                ExitCode::Usage,
            ));
        };
        let now = stateful(project, service)?;
        if let Some(how) = &now.snapshot
            && let Some(why) = manifest::incompatibility(service, saved, how)
        {
            return Err(refuse(format!(
                "{why}\n  hint: restore it with the version it was saved from (`version: \"{}\"`), or save a new snapshot",
                saved.version
            )));
        }
    }
    let damaged = store::damaged_files(&store::root(project).join(name), manifest, &services);
    if !damaged.is_empty() {
        return Err(refuse(format!(
            "its files are damaged ({})\n  hint: copy the snapshot again from where it came from, or save a new one",
            damaged.join("; ")
        )));
    }
    Ok(services)
}

async fn restore(
    project: &Project,
    verbose: bool,
    args: &SnapshotRestoreArgs,
) -> anyhow::Result<ExitCode> {
    let manifest = find(project, &args.name)?;
    let services = check_restore(project, &args.name, &manifest, &args.services)?;
    let engine = super::connect().await?;
    let ui = Ui::new(Mode::detect(args.ci, false), verbose)
        .with_services(project.services.keys().map(String::as_str));
    let _lock = super::up::lock_project(project, &ui).await?;
    let containers = super::observe(&engine, project).await?.containers;
    let env = environment(project, &engine, &ui, &services).await?;
    // The images first: a missing one that cannot be pulled stops the restore here,
    // before any data is gone.
    let mut images = HashMap::new();
    for service in &services {
        let plan = env
            .plan
            .services
            .iter()
            .find(|s| &s.name == service)
            .ok_or_else(|| anyhow::anyhow!("no plan for `{service}`"))?;
        images.insert(service.clone(), env.images.resolve(plan).await?.info.id);
    }
    let snapshot_dir = store::root(project).join(&args.name);
    for service in &services {
        let started = Instant::now();
        ui.service(
            service,
            Event::Restoring {
                snapshot: args.name.clone(),
            },
        );
        let saved = &manifest.services[service];
        let existing = containers.iter().find(|c| &c.service == service);
        refill_volume(
            &engine,
            &env.plan,
            service,
            existing,
            &images[service],
            saved,
            &snapshot_dir.join(&saved.file),
        )
        .await?;
        ui.service(
            service,
            Event::Restored {
                snapshot: args.name.clone(),
                seconds: started.elapsed().as_secs_f64(),
            },
        );
    }
    let code = env
        .bring_up(project, services.clone(), args.timeout)
        .await?;
    ui.note(&format!(
        "restored {} from snapshot `{}`",
        services.join(", "),
        args.name
    ));
    Ok(code)
}

/// Replaces the data volume of `service` with the snapshot's: its container goes
/// (the next `up` makes it again), the volume is made anew, and the archive is
/// unpacked into it through a container that never runs.
pub(super) async fn refill_volume(
    engine: &Engine,
    plan: &Plan,
    service: &str,
    existing: Option<&ExistingContainer>,
    image_id: &str,
    saved: &SavedService,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    // Killed, not stopped: its data is about to be replaced, so a clean shutdown
    // (a Postgres checkpoint writing out what changed since) would be wasted time.
    if let Some(container) = existing {
        engine.remove_container(&container.id).await?;
    }
    let volume = plan::volume_name(&plan.project, &crate::config::data_volume_name(service));
    engine.remove_volume(&volume).await?;
    engine.ensure_volume(&volume, &plan.resource_labels).await?;
    let mut holder_labels = plan.resource_labels.clone();
    holder_labels.insert(labels::KIND.to_string(), "snapshot-restore".to_string());
    let holder_name = format!("{}-restore", plan::container_name(&plan.project, service));
    // One left by a restore that was killed midway is this project's, and in the way.
    for left in engine.scoped_containers(&plan.scope()).await? {
        if left.name == holder_name {
            engine.remove_container(&left.id).await?;
        }
    }
    let holder = engine
        .create_volume_holder(
            &holder_name,
            image_id,
            holder_labels,
            &volume,
            &saved.data_dir,
        )
        .await?;
    let unpacked = archive::restore(engine, &holder, &saved.data_dir, file).await;
    engine.remove_container(&holder).await?;
    unpacked
}

fn list(project: &Project) -> anyhow::Result<ExitCode> {
    let snapshots = store::list(project)?;
    if snapshots.is_empty() {
        super::print_stdout(&format!(
            "no snapshots in {}; `gorae snapshot save NAME` makes one\n",
            store::SNAPSHOTS_DIR
        ))?;
        return Ok(ExitCode::Success);
    }
    let mut rows = vec![[
        "NAME".to_string(),
        "SAVED (UTC)".to_string(),
        "SERVICES".to_string(),
        "SIZE".to_string(),
    ]];
    for (name, manifest) in snapshots {
        rows.push(match manifest {
            Ok(manifest) => [
                name,
                saved_at(manifest.created),
                manifest
                    .services
                    .iter()
                    .map(|(service, saved)| {
                        format!("{service} ({} {})", saved.template, saved.version)
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                human_bytes(manifest.services.values().map(|s| s.bytes).sum()),
            ],
            Err(why) => [name, "-".into(), format!("unreadable: {why}"), "-".into()],
        });
    }
    let widths: Vec<usize> = (0..3)
        .map(|i| rows.iter().map(|row| row[i].len()).max().unwrap_or(0))
        .collect();
    let mut text = String::new();
    for row in rows {
        text.push_str(&format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {}\n",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        ));
    }
    super::print_stdout(&text)?;
    Ok(ExitCode::Success)
}

/// Unix seconds as `2026-12-02 13:45`.
fn saved_at(seconds: u64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    i64::try_from(seconds)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "-".to_string())
}

fn remove(project: &Project, name: &str) -> anyhow::Result<ExitCode> {
    // Checked like every name, so `rm ../x` cannot reach outside the snapshots.
    manifest::check_name(name).map_err(|message| Failure::new(message, ExitCode::Usage))?;
    let dir = store::root(project).join(name);
    if !dir.is_dir() {
        find(project, name)?;
    }
    std::fs::remove_dir_all(&dir)
        .map_err(|err| anyhow::anyhow!("cannot delete {}: {err}", dir.display()))?;
    super::print_stdout(&format!("deleted snapshot `{name}`\n"))?;
    Ok(ExitCode::Success)
}
