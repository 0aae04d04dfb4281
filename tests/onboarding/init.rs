//! `gorae init` on fixture projects: the file it writes and what it says, pinned; the
//! file loads as it is; an existing gorae.yaml is never replaced without `--force`.

use std::path::Path;

use gorae::config::{load, load_str, to_normalized_yaml};

use crate::run::{code, copy_dir, gorae, literal, repo, stderr};

/// Runs `gorae init` on a copy of `tests/fixtures/init/NAME` and returns the
/// directory (kept alive), the written file and stderr.
fn init_fixture(name: &str) -> (tempfile::TempDir, String, String) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(name);
    copy_dir(&repo().join("tests/fixtures/init").join(name), &dir, &[]);
    let output = gorae(&dir, &["init"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let written = std::fs::read_to_string(dir.join("gorae.yaml")).unwrap();
    assert_loads(&dir.join("gorae.yaml"));
    (tmp, written, stderr(&output))
}

fn assert_loads(file: &Path) {
    let no_env = |_: &str| None;
    if let Err(err) = load(file, &no_env) {
        panic!("the generated file does not load:\n{err}");
    }
}

fn snapshot(name: &str, tmp: &tempfile::TempDir, written: &str, stderr: &str) {
    insta::with_settings!({ filters => vec![(literal(tmp.path()).as_str(), "[TMP]")] }, {
        insta::assert_snapshot!(name, format!("{written}\n--- stderr ---\n{stderr}"));
    });
}

#[test]
fn init_node_app_with_nvmrc_and_a_redis_client() {
    let (tmp, written, stderr) = init_fixture("node-nvmrc-redis");
    snapshot("init_node_nvmrc_redis", &tmp, &written, &stderr);
}

#[test]
fn init_python_app_with_pyproject_and_psycopg() {
    let (tmp, written, stderr) = init_fixture("python-pyproject-postgres");
    snapshot("init_python_pyproject_postgres", &tmp, &written, &stderr);
}

#[test]
fn init_imports_compose_and_lists_what_it_cannot_translate() {
    let (tmp, written, stderr) = init_fixture("compose-untranslatable");
    // Every `not imported` line of the file is also on stderr, and the other way round.
    let in_file: Vec<&str> = written
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("# not imported: "))
        .collect();
    let on_stderr: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("not imported: "))
        .collect();
    assert!(!in_file.is_empty());
    let (mut a, mut b) = (in_file.clone(), on_stderr.clone());
    a.sort();
    b.sort();
    assert_eq!(a, b);
    snapshot("init_compose_untranslatable", &tmp, &written, &stderr);
}

/// Build targets and arguments, `image` beside `build`, healthchecks, anonymous
/// volumes and the process keys keep their meaning; what is left says why.
#[test]
fn init_imports_compose_keys_whose_meaning_gorae_keeps() {
    let (tmp, written, stderr) = init_fixture("compose-parity");
    for kept in [
        "      target: dev",
        "        NODE_ENV: development",
        "    image: \"acme/web:dev\"",
        "    stop_signal: SIGINT",
        "    user: node",
        "    working_dir: /app",
        "    platform: linux/amd64",
        "    entrypoint: [\"python\", \"-m\"]",
        "    extra_hosts: [\"host.docker.internal:host-gateway\"]",
        "\"/app/node_modules\"",
        "\"/venv\"",
        "    secrets:\n      api_token: ./api_token.txt",
        "    secrets:\n      db_password: { value: \"${DB_PASSWORD:-}\" }",
        "      discovery.type: single-node",
        "    ready: { command: [\"sh\", \"-c\", \"curl -fs http://localhost:5000/health || exit 1\"] }",
        "    ready: { command: [\"curl\", \"-f\", \"http://localhost:9200\"] }",
    ] {
        assert!(written.contains(kept), "{kept} missing from:\n{written}");
    }
    snapshot("init_compose_parity", &tmp, &written, &stderr);
}

#[test]
fn init_on_the_node_redis_example_reproduces_the_committed_file() {
    let tmp = tempfile::tempdir().unwrap();
    // The directory's name is the default project name, as `name:` is in the example.
    let dir = tmp.path().join("node-redis");
    let example = repo().join("examples/node-redis");
    copy_dir(&example, &dir, &["gorae.yaml", "gorae.lock"]);
    let output = gorae(&dir, &["init"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));

    let no_env = |_: &str| None;
    let generated = load(&dir.join("gorae.yaml"), &no_env).unwrap();
    let committed_text = std::fs::read_to_string(example.join("gorae.yaml")).unwrap();
    let committed = load_str(&committed_text, &dir.join("committed.yaml"), &no_env).unwrap();
    assert_eq!(
        to_normalized_yaml(&generated),
        to_normalized_yaml(&committed),
        "generated:\n{}",
        std::fs::read_to_string(dir.join("gorae.yaml")).unwrap()
    );
}

