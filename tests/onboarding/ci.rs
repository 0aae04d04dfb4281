//! `gorae ci github|gitlab`: the generated files pinned; they are YAML with the steps
//! that matter; an existing file is never replaced without `--force`.

use std::path::Path;

use crate::run::{code, gorae, literal, stderr};

/// A repository (a `.git` directory is all `gorae ci` looks for) with a project in
/// `project_dir` (relative; "" for the root).
fn repository(project_dir: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join(".git")).unwrap();
    let dir = tmp.path().join(project_dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("gorae.yaml"), "services:\n  redis: \"7\"\n").unwrap();
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
        test_command: Some("npm test".to_string()),
        project_dir: None,
    };
    let workflow = gorae::ci::render(gorae::ci::System::GitHub, &options);
    let readme = std::fs::read_to_string(crate::run::repo().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("```yaml\n{workflow}```")),
        "README.md's CI section is not what `gorae ci github --test-command \"npm test\"` writes; paste:\n{workflow}"
    );
}
