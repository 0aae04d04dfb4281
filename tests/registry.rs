//! Pulls, digests, tags that move, and gorae.lock, against a real registry
//! (Debian's `docker-registry` on 127.0.0.1, started by the test harness).

mod support;

use std::process::Output;

use support::registry::Registry;
use support::{TestProject, docker, docker_inspect, ensure_stand_in_images, stderr};

/// Prints a step and what gorae said, so `--nocapture` shows the whole scenario.
#[allow(clippy::print_stderr, reason = "what a test tells its runner")]
fn shown(step: &str, out: &Output) {
    eprintln!(
        "$ {step}\n{}(exit {})\n",
        stderr(out),
        out.status.code().unwrap_or(-1)
    );
}

const SERVER: &str =
    "require('http').createServer((q, s) => s.end(process.env.BASE_VERSION)).listen(3000);\n";

/// A project with two pulled services on one tag (redis) and a built one (a node
/// app), whose images come from `prefix`.
fn shop(label: &str) -> TestProject {
    let project = TestProject::new(label);
    let yaml = project.services_yaml(
        "  cache: { template: redis }
  extra: { template: redis }
  web:
    template: node
    build: ./web
    command: [\"node\", \"server.js\"]
    ready: { tcp: 3000 }
    depends_on: [cache]
",
    );
    project
        .file("gorae.yaml", &yaml)
        .file("web/package.json", r#"{"name": "web", "version": "1.0.0"}"#)
        .file("web/server.js", SERVER)
}

/// Which published version a service runs: the BASE_VERSION its image carries.
fn version(project: &TestProject, service: &str) -> String {
    docker(&[
        "exec",
        &format!("{}-{service}", project.name()),
        "printenv",
        "BASE_VERSION",
    ])
}

/// The versions the pulled and the built service run.
fn versions(project: &TestProject) -> (String, String) {
    (version(project, "cache"), version(project, "web"))
}

fn lock_text(project: &TestProject) -> String {
    std::fs::read_to_string(project.path().join("gorae.lock")).expect("gorae.lock")
}

#[test]
fn tags_that_move_after_lock_change_nothing_until_lock_update() {
    ensure_stand_in_images();
    let ns = format!("gt-move-{}", std::process::id());
    let registry = Registry::start(&ns);
    let publish = |version: &str| {
        let env = format!("ENV BASE_VERSION={version}");
        let redis = registry.publish("gorae-test/redis:7", &format!("{ns}/redis:7"), &[&env]);
        let node = registry.publish("gorae-test/node:20", &format!("{ns}/node:20"), &[&env]);
        (redis, node)
    };
    let ((_, redis_v1), (_, node_v1)) = publish("v1");
    let prefix = format!("{}/{ns}/", registry.host());
    let env = [("GORAE_IMAGE_PREFIX", prefix.as_str())];
    let project = shop("move");
    let gorae = |args: &[&str]| {
        let out = project.gorae_with_env(args, &env);
        shown(&format!("gorae {}", args.join(" ")), &out);
        out
    };

    // Locking pulls both tags (with progress) and records their digests and ids.
    let locked = gorae(&["lock"]);
    assert!(locked.status.success());
    assert!(stderr(&locked).contains("pulling"), "{}", stderr(&locked));
    let lock = lock_text(&project);
    assert!(
        lock.contains(&redis_v1) && lock.contains(&node_v1),
        "{lock}"
    );

    // Both tags move; this machine forgets every image, like a fresh CI runner.
    let ((_, redis_v2), (_, node_v2)) = publish("v2");
    registry.forget_images();

    // Plain `up` pulls by the locked digests and builds on the locked base image.
    let up = gorae(&["up", "--ci"]);
    assert!(up.status.success());
    let log = stderr(&up);
    assert!(log.contains(&format!("redis@{redis_v1}")), "{log}");
    assert!(log.contains(&format!("node@{node_v1}")), "{log}");
    assert!(
        !log.contains("redis:7\n") && !log.contains(&format!("pulling {prefix}node:20")),
        "{log}"
    );
    assert_eq!(versions(&project), ("v1".into(), "v1".into()));
    assert_eq!(lock_text(&project), lock, "plain up changed the lock");

    // The check asks the registry and lists both moves.
    let check = gorae(&["lock", "--check"]);
    assert_eq!(check.status.code(), Some(3));
    for moved in [
        format!(
            "service `cache`: `redis:7` moved: it names {redis_v2} now, the lock has {redis_v1}"
        ),
        format!("service `web`: `node:20` moved: it names {node_v2} now, the lock has {node_v1}"),
    ] {
        assert!(stderr(&check).contains(&moved), "{}", stderr(&check));
    }

    // A fresh machine again, with `--frozen` this time: the same locked images.
    gorae(&["down"]);
    registry.forget_images();
    let frozen = gorae(&["up", "--ci", "--frozen"]);
    assert!(frozen.status.success());
    assert_eq!(versions(&project), ("v1".into(), "v1".into()));

    // Moving on purpose: `lock --update SERVICE` takes what that service's tags
    // name now and leaves the others; the next `up` re-creates both on them.
    let unknown = gorae(&["lock", "--update", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    let update = gorae(&["lock", "--update", "cache"]);
    assert!(update.status.success());
    let lock = lock_text(&project);
    assert!(
        lock.contains(&redis_v2) && lock.contains(&node_v1),
        "{lock}"
    );
    // Two services on one tag, only one entry moved: each runs its own entry.
    assert!(gorae(&["up", "--ci"]).status.success());
    assert_eq!(version(&project, "cache"), "v2");
    assert_eq!(version(&project, "extra"), "v1");
    assert_eq!(version(&project, "web"), "v1");
    let update = gorae(&["lock", "--update", "web", "extra"]);
    assert!(update.status.success());
    let lock = lock_text(&project);
    assert!(
        lock.contains(&redis_v2) && lock.contains(&node_v2),
        "{lock}"
    );
    let up = gorae(&["up", "--ci"]);
    assert!(up.status.success());
    assert_eq!(versions(&project), ("v2".into(), "v2".into()));
    assert!(gorae(&["lock", "--check"]).status.success());
}

/// Pulls show progress; an image saved and loaded back (a CI cache) is accepted by
/// its id with nothing pulled.
#[test]
fn an_image_restored_with_docker_load_is_accepted_by_its_id() {
    ensure_stand_in_images();
    let ns = format!("gt-load-{}", std::process::id());
    let registry = Registry::start(&ns);
    // A layer of its own, so the pull downloads something and shows progress.
    registry.publish(
        "gorae-test/redis:7",
        &format!("{ns}/redis:7"),
        &["RUN head -c 24000000 /dev/urandom > /blob"],
    );
    let prefix = format!("{}/{ns}/", registry.host());
    let env = [("GORAE_IMAGE_PREFIX", prefix.as_str())];
    let project = TestProject::new("load");
    let yaml = project.services_yaml("  cache: { template: redis }\n");
    let project = project.file("gorae.yaml", &yaml);
    let locked = project.gorae_with_env(&["lock"], &env);
    shown("gorae lock", &locked);
    assert!(locked.status.success(), "{}", stderr(&locked));
    assert!(
        stderr(&locked).contains("% downloaded"),
        "{}",
        stderr(&locked)
    );

    // Saved and loaded back: the registry digest is lost on the way, the id is not.
    let image = format!("{prefix}redis:7");
    let tar = tempfile::tempdir().expect("temp dir");
    let tar = tar.path().join("images.tar");
    docker(&["save", "--output", &tar.display().to_string(), &image]);
    registry.forget_images();
    docker(&["load", "--input", &tar.display().to_string()]);
    assert_eq!(docker_inspect(&image, "{{len .RepoDigests}}"), "0");

    let up = project.gorae_with_env(&["up", "--ci", "--frozen"], &env);
    shown("gorae up --ci --frozen (after docker load)", &up);
    assert!(up.status.success(), "{}", stderr(&up));
    assert!(!stderr(&up).contains("pulling"), "{}", stderr(&up));
}

/// A registry that is down, that has no such image, that fails (HTTP 500) or that
/// never answers: one clear error, exit 9, and nothing started.
#[test]
fn registry_faults_exit_9_with_one_clear_message() {
    ensure_stand_in_images();
    let ns = format!("gt-fault-{}", std::process::id());
    let mut registry = Registry::start(&ns);
    let failing = Registry::start_failing(&format!("{ns}-500"));
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("a listener");
    let silent_port = silent.local_addr().expect("address").port();
    let cases = [
        // An empty registry: the image is not there (404 from the registry).
        (
            "missing",
            format!("{}/{ns}/", registry.host()),
            "no such image or tag",
            false,
        ),
        // Its storage is broken: HTTP 500 for everything.
        (
            "failing",
            format!("{}/{ns}/", failing.host()),
            "server error",
            false,
        ),
        // Accepts connections and never answers.
        (
            "silent",
            format!("127.0.0.1:{silent_port}/{ns}/"),
            "stopped answering",
            false,
        ),
        // Nothing listens any more.
        (
            "down",
            format!("{}/{ns}/", registry.host()),
            "offline or unable to reach",
            true,
        ),
    ];
    for (label, prefix, hint, stop_first) in cases {
        if stop_first {
            registry.stop();
        }
        let project = TestProject::new(&format!("fault-{label}"));
        let yaml = project.services_yaml("  cache: { template: redis }\n");
        let project = project.file("gorae.yaml", &yaml);
        let out = project.gorae_with_env(
            &["up", "--ci"],
            &[
                ("GORAE_IMAGE_PREFIX", prefix.as_str()),
                ("GORAE_PULL_TIMEOUT", "5"),
            ],
        );
        shown(&format!("gorae up --ci ({label} registry)"), &out);
        assert_eq!(out.status.code(), Some(9), "{label}: {}", stderr(&out));
        let message = stderr(&out);
        let errors: Vec<&str> = message
            .lines()
            .filter(|l| l.starts_with("error:"))
            .collect();
        assert_eq!(errors.len(), 1, "{label}: {message}");
        assert!(
            errors[0].contains("cannot pull image"),
            "{label}: {message}"
        );
        assert!(message.contains(hint), "{label}: {message}");
        assert!(support::containers_of(project.name()).is_empty(), "{label}");
    }
    drop(silent);
}

/// Each way a lock can be wrong gets one line saying what to do, its documented exit
/// code, and nothing is started.
#[test]
fn a_bad_lock_gets_one_clear_line_and_starts_nothing() {
    ensure_stand_in_images();
    let ns = format!("gt-badlock-{}", std::process::id());
    let registry = Registry::start(&ns);
    let (redis_id, redis_digest) = registry.publish(
        "gorae-test/redis:7",
        &format!("{ns}/redis:7"),
        &["ENV BASE_VERSION=v1"],
    );
    let prefix = format!("{}/{ns}/", registry.host());
    let env = [("GORAE_IMAGE_PREFIX", prefix.as_str())];
    let project = TestProject::new("badlock");
    let yaml = project.services_yaml("  cache: { template: redis }\n");
    let project = project.file("gorae.yaml", &yaml);
    let locked = project.gorae_with_env(&["lock"], &env);
    assert!(locked.status.success(), "{}", stderr(&locked));
    let good = lock_text(&project);
    registry.forget_images();

    let unknown = format!("sha256:{}", "0".repeat(64));
    let cases = [
        (
            "written by a newer gorae",
            good.replace("\"version\": 2", "\"version\": 3"),
            3,
            "upgrade gorae",
        ),
        (
            "a malformed digest",
            good.replace(&redis_digest, "sha256:not-hex"),
            3,
            "`digest` is `sha256:not-hex`, not a digest",
        ),
        (
            "a malformed id",
            good.replace(&redis_id, "redis:7"),
            3,
            "`id` is `redis:7`, not a digest",
        ),
        (
            "an image the registry does not have",
            good.replace(&redis_digest, &unknown)
                .replace(&redis_id, &unknown),
            9,
            "the registry does not have the digest gorae.lock names",
        ),
        (
            "an id that does not match the digest",
            good.replace(&redis_id, &unknown),
            3,
            "but gorae.lock records",
        ),
    ];
    for (label, text, code, words) in cases {
        std::fs::write(project.path().join("gorae.lock"), &text).expect("write the lock");
        for args in [&["up", "--ci"][..], &["up", "--ci", "--frozen"][..]] {
            let out = project.gorae_with_env(args, &env);
            shown(&format!("gorae {} ({label})", args.join(" ")), &out);
            assert_eq!(out.status.code(), Some(code), "{label}: {}", stderr(&out));
            let message = stderr(&out);
            let errors: Vec<&str> = message
                .lines()
                .filter(|l| l.starts_with("error:"))
                .collect();
            assert_eq!(errors.len(), 1, "{label}: {message}");
            assert!(message.contains(words), "{label}: {message}");
            assert!(message.contains("hint:"), "{label}: {message}");
            assert!(support::containers_of(project.name()).is_empty(), "{label}");
        }
        registry.forget_images();
    }
}

/// A multi-platform image: the lock holds the index digest, and a lock written on
/// another platform (here: one naming the arm64 image's id) resolves on this one
/// through the index, to this platform's image.
#[test]
fn a_lock_written_on_another_platform_resolves_here_through_the_index() {
    ensure_stand_in_images();
    let ns = format!("gt-index-{}", std::process::id());
    let registry = Registry::start(&ns);
    let (here_id, _) = registry.publish(
        "gorae-test/redis:7",
        &format!("{ns}/redis-here:7"),
        &["ENV BASE_VERSION=here"],
    );
    let (arm_id, _) = registry.publish(
        "gorae-test/redis:7",
        &format!("{ns}/redis-arm64:7"),
        &["ENV BASE_VERSION=arm64"],
    );
    let host = registry.host();
    let index = format!("{host}/{ns}/redis:7");
    let platform = docker(&["version", "-f", "{{.Server.Os}}/{{.Server.Arch}}"]);
    let arch = platform.split('/').nth(1).expect("an arch").to_string();
    docker(&[
        "manifest",
        "create",
        "--insecure",
        &index,
        &format!("{host}/{ns}/redis-here:7"),
        &format!("{host}/{ns}/redis-arm64:7"),
    ]);
    docker(&[
        "manifest",
        "annotate",
        "--arch",
        &arch,
        &index,
        &format!("{host}/{ns}/redis-here:7"),
    ]);
    docker(&[
        "manifest",
        "annotate",
        "--arch",
        "arm64",
        &index,
        &format!("{host}/{ns}/redis-arm64:7"),
    ]);
    // The last line of the push output is the index's digest.
    let pushed = docker(&["manifest", "push", "--insecure", "--purge", &index]);
    let index_digest = pushed.lines().last().unwrap_or_default().trim().to_string();
    assert!(index_digest.starts_with("sha256:"), "{pushed}");

    let prefix = format!("{host}/{ns}/");
    let env = [("GORAE_IMAGE_PREFIX", prefix.as_str())];
    let project = TestProject::new("index");
    let yaml = project.services_yaml("  cache: { template: redis }\n");
    let project = project.file("gorae.yaml", &yaml);
    let locked = project.gorae_with_env(&["lock"], &env);
    assert!(locked.status.success(), "{}", stderr(&locked));
    let lock = lock_text(&project);
    assert!(
        lock.contains(&format!("\"digest\": \"{index_digest}\"")),
        "{lock}"
    );
    assert!(lock.contains(&format!("\"id\": \"{here_id}\"")), "{lock}");
    assert!(
        lock.contains(&format!("\"platform\": \"{platform}\"")),
        "{lock}"
    );

    // The same lock as an arm64 machine writes it: the index digest, its image id.
    let other = if arch == "arm64" { "amd64" } else { "arm64" };
    let from_arm = lock
        .replace(&here_id, &arm_id)
        .replace(&platform, &format!("linux/{other}"));
    std::fs::write(project.path().join("gorae.lock"), from_arm).expect("write the lock");
    registry.forget_images();
    let up = project.gorae_with_env(&["up", "--ci", "--frozen"], &env);
    shown(
        "gorae up --ci --frozen (lock written on another platform)",
        &up,
    );
    assert!(up.status.success(), "{}", stderr(&up));
    assert!(
        stderr(&up).contains(&format!("redis@{index_digest}")),
        "{}",
        stderr(&up)
    );
    let running = docker(&[
        "exec",
        &format!("{}-cache", project.name()),
        "printenv",
        "BASE_VERSION",
    ]);
    assert_eq!(running, "here");
}
