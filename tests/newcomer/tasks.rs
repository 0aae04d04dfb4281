//! `kind: task`: run again only when its inputs change or on `gorae run`; `ps`
//! shows how it ended; `exec` on a finished task says how to run it again; after a
//! failed task, `up` lists exactly what is running.

use crate::support::{TestProject, ensure_stand_in_images, stderr, stdout};
use crate::{container_id, filtered};

const SERVER: &str = "require('http').createServer((q, s) => s.end('v1')).listen(3000);\n";
const MIGRATE: &str = "console.log('migrated v1');\n";

/// An app and its migration built from the same directory.
fn app_with_migration() -> TestProject {
    let project = TestProject::new("tasks");
    let yaml = project.services_yaml(
        "  web:
    template: node
    build: ./app
    command: [\"node\", \"server.js\"]
    ready: { tcp: 3000 }
    depends_on: [migrate]
  migrate:
    template: node
    build: ./app
    command: [\"node\", \"migrate.js\"]
    kind: task
",
    );
    project
        .file("gorae.yaml", &yaml)
        .file("app/package.json", r#"{"name": "app", "version": "1.0.0"}"#)
        .file("app/server.js", SERVER)
        .file("app/migrate.js", MIGRATE)
}

fn migrate_id(project: &TestProject) -> String {
    container_id(project, "migrate").expect("a migrate container")
}

#[test]
fn a_task_runs_again_only_when_its_inputs_change_or_when_asked() {
    ensure_stand_in_images();
    let project = app_with_migration();
    project.gorae_ok(&["up", "--ci"]);
    let first = migrate_id(&project);
    let web = container_id(&project, "web").expect("web");

    // A code change of the app rebuilds and re-creates web; the task stays done.
    let project = project.file("app/server.js", &SERVER.replace("v1", "v2"));
    let edited = stderr(&project.gorae_ok(&["up", "--ci"]));
    // One build serves both; either service may be the one that reports it (and
    // the reason it gives depends on which one built last time).
    assert!(edited.contains("building ("), "{edited}");
    assert_ne!(container_id(&project, "web").expect("web"), web);
    assert_eq!(migrate_id(&project), first, "{edited}");

    // Its own input changed: it runs again.
    let project = project.file("app/migrate.js", &MIGRATE.replace("v1", "v2"));
    let edited = stderr(&project.gorae_ok(&["up", "--ci"]));
    let second = migrate_id(&project);
    assert_ne!(second, first, "{edited}");
    assert!(edited.contains("migrate  completed"), "{edited}");

    // Nothing changed: nothing runs.
    project.gorae_ok(&["up", "--ci"]);
    assert_eq!(migrate_id(&project), second);

    // On demand.
    let run = project.gorae_ok(&["run", "--ci", "migrate"]);
    assert!(
        stderr(&run).contains("migrate  re-creating (asked to run again)")
            && stderr(&run).contains("migrate  completed"),
        "{}",
        stderr(&run)
    );
    assert_ne!(migrate_id(&project), second);
    let logs = stdout(&project.gorae_ok(&["logs", "migrate"]));
    assert!(logs.contains("migrated v2"), "{logs}");

    // restart runs a task again only when it is named.
    let third = migrate_id(&project);
    project.gorae_ok(&["restart", "--ci"]);
    assert_eq!(migrate_id(&project), third);
    project.gorae_ok(&["restart", "--ci", "migrate"]);
    assert_ne!(migrate_id(&project), third);

    // ps: the task's outcome, in the table and in JSON.
    let table = stdout(&project.gorae_ok(&["ps"]));
    let row = table
        .lines()
        .find(|l| l.starts_with("migrate"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        row.contains("exited") && row.contains("done (exit 0)"),
        "{table}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&project.gorae_ok(&["ps", "--json"]))).expect("ps JSON");
    let migrate = json
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["service"] == "migrate"))
        .expect("migrate row");
    assert_eq!(migrate["kind"], "task");
    assert_eq!(migrate["exit_code"], 0);
    assert_eq!(migrate["succeeded"], true);

    // exec on the finished task says how to run it again; run on a service refuses.
    let exec = project.gorae(&["exec", "migrate", "--", "true"]);
    assert_eq!(exec.status.code(), Some(6), "{}", stderr(&exec));
    let run_service = project.gorae(&["run", "web"]);
    assert_eq!(
        run_service.status.code(),
        Some(2),
        "{}",
        stderr(&run_service)
    );
    filtered(&project, || {
        insta::assert_snapshot!("exec_on_a_finished_task", stderr(&exec));
        insta::assert_snapshot!("run_on_a_service", stderr(&run_service));
    });
}

#[test]
fn after_a_failed_task_up_lists_exactly_what_runs_and_ps_shows_the_exit_code() {
    ensure_stand_in_images();
    let project = TestProject::new("taskfail");
    let yaml = project.services_yaml(
        "  cache: { template: redis }
  prepare:
    image: node:20
    command: [\"node\", \"-e\", \"console.log('prepared')\"]
    kind: task
  migrate:
    image: node:20
    command: [\"node\", \"-e\", \"console.log('no database'); process.exit(3)\"]
    kind: task
    depends_on: [prepare]
  web:
    image: node:20
    command: [\"node\", \"-e\", \"setInterval(() => {}, 1000)\"]
    depends_on: [cache, migrate]
",
    );
    let project = project.file("gorae.yaml", &yaml);
    let up = project.gorae(&["up", "--ci"]);
    assert_eq!(up.status.code(), Some(6), "{}", stderr(&up));
    let summary: String = stderr(&up)
        .lines()
        .skip_while(|l| !l.starts_with("error:"))
        .map(|l| format!("{l}\n"))
        .collect();
    filtered(&project, || {
        insta::assert_snapshot!("up_after_a_failed_task", summary);
    });

    let table = stdout(&project.gorae_ok(&["ps"]));
    let row = |service: &str| {
        table
            .lines()
            .find(|l| l.starts_with(service))
            .unwrap_or_else(|| panic!("no {service} in {table}"))
            .to_string()
    };
    assert!(row("migrate").contains("failed (exit 3)"), "{table}");
    assert!(row("prepare").contains("done (exit 0)"), "{table}");
    assert!(row("cache").contains("running"), "{table}");
    assert!(!table.contains("web"), "{table}");

    // Running it again after a fix is `gorae run`; it still fails here, with its code.
    let run = project.gorae(&["run", "--ci", "migrate"]);
    assert_eq!(run.status.code(), Some(6), "{}", stderr(&run));
    assert!(stderr(&run).contains("no database"), "{}", stderr(&run));
}

/// A failed task runs again from the current image: here the fix is in a file its
/// command does not name, so it is no input, yet the next `up` must use it.
#[test]
fn a_failed_task_runs_again_from_the_current_image() {
    ensure_stand_in_images();
    let project = TestProject::new("taskretry");
    let yaml = project.services_yaml(
        "  migrate:
    template: node
    build: ./app
    command: [\"node\", \"migrate.js\"]
    kind: task
",
    );
    let project = project
        .file("gorae.yaml", &yaml)
        .file("app/package.json", r#"{"name": "app", "version": "1.0.0"}"#)
        .file(
            "app/migrate.js",
            "require('./lib.js');\nconsole.log('migrated');\n",
        )
        .file("app/lib.js", "process.exit(4);\n");
    let failed = project.gorae(&["up", "--ci"]);
    assert_eq!(failed.status.code(), Some(6), "{}", stderr(&failed));

    let project = project.file("app/lib.js", "module.exports = {};\n");
    let fixed = project.gorae_ok(&["up", "--ci"]);
    assert!(
        stderr(&fixed).contains("migrate  re-creating (its last run failed)")
            && stderr(&fixed).contains("migrate  completed"),
        "{}",
        stderr(&fixed)
    );
    let table = stdout(&project.gorae_ok(&["ps"]));
    assert!(table.contains("done (exit 0)"), "{table}");
}
