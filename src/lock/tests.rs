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
