//! Real-engine tests of what a newcomer relies on: a project name shared by two
//! directories never lets one touch the other's data, app images carry no secrets,
//! and the daily commands (`up SERVICE`, `stop`, `restart`, `run`, `exec`, `env`,
//! `ps`) do what they say. Each test uses its own project (see `support`).

#[path = "../support/mod.rs"]
mod support;

mod calls;
mod daily;
mod images;
mod name_clash;
mod plan;
mod tasks;

use support::TestProject;

/// Runs `assert` with the project's name and directory filtered out of snapshots,
/// and the timestamps of plain output.
fn filtered(project: &TestProject, assert: impl FnOnce()) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(
        &regex_escape(&project.path().display().to_string()),
        "[dir]",
    );
    // Project names are `[a-z0-9-]`: nothing in them is special to a regex.
    settings.add_filter(project.name(), "[project]");
    settings.add_filter(r"\[ *[0-9]+\.[0-9]+s\]", "[t]");
    settings.add_filter(r"in [0-9]+\.[0-9]s", "in [s]");
    settings.bind(assert);
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '-' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

/// The container id of `service` in `project`, if it has one.
fn container_id(project: &TestProject, service: &str) -> Option<String> {
    support::containers_of(project.name())
        .into_iter()
        .find(|(s, _)| s == service)
        .map(|(_, id)| id)
}

/// `{{.State.Status}}` of the service's container.
fn state(project: &TestProject, service: &str) -> String {
    support::docker_inspect(
        &format!("{}-{service}", project.name()),
        "{{.State.Status}}",
    )
}
