//! A [`Decision`] in words for people (`gorae plan`), and as the docker CLI commands
//! that would do the same (`gorae plan --docker`), secrets masked in both.

use std::collections::BTreeMap;

use super::{ContainerStep, Decision, ImageStep, Plan, Step};
use crate::config::{Project, ServiceKind, mask_value};
use crate::engine::Mount;

/// One line per service and per removal, then a summary line.
pub fn text(project: &str, decision: &Decision) -> String {
    let width = decision
        .steps
        .iter()
        .map(|s| s.service.len())
        .chain(decision.removals.iter().map(|r| r.service.len()))
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for removal in &decision.removals {
        out.push_str(&format!(
            "{:width$}  remove {}: {}\n",
            removal.service, removal.container, removal.reason
        ));
    }
    for step in &decision.steps {
        out.push_str(&format!(
            "{:width$}  {}{}\n",
            step.service,
            image_words(&step.image),
            container_words(step.kind, &step.container)
        ));
    }
    out.push_str(&summary(project, decision));
    out.push('\n');
    out
}

fn image_words(image: &ImageStep) -> String {
    match image {
        ImageStep::Present { .. } => String::new(),
        ImageStep::Pull { reference, reason } => format!("pull {reference} ({reason}), then "),
        ImageStep::Build {
            tag: Some(tag),
            reason,
        } => format!("build {tag} ({reason}), then "),
        ImageStep::Build { tag: None, reason } => format!("build ({reason}), then "),
    }
}

fn container_words(kind: ServiceKind, container: &ContainerStep) -> String {
    match container {
        ContainerStep::Keep { .. } if kind == ServiceKind::Task => {
            "wait: still running from an earlier up".to_string()
        }
        ContainerStep::Keep { .. } => "keep: running and up to date".to_string(),
        ContainerStep::Done { .. } => "skip: already succeeded with these inputs".to_string(),
        ContainerStep::Start { .. } => "start: stopped, up to date".to_string(),
        ContainerStep::Create if kind == ServiceKind::Task => "create and run".to_string(),
        ContainerStep::Create => "create".to_string(),
        ContainerStep::Recreate { reasons, .. } => format!("recreate: {}", reasons.join(", ")),
        ContainerStep::KeepIfSameImage { then, .. } => format!(
            "recreate if the image is another one, else {}",
            container_words(kind, then)
        ),
    }
}

fn summary(project: &str, decision: &Decision) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut count = |what: &'static str| *counts.entry(what).or_default() += 1;
    for step in &decision.steps {
        match step.image {
            ImageStep::Pull { .. } => count("to pull"),
            ImageStep::Build { .. } => count("to build"),
            ImageStep::Present { .. } => {}
        }
        count(match step.container {
            ContainerStep::Create => "to create",
            ContainerStep::Recreate { .. } => "to recreate",
            ContainerStep::Start { .. } => "to start",
            ContainerStep::KeepIfSameImage { .. } => "to recreate if the image changes",
            ContainerStep::Keep { .. } | ContainerStep::Done { .. } => "unchanged",
        });
    }
    for _ in &decision.removals {
        count("to remove");
    }
    let order = [
        "to pull",
        "to build",
        "to remove",
        "to create",
        "to recreate",
        "to recreate if the image changes",
        "to start",
        "unchanged",
    ];
    let parts: Vec<String> = order
        .iter()
        .filter_map(|what| counts.get(what).map(|n| format!("{n} {what}")))
        .collect();
    if decision.steps.iter().all(|s| {
        matches!(
            s.container,
            ContainerStep::Keep { .. } | ContainerStep::Done { .. }
        ) && matches!(s.image, ImageStep::Present { .. })
    }) && decision.removals.is_empty()
    {
        return format!("{project}: nothing to do ({})", parts.join(", "));
    }
    format!("{project}: {}", parts.join(", "))
}

