//! The CI files `gorae ci` writes: a GitHub Actions workflow and a GitLab CI job that
//! start the environment exactly as gorae.lock pins it (`gorae up --ci --frozen`), run
//! the project's tests, print the services' logs on failure and always clean up.
//!
//! Pure text generation; `commands::ci` decides where the files go.

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

/// What the generated file depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The gorae version CI installs (this binary's, so CI runs what wrote the file).
    pub version: String,
    /// Run after the environment is up; `None` writes a commented-out placeholder.
    pub test_command: Option<String>,
    /// The project directory relative to the repository root (`None`: the root).
    pub project_dir: Option<String>,
}

/// The file's text.
pub fn render(system: System, options: &Options) -> String {
    match system {
        System::GitHub => github(options),
        System::GitLab => gitlab(options),
    }
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
    let test = match &o.test_command {
        Some(command) => format!(
            "      - name: Test\n        run: {}\n",
            block_or_scalar(command, 10)
        ),
        None => "      # Your tests, against the running services: on the host through the published\n      # ports, or inside a service with `gorae exec SERVICE -- CMD`. Without a test\n      # step the job checks that the environment starts and becomes ready.\n      # - name: Test\n      #   run: npm test\n".to_string(),
    };
    format!(
        r#"# Written by `gorae ci github` (gorae {version}). It starts the services exactly as
# gorae.lock pins them, runs the tests against them, shows the services' logs when a
# step fails, and always removes the environment.
# Needs gorae.lock committed beside gorae.yaml: `gorae lock` writes it, and
# `gorae up --frozen` refuses to run without it or when it is stale.
name: gorae

on:
  push:
  pull_request:

jobs:
  environment:
    runs-on: ubuntu-latest
{defaults}    steps:
      - uses: actions/checkout@v4

      # gorae at the version that wrote this file; the cache keeps the compiled
      # binary, so `cargo install` compiles only when the version changes.
      - name: Cache gorae
        uses: actions/cache@v4
        with:
          path: ~/.gorae-ci
          key: gorae-{version}-${{{{ runner.os }}}}-${{{{ runner.arch }}}}
      - name: Install gorae
        run: |
          cargo install gorae --locked --version {version} --root ~/.gorae-ci
          echo "$HOME/.gorae-ci/bin" >> "$GITHUB_PATH"

      # Images gorae built (labelled dev.gorae.project): a service whose inputs did
      # not change is not built again. Pulled images are not cached: `docker load`
      # does not restore the registry digest that `--frozen` checks, so they are
      # pulled and checked against gorae.lock on every run. The key follows
      # gorae.lock; every run saves its own copy and the next restores the newest.
      - name: Cache built images
        uses: actions/cache@v4
        with:
          path: ~/.gorae-images.tar
          key: gorae-images-${{{{ runner.os }}}}-${{{{ hashFiles('{lock}') }}}}-${{{{ github.sha }}}}
          restore-keys: gorae-images-${{{{ runner.os }}}}-${{{{ hashFiles('{lock}') }}}}-
      - name: Load built images
        run: if [ -f ~/.gorae-images.tar ]; then docker load --input ~/.gorae-images.tar; fi

      - name: Start the environment
        run: gorae up --ci --frozen

{test}
      - name: Save built images
        run: |
          images=$(docker image ls --filter label=dev.gorae.project --filter dangling=false --format '{{{{.Repository}}}}:{{{{.Tag}}}}')
          if [ -n "$images" ]; then docker save --output ~/.gorae-images.tar $images; fi

      - name: Logs of the services
        if: failure()
        run: gorae logs --tail 200
      - name: Remove the environment
        if: always()
        run: gorae down --volumes
"#
    )
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
    let (test_variable, test_line) = match &o.test_command {
        Some(command) => (
            format!(
                "    # Runs in this job's container (Alpine with the docker CLI), where the\n    # published ports are on 127.0.0.1; `gorae exec SERVICE -- CMD` runs a command\n    # inside a service instead. Not expanded by GitLab: the shell reads it as written.\n    GORAE_TEST:\n      value: {}\n      expand: false\n",
                crate::yaml_out::quoted(command)
            ),
            "      if [ \"$status\" -eq 0 ]; then sh -ec \"$GORAE_TEST\" || status=$?; fi\n",
        ),
        None => (
            "    # Your tests, run after the environment is ready, for example\n    # `gorae exec web -- npm test` (this job's container is Alpine with the docker\n    # CLI). Without them the job checks that the environment starts and is ready.\n    # GORAE_TEST: gorae exec web -- npm test\n".to_string(),
            "      if [ \"$status\" -eq 0 ] && [ -n \"${GORAE_TEST:-}\" ]; then sh -ec \"$GORAE_TEST\" || status=$?; fi\n",
        ),
    };
    format!(
        r#"# Written by `gorae ci gitlab` (gorae {version}). It starts the services exactly as
# gorae.lock pins them, runs the tests against them, shows the services' logs when
# something fails, and always removes the environment.
# Needs gorae.lock committed beside gorae.yaml: `gorae lock` writes it, and
# `gorae up --frozen` refuses to run without it or when it is stale.

# gorae at the version that wrote this file, built once per version as a static
# (musl) binary and handed to the job below.
gorae:install:
  stage: build
  image: rust:1-alpine
  cache:
    key: gorae-{version}-musl
    paths: [.gorae-ci/]
  script:
    - apk add --no-cache musl-dev
    - cargo install gorae --locked --version {version} --root .gorae-ci
  artifacts:
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
{test_variable}  # Images gorae built (labelled dev.gorae.project), so a service whose inputs did
  # not change is not built again; keyed by gorae.lock. Pulled images are not
  # cached: `docker load` does not restore the registry digest that `--frozen`
  # checks, so they are pulled and checked against gorae.lock on every run.
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
{test_line}      if [ "$status" -ne 0 ]; then gorae logs --tail 200 || true; fi
      gorae down --volumes || true
      if [ "$status" -ne 0 ]; then exit "$status"; fi
    - images=$(docker image ls --filter label=dev.gorae.project --filter dangling=false --format '{{{{.Repository}}}}:{{{{.Tag}}}}')
    - if [ -n "$images" ]; then docker save --output "$CI_PROJECT_DIR/.gorae-images.tar" $images; fi
"#
    )
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
}
