//! Content-hash builds, gorae.lock and `up --frozen` against the real engine.

mod support;

use support::{
    TestProject, docker, docker_inspect, ensure_stand_in_images, free_port, stderr, stdout,
};

/// Container id of each service, sorted by service.
fn ids(project: &TestProject) -> Vec<(String, String)> {
    let mut rows = support::containers_of(project.name());
    rows.sort();
    rows
}

fn id_of(rows: &[(String, String)], service: &str) -> String {
    rows.iter()
        .find(|(s, _)| s == service)
        .map(|(_, id)| id.clone())
        .unwrap_or_else(|| panic!("no container for {service} in {rows:?}"))
}

const SERVER: &str = "require('http').createServer((q, s) => s.end('v1')).listen(3000);\n";

/// A stand-in base image of one test's own: `IMAGE:VERSION` with a label naming the
/// test, tagged `IMAGE:VERSION-PROJECT` (new layers, so a new image id); removed
/// when the test ends, however it ends.
struct OwnBase {
    tag: String,
    /// What the service's `version:` says to build on it.
    version: String,
}

impl OwnBase {
    fn new(project: &TestProject, image: &str, version: &str) -> OwnBase {
        let own_version = format!("{version}-{}", project.name());
        let tag = format!("{}{image}:{own_version}", support::IMAGE_PREFIX);
        let dir = project.path().join(".own-base");
        std::fs::create_dir_all(&dir).expect("base dir");
        std::fs::write(
            dir.join("Dockerfile"),
            format!(
                "FROM {}{image}:{version}\nLABEL dev.gorae.test-base={}\n",
                support::IMAGE_PREFIX,
                project.name()
            ),
        )
        .expect("Dockerfile");
        docker(&[
            "build",
            "-q",
            "-t",
            &tag,
            dir.to_str().expect("a UTF-8 path"),
        ]);
        OwnBase {
            tag,
            version: own_version,
        }
    }
}

impl Drop for OwnBase {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["rmi", "-f", &self.tag])
            .output();
    }
}

