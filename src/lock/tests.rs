use super::*;

fn service(images: &[(&str, &str)]) -> LockedService {
    LockedService {
        template: Some("redis".into()),
        template_revision: Some(1),
        build: false,
        images: images
            .iter()
            .map(|(r, d)| (r.to_string(), d.to_string()))
            .collect(),
    }
}

fn lock(services: &[(&str, LockedService)]) -> Lockfile {
    Lockfile {
        version: LOCK_VERSION,
        gorae: "0.1.0".into(),
        project_file: file_fingerprint("services: {}\n"),
        services: services
            .iter()
            .map(|(n, s)| (n.to_string(), s.clone()))
            .collect(),
    }
}

#[test]
fn rendered_lock_is_sorted_json_that_parses_back() {
    let web = LockedService {
        template: Some("node".into()),
        template_revision: Some(1),
        build: true,
        images: [("node:20".to_string(), "sha256:bbb".to_string())].into(),
    };
    let locked = lock(&[
        ("web", web),
        ("cache", service(&[("redis:7", "sha256:aaa")])),
    ]);
    let text = render(&locked);
    insta::assert_snapshot!(text);
    assert_eq!(
        parse(&text, Path::new("gorae.lock")).expect("parses"),
        locked
    );
}

#[test]
fn unsupported_versions_say_what_to_do() {
    let newer = parse(r#"{"version": 7, "future": true}"#, Path::new("gorae.lock"));
    let message = newer.expect_err("rejected").to_string();
    assert!(message.contains("format version 7"), "{message}");
    assert!(message.contains("upgrade gorae"), "{message}");
    let garbage = parse("not json", Path::new("gorae.lock")).expect_err("rejected");
    assert!(
        garbage.to_string().contains("cannot read gorae.lock"),
        "{garbage}"
    );
}

#[test]
fn fingerprint_ignores_line_endings_only() {
    assert_eq!(
        file_fingerprint("a: 1\r\nb: 2\r\n"),
        file_fingerprint("a: 1\nb: 2\n")
    );
    assert_ne!(file_fingerprint("a: 1\n"), file_fingerprint("a: 2\n"));
}

#[test]
fn differences_name_each_change() {
    let locked = lock(&[
        ("cache", service(&[("redis:7", "sha256:aaa")])),
        ("old", service(&[("redis:7", "sha256:aaa")])),
    ]);
    assert!(differences(&locked, &locked).is_empty());

    let mut current = lock(&[
        ("cache", service(&[("redis:7", "sha256:moved")])),
        ("new", service(&[("redis:7", "sha256:aaa")])),
    ]);
    current.project_file = file_fingerprint("services: {new: {}}\n");
    current.gorae = "9.9.9".into();
    assert_eq!(
        differences(&locked, &current),
        [
            "gorae.yaml changed since the lock was written",
            "service `old` was removed",
            "service `cache`: image `redis:7` resolves to sha256:moved, the lock has sha256:aaa",
            "service `new` was added",
        ]
    );
}

#[test]
fn a_registry_digest_is_preferred_over_the_image_id() {
    let pulled = ImageInfo {
        id: "sha256:id".into(),
        repo_digests: vec!["redis@sha256:manifest".into()],
    };
    assert_eq!(digest_of(&pulled), "sha256:manifest");
    let local = ImageInfo {
        id: "sha256:id".into(),
        repo_digests: vec![],
    };
    assert_eq!(digest_of(&local), "sha256:id");
}

/// A project in a temporary directory, loaded the way `gorae` loads it.
struct TempProject {
    dir: tempfile::TempDir,
    project: Project,
    text: String,
}

fn temp_project(yaml: &str, files: &[(&str, &str)]) -> TempProject {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    let no_env = |_: &str| None;
    let project = crate::config::load_str(yaml, &dir.path().join("gorae.yaml"), &no_env)
        .expect("valid project");
    TempProject {
        dir,
        project,
        text: yaml.to_string(),
    }
}

const MIRRORED: &str = "name: shop
image_prefix: mirror.example/
services:
  cache: { template: redis, version: \"7\" }
  db: { template: postgres, version: \"16\" }
  tool: { image: registry.example/tool:1 }
  web: { template: node, build: ./web }
  own: { build: ./own }
";

fn mirrored() -> TempProject {
    temp_project(
        MIRRORED,
        &[
            ("web/package.json", "{}"),
            (
                "own/Dockerfile",
                "FROM python:3.12 AS base\nFROM base\nFROM scratch\nFROM python:3.12\n",
            ),
        ],
    )
}

#[test]
fn references_are_a_pulled_image_or_the_base_images_of_a_build() {
    let test = mirrored();
    let services = &test.project.services;
    assert_eq!(
        references(&services["cache"]),
        Ok((false, vec!["mirror.example/redis:7".to_string()]))
    );
    assert_eq!(
        references(&services["tool"]),
        Ok((false, vec!["registry.example/tool:1".to_string()]))
    );
    // A rendered Dockerfile's FROM already carries the prefix.
    assert_eq!(
        references(&services["web"]),
        Ok((true, vec!["mirror.example/node:20".to_string()]))
    );
    // Stages and `scratch` are not images; a repeated base is listed once.
    assert_eq!(
        references(&services["own"]),
        Ok((true, vec!["python:3.12".to_string()]))
    );
}

#[test]
fn references_of_a_build_whose_dockerfile_vanished_name_the_file() {
    let test = mirrored();
    let dockerfile = test.dir.path().join("own/Dockerfile");
    std::fs::remove_file(&dockerfile).expect("remove");
    let error = references(&test.project.services["own"]).expect_err("no Dockerfile");
    assert!(
        error.starts_with(&format!("{}: ", dockerfile.display())),
        "{error}"
    );
}

#[test]
fn unprefix_strips_only_the_projects_prefix() {
    let test = mirrored();
    let project = &test.project;
    assert_eq!(project.image_prefix.as_deref(), Some("mirror.example/"));
    assert_eq!(unprefix(project, "mirror.example/redis:7"), "redis:7");
    assert_eq!(
        unprefix(project, "registry.example/tool:1"),
        "registry.example/tool:1"
    );
    let plain = temp_project(
        "services:\n  cache: { template: redis, version: \"7\" }\n",
        &[],
    );
    assert_eq!(plain.project.image_prefix, None);
    assert_eq!(
        unprefix(&plain.project, "mirror.example/redis:7"),
        "mirror.example/redis:7"
    );
}

#[test]
fn assemble_locks_every_service_without_the_prefix() {
    let test = mirrored();
    let digests: BTreeMap<String, String> = [
        ("mirror.example/redis:7", "sha256:r"),
        ("mirror.example/postgres:16", "sha256:p"),
        ("registry.example/tool:1", "sha256:t"),
        ("mirror.example/node:20", "sha256:n"),
        ("mirror.example/unused:1", "sha256:u"),
    ]
    .iter()
    .map(|(r, d)| (r.to_string(), d.to_string()))
    .collect();
    let template = |name: &str, images: &[(&str, &str)], build: bool| LockedService {
        template: Some(name.into()),
        template_revision: Some(1),
        build,
        images: images
            .iter()
            .map(|(r, d)| (r.to_string(), d.to_string()))
            .collect(),
    };
    let plain = |images: &[(&str, &str)], build: bool| LockedService {
        template: None,
        template_revision: None,
        ..template("", images, build)
    };
    assert_eq!(
        assemble(&test.project, &test.text, &digests),
        Lockfile {
            version: LOCK_VERSION,
            gorae: env!("CARGO_PKG_VERSION").into(),
            project_file: file_fingerprint(MIRRORED),
            services: [
                (
                    "cache",
                    template("redis", &[("redis:7", "sha256:r")], false)
                ),
                (
                    "db",
                    template("postgres", &[("postgres:16", "sha256:p")], false)
                ),
                // No digest known: recorded as empty, which never matches a real one.
                ("own", plain(&[("python:3.12", "")], true)),
                (
                    "tool",
                    plain(&[("registry.example/tool:1", "sha256:t")], false)
                ),
                ("web", template("node", &[("node:20", "sha256:n")], true)),
            ]
            .into_iter()
            .map(|(n, s)| (n.to_string(), s))
            .collect(),
        }
    );
}

#[test]
fn read_tells_a_missing_lock_from_an_unreadable_one() {
    let test = temp_project(
        "services:\n  cache: { template: redis, version: \"7\" }\n",
        &[],
    );
    let lock_path = test.dir.path().join(LOCK_FILE);
    assert_eq!(path_for(&test.project), lock_path);

    let missing = read(&test.project).expect_err("no lock yet");
    assert!(
        matches!(&missing, LockError::Missing { project_file } if *project_file == test.project.file),
        "{missing:?}"
    );
    assert_eq!(
        missing.to_string(),
        format!(
            "no gorae.lock beside {}\n  hint: run `gorae lock` and commit the file",
            test.project.file.display()
        )
    );

    // A directory where the file should be: there, but not readable as a file.
    std::fs::create_dir(&lock_path).expect("mkdir");
    let unreadable = read(&test.project).expect_err("a directory");
    let LockError::Unreadable { path, reason } = &unreadable else {
        panic!("expected Unreadable, got {unreadable:?}");
    };
    assert_eq!(*path, lock_path);
    assert!(reason.contains("directory"), "{reason}");
    assert!(
        unreadable
            .to_string()
            .starts_with(&format!("cannot read {}: ", lock_path.display())),
        "{unreadable}"
    );
    std::fs::remove_dir(&lock_path).expect("rmdir");

    std::fs::write(&lock_path, "{ not json").expect("write");
    let garbage = read(&test.project).expect_err("not JSON");
    assert!(
        garbage
            .to_string()
            .ends_with("(the file is JSON written by `gorae lock`)"),
        "{garbage}"
    );

    let written = lock(&[("cache", service(&[("redis:7", "sha256:aaa")]))]);
    std::fs::write(&lock_path, render(&written)).expect("write");
    assert_eq!(read(&test.project).expect("a good lock"), written);
}

#[test]
fn older_versions_are_rewritten_and_newer_ones_need_a_newer_gorae() {
    let older = parse(r#"{"version": 0}"#, Path::new("gorae.lock")).expect_err("rejected");
    assert_eq!(
        older.to_string(),
        "gorae.lock has format version 0, but this gorae reads version 1\n  hint: run `gorae lock` to rewrite it"
    );
    let newer = parse(r#"{"version": 2}"#, Path::new("gorae.lock")).expect_err("rejected");
    assert_eq!(
        newer.to_string(),
        "gorae.lock has format version 2, but this gorae reads version 1\n  hint: upgrade gorae to the version that wrote it"
    );
    // Right version, wrong fields: a field error, not a version error.
    let unknown = parse(
        r#"{"version": 1, "gorae": "0.1.0", "project_file": "x", "services": {}, "extra": 1}"#,
        Path::new("gorae.lock"),
    )
    .expect_err("rejected");
    assert!(
        matches!(unknown, LockError::Unreadable { .. }),
        "{unknown:?}"
    );
}

#[test]
fn rendered_lock_ends_with_one_newline() {
    let text = render(&lock(&[]));
    assert!(text.ends_with("}\n"), "{text:?}");
    assert!(!text.ends_with("\n\n"), "{text:?}");
}

#[test]
fn a_template_change_alone_makes_the_lock_stale() {
    let with_template = |name: Option<&str>, revision: Option<u32>| LockedService {
        template: name.map(String::from),
        template_revision: revision,
        ..service(&[("redis:7", "sha256:aaa")])
    };
    let cases = [
        (
            (Some("redis"), Some(1)),
            (Some("redis"), Some(2)),
            "service `cache`: template redis revision 1 is now redis revision 2",
        ),
        (
            (Some("redis"), Some(1)),
            (Some("valkey"), Some(1)),
            "service `cache`: template redis revision 1 is now valkey revision 1",
        ),
        (
            (Some("redis"), Some(1)),
            (None, None),
            "service `cache`: template redis revision 1 is now none",
        ),
        (
            (Some("redis"), None),
            (Some("redis"), Some(1)),
            "service `cache`: template redis is now redis revision 1",
        ),
    ];
    for ((then_name, then_rev), (now_name, now_rev), expected) in cases {
        let locked = lock(&[("cache", with_template(then_name, then_rev))]);
        let current = lock(&[("cache", with_template(now_name, now_rev))]);
        assert_eq!(differences(&locked, &current), [expected]);
    }
}

#[test]
fn an_image_missing_from_the_lock_lists_what_is_locked() {
    let locked = lock(&[(
        "cache",
        service(&[("redis:7", "sha256:aaa"), ("busybox:1", "sha256:bbb")]),
    )]);
    let current = lock(&[("cache", service(&[("redis:8", "sha256:ccc")]))]);
    assert_eq!(
        differences(&locked, &current),
        ["service `cache`: image `redis:8` is not in the lock (locked: busybox:1, redis:7)"]
    );
}

#[test]
fn a_stale_lock_lists_each_difference_and_what_to_do() {
    let stale = LockError::Stale {
        path: "gorae.lock".into(),
        differences: vec!["one".into(), "two".into()],
    };
    assert_eq!(
        stale.to_string(),
        "gorae.lock is stale:\n  - one\n  - two\n  hint: run `gorae lock` to update it, review the change and commit it"
    );
}
