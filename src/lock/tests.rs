use super::*;

fn digest(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

fn image(d: Option<char>, id: char) -> LockedImage {
    LockedImage {
        digest: d.map(digest),
        id: digest(id),
        platform: "linux/amd64".into(),
    }
}

fn service(images: &[(&str, LockedImage)]) -> LockedService {
    LockedService {
        template: Some("redis".into()),
        template_revision: Some(1),
        build: false,
        images: images
            .iter()
            .map(|(r, i)| (r.to_string(), i.clone()))
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
        images: [("node:20".to_string(), image(Some('b'), 'c'))].into(),
    };
    let locked = lock(&[
        ("web", web),
        ("cache", service(&[("redis:7", image(Some('a'), 'd'))])),
        ("local", service(&[("tool:1", image(None, 'e'))])),
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
    let older = parse(r#"{"version": 1}"#, Path::new("gorae.lock"));
    let message = older.expect_err("rejected").to_string();
    assert!(message.contains("gorae lock --update"), "{message}");
    let garbage = parse("not json", Path::new("gorae.lock")).expect_err("rejected");
    assert!(
        garbage.to_string().contains("cannot read gorae.lock"),
        "{garbage}"
    );
}

#[test]
fn malformed_digests_are_refused_with_the_entry_named() {
    let good = digest('a');
    let bad_values = [
        String::new(),
        "sha256:".to_string(),
        "sha256:zz".to_string(),
        format!("sha512:{}", "a".repeat(64)),
        format!("sha256:{}", "A".repeat(64)),
        format!("sha256:{}", "a".repeat(63)),
        format!("sha256:{} ", "a".repeat(64)),
        "redis:7".to_string(),
    ];
    for bad in &bad_values {
        for field in ["digest", "id"] {
            let (d, i) = if field == "digest" {
                (bad.as_str(), good.as_str())
            } else {
                (good.as_str(), bad.as_str())
            };
            let text = format!(
                r#"{{"version": {LOCK_VERSION}, "gorae": "0.1.0", "project_file": "{good}",
                "services": {{"cache": {{"images": {{"redis:7": {{"digest": "{d}", "id": "{i}", "platform": "linux/amd64"}}}}}}}}}}"#
            );
            let err = parse(&text, Path::new("gorae.lock")).expect_err(bad);
            let message = err.to_string();
            assert!(
                message.starts_with(&format!(
                    "gorae.lock: service `cache`, image `redis:7`: `{field}` is"
                )),
                "{message}"
            );
            assert!(message.contains("gorae lock --update cache"), "{message}");
        }
    }
    assert!(is_digest(&good));
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
        (
            "cache",
            service(&[
                ("redis:7", image(Some('a'), 'b')),
                ("gone:1", image(None, 'c')),
            ]),
        ),
        ("old", service(&[("redis:7", image(Some('a'), 'b'))])),
    ]);
    assert!(differences(&locked, &locked).is_empty());

    let mut current = lock(&[
        ("cache", service(&[("redis:7", image(Some('f'), 'b'))])),
        ("new", service(&[("redis:7", image(Some('a'), 'b'))])),
    ]);
    current.project_file = file_fingerprint("services: {new: {}}\n");
    current.gorae = "9.9.9".into();
    assert_eq!(
        differences(&locked, &current),
        [
            "gorae.yaml changed since the lock was written".to_string(),
            "service `old` was removed".to_string(),
            format!(
                "service `cache`: image `redis:7` resolves to {}, the lock has {}",
                digest('f'),
                digest('a')
            ),
            "service `cache`: image `gone:1` is in the lock but no longer used".to_string(),
            "service `new` was added".to_string(),
        ]
    );
}

#[test]
fn another_platform_keeps_the_digest_and_ignores_the_id() {
    let locked = lock(&[("cache", service(&[("redis:7", image(Some('a'), 'b'))]))]);
    let mut arm = image(Some('a'), 'c');
    arm.platform = "linux/arm64".into();
    let on_arm = lock(&[("cache", service(&[("redis:7", arm)]))]);
    assert!(differences(&locked, &on_arm).is_empty());
}

