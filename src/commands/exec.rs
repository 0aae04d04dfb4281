//! `gorae exec SERVICE -- CMD...`: run a command in a running service, passing
//! its exit code through.

use std::path::Path;

use crate::cli::ExecArgs;
use crate::exit::ExitCode;
use crate::plan;

/// Returns the command's own exit code.
pub async fn run(file: Option<&Path>, args: &ExecArgs) -> anyhow::Result<i32> {
    let project = super::load_project(file)?;
    if !project.services.contains_key(&args.service) {
        let names: Vec<&str> = project.services.keys().map(String::as_str).collect();
        anyhow::bail!(
            "no service `{}` in {}\n  hint: services are: {}",
            args.service,
            project.file.display(),
            names.join(", ")
        );
    }
    let engine = super::connect().await?;
    let name = plan::container_name(&project.name, &args.service);
    let container = engine
        .project_containers(&project.name)
        .await?
        .into_iter()
        .find(|c| c.service == args.service && c.name == name && c.is_running());
    let Some(container) = container else {
        anyhow::bail!(
            "service `{}` is not running\n  hint: start it with `gorae up`",
            args.service
        );
    };
    let code = engine.exec_attached(&container.id, &args.command).await?;
    Ok(i32::try_from(code).unwrap_or(ExitCode::Failure.code()))
}
