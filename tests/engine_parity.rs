//! What Compose projects rely on, on the real engine: a multi-stage Dockerfile built
//! at its dev target with build arguments and tagged with `image:`, an anonymous
//! node_modules volume under a source bind mount keeping the image's content,
//! `stop_signal`, `working_dir`, `extra_hosts`, a secret file, and a `ready:` command
//! gating a dependent. One project, so the suite stays fast.

mod support;

use support::{TestProject, docker, docker_inspect, ensure_stand_in_images};

/// `dev` puts the build argument where the app's dependencies go; `prod`, the last
/// stage, is what a build without `target` would run.
const DOCKERFILE: &str = "FROM gorae-test/base:bookworm-1 AS dev
ARG GREETING=unset
RUN mkdir -p /app/node_modules && echo \"$GREETING\" > /app/node_modules/greeting && echo dev > /stage
COPY . /context
FROM dev AS prod
RUN echo prod > /stage
";

#[test]
fn a_dev_target_with_args_an_anonymous_volume_a_stop_signal_and_a_ready_command() {
    ensure_stand_in_images();
    let project = TestProject::new("parity");
    let tag = format!("gorae-{}:dev", project.name());
    let services = format!(
        "  db:
    image: base:bookworm-1
    command: [sh, -c, \"sleep 2; touch /tmp/ready; exec sleep 1000\"]
    ready: {{ command: [test, -f, /tmp/ready] }}
  web:
    image: {tag}
    build:
      context: ./web
      target: dev
      args: {{ GREETING: \"${{GREETING}}\" }}
    command: [sh, -c, \"trap 'echo interrupted > /app/stopped; exit 0' INT; while true; do sleep 0.1; done\"]
    volumes: [\"./web:/app\", \"/app/node_modules\"]
    working_dir: /app
    stop_signal: SIGINT
    extra_hosts: [\"host.docker.internal:host-gateway\"]
    secrets:
      api_token: ./secrets/api_token
      dev_key: ./web/dev.key
      db_password: {{ value: \"${{DB_PASSWORD}}\" }}
    depends_on: [db]
"
    );
    let project = project
        .services(&services)
        .file("web/Dockerfile", DOCKERFILE)
        .file("web/index.js", "// the app's source\n")
        .file(".env", "GREETING=hello\nDB_PASSWORD=pw-41c7\n")
        .file("secrets/api_token", "s3cret\n")
        .file("web/dev.key", "key\n");
    project.up().succeeds();
    let web = format!("{}-web", project.name());
    let db = format!("{}-db", project.name());

    // Built at the dev stage, with the argument, and tagged with `image:` too.
    assert_eq!(docker(&["exec", &web, "cat", "/stage"]).trim(), "dev");
    let image = docker_inspect(&web, "{{.Image}}");
    assert_eq!(docker_inspect(&tag, "{{.Id}}"), image);

    // The bind mount shows the source; node_modules under it is the image's, kept in
    // a volume of the project (nothing of it appears in the source directory).
    assert!(docker(&["exec", &web, "ls", "/app"]).contains("index.js"));
    assert_eq!(
        docker(&["exec", &web, "cat", "/app/node_modules/greeting"]).trim(),
        "hello"
    );
    let volume = format!("{}_web_app_node_modules", project.name());
    assert!(
        docker_inspect(&web, "{{range .Mounts}}{{.Name}} {{end}}").contains(&volume),
        "{}",
        docker_inspect(&web, "{{json .Mounts}}")
    );
    assert!(!project.path().join("web/node_modules/greeting").exists());

    // Process options as written; host-gateway resolves on Linux too.
    assert_eq!(docker_inspect(&web, "{{.Config.WorkingDir}}"), "/app");
    assert_eq!(docker_inspect(&web, "{{.Config.StopSignal}}"), "SIGINT");
    assert!(docker(&["exec", &web, "cat", "/etc/hosts"]).contains("host.docker.internal"));

    // The secret is readable where Compose puts it, and only there: not in the image.
    assert_eq!(
        docker(&["exec", &web, "cat", "/run/secrets/api_token"]).trim(),
        "s3cret"
    );
    assert_eq!(
        docker(&[
            "run",
            "--rm",
            &image,
            "sh",
            "-c",
            "test ! -e /run/secrets/api_token && echo absent"
        ])
        .trim(),
        "absent"
    );
    // A secret file inside the build context is mounted, and never sent to the build
    // (the dev stage copies the whole context to /context).
    assert_eq!(
        docker(&["exec", &web, "cat", "/run/secrets/dev_key"]).trim(),
        "key"
    );
    let context = docker(&["exec", &web, "ls", "-A", "/context"]);
    assert!(context.contains("index.js"), "{context}");
    assert!(!context.contains("dev.key"), "{context}");
    // A secret from a variable is a file written in before the start, readable by
    // every user, and nowhere in the container's configuration or gorae's output.
    assert_eq!(
        docker(&["exec", &web, "cat", "/run/secrets/db_password"]),
        "pw-41c7"
    );
    assert_eq!(
        docker(&["exec", &web, "stat", "-c", "%a", "/run/secrets/db_password"]).trim(),
        "444"
    );
    assert!(!docker(&["inspect", &web]).contains("pw-41c7"));
    for command in [
        &["config"][..],
        &["plan"],
        &["plan", "--json"],
        &["plan", "--docker"],
    ] {
        let shown = project.run(command).succeeds();
        assert!(!String::from_utf8_lossy(&shown.stdout).contains("pw-41c7"));
        assert!(!String::from_utf8_lossy(&shown.stderr).contains("pw-41c7"));
    }

    // web started only once db's ready command passed, two seconds after db started.
    let started = |name: &str| {
        let text = docker_inspect(name, "{{.State.StartedAt}}");
        chrono_free_seconds(&text)
    };
    assert!(
        started(&web) - started(&db) >= 2.0,
        "web started {}s after db",
        started(&web) - started(&db)
    );

    // A new value re-creates the container that holds it, with the new file.
    let before = docker_inspect(&web, "{{.Id}}");
    std::fs::write(
        project.path().join(".env"),
        "GREETING=hello\nDB_PASSWORD=pw-2\n",
    )
    .expect("write .env");
    project.up().succeeds();
    assert_ne!(docker_inspect(&web, "{{.Id}}"), before);
    assert_eq!(
        docker(&["exec", &web, "cat", "/run/secrets/db_password"]),
        "pw-2"
    );

    // Stopping sends SIGINT, which the app traps to write its file.
    project.run(&["down"]).succeeds();
    assert_eq!(
        std::fs::read_to_string(project.path().join("web/stopped"))
            .expect("the app got SIGINT and wrote web/stopped")
            .trim(),
        "interrupted"
    );
}

/// Seconds since midnight of an engine timestamp (`2024-05-01T10:00:02.123456789Z`);
/// both containers start within the same minute or hour of one test run, so this
/// compares them without a date library.
fn chrono_free_seconds(text: &str) -> f64 {
    let time = text
        .split('T')
        .nth(1)
        .expect("a timestamp")
        .trim_end_matches('Z');
    let mut parts = time.split(':');
    let hours: f64 = parts.next().and_then(|p| p.parse().ok()).expect("hours");
    let minutes: f64 = parts.next().and_then(|p| p.parse().ok()).expect("minutes");
    let seconds: f64 = parts.next().and_then(|p| p.parse().ok()).expect("seconds");
    hours * 3600.0 + minutes * 60.0 + seconds
}

/// `platform:` decides which image runs: a local image of that platform is used as
/// it is, and one of another platform never runs in its place: gorae pulls the
/// image for the platform asked for (here, with no registry, it says it cannot).
#[test]
fn platform_runs_only_an_image_of_that_platform() {
    ensure_stand_in_images();
    let engine = docker(&["version", "-f", "{{.Server.Os}}/{{.Server.Arch}}"]);
    let engine = engine.trim();
    let other = if engine.ends_with("/amd64") {
        "linux/arm64"
    } else {
        "linux/amd64"
    };
    let service = |platform: &str| {
        format!(
            "  app:\n    image: base:bookworm-1\n    command: [sleep, \"1000\"]\n    platform: {platform}\n"
        )
    };

    let same = TestProject::new("platform").services(&service(engine));
    same.up().succeeds();
    let app = format!("{}-app", same.name());
    assert_eq!(docker_inspect(&app, "{{.State.Running}}"), "true");

    let different = TestProject::new("platform-other").services(&service(other));
    let output = different.up().fails_with(9);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot pull image `gorae-test/base:bookworm-1`"),
        "{stderr}"
    );
    assert!(support::containers_of(different.name()).is_empty());
}
