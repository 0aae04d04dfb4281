//! `gorae export compose|swarm|kubernetes`: writes the environment for another tool
//! (see [`crate::export`]). Reads gorae.yaml and gorae.lock; only `swarm` asks the
//! engine, for the images `gorae up` built, since Swarm cannot build.

use std::path::Path;

use super::Failure;
use crate::cli::{ExportArgs, ExportTo, KubernetesFormat};
use crate::exit::ExitCode;
use crate::export::{compose, kubernetes, swarm};
use crate::{lock, plan};

pub async fn run(
    file: crate::commands::ProjectFile<'_>,
    args: &ExportArgs,
) -> anyhow::Result<ExitCode> {
    let usage = |message: &str| Failure::new(message, ExitCode::Usage);
    match (args.to, args.format, &args.output) {
        (ExportTo::Compose | ExportTo::Swarm, KubernetesFormat::Kustomize, _) => {
            return Err(usage("`--format kustomize` is for `gorae export kubernetes`\n  hint: gorae export compose > compose.yaml").into());
        }
        (ExportTo::Kubernetes, KubernetesFormat::Kustomize, None) => {
            return Err(usage("`--format kustomize` writes several files and needs a directory\n  hint: gorae export kubernetes --format kustomize --output k8s").into());
        }
        (_, KubernetesFormat::Yaml, Some(_)) => {
            return Err(usage("`--output` is for `--format kustomize`; the other formats print to stdout\n  hint: gorae export kubernetes > manifests.yaml").into());
        }
        _ => {}
    }
    let project = super::load_project(file)?;
    let locked = lock::read_if_present(&project)?;
    let plan = plan::desired(&project);
    let text = match args.to {
        ExportTo::Compose => compose::compose_file(&project, &plan, locked.as_ref()),
        ExportTo::Swarm => {
            let built = built_images(&project, &plan).await?;
            swarm::swarm_file(&project, &plan, locked.as_ref(), &built)
        }
        ExportTo::Kubernetes => {
            let (manifests, notes) = kubernetes::manifests(&project, &plan, locked.as_ref());
            match &args.output {
                None => kubernetes::single_file(&manifests, &notes),
                Some(dir) => {
                    write_kustomization(dir, &manifests, &notes)?;
                    return Ok(ExitCode::Success);
                }
            }
        }
    };
    super::print_stdout(&text)?;
    Ok(ExitCode::Success)
}

/// The image each built service's build made on this engine (its content tag);
/// fails when one is not built yet.
async fn built_images(
    project: &crate::config::Project,
    plan: &plan::Plan,
) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let engine = super::connect().await?;
    let ui = crate::ui::Ui::new(crate::ui::Mode::detect(true, false), false);
    let images = crate::images::Images::new(&engine, &ui, &project.name);
    let mut built = std::collections::BTreeMap::new();
    for service in &plan.services {
        let Some(tag) = images.content_tag(service).await? else {
            continue;
        };
        if images.present(&tag).await?.is_none() {
            return Err(Failure::new(
                format!("the image of `{}` is not built yet, and Swarm cannot build\n  hint: run `gorae up` first, then export again", service.name),
                ExitCode::Failure,
            )
            .into());
        }
        built.insert(service.name.clone(), tag);
    }
    Ok(built)
}

fn write_kustomization(
    dir: &Path,
    manifests: &[kubernetes::Manifest],
    notes: &[String],
) -> anyhow::Result<()> {
    let failed = |err: std::io::Error| {
        Failure::new(
            format!("cannot write to {}: {err}", dir.display()),
            ExitCode::Failure,
        )
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    for manifest in manifests {
        let text = serde_yaml::to_string(&manifest.object)?;
        std::fs::write(dir.join(&manifest.file), text).map_err(failed)?;
    }
    let text = kubernetes::kustomization(manifests, notes);
    std::fs::write(dir.join("kustomization.yaml"), text).map_err(failed)?;
    Ok(())
}