/// Two node services built from their own directories, plus redis.
fn two_apps() -> TestProject {
    let project = TestProject::new("builds");
    let yaml = project.project_yaml(
        "services:
  cache: { template: redis }
  web:
    template: node
    build: ./web
    command: [\"node\", \"server.js\"]
    ports: [\"3000\"]
    ready: { tcp: 3000 }
    depends_on: [cache]
  api:
    template: node
    build: ./api
    command: [\"node\", \"server.js\"]
    ready: { tcp: 3000 }
",
    );
    // Published ports would collide between parallel tests; only web publishes, on
    // a port picked by the engine-free check below.
    let port = free_port();
    let yaml = yaml.replace("[\"3000\"]", &format!("[\"{port}:3000\"]"));
    project
        .file("gorae.yaml", &yaml)
        .file("web/package.json", r#"{"name": "web", "version": "1.0.0"}"#)
        .file("web/server.js", SERVER)
        .file("web/.dockerignore", "*.log\n")
        .file("api/package.json", r#"{"name": "api", "version": "1.0.0"}"#)
        .file("api/server.js", SERVER)
}

#[test]
fn builds_run_only_when_their_inputs_change() {
    ensure_stand_in_images();
    let project = two_apps();
    let first = project.gorae_ok(&["up", "--ci"]);
    assert!(
        stderr(&first).contains("web    building"),
        "{}",
        stderr(&first)
    );
    let before = ids(&project);
    let web_image = docker_inspect(&id_of(&before, "web"), "{{.Image}}");

    // Nothing changed: no build, same image, same containers.
    let again = project.gorae_ok(&["up", "--ci"]);
    assert!(!stderr(&again).contains("building"), "{}", stderr(&again));
    assert_eq!(before, ids(&project));

    // An ignored file is not part of the context.
    let project = project.file("web/debug.log", "noise");
    let ignored = project.gorae_ok(&["up", "--ci"]);
    assert!(
        !stderr(&ignored).contains("building"),
        "{}",
        stderr(&ignored)
    );
    assert_eq!(before, ids(&project));

    // A source edit rebuilds and re-creates that service only, and says why.
    let project = project.file("web/server.js", &SERVER.replace("v1", "v2"));
    let edited = project.gorae_ok(&["up", "--ci"]);
    let log = stderr(&edited);
    assert!(log.contains("web    building (server.js changed)"), "{log}");
    assert!(!log.contains("api    building"), "{log}");
    // That reason came from the last build's file list, which gorae keeps under the
    // XDG_CACHE_HOME the harness gives it; HOME stays empty (also checked on drop).
    let kept = project
        .cache_home()
        .join(format!("gorae/contexts/gorae-{}-web.json", project.name()));
    assert!(kept.is_file(), "no file list at {}", kept.display());
    project.assert_home_untouched();
    let after = ids(&project);
    assert_ne!(id_of(&before, "web"), id_of(&after, "web"));
    assert_eq!(id_of(&before, "api"), id_of(&after, "api"));
    assert_eq!(id_of(&before, "cache"), id_of(&after, "cache"));
    assert_ne!(
        web_image,
        docker_inspect(&id_of(&after, "web"), "{{.Image}}")
    );
}

#[test]
fn dependency_manifests_are_installed_in_a_layer_before_the_source() {
    ensure_stand_in_images();
    let project = two_apps();
    // A layer chain of this test's own, from the base image up: tests building the
    // same steps at once make twin chains, and the classic builder may take its
    // cache at one step (WORKDIR, say) from a twin whose later layers a finished
    // test has since removed. So web builds on a base of its own (node:20 plus a
    // label) and a manifest of its own.
    let base = OwnBase::new(&project, "node", "20");
    let yaml = std::fs::read_to_string(project.path().join("gorae.yaml")).expect("gorae.yaml");
    let yaml = yaml.replacen(
        "    template: node\n    build: ./web\n",
        &format!(
            "    template: node\n    version: \"{}\"\n    build: ./web\n",
            base.version
        ),
        1,
    );
    let manifest = format!(
        r#"{{"name": "web", "version": "1.0.0", "description": "{} first"}}"#,
        project.name()
    );
    let project = project
        .file("gorae.yaml", &yaml)
        .file("web/package.json", &manifest);
    project.gorae_ok(&["up", "--ci"]);
    let install_step = |output: &str| -> String {
        // The step that installs dependencies, and the lines the builder printed for it.
        let start = output
            .find("RUN if [ -f package.json ]")
            .expect("install step in build output");
        let rest = &output[start..];
        let end = rest.find("building step").unwrap_or(rest.len());
        rest[..end].to_string()
    };

    let project = project.file("web/server.js", &SERVER.replace("v1", "v3"));
    let source_edit = stderr(&project.gorae_ok(&["-v", "up", "--ci"]));
    assert!(
        install_step(&source_edit).contains("Using cache"),
        "{source_edit}"
    );

    // Unique content, so no earlier run's layers can serve this install step.
    let manifest = format!(
        r#"{{"name": "web", "version": "1.0.1", "description": "{}"}}"#,
        project.name()
    );
    let project = project.file("web/package.json", &manifest);
    let manifest_edit = stderr(&project.gorae_ok(&["-v", "up", "--ci"]));
    assert!(
        manifest_edit.contains("building (package.json changed)"),
        "{manifest_edit}"
    );
    assert!(
        !install_step(&manifest_edit).contains("Using cache"),
        "{manifest_edit}"
    );
}

#[test]
fn the_lock_decides_the_images_and_frozen_refuses_to_change_it() {
    ensure_stand_in_images();
    // A private prefix, so that moving its tag below cannot disturb other tests.
    let prefix = format!("gt-lock-{}/", std::process::id());
    docker(&["tag", "gorae-test/redis:7", &format!("{prefix}redis:7")]);
    let _untag = Untag(format!("{prefix}redis:7"));
    let env = [("GORAE_IMAGE_PREFIX", prefix.as_str())];
    let redis_id = docker_inspect("gorae-test/redis:7", "{{.Id}}");

    let project = TestProject::new("lock");
    let yaml = project.project_yaml("services:\n  cache: { template: redis }\n");
    let project = project.file("gorae.yaml", &yaml);
    let missing = project.gorae_with_env(&["up", "--frozen", "--ci"], &env);
    assert_eq!(missing.status.code(), Some(3), "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("run `gorae lock`"),
        "{}",
        stderr(&missing)
    );
    assert!(support::containers_of(project.name()).is_empty());

    let locked = project.gorae_with_env(&["lock"], &env);
    assert!(locked.status.success(), "{}", stderr(&locked));
    let lock_text =
        std::fs::read_to_string(project.path().join("gorae.lock")).expect("lock written");
    // A stand-in comes from no registry: it is locked by its id alone.
    assert!(
        lock_text.contains(&format!("\"id\": \"{redis_id}\"")),
        "{lock_text}"
    );
    assert!(!lock_text.contains("\"digest\""), "{lock_text}");
    assert!(
        !lock_text.contains(&prefix),
        "prefix leaked into the lock: {lock_text}"
    );

    let up = project.gorae_with_env(&["up", "--frozen", "--ci"], &env);
    assert!(up.status.success(), "{}", stderr(&up));
    let container = format!("{}-cache", project.name());
    let image = docker_inspect(&container, "{{.Config.Image}}");
    assert!(
        image.trim().starts_with("sha256:"),
        "created from a tag, not the locked id: {image}"
    );
    let check = project.gorae_with_env(&["lock", "--check"], &env);
    assert!(check.status.success(), "{}", stderr(&check));

    // The tag is gone here but the locked image is present by its id: accepted as
    // it is, with nothing pulled (an image restored from a CI cache).
    docker(&["rmi", "--no-prune", &format!("{prefix}redis:7")]);
    let untagged = project.gorae_with_env(&["up", "--frozen", "--ci"], &env);
    assert!(untagged.status.success(), "{}", stderr(&untagged));
    assert!(
        !stderr(&untagged).contains("pulling"),
        "{}",
        stderr(&untagged)
    );
    docker(&["tag", "gorae-test/redis:7", &format!("{prefix}redis:7")]);

    // The tag moves to another image: plain `up` and `up --frozen` both keep the
    // locked image; `lock --check` names the move.
    docker(&["tag", "gorae-test/python:3.12", &format!("{prefix}redis:7")]);
    for args in [&["up", "--ci"][..], &["up", "--frozen", "--ci"][..]] {
        let moved = project.gorae_with_env(args, &env);
        assert!(moved.status.success(), "{}", stderr(&moved));
        assert_eq!(docker_inspect(&container, "{{.Image}}"), redis_id);
    }
    // `config --resolved` shows what `up` runs: the locked image, not the tag's.
    let resolved = project.gorae_with_env(&["config", "--resolved"], &env);
    assert!(resolved.status.success(), "{}", stderr(&resolved));
    assert!(
        stdout(&resolved).contains(&redis_id),
        "{}",
        stdout(&resolved)
    );
    let check = project.gorae_with_env(&["lock", "--check"], &env);
    assert_eq!(check.status.code(), Some(3), "{}", stderr(&check));
    assert!(
        stderr(&check).contains("service `cache`: `redis:7` moved"),
        "{}",
        stderr(&check)
    );
    docker(&["tag", "gorae-test/redis:7", &format!("{prefix}redis:7")]);

    // gorae.yaml changes: both the check and a frozen up name the change, and the
    // frozen up starts nothing.
    let yaml = project
        .project_yaml("services:\n  cache: { template: redis }\n  extra: { template: redis }\n");
    let project = project.file("gorae.yaml", &yaml);
    for command in [&["lock", "--check"][..], &["up", "--frozen", "--ci"][..]] {
        let stale = project.gorae_with_env(command, &env);
        assert_eq!(stale.status.code(), Some(3), "{}", stderr(&stale));
        let message = stderr(&stale);
        assert!(message.contains("gorae.lock is stale"), "{message}");
        assert!(message.contains("service `extra` was added"), "{message}");
    }
    assert_eq!(support::containers_of(project.name()).len(), 1);

    // Plain `up` updates the lock for the added service only, and says so.
    let before = std::fs::read_to_string(project.path().join("gorae.lock")).expect("lock");
    let up = project.gorae_with_env(&["up", "--ci"], &env);
    assert!(up.status.success(), "{}", stderr(&up));
    assert!(
        stderr(&up).contains("updated") && stderr(&up).contains("service `extra` was added"),
        "{}",
        stderr(&up)
    );
    let after = std::fs::read_to_string(project.path().join("gorae.lock")).expect("lock");
    assert_ne!(before, after);
    let frozen = project.gorae_with_env(&["up", "--frozen", "--ci"], &env);
    assert!(frozen.status.success(), "{}", stderr(&frozen));
}

#[test]
fn switching_between_up_and_frozen_up_recreates_nothing() {
    ensure_stand_in_images();
    let project = TestProject::new("frozen-switch");
    let yaml =
        project.services_yaml("  cache: { template: redis }\n  db: { template: postgres }\n");
    let project = project.file("gorae.yaml", &yaml);
    project.gorae_ok(&["up", "--ci"]);
    let started = ids(&project);
    project.gorae_ok(&["lock"]);
    for args in [
        &["up", "--ci", "--frozen"][..],
        &["up", "--ci"][..],
        &["up", "--ci", "--frozen"][..],
    ] {
        let out = project.gorae_ok(args);
        assert!(!stderr(&out).contains("re-creating"), "{}", stderr(&out));
        assert_eq!(ids(&project), started, "`gorae {}`", args.join(" "));
    }
}

/// Removes a test's own image tag when the test ends, however it ends.
struct Untag(String);

impl Drop for Untag {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["rmi", "--no-prune", &self.0])
            .output();
    }
}

#[test]
fn resolved_fingerprint_is_the_same_in_ci_and_in_another_checkout() {
    ensure_stand_in_images();
    let files = |project: TestProject| {
        project
            .file(
                "gorae.yaml",
                "name: gt-fingerprint\nservices:\n  db: { template: postgres }\n  web:\n    template: python\n    build: ./app\n    command: [\"python\", \"app.py\"]\n    depends_on: [db]\n    volumes: [\"./app:/src\"]\n",
            )
            .file("app/app.py", "print('hi')\n")
    };
    let here = files(TestProject::new("fp-a"));
    let there = files(TestProject::new("fp-b"));
    let fingerprint = |project: &TestProject, ci: &str| -> String {
        let out = project.gorae_with_env(&["config", "--resolved"], &[("CI", ci)]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(
            !text.contains("postgres:postgres@"),
            "secret printed: {text}"
        );
        text.lines()
            .find_map(|l| l.strip_prefix("fingerprint: "))
            .expect("a fingerprint line")
            .to_string()
    };
    let reference = fingerprint(&here, "");
    assert_eq!(reference, fingerprint(&here, "true"));
    assert_eq!(reference, fingerprint(&there, "true"));
    let changed = here.file("app/app.py", "print('changed')\n");
    assert_ne!(reference, fingerprint(&changed, ""));
}

#[test]
fn a_failing_task_fails_up_with_its_logs_and_blocks_dependents() {
    ensure_stand_in_images();
    let project = TestProject::new("task");
    let yaml = project.project_yaml(
        "services:
  migrate:
    image: python:3.12
    kind: task
    command: [\"sh\", \"-c\", \"echo migration-exploded; exit 2\"]
  web:
    image: python:3.12
    command: [\"python\", \"-m\", \"http.server\", \"8000\"]
    depends_on: [migrate]
",
    );
    let project = project.file("gorae.yaml", &yaml);
    let up = project.gorae(&["up", "--ci"]);
    assert_eq!(up.status.code(), Some(6), "{}", stderr(&up));
    let log = stderr(&up);
    assert!(
        log.contains("service `migrate` exited with code 2"),
        "{log}"
    );
    assert!(log.contains("migration-exploded"), "{log}");
    assert!(
        log.contains("web") && log.contains("skipped: dependency `migrate` failed"),
        "{log}"
    );
    assert!(!log.contains('\x1b'), "escape codes in CI output: {log:?}");
    assert!(
        ids(&project).iter().all(|(s, _)| s != "web"),
        "web was started"
    );
}

#[test]
fn a_failed_build_exits_5_with_the_last_lines_of_its_output() {
    ensure_stand_in_images();
    let project = TestProject::new("badbuild");
    let yaml = project.services_yaml("  bad:\n    dockerfile: ./bad/Dockerfile\n");
    let project = project.file("gorae.yaml", &yaml).file(
        "bad/Dockerfile",
        "FROM gorae-test/python:3.12\nRUN echo compiling-the-thing && exit 42\n",
    );
    let up = project.gorae(&["up", "--ci"]);
    assert_eq!(up.status.code(), Some(5), "{}", stderr(&up));
    let log = stderr(&up);
    assert!(log.contains("build of service `bad` failed"), "{log}");
    assert!(
        log.contains("compiling-the-thing"),
        "the build's output is missing: {log}"
    );
    assert!(log.contains("returned a non-zero code: 42"), "{log}");
    assert!(support::containers_of(project.name()).is_empty());
}

#[test]
fn a_running_gorae_holds_off_the_removal_of_built_images() {
    // Any command prepared by the harness holds the lock for its process's life,
    // also after the harness's own handle is gone.
    let project = TestProject::new("holdoff");
    let mut command = std::process::Command::new("sleep");
    project.environment(&mut command).arg("30");
    let mut child = command.spawn().expect("run sleep");
    drop(command);
    let held = !support::built_images::removal_could_run();
    child.kill().expect("stop sleep");
    child.wait().expect("wait for sleep");
    assert!(held, "a removal could run while a command of a test ran");
    // Other test processes' gorae runs are short: the lock comes free soon.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !support::built_images::removal_could_run() {
        assert!(
            std::time::Instant::now() < deadline,
            "the lock stayed held after the command ended"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