#[test]
fn init_never_replaces_an_existing_file_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(
        &repo().join("tests/fixtures/init/node-nvmrc-redis"),
        tmp.path(),
        &[],
    );
    std::fs::write(
        tmp.path().join("gorae.yaml"),
        "services: { redis: \"7\" }\n",
    )
    .unwrap();

    let refused = gorae(tmp.path(), &["init"]);
    assert_eq!(code(&refused), 8, "{}", stderr(&refused));
    insta::assert_snapshot!("init_refuses_to_overwrite", stderr(&refused));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("gorae.yaml")).unwrap(),
        "services: { redis: \"7\" }\n"
    );

    let forced = gorae(tmp.path(), &["init", "--force"]);
    assert_eq!(code(&forced), 0, "{}", stderr(&forced));
    let written = std::fs::read_to_string(tmp.path().join("gorae.yaml")).unwrap();
    assert!(written.contains("template: node"), "{written}");
}

#[test]
fn init_in_an_empty_directory_says_what_it_looked_for() {
    let tmp = tempfile::tempdir().unwrap();
    let output = gorae(tmp.path(), &["init"]);
    assert_eq!(code(&output), 1);
    assert!(
        stderr(&output)
            .contains("no package.json, requirements.txt, pyproject.toml or compose file"),
        "{}",
        stderr(&output)
    );
    assert!(!tmp.path().join("gorae.yaml").exists());
}

#[test]
fn init_reports_a_broken_compose_file_with_its_position() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("compose.yaml"),
        "services:\n  web:\n    image: [unclosed\n",
    )
    .unwrap();
    let output = gorae(tmp.path(), &["init"]);
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("compose.yaml:"),
        "{}",
        stderr(&output)
    );
    assert!(!tmp.path().join("gorae.yaml").exists());
}

#[test]
fn init_writes_the_file_and_points_at_what_needs_an_edit() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("compose.yaml"),
        "services:\n  web:\n    image: nginx\n    volumes: [\"./site:/usr/share/nginx/html\"]\n",
    )
    .unwrap();
    let output = gorae(tmp.path(), &["init"]);
    // Compose creates missing bind-mount directories and gorae does not: what init
    // writes must load, so the volume is left out with a line saying what to create.
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let written = std::fs::read_to_string(tmp.path().join("gorae.yaml")).unwrap();
    let stderr = stderr(&output);
    assert!(stderr.contains("mkdir -p ./site"), "{stderr}");
    assert!(written.contains("# not imported: services.web.volumes[0] (./site does not exist here; create it (mkdir -p ./site)"), "{written}");
    assert!(!written.contains("volumes: ["), "{written}");
}

#[test]
fn init_on_the_python_postgres_example_finds_the_app_and_its_database() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("python-postgres");
    copy_dir(
        &repo().join("examples/python-postgres"),
        &dir,
        &["gorae.yaml", "gorae.lock"],
    );
    let output = gorae(&dir, &["init"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let no_env = |_: &str| None;
    let project = load(&dir.join("gorae.yaml"), &no_env).unwrap();
    let template = |name: &str| {
        project.services[name]
            .template
            .as_ref()
            .map(|t| t.name.clone())
    };
    // The example names them `web` and `db`; init names them after what it found.
    assert_eq!(template("postgres").as_deref(), Some("postgres"));
    assert_eq!(template("app").as_deref(), Some("python"));
    let app = &project.services["app"];
    assert_eq!(app.depends_on, ["postgres"]);
    assert_eq!(
        app.command.as_deref(),
        Some(&["python".to_string(), "app.py".to_string()][..])
    );
    assert_eq!(app.ports[0].container_port, 8000);
}

/// Beside each app it builds, init writes the .dockerignore that shows what stays out
/// of the image (the text is pinned in `gorae::init::dockerignore`); one that exists
/// is the user's and is left as it is.
#[test]
fn init_writes_a_dockerignore_per_build_context_and_keeps_an_existing_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("shop");
    copy_dir(
        &repo().join("tests/fixtures/init/node-nvmrc-redis"),
        &dir,
        &[],
    );
    let output = gorae(&dir, &["init"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let written = std::fs::read_to_string(dir.join(".dockerignore")).unwrap();
    assert_eq!(written, gorae::init::dockerignore::text());

    let again = tmp.path().join("again");
    copy_dir(
        &repo().join("tests/fixtures/init/node-nvmrc-redis"),
        &again,
        &[],
    );
    std::fs::write(again.join(".dockerignore"), "mine\n").unwrap();
    let output = gorae(&again, &["init"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(again.join(".dockerignore")).unwrap(),
        "mine\n"
    );
    assert!(
        !stderr(&output).contains(".dockerignore"),
        "{}",
        stderr(&output)
    );
}
