//! `gorae ci github|gitlab`: the generated files pinned; they are YAML with the steps
//! that matter; an existing file is never replaced without `--force`.

use std::path::Path;

use crate::run::{code, gorae, literal, stderr};

#[path = "../support/mod.rs"]
mod support;

use support::check_schema;

/// A repository (a `.git` directory is all `gorae ci` looks for) with a project in
/// `project_dir` (relative; "" for the root).
fn repository(project_dir: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join(".git")).unwrap();
    let dir = tmp.path().join(project_dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("gorae.yaml"),
        "name: shop\nservices:\n  redis: \"7\"\n",
    )
    .unwrap();
    tmp
}

/// A repository with an app of `template` (built from ./app), Redis and Postgres.
fn app_repository(template: &str, version: &str) -> tempfile::TempDir {
    let tmp = repository("");
    std::fs::write(
        tmp.path().join("gorae.yaml"),
        format!(
            "name: shop\nservices:\n  redis: \"7\"\n  db: {{ template: postgres }}\n  app:\n    template: {template}\n    version: \"{version}\"\n    build: ./app\n    depends_on: [redis, db]\n"
        ),
    )
    .unwrap();
    std::fs::create_dir_all(tmp.path().join("app")).unwrap();
    tmp
}

fn pinned(name: &str, tmp: &Path, text: &str) {
    let version = env!("CARGO_PKG_VERSION").replace('.', "\\.");
    insta::with_settings!({ filters => vec![
        (literal(tmp).as_str(), "[TMP]"),
        (version.as_str(), "[VERSION]"),
    ] }, {
        insta::assert_snapshot!(name, text);
    });
}

fn parse_yaml(text: &str) -> serde_yaml::Value {
    serde_yaml::from_str(text).unwrap_or_else(|e| panic!("not YAML: {e}\n{text}"))
}