#[test]
fn only_the_references_own_registry_digest_counts() {
    let info = ImageInfo {
        id: digest('i'),
        repo_digests: vec![
            format!("127.0.0.1:5000/ns/redis@{}", digest('a')),
            format!("redis@{}", digest('b')),
        ],
    };
    assert_eq!(
        registry_digest(&info, "127.0.0.1:5000/ns/redis:7"),
        Some(digest('a'))
    );
    assert_eq!(registry_digest(&info, "redis:7"), Some(digest('b')));
    assert_eq!(
        registry_digest(&info, "docker.io/library/redis:7"),
        Some(digest('b'))
    );
    assert_eq!(registry_digest(&info, "gorae-test/redis:7"), None);
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
fn an_unreadable_project_file_is_a_config_error_not_a_build_one() {
    // Loaded from text, so there is no gorae.yaml on disk to read again.
    let test = temp_project("name: shop\nservices:\n  cache: { template: redis }\n", &[]);
    let err = project_text(&test.project).expect_err("gorae.yaml is missing");
    assert!(matches!(err, LoadError::Read { .. }), "{err:?}");
    assert_eq!(err.exit_code(), ExitCode::Config);
    let shown = format!("{:#}", anyhow::Error::from(err));
    let file = test.dir.path().join("gorae.yaml");
    assert!(
        shown.starts_with(&format!("cannot read {}: ", file.display())),
        "{shown}"
    );
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
    // An own Dockerfile's base takes the prefix too; stages and `scratch` are not
    // images; a repeated base is listed once.
    assert_eq!(
        references(&services["own"]),
        Ok((true, vec!["mirror.example/python:3.12".to_string()]))
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
fn assemble_locks_every_service_with_its_entries_template_and_build_flag() {
    let test = mirrored();
    let entries: BTreeMap<String, BTreeMap<String, LockedImage>> = [
        ("cache", "redis:7", image(Some('r'), '1')),
        ("db", "postgres:16", image(Some('p'), '2')),
        ("tool", "registry.example/tool:1", image(None, '3')),
        ("web", "node:20", image(Some('n'), '4')),
        // Entries of a service gorae.yaml no longer has are not locked.
        ("ghost", "unused:1", image(Some('u'), '5')),
    ]
    .into_iter()
    .map(|(service, reference, entry)| {
        (service.to_string(), [(reference.to_string(), entry)].into())
    })
    .collect();
    let template = |name: &str, images: &[(&str, LockedImage)], build: bool| LockedService {
        template: Some(name.into()),
        template_revision: Some(1),
        build,
        images: images
            .iter()
            .map(|(r, i)| (r.to_string(), i.clone()))
            .collect(),
    };
    let plain = |images: &[(&str, LockedImage)], build: bool| LockedService {
        template: None,
        template_revision: None,
        ..template("", images, build)
    };
    assert_eq!(
        assemble(&test.project, &test.text, &entries),
        Lockfile {
            version: LOCK_VERSION,
            gorae: env!("CARGO_PKG_VERSION").into(),
            project_file: file_fingerprint(MIRRORED),
            services: [
                (
                    "cache",
                    // The redis template is at revision 2.
                    LockedService {
                        template_revision: Some(2),
                        ..template("redis", &[("redis:7", image(Some('r'), '1'))], false)
                    }
                ),
                (
                    "db",
                    // The postgres template is at revision 3.
                    LockedService {
                        template_revision: Some(3),
                        ..template("postgres", &[("postgres:16", image(Some('p'), '2'))], false)
                    }
                ),
                // No entries given: the service is locked with none.
                ("own", plain(&[], true)),
                (
                    "tool",
                    plain(&[("registry.example/tool:1", image(None, '3'))], false)
                ),
                (
                    "web",
                    template("node", &[("node:20", image(Some('n'), '4'))], true)
                ),
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
    let LockError::Unreadable { path, reason } = &garbage else {
        panic!("expected Unreadable, got {garbage:?}");
    };
    assert_eq!(*path, lock_path);
    assert!(
        reason.ends_with("(the file is JSON written by `gorae lock`)"),
        "{reason}"
    );

    let written = lock(&[("cache", service(&[("redis:7", image(Some('a'), 'd'))]))]);
    std::fs::write(&lock_path, render(&written)).expect("write");
    assert_eq!(read(&test.project).expect("a good lock"), written);
}

#[test]
fn older_versions_are_rewritten_and_newer_ones_need_a_newer_gorae() {
    let older = parse(r#"{"version": 1}"#, Path::new("gorae.lock")).expect_err("rejected");
    assert_eq!(
        older.to_string(),
        "gorae.lock has format version 1, but this gorae reads version 2\n  hint: run `gorae lock --update` to rewrite it in this format"
    );
    let newer = parse(r#"{"version": 3}"#, Path::new("gorae.lock")).expect_err("rejected");
    assert_eq!(
        newer.to_string(),
        "gorae.lock has format version 3, but this gorae reads version 2\n  hint: upgrade gorae to the version that wrote it"
    );
    // Right version, wrong fields: a field error, not a version error.
    let unknown = parse(
        r#"{"version": 2, "gorae": "0.1.0", "project_file": "x", "services": {}, "extra": 1}"#,
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
        ..service(&[("redis:7", image(Some('a'), 'b'))])
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
        service(&[
            ("redis:7", image(Some('a'), 'b')),
            ("busybox:1", image(None, 'c')),
        ]),
    )]);
    let current = lock(&[("cache", service(&[("redis:8", image(Some('d'), 'e'))]))]);
    assert_eq!(
        differences(&locked, &current),
        [
            "service `cache`: image `redis:8` is not in the lock (locked: busybox:1, redis:7)",
            "service `cache`: image `busybox:1` is in the lock but no longer used",
            "service `cache`: image `redis:7` is in the lock but no longer used",
        ]
    );
}

#[test]
fn a_stale_lock_lists_each_difference_and_what_to_do() {
    let stale = LockError::Stale {
        path: "gorae.lock".into(),
        differences: vec!["one".into(), "two".into()],
        hint: STALE_HINT,
    };
    assert_eq!(
        stale.to_string(),
        "gorae.lock is stale:\n  - one\n  - two\n  hint: run `gorae up` or `gorae lock` to update it, review the change and commit it"
    );
}

#[test]
fn read_if_present_is_none_only_for_a_missing_lock() {
    let test = temp_project(
        "services:\n  cache: { template: redis, version: \"7\" }\n",
        &[],
    );
    assert_eq!(read_if_present(&test.project).expect("no lock yet"), None);
    let written = lock(&[("cache", service(&[("redis:7", image(Some('a'), 'd'))]))]);
    let lock_path = test.dir.path().join(LOCK_FILE);
    std::fs::write(&lock_path, render(&written)).expect("write");
    assert_eq!(
        read_if_present(&test.project).expect("a good lock"),
        Some(written)
    );
    std::fs::write(&lock_path, "{").expect("write");
    let broken = read_if_present(&test.project).expect_err("not JSON");
    assert!(
        matches!(&broken, LockError::Unreadable { path, .. } if *path == lock_path),
        "{broken:?}"
    );
}

#[test]
fn refresh_covers_nothing_everything_or_the_named_services() {
    let named = ["db".to_string(), "web".to_string()];
    for service in ["cache", "db", "web"] {
        assert!(!Refresh::Nothing.covers(service), "{service}");
        assert!(Refresh::All.covers(service), "{service}");
    }
    assert!(Refresh::Services(&named).covers("db"));
    assert!(Refresh::Services(&named).covers("web"));
    assert!(!Refresh::Services(&named).covers("cache"));
    assert!(!Refresh::Services(&[]).covers("db"));
}

#[test]
fn a_new_entry_records_the_references_own_digest_the_id_and_the_platform() {
    let info = ImageInfo {
        id: digest('i'),
        repo_digests: vec![format!("redis@{}", digest('a'))],
    };
    assert_eq!(
        entry_for(&info, "redis:7", "linux/arm64"),
        LockedImage {
            digest: Some(digest('a')),
            id: digest('i'),
            platform: "linux/arm64".into(),
        }
    );
    // Built or loaded here, or pulled under another name: no digest to pull by.
    assert_eq!(
        entry_for(&info, "gorae-test/redis:7", "linux/amd64"),
        LockedImage {
            digest: None,
            id: digest('i'),
            platform: "linux/amd64".into(),
        }
    );
}

/// The entries of [`mirrored`] as a lock written for it would hold them.
fn mirrored_entries() -> BTreeMap<String, BTreeMap<String, LockedImage>> {
    [
        ("cache", "redis:7", image(Some('r'), '1')),
        ("db", "postgres:16", image(Some('p'), '2')),
        ("own", "python:3.12", image(Some('y'), '3')),
        ("tool", "registry.example/tool:1", image(None, '4')),
        ("web", "node:20", image(Some('n'), '5')),
    ]
    .into_iter()
    .map(|(service, reference, entry)| {
        (service.to_string(), [(reference.to_string(), entry)].into())
    })
    .collect()
}

#[test]
fn structure_changes_compare_the_file_services_templates_and_references_only() {
    let test = mirrored();
    let locked = assemble(&test.project, &test.text, &mirrored_entries());
    assert_eq!(
        structure_changes(&test.project, &test.text, &locked),
        Vec::<String>::new()
    );
    // Only the file's text changed.
    assert_eq!(
        structure_changes(&test.project, "name: shop\n", &locked),
        ["gorae.yaml changed since the lock was written"]
    );
    // What an entry resolved to is not structure: a moved entry is no change here.
    let mut moved = locked.clone();
    moved
        .services
        .get_mut("cache")
        .expect("cache")
        .images
        .insert("redis:7".into(), image(Some('z'), 'z'));
    assert_eq!(
        structure_changes(&test.project, &test.text, &moved),
        Vec::<String>::new()
    );
    // A lock that lacks a reference, has an old one, an old template revision and a
    // service gorae.yaml no longer has.
    let mut old = locked.clone();
    old.services.get_mut("own").expect("own").images.clear();
    let tool = old.services.get_mut("tool").expect("tool");
    tool.images.clear();
    tool.images
        .insert("registry.example/tool:0".into(), image(None, '6'));
    old.services.get_mut("db").expect("db").template_revision = Some(1);
    old.services.insert("gone".into(), service(&[]));
    assert_eq!(
        structure_changes(&test.project, &test.text, &old),
        [
            "service `gone` was removed",
            "service `db`: template postgres revision 1 is now postgres revision 3",
            "service `own`: image `python:3.12` is not in the lock (locked: )",
            "service `tool`: image `registry.example/tool:1` is not in the lock (locked: registry.example/tool:0)",
            "service `tool`: image `registry.example/tool:0` is in the lock but no longer used",
        ]
    );
}

/// What `gorae plan` pins: each reference gorae.yaml uses now (with the prefix, as
/// the plan names it) to the id its lock entry holds; one without an entry is left
/// to `up`.
#[test]
fn locked_ids_pin_each_reference_in_use_to_its_entry() {
    let test = mirrored();
    let mut entries = mirrored_entries();
    entries.remove("db");
    let locked = assemble(&test.project, &test.text, &entries);
    let id = |service: &str, reference: &str| entries[service][reference].id.clone();
    let expected: crate::plan::Pins = [
        (("cache", "mirror.example/redis:7"), id("cache", "redis:7")),
        (
            ("own", "mirror.example/python:3.12"),
            id("own", "python:3.12"),
        ),
        (
            ("tool", "registry.example/tool:1"),
            id("tool", "registry.example/tool:1"),
        ),
        (("web", "mirror.example/node:20"), id("web", "node:20")),
    ]
    .into_iter()
    .map(|((service, reference), id)| ((service.to_string(), reference.to_string()), id))
    .collect();
    assert_eq!(locked_ids(&test.project, &locked), expected);
}
