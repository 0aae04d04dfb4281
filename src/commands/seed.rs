//! Seeds at `up`: a stateful service's `seed:` is applied by the `up` that creates
//! its data volume, and only then; `up --reseed SERVICE` deletes the volume (after
//! asking) so that the seed applies again. A snapshot seed is unpacked before the
//! service first starts; a SQL file or a task runs once the service is ready.

use std::collections::BTreeSet;
use std::io::BufRead;
use std::time::Instant;

use super::Failure;
use crate::apply::UpOptions;
use crate::config::{Project, Seed};
use crate::engine::{Engine, ExistingContainer};
use crate::exit::ExitCode;
use crate::images::Images;
use crate::plan::{self, Plan};
use crate::ui::{Event, Ui};

/// A seed still to apply once the services are ready.
pub(super) struct Pending {
    service: String,
    seed: Seed,
    /// When `prepare` found the volume empty (Unix seconds): a seed task whose
    /// container `up` made after that has just run, and is not run twice.
    since: i64,
}

/// Now, in Unix seconds.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The services `--reseed` names, checked before anything else happens: each must
/// be in the project and have a `seed:`.
pub(super) fn check_reseed(project: &Project, reseed: &[String]) -> Result<(), Failure> {
    for name in reseed {
        let service = super::known_service(project, name)?;
        if service.seed.is_none() {
            let seeded: Vec<&str> = project
                .services
                .values()
                .filter(|s| s.seed.is_some())
                .map(|s| s.name.as_str())
                .collect();
            let hint = if seeded.is_empty() {
                format!(
                    "give it one in gorae.yaml, such as `seed: {{ sql: ./seed.sql }}` under `{name}`"
                )
            } else {
                format!("the services with a seed are: {}", seeded.join(", "))
            };
            return Err(Failure::new(
                format!("--reseed {name}: `{name}` has no `seed:` to apply\n  hint: {hint}"),
                ExitCode::Usage,
            ));
        }
    }
    Ok(())
}

/// Asks on the terminal before `--reseed` deletes data, unless `yes`; refuses when
/// no one can be asked.
pub(super) fn confirm_reseed(
    project: &Project,
    reseed: &[String],
    yes: bool,
) -> Result<(), Failure> {
    if reseed.is_empty() || yes {
        return Ok(());
    }
    let what: Vec<String> = reseed
        .iter()
        .filter_map(|name| {
            let seed = project.services[name].seed.as_ref()?;
            Some(format!("`{name}` (seeded again from {})", seed.describe()))
        })
        .collect();
    if !crate::tty::is_interactive() {
        return Err(Failure::new(
            format!(
                "--reseed deletes the data of {}, and there is no terminal to ask; nothing was changed\n  hint: add --yes to confirm",
                what.join(", ")
            ),
            ExitCode::Usage,
        ));
    }
    crate::output::stderr_line(&format!(
        "This deletes all data of {}. Continue? [y/N]",
        what.join(", ")
    ));
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        Err(Failure::new(
            "not confirmed; nothing was changed",
            ExitCode::Failure,
        ))
    }
}

/// Before the services start: deletes the data of the `reseed` services, then finds
/// every selected service with a seed whose data volume does not exist yet. A
/// snapshot seed is unpacked into the new volume now; the others are returned, to
/// apply with [`apply`] once the services are ready. No engine call when no
/// selected service has a seed, so a plain `up` stays as fast.
pub(super) async fn prepare(
    project: &Project,
    engine: &Engine,
    plan: &Plan,
    images: &Images<'_>,
    ui: &Ui,
    only: Option<&[String]>,
    reseed: &[String],
) -> anyhow::Result<Vec<Pending>> {
    let selected = plan::selection(plan, only);
    let seeded: Vec<(&String, &Seed)> = project
        .services
        .iter()
        .filter(|(name, _)| selected.contains(*name) || reseed.contains(name))
        .filter_map(|(name, service)| Some((name, service.seed.as_ref()?)))
        .collect();
    if seeded.is_empty() {
        return Ok(Vec::new());
    }
    let owned = super::observe(engine, project).await?;
    let volume_of =
        |service: &str| plan::volume_name(&project.name, &crate::config::data_volume_name(service));
    for name in reseed {
        if let Some(container) = owned.containers.iter().find(|c| &c.service == name) {
            engine.stop_and_remove(&container.id).await?;
        }
        engine.remove_volume(&volume_of(name)).await?;
    }
    let present: BTreeSet<&String> = owned.volumes.iter().collect();
    let mut pending = Vec::new();
    for (name, seed) in seeded {
        // A throw-away service's data is gone whenever it is not running; anything
        // else's lives in its volume.
        let empty = if project.services[name].throwaway {
            !owned
                .containers
                .iter()
                .any(|c| &c.service == name && c.is_running())
        } else {
            !present.contains(&volume_of(name))
        };
        if !empty && !reseed.contains(name) {
            continue;
        }
        match seed {
            Seed::Snapshot { .. } if project.services[name].throwaway => {
                return Err(Failure::new(
                    format!("`{name}` is throw-away, and a snapshot seed needs its data volume\n  hint: seed it from SQL or a task, or run it without throw-away mode"),
                    ExitCode::Usage,
                )
                .into());
            }
            Seed::Snapshot { name: snapshot } => {
                let started = Instant::now();
                let existing = owned
                    .containers
                    .iter()
                    .find(|c| &c.service == name && !reseed.contains(name));
                fill_from_snapshot(project, engine, plan, images, name, snapshot, existing).await?;
                ui.service(
                    name,
                    Event::Seeded {
                        from: seed.describe(),
                        seconds: started.elapsed().as_secs_f64(),
                    },
                );
            }
            _ => pending.push(Pending {
                service: name.clone(),
                seed: seed.clone(),
                since: now(),
            }),
        }
    }
    Ok(pending)
}

