//! Seeds at `up`: a stateful service's `seed:` is applied by the `up` that creates
//! its data volume, and only then; `up --reseed SERVICE` deletes the volume (after
//! asking) so that the seed applies again. A snapshot seed is unpacked before the
//! service first starts; a SQL file or a task runs once the service answers, before
//! its dependents start (`apply` runs them).

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::time::Instant;

use super::Failure;
use crate::apply::{PendingSeed, UpOptions};
use crate::config::{Project, Seed};
use crate::engine::{Engine, ExistingContainer};
use crate::exit::ExitCode;
use crate::images::Images;
use crate::plan::{self, Plan};
use crate::ui::{Event, Ui};

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
/// every selected service with a seed whose data is empty. A snapshot seed is
/// unpacked into the new volume now; the others are returned, for `up` to apply
/// between the service answering and its dependents starting. No engine call when
/// no selected service has a seed, so a plain `up` stays as fast.
pub(super) async fn prepare(
    project: &Project,
    engine: &Engine,
    plan: &Plan,
    images: &Images<'_>,
    ui: &Ui,
    only: Option<&[String]>,
    reseed: &[String],
) -> anyhow::Result<BTreeMap<String, PendingSeed>> {
    let selected = plan::selection(plan, only);
    let seeded: Vec<(&String, &Seed)> = project
        .services
        .iter()
        .filter(|(name, _)| selected.contains(*name) || reseed.contains(name))
        .filter_map(|(name, service)| Some((name, service.seed.as_deref()?)))
        .collect();
    if seeded.is_empty() {
        return Ok(BTreeMap::new());
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
    let mut pending = BTreeMap::new();
    for (name, seed) in seeded {
        let throwaway = project.services[name].throwaway;
        // A throw-away service's data is gone whenever it is not running; anything
        // else's lives in its volume.
        let empty = if throwaway {
            !owned
                .containers
                .iter()
                .any(|c| &c.service == name && c.is_running())
        } else {
            !present.contains(&volume_of(name))
        };
        // A SQL file is also run when `up` re-creates a throw-away service that
        // runs, whose data goes with its old container: `up` knows only then.
        let sql_on_throwaway = throwaway && matches!(seed, Seed::Sql { .. });
        if !empty && !reseed.contains(name) && !sql_on_throwaway {
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
            _ => {
                pending.insert(
                    name.clone(),
                    PendingSeed {
                        seed: seed.clone(),
                        only_when_started: sql_on_throwaway && !empty,
                    },
                );
            }
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

/// Has `options` apply `seeds`: a seed task is brought up too, and runs even if it
/// ran before with this configuration.
pub(super) fn include(options: &mut UpOptions, seeds: BTreeMap<String, PendingSeed>) {
    for task in seeds.values().filter_map(PendingSeed::task) {
        if let Some(only) = &mut options.only
            && !only.iter().any(|s| s == task)
        {
            only.push(task.to_string());
        }
        if !options.rerun.iter().any(|s| s == task) {
            options.rerun.push(task.to_string());
        }
    }
    options.seeds = seeds;
}