/// The docker CLI commands that would bring about the same decision, one per line,
/// each word quoted for a POSIX shell; secret values are masked, so the commands
/// show the shape, not something to paste with real passwords.
pub fn docker(project: &Project, plan: &Plan, decision: &Decision) -> String {
    let mut lines = Vec::new();
    // A line starting with `#` is a comment, written as it is.
    let mut line = |words: Vec<String>| match words.as_slice() {
        [comment] if comment.starts_with('#') => lines.push(comment.clone()),
        _ => lines.push(shell_words(&words)),
    };
    for removal in &decision.removals {
        line(words(["docker", "rm", "-f", &removal.container]));
    }
    // The network exists while any container of the project does.
    let first_up = !decision.steps.is_empty()
        && decision
            .steps
            .iter()
            .all(|s| s.container == ContainerStep::Create);
    if first_up {
        let mut create = words(["docker", "network", "create"]);
        for (key, value) in &plan.resource_labels {
            create.push("--label".into());
            create.push(format!("{key}={value}"));
        }
        create.push(plan.network.clone());
        line(create);
    }
    for step in &decision.steps {
        match &step.image {
            ImageStep::Pull { reference, .. } => line(words(["docker", "pull", reference])),
            ImageStep::Build { tag, .. } => {
                let service = plan.services.iter().find(|s| s.name == step.service);
                let context = match service.map(|s| &s.image) {
                    Some(super::ImagePlan::Build(build)) => build.context.display().to_string(),
                    _ => ".".to_string(),
                };
                let tag = tag.clone().unwrap_or_else(|| "TAG".to_string());
                if let Some(super::ImagePlan::Build(super::BuildPlan {
                    dockerfile: crate::config::DockerfileSource::Rendered { .. },
                    ..
                })) = service.map(|s| &s.image)
                {
                    line(vec![format!(
                        "# {}: the Dockerfile is the template's, which gorae writes into the context it sends",
                        step.service
                    )]);
                }
                line(words(["docker", "build", "-t", &tag, &context]));
            }
            ImageStep::Present { .. } => {}
        }
        let secret_env = project
            .services
            .get(&step.service)
            .map(|s| s.secret_env.as_slice())
            .unwrap_or_default();
        match &step.container {
            ContainerStep::Keep { .. } | ContainerStep::Done { .. } => {}
            ContainerStep::Start { .. } => {
                line(words(["docker", "start", &step.planned_spec().name]));
            }
            ContainerStep::Create
            | ContainerStep::Recreate { .. }
            | ContainerStep::KeepIfSameImage { .. } => {
                let spec = step.planned_spec();
                if matches!(step.container, ContainerStep::KeepIfSameImage { .. }) {
                    line(vec![format!(
                        "# only if the new image of {} is another one than its container's:",
                        step.service
                    )]);
                }
                if !matches!(step.container, ContainerStep::Create) {
                    line(words(["docker", "rm", "-f", &spec.name]));
                }
                for mount in &spec.mounts {
                    if let Mount::Volume { name, .. } = mount {
                        line(words(["docker", "volume", "create", name]));
                    }
                }
                line(create_words(step, secret_env));
                for mount in &spec.mounts {
                    if let Mount::Secret { target, .. } = mount {
                        line(vec![format!(
                            "# gorae writes the secret value into {}:{target} (read-only) here",
                            spec.name
                        )]);
                    }
                }
                line(words(["docker", "start", &spec.name]));
            }
        }
    }
    lines.join("\n") + "\n"
}

fn create_words(step: &Step, secret_env: &[String]) -> Vec<String> {
    let spec = step.planned_spec();
    // gorae runs every container with an init process as PID 1 (see the engine's
    // create call).
    let mut out = words(["docker", "create", "--init", "--name", &spec.name]);
    out.extend(words(["--network", &spec.network]));
    for alias in &spec.aliases {
        out.extend(words(["--network-alias", alias]));
    }
    for (key, value) in &spec.labels {
        out.push("--label".into());
        out.push(format!("{key}={value}"));
    }
    for (name, value) in &spec.env {
        out.push("-e".into());
        out.push(format!("{name}={}", mask_value(name, value, secret_env)));
    }
    for port in &spec.ports {
        let protocol = port.protocol.as_str();
        out.push("-p".into());
        out.push(format!(
            "{}:{}:{}/{protocol}",
            port.host_ip, port.host_port, port.container_port
        ));
    }
    for mount in &spec.mounts {
        let (kind, source, target, read_only) = match mount {
            Mount::Bind {
                source,
                target,
                read_only,
            } => ("bind", source.display().to_string(), target, *read_only),
            Mount::Volume {
                name,
                target,
                read_only,
            } => ("volume", name.clone(), target, *read_only),
            // Written into the container after `docker create` (see the line after it).
            Mount::Secret { .. } => continue,
        };
        out.push("--mount".into());
        out.push(format!(
            "type={kind},src={source},dst={target}{}",
            if read_only { ",readonly" } else { "" }
        ));
    }
    let run = &spec.run;
    let options = [
        ("--user", &run.user),
        ("--workdir", &run.working_dir),
        ("--stop-signal", &run.stop_signal),
        ("--platform", &run.platform),
    ];
    for (flag, value) in options {
        if let Some(value) = value {
            out.extend(words([flag, value]));
        }
    }
    for host in &run.extra_hosts {
        out.extend(words(["--add-host", host]));
    }
    for dir in &run.tmpfs {
        out.extend(words(["--tmpfs", dir]));
    }
    // `--entrypoint` takes one program; the rest of an entrypoint list goes before
    // the command, where the engine would put it.
    let (program, entrypoint_args) = match run.entrypoint.as_deref() {
        Some([program, rest @ ..]) => (Some(program), rest),
        Some([]) => (Some(&String::new()), &[][..]),
        None => (None, &[][..]),
    };
    if let Some(program) = program {
        out.extend(words(["--entrypoint", program]));
    }
    out.push(if spec.image.is_empty() {
        "IMAGE".to_string()
    } else {
        spec.image.clone()
    });
    out.extend(entrypoint_args.iter().cloned());
    out.extend(spec.command.iter().flatten().cloned());
    out
}

fn words<const N: usize>(items: [&str; N]) -> Vec<String> {
    items.iter().map(ToString::to_string).collect()
}

fn shell_words(words: &[String]) -> String {
    words
        .iter()
        .map(|word| {
            shlex::try_quote(word)
                .map(|quoted| quoted.into_owned())
                // Only a NUL cannot be quoted, and gorae refuses NULs in values.
                .unwrap_or_else(|_| format!("'{}'", word.replace('\0', "")))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
#[path = "show_tests.rs"]
mod tests;
