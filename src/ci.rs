//! The CI files `gorae ci` writes: a GitHub Actions workflow and a GitLab CI job that
//! install gorae, start the environment exactly as gorae.lock pins it
//! (`gorae up --ci --frozen`), hand the connection variables to the tests, run them
//! (inside an app's container or on the runner), print the services' logs on
//! failure and always clean up.
//!
//! Pure text generation; `commands::ci` reads the project and decides where the
//! files go.

use crate::lock::LOCK_FILE;
use crate::yaml_out::scalar;

/// Which CI system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    GitHub,
    GitLab,
}

impl System {
    /// Where the file goes, relative to the repository root.
    pub fn path(self) -> &'static str {
        match self {
            System::GitHub => ".github/workflows/gorae.yml",
            System::GitLab => ".gitlab-ci.yml",
        }
    }
}

/// Where CI gets gorae from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Install {
    /// `cargo install gorae --version V` from crates.io.
    Crates { version: String },
    /// `cargo install --git URL --rev REV`.
    Git { url: String, rev: String },
    /// A `.tar.gz` holding the `gorae` binary, checked against its sha256.
    Archive { url: String, sha256: String },
}

impl Install {
    /// What the binary cache is keyed by: a new version, revision or archive
    /// installs anew.
    fn cache_key(&self) -> String {
        match self {
            Install::Crates { version } => version.clone(),
            Install::Git { rev, .. } => format!("git-{rev}"),
            Install::Archive { sha256, .. } => {
                format!("archive-{}", &sha256[..sha256.len().min(16)])
            }
        }
    }

    fn words(&self) -> String {
        match self {
            Install::Crates { version } => format!("gorae {version} from crates.io"),
            Install::Git { url, rev } => format!("gorae from {url} at {rev}"),
            Install::Archive { url, .. } => format!("gorae from {url} (checked by its sha256)"),
        }
    }

    /// Shell lines that leave the binary in `$root/bin/gorae`; `root` is a shell
    /// word (`~/.gorae-ci`).
    fn lines(&self, root: &str) -> Vec<String> {
        match self {
            Install::Crates { version } => vec![format!(
                "cargo install gorae --locked --version {version} --root {root}"
            )],
            Install::Git { url, rev } => vec![format!(
                "cargo install gorae --locked --git {} --rev {} --root {root}",
                shell_word(url),
                shell_word(rev)
            )],
            Install::Archive { url, sha256 } => vec![
                format!("if [ ! -x {root}/bin/gorae ]; then"),
                format!(
                    "  curl --fail --silent --show-error --location {} --output /tmp/gorae.tar.gz",
                    shell_word(url)
                ),
                format!("  echo \"{sha256}  /tmp/gorae.tar.gz\" | sha256sum -c -"),
                format!("  mkdir -p /tmp/gorae-archive {root}/bin"),
                "  tar -xzf /tmp/gorae.tar.gz -C /tmp/gorae-archive".to_string(),
                format!(
                    "  find /tmp/gorae-archive -type f -name gorae -exec cp {{}} {root}/bin/gorae \\;"
                ),
                format!("  chmod +x {root}/bin/gorae"),
                "fi".to_string(),
            ],
        }
    }
}

/// An app service whose toolchain the runner needs when the tests run there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub service: String,
    /// `node` or `python`; other templates get no setup step.
    pub template: String,
    /// The version gorae.yaml gives (the base image's tag), so CI tests on the
    /// version the container runs.
    pub version: String,
    /// The build context relative to the project directory (`web`, or `.`).
    pub dir: String,
}

/// Where the test command runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestPlace {
    /// Inside this service's container (`gorae exec`): its toolchain, its
    /// dependencies, and its wired variables with in-network addresses.
    Service(String),
    /// On the runner, with the toolchains of `apps` set up and the connection
    /// variables of `gorae env` (published ports on 127.0.0.1).
    Runner { apps: Vec<App> },
}

