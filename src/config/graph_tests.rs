//! Dependency checks against exact reports: which errors, where, with which help and
//! notes, and how many.

use std::path::Path;

use super::{LoadError, load_str};

/// Each diagnostic as `line:col+len message | help`, then its notes as
/// `note line:col message`.
fn report(yaml: &str) -> Vec<String> {
    let no_env = |_: &str| None;
    match load_str(yaml, Path::new("/projects/shop/gorae.yaml"), &no_env) {
        Ok(_) => panic!("expected errors in {yaml:?}"),
        Err(LoadError::Invalid { diagnostics, .. }) => diagnostics
            .into_iter()
            .map(|d| {
                let at = d.location.expect("a position");
                let mut line = format!(
                    "{}:{}+{} {} | {}",
                    at.line, at.col, at.len, d.message, d.help
                );
                for note in d.notes {
                    let at = note.location.expect("a note position");
                    line.push_str(&format!(" | note {}:{} {}", at.line, at.col, note.message));
                }
                line
            })
            .collect(),
        Err(other) => panic!("unexpected {other}"),
    }
}

#[test]
fn a_self_dependency_is_one_error_not_also_a_cycle() {
    assert_eq!(
        report("services:\n  web: { image: x, depends_on: [web] }\n"),
        ["2:33+3 service `web` depends on itself | remove `web` from its own depends_on"]
    );
}

#[test]
fn an_unknown_dependency_never_suggests_the_service_itself() {
    assert_eq!(
        report("services:\n  db: { image: y }\n  web: { image: x, depends_on: [wev] }\n"),
        [
            "3:33+3 service `web` depends on unknown service `wev` | depend on a service of this file: db"
        ]
    );
    assert_eq!(
        report(
            "services:\n  b: { image: y }\n  a: { image: y }\n  web: { image: x, depends_on: [nope] }\n"
        ),
        [
            "4:33+4 service `web` depends on unknown service `nope` | depend on a service of this file: a, b"
        ]
    );
    assert_eq!(
        report("services:\n  db: { image: y }\n  web: { image: x, depends_on: [dbb] }\n"),
        ["3:33+3 service `web` depends on unknown service `dbb` | did you mean `db`?"]
    );
}

#[test]
fn a_dependency_listed_twice_points_at_both_and_is_not_an_export_clash() {
    // `db` exports DATABASE_URL and friends; listing it twice must not read as two
    // dependencies handing `web` the same variables.
    assert_eq!(
        report(
            "services:\n  db: { template: postgres }\n  web: { image: x, depends_on: [db, db] }\n"
        ),
        [
            "3:37+2 service `web` lists `db` twice in depends_on | remove one of them | note 3:33 first listed here"
        ]
    );
}

#[test]
fn a_cycle_reached_from_outside_is_reported_from_its_first_declared_service() {
    // The search starts at `a`, which leads into the cycle without being part of it.
    let yaml = "services:\n  c: { image: x, depends_on: [b] }\n  a: { image: x, depends_on: [b] }\n  b: { image: x, depends_on: [c] }\n";
    assert_eq!(
        report(yaml),
        [
            "2:31+1 dependency cycle: c -> b -> c | services start after their dependencies are ready, so a cycle can never start; remove one of these dependencies"
        ]
    );
}

#[test]
fn each_pair_of_dependencies_exporting_one_name_is_one_error() {
    let yaml = "services:\n  a: { template: postgres }\n  b: { template: postgres }\n  c: { template: postgres }\n  web:\n    image: x\n    depends_on: [a, b, c]\n    env: { PGHOST: mine, PGPORT: \"1\" }\n";
    let variables = "`DATABASE_URL`, `PGDATABASE`, `PGPASSWORD`, `PGUSER`";
    let help = "DATABASE_URL, PGDATABASE, PGPASSWORD, PGUSER";
    assert_eq!(
        report(yaml),
        [
            format!(
                "7:21+1 service `web` gets {variables} from both `a` and `b` | set {help} in the `env` of `web` to choose, or depend on only one of them | note 7:18 `a` is listed here"
            ),
            format!(
                "7:24+1 service `web` gets {variables} from both `a` and `c` | set {help} in the `env` of `web` to choose, or depend on only one of them | note 7:18 `a` is listed here"
            ),
        ]
    );
}

/// The diagnostics kept and the summary line of loading `yaml`.
fn kept_and_summary(yaml: &str) -> (Vec<String>, String) {
    let no_env = |_: &str| None;
    match load_str(yaml, Path::new("/projects/shop/gorae.yaml"), &no_env) {
        Ok(_) => panic!("expected errors"),
        Err(LoadError::Invalid {
            diagnostics,
            rendered,
        }) => (
            diagnostics.into_iter().map(|d| d.message).collect(),
            rendered.lines().last().unwrap_or_default().to_string(),
        ),
        Err(other) => panic!("unexpected {other}"),
    }
}

#[test]
fn unknown_dependencies_past_the_kept_limit_are_counted() {
    let unknown: Vec<String> = (0..1005).map(|i| format!("gone{i}")).collect();
    let yaml = format!(
        "services:\n  web: {{ image: x, depends_on: [{}] }}\n",
        unknown.join(", ")
    );
    let (kept, summary) = kept_and_summary(&yaml);
    assert_eq!(kept.len(), 1000);
    assert_eq!(kept[0], "service `web` depends on unknown service `gone0`");
    assert_eq!(summary, "/projects/shop/gorae.yaml: 1005 errors");
}

#[test]
fn at_most_ten_cycles_are_reported() {
    // Eleven separate cycles `aN -> bN -> aN`, found in name order (a0, a1, a10, a2...).
    let mut yaml = String::from("services:\n");
    for i in 0..11 {
        yaml.push_str(&format!("  a{i}: {{ image: x, depends_on: [b{i}] }}\n"));
        yaml.push_str(&format!("  b{i}: {{ image: x, depends_on: [a{i}] }}\n"));
    }
    let (kept, summary) = kept_and_summary(&yaml);
    let expected: Vec<String> = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10]
        .iter()
        .map(|i| format!("dependency cycle: a{i} -> b{i} -> a{i}"))
        .collect();
    assert_eq!(kept, expected);
    assert_eq!(summary, "/projects/shop/gorae.yaml: 10 errors");
}
