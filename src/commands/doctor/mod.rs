//! `gorae doctor`: every precondition of `gorae up`, checked one by one, each with
//! a fix. Checks that need no engine (the project file, the ports) run even when
//! the engine is down, so one run shows everything that is wrong.

mod checks;
mod lock;
mod name;

use serde::Serialize;

use super::print_stdout;
use crate::cli::DoctorArgs;
use crate::exit::ExitCode;
use crate::output::OutputError;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    /// Worth knowing, but `up` can still work.
    Warn,
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    pub fn pass(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            status: Status::Pass,
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn warn(
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            status: Status::Warn,
            fix: Some(fix.into()),
            ..Check::pass(name, detail)
        }
    }

    pub fn fail(
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            status: Status::Fail,
            fix: Some(fix.into()),
            ..Check::pass(name, detail)
        }
    }

    fn render(&self) -> String {
        let mark = match self.status {
            Status::Pass => "✓",
            Status::Warn => "!",
            Status::Fail => "✗",
        };
        let mut text = format!("{mark} {}: {}\n", self.name, self.detail);
        if let Some(fix) = &self.fix {
            text.push_str(&format!("  fix: {fix}\n"));
        }
        text
    }
}

/// Collects the checks; as text each is printed as soon as it is known, since
/// asking a registry can take seconds.
struct Report {
    json: bool,
    checks: Vec<Check>,
}

impl Report {
    fn add(&mut self, check: Check) -> Result<(), OutputError> {
        if !self.json {
            print_stdout(&check.render())?;
        }
        self.checks.push(check);
        Ok(())
    }

    fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }
}

pub async fn run(
    file: crate::commands::ProjectFile<'_>,
    args: &DoctorArgs,
) -> anyhow::Result<ExitCode> {
    let mut report = Report {
        json: args.json,
        checks: Vec::new(),
    };
    let (project, check) = checks::project(file);
    report.add(check)?;
    let (engine, check) = checks::engine().await;
    report.add(check)?;
    let unchecked = |name: &str| {
        Check::fail(
            name,
            "not checked: the engine is unreachable",
            "start the engine (see above), then run `gorae doctor` again",
        )
    };
    match &engine {
        Some(engine) => report.add(checks::disk(engine).await)?,
        None => report.add(unchecked("disk"))?,
    }
    if let Some(project) = &project {
        match &engine {
            Some(engine) => {
                for check in checks::images(engine, project).await {
                    report.add(check)?;
                }
            }
            None => report.add(unchecked("images"))?,
        }
        match &engine {
            Some(engine) => report.add(name::check(engine, project).await)?,
            None => report.add(unchecked("project name"))?,
        }
        for check in checks::ports(engine.as_ref(), project).await {
            report.add(check)?;
        }
        report.add(lock::check(engine.as_ref(), project).await)?;
    }

    let failed = report.count(Status::Fail);
    if args.json {
        #[derive(Serialize)]
        struct Output<'a> {
            ok: bool,
            checks: &'a [Check],
        }
        let output = Output {
            ok: failed == 0,
            checks: &report.checks,
        };
        print_stdout(&format!("{}\n", serde_json::to_string_pretty(&output)?))?;
    } else {
        let warned = report.count(Status::Warn);
        let summary = match (failed, warned) {
            (0, 0) => "everything gorae needs is in place".to_string(),
            (0, w) => format!("nothing blocks `gorae up`; {w} warning{}", plural(w)),
            (f, _) => format!("{f} problem{} to fix before `gorae up`", plural(f)),
        };
        print_stdout(&format!("\n{summary}\n"))?;
    }
    Ok(if failed == 0 {
        ExitCode::Success
    } else {
        ExitCode::Failure
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