/// What the generated file depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The gorae version that writes the file.
    pub version: String,
    pub install: Install,
    /// Run after the environment is up; `None` writes a commented-out placeholder.
    pub test_command: Option<String>,
    pub test_place: TestPlace,
    /// The project directory relative to the repository root (`None`: the root).
    pub project_dir: Option<String>,
    /// Variables gorae.yaml needs that only an uncommitted `.env` gives; CI reads
    /// them from the CI system's secrets.
    pub secrets: Vec<String>,
    /// The project's name: its built images carry it (`dev.gorae.project`).
    pub project: String,
}

/// The file's text.
pub fn render(system: System, options: &Options) -> String {
    match system {
        System::GitHub => github(options),
        System::GitLab => gitlab(options),
    }
}

/// The `$(...)` that lists the image ids gorae.lock pins (one `"id"` per line of the
/// lock), for `docker save`.
fn locked_ids(lock: &str) -> String {
    format!("$(sed -n 's/.*\"id\": \"\\(sha256:[0-9a-f]*\\)\".*/\\1/p' {lock})")
}

/// The header's lines about secrets, or nothing.
fn secrets_header(secrets: &[String], how: &str) -> String {
    if secrets.is_empty() {
        return String::new();
    }
    format!(
        "# gorae.yaml reads {} from .env, which is not committed: {how}\n",
        secrets.join(", ")
    )
}

