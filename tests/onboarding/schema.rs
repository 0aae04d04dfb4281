//! `gorae schema` prints the schema the library generates, and that schema accepts
//! every example project (and what `init` writes) while rejecting a wrong key.

use serde_json::Value;

use crate::run::{code, gorae, repo, stdout};

fn schema() -> jsonschema::Validator {
    let text = gorae::config::schema::json_schema();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

/// A YAML file as JSON, the way an editor's YAML language server sees it.
fn yaml_as_json(text: &str) -> Value {
    let yaml: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
    serde_json::to_value(yaml).unwrap()
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn schema_command_prints_the_generated_schema() {
    let output = gorae(&repo(), &["schema"]);
    assert_eq!(code(&output), 0);
    assert_eq!(
        stdout(&output),
        format!("{}\n", gorae::config::schema::json_schema())
    );
    let parsed: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(parsed["title"], "gorae.yaml");
}

#[test]
fn every_example_validates_against_the_schema() {
    let validator = schema();
    let mut checked = 0;
    for entry in std::fs::read_dir(repo().join("examples")).unwrap() {
        let file = entry.unwrap().path().join("gorae.yaml");
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let problems = errors(&validator, &yaml_as_json(&text));
        assert!(problems.is_empty(), "{}: {problems:#?}", file.display());
        checked += 1;
    }
    assert!(checked > 0, "no example has a gorae.yaml");
}

#[test]
fn files_written_by_init_validate_against_the_schema() {
    let validator = schema();
    for fixture in [
        "node-nvmrc-redis",
        "python-pyproject-postgres",
        "compose-untranslatable",
    ] {
        let tmp = tempfile::tempdir().unwrap();
        crate::run::copy_dir(
            &repo().join("tests/fixtures/init").join(fixture),
            tmp.path(),
            &[],
        );
        assert_eq!(code(&gorae(tmp.path(), &["init"])), 0, "{fixture}");
        let text = std::fs::read_to_string(tmp.path().join("gorae.yaml")).unwrap();
        let problems = errors(&validator, &yaml_as_json(&text));
        assert!(problems.is_empty(), "{fixture}: {problems:#?}");
    }
}

#[test]
fn schema_rejects_unknown_keys_and_unquoted_versions() {
    let validator = schema();
    let unknown = yaml_as_json("services:\n  web:\n    image: nginx\n    restart: always\n");
    assert!(!errors(&validator, &unknown).is_empty());
    let number = yaml_as_json("services:\n  python: 3.10\n");
    assert!(!errors(&validator, &number).is_empty());
}