/// Unpacks snapshot `snapshot` into the new data volume of `service`, after the
/// checks a restore makes.
async fn fill_from_snapshot(
    project: &Project,
    engine: &Engine,
    plan: &Plan,
    images: &Images<'_>,
    service: &str,
    snapshot: &str,
    existing: Option<&ExistingContainer>,
) -> anyhow::Result<()> {
    let in_seed = |failure: Failure| {
        Failure::new(
            format!("seed of `{service}`: {}", failure.message),
            failure.code,
        )
    };
    let manifest = super::snapshot::find(project, snapshot).map_err(in_seed)?;
    let one = [service.to_string()];
    super::snapshot::check_restore(project, snapshot, &manifest, &one).map_err(in_seed)?;
    let service_plan = plan
        .services
        .iter()
        .find(|s| s.name == service)
        .ok_or_else(|| anyhow::anyhow!("no plan for `{service}`"))?;
    let image = images.resolve(service_plan).await?.info.id;
    let saved = &manifest.services[service];
    let file = crate::snapshot::store::root(project)
        .join(snapshot)
        .join(&saved.file);
    super::snapshot::refill_volume(engine, plan, service, existing, &image, saved, &file).await
}

/// Once the services are ready: runs each pending SQL file or task.
pub(super) async fn apply(
    project: &Project,
    engine: &Engine,
    plan: &Plan,
    ui: &Ui,
    images: &Images<'_>,
    pending: Vec<Pending>,
) -> anyhow::Result<()> {
    for Pending {
        service,
        seed,
        since,
    } in pending
    {
        let started = Instant::now();
        let applied = match &seed {
            Seed::Sql { path, command } => run_sql(project, engine, &service, path, command).await,
            Seed::Task { name } if ran_since(project, engine, name, since).await? => Ok(()),
            Seed::Task { name } => {
                let options = UpOptions {
                    timeout: None,
                    only: Some(vec![name.clone()]),
                    rerun: vec![name.clone()],
                };
                super::up::bring_up(project, engine, plan, ui, &options, images)
                    .await
                    .map(drop)
            }
            Seed::Snapshot { .. } => Ok(()),
        };
        if let Err(err) = applied {
            return Err(Failure::new(
                format!(
                    "seeding `{service}` from {} failed: {err:#}\n  hint: fix it, then `gorae up --reseed {service}` deletes the half-seeded data and seeds it again",
                    seed.describe()
                ),
                ExitCode::ServiceFailed,
            )
            .into());
        }
        ui.service(
            &service,
            Event::Seeded {
                from: seed.describe(),
                seconds: started.elapsed().as_secs_f64(),
            },
        );
    }
    Ok(())
}

/// Whether task `task` was run (and succeeded) by a container made at `since` or
/// later: the `up` that found the volume empty ran it already.
async fn ran_since(
    project: &Project,
    engine: &Engine,
    task: &str,
    since: i64,
) -> anyhow::Result<bool> {
    let containers = engine.scoped_containers(&plan::scope_of(project)).await?;
    Ok(containers
        .iter()
        .any(|c| c.service == task && c.created >= since && c.exit_code() == Some(0)))
}

/// Where a SQL seed is put in the service's container while it runs.
const SEED_FILE: &str = "/tmp/gorae-seed.sql";

/// Copies the SQL file into the running service and runs the template's command on
/// it; the command's output is the error when it fails.
async fn run_sql(
    project: &Project,
    engine: &Engine,
    service: &str,
    path: &std::path::Path,
    command: &[String],
) -> anyhow::Result<()> {
    let containers = engine.scoped_containers(&plan::scope_of(project)).await?;
    let container = containers
        .iter()
        .find(|c| c.service == service && c.is_running())
        .ok_or_else(|| anyhow::anyhow!("`{service}` is not running"))?;
    let bytes = std::fs::read(path)
        .map_err(|err| anyhow::anyhow!("cannot read {}: {err}", path.display()))?;
    // Readable by the database's own user, whoever the command runs as.
    let tar = crate::engine::readable_files_tar(&[(SEED_FILE, bytes.as_slice())])?;
    engine.upload_tar(&container.id, "/", tar).await?;
    let mut words = command.to_vec();
    words.push(SEED_FILE.to_string());
    let output = engine.exec(&container.id, &words).await?;
    let _ = engine
        .remove_paths(&container.id, &[SEED_FILE.to_string()])
        .await;
    if output.exit_code != 0 {
        anyhow::bail!(
            "`{}` exited with {}: {}",
            words.join(" "),
            output.exit_code,
            output.output.trim()
        );
    }
    Ok(())
}
