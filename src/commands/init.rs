//! `gorae init`: writes a commented gorae.yaml for the project in this directory,
//! detected from its manifests or imported from its compose file ([`crate::init`]),
//! then loads it back so the user learns at once whether it needs an edit.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::Failure;
use crate::cli::InitArgs;
use crate::config::PROJECT_FILE;
use crate::exit::ExitCode;
use crate::ui::{Mode, Ui};

pub fn run(file: Option<&Path>, args: &InitArgs) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir()?;
    let (target, shown) = target(file, &cwd);
    if target.exists() && !args.force {
        return Err(exists(&shown).into());
    }
    let dir = target.parent().unwrap_or(&cwd);
    let draft = crate::init::detect(dir)?;
    let text = crate::init::render(&draft);

    let ui = Ui::new(Mode::Plain, false);
    for skipped in draft.all_skipped() {
        ui.note(&skipped.to_string());
    }
    write(&target, &text, args.force).map_err(|err| match err.kind() {
        // Created by someone else since the check above.
        std::io::ErrorKind::AlreadyExists => anyhow::Error::from(exists(&shown)),
        _ => anyhow::Error::from(err).context(format!("cannot write {shown}")),
    })?;

    write_dockerignores(&draft, dir, &ui);
    ignore_local_env(dir, &ui);

    let env = |name: &str| std::env::var(name).ok();
    match crate::config::load(&target, &env) {
        Ok(project) => {
            let names: Vec<&str> = project.services.keys().map(String::as_str).collect();
            ui.note(&format!(
                "wrote {shown} with {} service{} ({}); check it, then run `gorae up`",
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                names.join(", ")
            ));
            Ok(ExitCode::Success)
        }
        Err(err) => {
            ui.note(&format!(
                "wrote {shown}, but it needs an edit before `gorae up`:"
            ));
            // The file's own report: each problem with its place and a fix.
            Err(err.into())
        }
    }
}

/// Where to write: `-f FILE` (a directory means the gorae.yaml in it), else
/// gorae.yaml here. Also returns the name shown in messages.
fn target(file: Option<&Path>, cwd: &Path) -> (PathBuf, String) {
    match file {
        Some(file) => {
            let path = cwd.join(file);
            if path.is_dir() {
                let shown = file.join(PROJECT_FILE).display().to_string();
                (path.join(PROJECT_FILE), shown)
            } else {
                (path, file.display().to_string())
            }
        }
        None => (cwd.join(PROJECT_FILE), PROJECT_FILE.to_string()),
    }
}

fn exists(shown: &str) -> Failure {
    Failure::new(
        format!(
            "{shown} already exists; nothing was written\n  hint: edit it (`gorae config` checks it), or run `gorae init --force` to replace it with a new guess"
        ),
        ExitCode::Conflict,
    )
}

/// Writes a `.dockerignore` into each build context that has none (an existing one
/// is the user's and stays as it is), and says so.
fn write_dockerignores(draft: &crate::init::Draft, dir: &Path, ui: &Ui) {
    let mut contexts: Vec<&str> = draft
        .services
        .iter()
        .filter_map(|s| s.build.as_deref())
        .collect();
    contexts.sort();
    contexts.dedup();
    for context in contexts {
        let path = dir.join(context).join(".dockerignore");
        let shown = Path::new(context).join(".dockerignore");
        let shown = shown
            .strip_prefix(".")
            .unwrap_or(&shown)
            .display()
            .to_string();
        match write(&path, &crate::init::dockerignore::text(), false) {
            Ok(()) => ui.note(&format!(
                "wrote {shown}: .env files and gorae's own files stay out of the image"
            )),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(err) => ui.note(&format!("could not write {shown}: {err}")),
        }
    }
}

/// `.env.local` holds one person's variables (see `config::variables`): it goes
/// into .gitignore (made if missing) unless a line there already covers it.
fn ignore_local_env(dir: &Path, ui: &Ui) {
    let path = dir.join(".gitignore");
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => {
            ui.note(&format!(
                "could not read .gitignore: {err}; add .env.local to it"
            ));
            return;
        }
    };
    let covered = existing.lines().map(str::trim).any(|line| {
        matches!(
            line.trim_start_matches('/'),
            ".env.local" | ".env.*" | ".env*" | "*.local"
        )
    });
    if covered {
        return;
    }
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(
        "# personal variables for gorae (and other tools), never committed\n.env.local\n",
    );
    match std::fs::write(&path, text) {
        Ok(()) => ui.note("added .env.local to .gitignore: personal variables stay out of git"),
        Err(err) => ui.note(&format!(
            "could not write .gitignore: {err}; add .env.local to it"
        )),
    }
}

/// Writes the file; without `force`, only if it does not exist yet.
fn write(path: &Path, text: &str, force: bool) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())
}
