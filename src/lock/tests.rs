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