fn github(o: &Options) -> String {
    let version = &o.version;
    let lock = match &o.project_dir {
        Some(dir) => format!("{dir}/{LOCK_FILE}"),
        None => LOCK_FILE.to_string(),
    };
    let defaults = match &o.project_dir {
        Some(dir) => format!(
            "    defaults:\n      run:\n        # gorae.yaml is here, not at the repository root.\n        working-directory: {}\n",
            scalar(dir)
        ),
        None => String::new(),
    };
    let env = if o.secrets.is_empty() {
        String::new()
    } else {
        let lines: Vec<String> = o
            .secrets
            .iter()
            .map(|name| format!("      {name}: ${{{{ secrets.{name} }}}}\n"))
            .collect();
        format!("    env:\n{}", lines.concat())
    };
    let install: String = o
        .install
        .lines("~/.gorae-ci")
        .iter()
        .map(|line| format!("          {line}\n"))
        .collect();
    let (setup, test) = github_test(o);
    let place = match &o.test_place {
        TestPlace::Service(service) => format!(
            "# The tests run inside the `{service}` container (`gorae exec`), with its toolchain,\n# its dependencies and the connection variables it is wired with."
        ),
        TestPlace::Runner { .. } => "# The tests run on the runner, with the app's toolchain set up at the version in\n# gorae.yaml and the connection variables of `gorae env` (published ports).".to_string(),
    };
    format!(
        r#"# Written by `gorae ci github` (gorae {version}). It starts the services exactly as
# gorae.lock pins them, runs the tests against them, shows the services' logs when a
# step fails, and always removes the environment.
# Needs gorae.lock committed beside gorae.yaml: `gorae lock` writes it, and
# `gorae up --frozen` refuses to run without it or when it is stale.
{place}
{secrets}name: gorae

on:
  push:
  pull_request:

jobs:
  environment:
    runs-on: ubuntu-latest
{defaults}{env}    steps:
      - uses: actions/checkout@v4

      # {install_words}; the cache keeps the binary, so it is
      # installed again only when that changes.
      - name: Cache gorae
        uses: actions/cache@v4
        with:
          path: ~/.gorae-ci
          key: gorae-{cache_key}-${{{{ runner.os }}}}-${{{{ runner.arch }}}}
      - name: Install gorae
        run: |
{install}          echo "$HOME/.gorae-ci/bin" >> "$GITHUB_PATH"

      # Every image gorae.lock pins, and the images gorae built. `docker load` keeps
      # image ids, and gorae accepts an image whose id matches the lock without asking
      # a registry, so a run after the first pulls nothing and builds nothing. The key
      # follows gorae.lock; every run saves its own copy and the next restores it.
      - name: Cache images
        uses: actions/cache@v4
        with:
          path: ~/.gorae-images.tar
          key: gorae-images-${{{{ runner.os }}}}-${{{{ hashFiles('{lock}') }}}}-${{{{ github.sha }}}}
          restore-keys: gorae-images-${{{{ runner.os }}}}-${{{{ hashFiles('{lock}') }}}}-
      - name: Load images
        run: if [ -f ~/.gorae-images.tar ]; then docker load --input ~/.gorae-images.tar; fi

      - name: Start the environment
        run: gorae up --ci --frozen
      # DATABASE_URL, REDIS_URL, ... with the published ports, for every later step.
      # Written in GITHUB_ENV's NAME<<DELIMITER form, which takes any value as it is.
      - name: Connection variables
        run: |
          eval "$(gorae env)"
          for name in $(gorae env --format dotenv | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p'); do
            printf '%s<<GORAE_ENV_END\n%s\nGORAE_ENV_END\n' "$name" "${{!name}}" >> "$GITHUB_ENV"
          done
{setup}
{test}
      - name: Save images
        run: |
          built=$(docker image ls --filter label=dev.gorae.project={project} --filter dangling=false --format '{{{{.Repository}}}}:{{{{.Tag}}}}')
          docker save --output ~/.gorae-images.tar {locked} $built

      - name: Logs of the services
        if: failure()
        run: gorae logs --tail 200
      - name: Remove the environment
        if: always()
        run: gorae down --volumes
"#,
        secrets = secrets_header(
            &o.secrets,
            "add them as repository secrets (Settings > Secrets and variables > Actions)."
        ),
        install_words = o.install.words(),
        cache_key = o.install.cache_key(),
        locked = locked_ids(LOCK_FILE),
        project = o.project,
    )
}

/// The language setup steps (runner only) and the test step.
fn github_test(o: &Options) -> (String, String) {
    let Some(command) = &o.test_command else {
        let hint = match &o.test_place {
            TestPlace::Service(service) => format!("gorae exec {service} -- npm test"),
            TestPlace::Runner { .. } => "npm test".to_string(),
        };
        return (
            String::new(),
            format!(
                "      # Your tests, against the running services. Without a test step the job\n      # checks that the environment starts and becomes ready.\n      # - name: Test\n      #   run: {hint}\n"
            ),
        );
    };
    match &o.test_place {
        TestPlace::Service(service) => (
            String::new(),
            format!(
                "      - name: Test\n        run: {}\n",
                block_or_scalar(&exec_command(service, command), 10)
            ),
        ),
        TestPlace::Runner { apps } => {
            let mut setup = String::new();
            for app in apps {
                setup.push_str(&github_setup(app, o.project_dir.as_deref()));
            }
            (
                setup,
                format!(
                    "      - name: Test\n        run: {}\n",
                    block_or_scalar(command, 10)
                ),
            )
        }
    }
}

/// `gorae exec SERVICE -- sh -c 'COMMAND'`.
fn exec_command(service: &str, command: &str) -> String {
    format!("gorae exec {service} -- sh -c {}", shell_word(command))
}

fn github_setup(app: &App, project_dir: Option<&str>) -> String {
    let dir = match (project_dir, app.dir.as_str()) {
        (Some(p), ".") => p.to_string(),
        (Some(p), d) => format!("{p}/{d}"),
        (None, d) => d.to_string(),
    };
    let working = if dir == "." {
        String::new()
    } else {
        format!("        working-directory: {}\n", scalar(&dir))
    };
    let version = crate::yaml_out::quoted(&app.version);
    match app.template.as_str() {
        "node" => format!(
            "      # `{service}`'s toolchain and dependencies on the runner, at gorae.yaml's version.\n      - uses: actions/setup-node@v4\n        with:\n          node-version: {version}\n      - name: Dependencies of {service}\n{working}        run: if [ -f package-lock.json ]; then npm ci; elif [ -f package.json ]; then npm install; fi\n",
            service = app.service
        ),
        "python" => format!(
            "      # `{service}`'s toolchain and dependencies on the runner, at gorae.yaml's version.\n      - uses: actions/setup-python@v5\n        with:\n          python-version: {version}\n      - name: Dependencies of {service}\n{working}        run: if [ -s requirements.txt ]; then python -m pip install -r requirements.txt; fi\n",
            service = app.service
        ),
        _ => String::new(),
    }
}

fn gitlab(o: &Options) -> String {
    let version = &o.version;
    let (lock, cd) = match &o.project_dir {
        Some(dir) => (
            format!("{dir}/{LOCK_FILE}"),
            format!(
                "    # gorae.yaml is here, not at the repository root.\n    - cd {}\n",
                scalar(dir)
            ),
        ),
        None => (LOCK_FILE.to_string(), String::new()),
    };
    let test_shell = match &o.test_place {
        TestPlace::Service(service) => format!("gorae exec {service} -- sh -c \"$GORAE_TEST\""),
        TestPlace::Runner { .. } => "sh -ec \"$GORAE_TEST\"".to_string(),
    };
    let where_words = match &o.test_place {
        TestPlace::Service(service) => format!(
            "    # Runs inside the `{service}` container (`gorae exec`), with its toolchain and\n    # the connection variables it is wired with."
        ),
        TestPlace::Runner { .. } => "    # Runs in this job's container (Alpine with the docker CLI), with the connection\n    # variables of `gorae env` (published ports on 127.0.0.1).".to_string(),
    };
    let (test_variable, test_line) = match &o.test_command {
        Some(command) => (
            format!(
                "{where_words}\n    # Not expanded by GitLab: the shell reads it as written.\n    GORAE_TEST:\n      value: {}\n      expand: false\n",
                crate::yaml_out::quoted(command)
            ),
            format!("      if [ \"$status\" -eq 0 ]; then {test_shell} || status=$?; fi\n"),
        ),
        None => (
            "    # Your tests, run after the environment is ready, for example\n    # `gorae exec web -- npm test` (this job's container is Alpine with the docker\n    # CLI). Without them the job checks that the environment starts and is ready.\n    # GORAE_TEST: gorae exec web -- npm test\n".to_string(),
            format!("      if [ \"$status\" -eq 0 ] && [ -n \"${{GORAE_TEST:-}}\" ]; then {test_shell} || status=$?; fi\n"),
        ),
    };
    let install: String = o
        .install
        .lines(".gorae-ci")
        .iter()
        .map(|line| format!("      {line}\n"))
        .collect();
    let apk = match &o.install {
        Install::Archive { .. } => "    - apk add --no-cache curl\n",
        _ => "    - apk add --no-cache musl-dev\n",
    };
    format!(
        r#"# Written by `gorae ci gitlab` (gorae {version}). It starts the services exactly as
# gorae.lock pins them, runs the tests against them, shows the services' logs when
# something fails, and always removes the environment.
# Needs gorae.lock committed beside gorae.yaml: `gorae lock` writes it, and
# `gorae up --frozen` refuses to run without it or when it is stale.
{secrets}
# {install_words}: installed once per source as a static
# (musl) binary and handed to the job below.
gorae:install:
  stage: build
  image: rust:1-alpine
  cache:
    key: gorae-{cache_key}-musl
    paths: [.gorae-ci/]
  script:
{apk}    - |
{install}  artifacts:
    paths: [.gorae-ci/bin/gorae]
    expire_in: 1 day

# The engine runs inside this job (Docker-in-Docker, which needs a runner with
# `privileged = true`), so gorae reaches the containers and their published ports
# the way it does on a developer's machine.
gorae:
  stage: test
  image:
    name: docker:27-dind
    # The job's shell, not the engine: the engine is started in before_script.
    entrypoint: [""]
  needs: ["gorae:install"]
  variables:
    # The engine started below, whatever the runner sets.
    DOCKER_HOST: unix:///var/run/docker.sock
{test_variable}  # Every image gorae.lock pins, and the images gorae built: `docker load` keeps
  # image ids, and gorae accepts an image whose id matches the lock without asking a
  # registry, so a run after the first pulls nothing and builds nothing.
  cache:
    key:
      files: [{lock}]
      prefix: gorae-images
    paths: [.gorae-images.tar]
  before_script:
    - export PATH="$CI_PROJECT_DIR/.gorae-ci/bin:$PATH"
    - (dind dockerd > /tmp/dockerd.log 2>&1 &)
    - for i in $(seq 60); do docker info > /dev/null 2>&1 && break; sleep 1; done
    - docker info > /dev/null || {{ cat /tmp/dockerd.log; exit 1; }}
    - if [ -f "$CI_PROJECT_DIR/.gorae-images.tar" ]; then docker load --input "$CI_PROJECT_DIR/.gorae-images.tar"; fi
{cd}  script:
    # One step, so the logs and the cleanup run whatever fails: the engine lives in
    # this job's container and is gone by the time `after_script` runs.
    - |
      status=0
      gorae up --ci --frozen || status=$?
      if [ "$status" -eq 0 ]; then eval "$(gorae env)"; fi
{test_line}      if [ "$status" -ne 0 ]; then gorae logs --tail 200 || true; fi
      gorae down --volumes || true
      if [ "$status" -ne 0 ]; then exit "$status"; fi
    - |
      built=$(docker image ls --filter label=dev.gorae.project={project} --filter dangling=false --format '{{{{.Repository}}}}:{{{{.Tag}}}}')
      docker save --output "$CI_PROJECT_DIR/.gorae-images.tar" {locked} $built
"#,
        secrets = secrets_header(
            &o.secrets,
            "add them as CI/CD variables (Settings > CI/CD > Variables), masked."
        ),
        install_words = o.install.words(),
        cache_key = o.install.cache_key(),
        locked = locked_ids(LOCK_FILE),
        project = o.project,
    )
}

/// A shell word: as it is when it needs no quoting, else single-quoted.
fn shell_word(text: &str) -> String {
    shlex::try_quote(text)
        .map(|q| q.into_owned())
        .unwrap_or_else(|_| format!("'{}'", text.replace('\'', "'\\''")))
}

/// A `run:` value at `indent` columns: a plain or quoted scalar for one line, a `|`
/// block for several.
fn block_or_scalar(text: &str, indent: usize) -> String {
    if text.contains('\n') {
        let pad = " ".repeat(indent);
        let lines: Vec<String> = text.lines().map(|line| format!("{pad}{line}")).collect();
        format!("|\n{}", lines.join("\n"))
    } else {
        scalar_command(text)
    }
}

/// A one-line shell command as a YAML scalar: plain when YAML would read it back
/// unchanged (`npm test`), else double-quoted.
fn scalar_command(text: &str) -> String {
    let plain_ok = !text.is_empty()
        && !text.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@` ".contains(c))
        && !text.contains(": ")
        && !text.contains(" #")
        && !text.ends_with([':', ' ']);
    if plain_ok && crate::config::yaml::classify_plain(text) == crate::config::yaml::Kind::Str {
        text.to_string()
    } else {
        crate::yaml_out::quoted(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_commands_stay_readable_and_multi_line_ones_become_blocks() {
        assert_eq!(block_or_scalar("npm test", 8), "npm test");
        assert_eq!(
            block_or_scalar("pytest -k 'not slow'", 8),
            "pytest -k 'not slow'"
        );
        assert_eq!(block_or_scalar("echo a: b", 8), "\"echo a: b\"");
        assert_eq!(block_or_scalar("- x", 8), "\"- x\"");
        assert_eq!(block_or_scalar("a\nb", 2), "|\n  a\n  b");
    }

    #[test]
    fn each_install_source_gets_its_own_cache_key_and_lines() {
        let crates = Install::Crates {
            version: "0.1.0".into(),
        };
        let git = Install::Git {
            url: "https://example.com/gorae.git".into(),
            rev: "abc123".into(),
        };
        let archive = Install::Archive {
            url: "https://example.com/gorae.tar.gz".into(),
            sha256: "f".repeat(64),
        };
        assert_eq!(
            crates.lines("~/.g"),
            ["cargo install gorae --locked --version 0.1.0 --root ~/.g"]
        );
        assert_eq!(
            git.lines("~/.g"),
            [
                "cargo install gorae --locked --git https://example.com/gorae.git --rev abc123 --root ~/.g"
            ]
        );
        let lines = archive.lines("~/.g").join("\n");
        assert!(
            lines.contains(&format!(
                "echo \"{}  /tmp/gorae.tar.gz\" | sha256sum -c -",
                "f".repeat(64)
            )),
            "{lines}"
        );
        let keys = [crates.cache_key(), git.cache_key(), archive.cache_key()];
        assert_eq!(keys, ["0.1.0", "git-abc123", "archive-ffffffffffffffff"]);
    }
}