#[test]
fn ci_github_writes_the_workflow() {
    let tmp = repository("");
    let output = gorae(tmp.path(), &["ci", "github", "--test-command", "npm test"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = std::fs::read_to_string(tmp.path().join(".github/workflows/gorae.yml")).unwrap();
    pinned("ci_github", tmp.path(), &text);

    check_schema::assert_valid(
        "vendor.github-workflows",
        &tmp.path().join(".github/workflows/gorae.yml"),
    );
    let workflow = parse_yaml(&text);
    let steps = workflow["jobs"]["environment"]["steps"]
        .as_sequence()
        .unwrap();
    let step = |name: &str| {
        steps
            .iter()
            .find(|s| s["name"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("no step `{name}`"))
    };
    assert_eq!(
        step("Start the environment")["run"],
        "gorae up --ci --frozen"
    );
    assert_eq!(step("Test")["run"], "npm test");
    assert_eq!(step("Logs of the services")["if"], "failure()");
    assert_eq!(step("Remove the environment")["if"], "always()");
    assert_eq!(
        step("Remove the environment")["run"],
        "gorae down --volumes"
    );
    let install = step("Install gorae")["run"].as_str().unwrap();
    assert!(install.contains(&format!(
        "cargo install gorae --locked --version {}",
        env!("CARGO_PKG_VERSION")
    )));
    // No gorae.lock yet: the user is told to make one.
    assert!(
        stderr(&output).contains("gorae lock"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn ci_github_for_a_project_below_the_repository_root() {
    let tmp = repository("services/shop");
    let output = gorae(&tmp.path().join("services/shop"), &["ci", "github"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = std::fs::read_to_string(tmp.path().join(".github/workflows/gorae.yml")).unwrap();
    pinned("ci_github_in_subdirectory", tmp.path(), &text);
    let workflow = parse_yaml(&text);
    assert_eq!(
        workflow["jobs"]["environment"]["defaults"]["run"]["working-directory"],
        "services/shop"
    );
    assert!(text.contains("hashFiles('services/shop/gorae.lock')"));
}

#[test]
fn ci_gitlab_writes_the_pipeline() {
    let tmp = repository("");
    let output = gorae(
        tmp.path(),
        &[
            "ci",
            "gitlab",
            "--test-command",
            "gorae exec redis -- redis-cli ping",
        ],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = std::fs::read_to_string(tmp.path().join(".gitlab-ci.yml")).unwrap();
    pinned("ci_gitlab", tmp.path(), &text);

    check_schema::assert_valid("vendor.gitlab-ci", &tmp.path().join(".gitlab-ci.yml"));
    let pipeline = parse_yaml(&text);
    assert_eq!(
        pipeline["gorae"]["variables"]["GORAE_TEST"]["value"],
        "gorae exec redis -- redis-cli ping"
    );
    assert_eq!(pipeline["gorae"]["cache"]["key"]["files"][0], "gorae.lock");
    let script = pipeline["gorae"]["script"][0].as_str().unwrap();
    for needed in [
        "gorae up --ci --frozen",
        "gorae logs --tail 200",
        "gorae down --volumes",
    ] {
        assert!(script.contains(needed), "{script}");
    }
}

#[test]
fn ci_never_replaces_an_existing_file_without_force() {
    let tmp = repository("");
    let path = tmp.path().join(".gitlab-ci.yml");
    std::fs::write(&path, "test: { script: [make test] }\n").unwrap();

    let refused = gorae(tmp.path(), &["ci", "gitlab"]);
    assert_eq!(code(&refused), 8, "{}", stderr(&refused));
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "test: { script: [make test] }\n"
    );

    let forced = gorae(tmp.path(), &["ci", "gitlab", "--force"]);
    assert_eq!(code(&forced), 0, "{}", stderr(&forced));
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("gorae up --ci --frozen")
    );
}

#[test]
fn ci_without_a_project_file_says_how_to_make_one() {
    let tmp = tempfile::tempdir().unwrap();
    let output = gorae(tmp.path(), &["ci", "github"]);
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("gorae init"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn readme_shows_the_generated_github_workflow() {
    let options = gorae::ci::Options {
        version: env!("CARGO_PKG_VERSION").to_string(),
        install: gorae::ci::Install::Crates {
            version: env!("CARGO_PKG_VERSION").to_string(),
        },
        test_command: Some("npm test".to_string()),
        test_place: gorae::ci::TestPlace::Service("web".to_string()),
        project_dir: None,
        secrets: Vec::new(),
        project: "shop".to_string(),
    };
    let workflow = gorae::ci::render(gorae::ci::System::GitHub, &options);
    let readme = std::fs::read_to_string(crate::run::repo().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("```yaml\n{workflow}```")),
        "README.md's CI section is not what `gorae ci github --test-command \"npm test\"` writes for a project `shop` whose app is `web`; paste:\n{workflow}"
    );
}

/// The files for an app project: github and gitlab, the tests inside the app's
/// container (the default) and on the runner, each valid under the official schema.
#[test]
fn ci_files_for_a_node_app_and_a_python_app() {
    for (template, version) in [("node", "20"), ("python", "3.12")] {
        for place in ["app", "runner"] {
            for system in ["github", "gitlab"] {
                let tmp = app_repository(template, version);
                let output = gorae(
                    tmp.path(),
                    &[
                        "ci",
                        system,
                        "--test-in",
                        place,
                        "--test-command",
                        "make test",
                    ],
                );
                assert_eq!(code(&output), 0, "{}", stderr(&output));
                let (path, schema) = match system {
                    "github" => (".github/workflows/gorae.yml", "vendor.github-workflows"),
                    _ => (".gitlab-ci.yml", "vendor.gitlab-ci"),
                };
                let file = tmp.path().join(path);
                check_schema::assert_valid(schema, &file);
                let text = std::fs::read_to_string(&file).unwrap();
                pinned(
                    &format!("ci_{system}_{template}_app_tests_in_{place}"),
                    tmp.path(),
                    &text,
                );
                if place == "app" {
                    assert!(text.contains("gorae exec app -- sh -c"), "{text}");
                }
                if place == "runner" && system == "github" {
                    let setup = match template {
                        "node" => "actions/setup-node@v4",
                        _ => "actions/setup-python@v5",
                    };
                    assert!(text.contains(setup), "{text}");
                    assert!(text.contains(&format!("-version: \"{version}\"")), "{text}");
                }
            }
        }
    }
}

#[test]
fn ci_installs_gorae_from_git_or_from_a_checked_archive() {
    let tmp = repository("");
    let output = gorae(
        tmp.path(),
        &[
            "ci",
            "github",
            "--git",
            "https://example.com/gorae.git",
            "--rev",
            "v0.1.0",
        ],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = std::fs::read_to_string(tmp.path().join(".github/workflows/gorae.yml")).unwrap();
    assert!(
        text.contains(
            "cargo install gorae --locked --git https://example.com/gorae.git --rev v0.1.0"
        ),
        "{text}"
    );
    let sha = "ab".repeat(32);
    let output = gorae(
        tmp.path(),
        &[
            "ci",
            "gitlab",
            "--archive",
            "https://example.com/gorae.tar.gz",
            "--sha256",
            &sha,
        ],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = std::fs::read_to_string(tmp.path().join(".gitlab-ci.yml")).unwrap();
    assert!(
        text.contains(&format!(
            "echo \"{sha}  /tmp/gorae.tar.gz\" | sha256sum -c -"
        )),
        "{text}"
    );
    check_schema::assert_valid("vendor.gitlab-ci", &tmp.path().join(".gitlab-ci.yml"));

    // Each bad combination: one line, exit 2, nothing written.
    for (args, words) in [
        (&["--git", "https://example.com/g.git"][..], "--rev"),
        (&["--archive", "https://example.com/g.tgz"][..], "--sha256"),
        (
            &["--archive", "https://example.com/g.tgz", "--sha256", "abc"][..],
            "not a sha256",
        ),
        (&["--test-in", "nope"][..], "no service `nope`"),
    ] {
        let tmp = repository("");
        let mut all = vec!["ci", "github"];
        all.extend_from_slice(args);
        let output = gorae(tmp.path(), &all);
        assert_eq!(code(&output), 2, "{args:?}: {}", stderr(&output));
        assert!(
            stderr(&output).contains(words),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(!tmp.path().join(".github").exists(), "{args:?}");
    }
}

#[test]
fn ci_reads_variables_only_dotenv_gives_from_secrets_and_warns() {
    let tmp = repository("");
    std::fs::write(
        tmp.path().join("gorae.yaml"),
        "name: shop\nservices:\n  db:\n    template: postgres\n    env: { POSTGRES_PASSWORD: \"${DB_PASSWORD}\", POSTGRES_DB: \"${DB_NAME:-shop}\" }\n",
    )
    .unwrap();
    std::fs::write(tmp.path().join(".env"), "DB_PASSWORD=hunter2\n").unwrap();
    let output = gorae(tmp.path(), &["ci", "github"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("warning: gorae.yaml reads DB_PASSWORD from .env"),
        "{}",
        stderr(&output)
    );
    let text = std::fs::read_to_string(tmp.path().join(".github/workflows/gorae.yml")).unwrap();
    assert!(
        text.contains("DB_PASSWORD: ${{ secrets.DB_PASSWORD }}"),
        "{text}"
    );
    assert!(
        text.contains("# gorae.yaml reads DB_PASSWORD from .env"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!text.contains("DB_NAME"), "{text}");
    check_schema::assert_valid(
        "vendor.github-workflows",
        &tmp.path().join(".github/workflows/gorae.yml"),
    );
}
