use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, SystemTime};

use super::*;

fn context_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, content) in files {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, content).expect("write");
    }
    dir
}

/// The paths of a tar's entries, in order.
fn tar_names(tar: &[u8]) -> Vec<String> {
    tar::Archive::new(tar)
        .entries()
        .expect("entries")
        .map(|e| {
            e.expect("entry")
                .path()
                .expect("path")
                .display()
                .to_string()
        })
        .collect()
}

fn hash_of(dir: &Path) -> String {
    scan(dir).expect("scan").build_hash("FROM x", &[], "")
}

#[test]
fn hash_ignores_timestamps() {
    let dir = context_with(&[("server.js", "1"), ("lib/a.js", "2")]);
    let before = hash_of(dir.path());
    let file = fs::File::options()
        .write(true)
        .open(dir.path().join("server.js"))
        .expect("open");
    file.set_modified(SystemTime::now() - Duration::from_secs(86_400))
        .expect("set mtime");
    assert_eq!(before, hash_of(dir.path()));
}

#[test]
fn hash_changes_with_content_mode_path_dockerfile_and_base_image() {
    let dir = context_with(&[("run.sh", "echo hi")]);
    let context = scan(dir.path()).expect("scan");
    let base = context.build_hash("FROM x", &["sha256:1".into()], "");
    assert_ne!(base, context.build_hash("FROM y", &["sha256:1".into()], ""));
    assert_ne!(base, context.build_hash("FROM x", &["sha256:2".into()], ""));
    // A target or build argument changes the image, so the tag.
    assert_ne!(
        base,
        context.build_hash("FROM x", &["sha256:1".into()], "{\"target\":\"dev\"}")
    );

    let script = dir.path().join("run.sh");
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
    let after_chmod =
        scan(dir.path())
            .expect("scan")
            .build_hash("FROM x", &["sha256:1".into()], "");
    assert_ne!(base, after_chmod);

    fs::write(&script, "echo bye").expect("write");
    let after_edit = scan(dir.path())
        .expect("scan")
        .build_hash("FROM x", &["sha256:1".into()], "");
    assert_ne!(after_chmod, after_edit);

    fs::rename(&script, dir.path().join("go.sh")).expect("rename");
    let after_rename =
        scan(dir.path())
            .expect("scan")
            .build_hash("FROM x", &["sha256:1".into()], "");
    assert_ne!(after_edit, after_rename);
}

#[test]
fn ignored_files_do_not_count() {
    let dir = context_with(&[
        ("app.py", "print(1)"),
        (".dockerignore", "*.log\n"),
        ("debug.log", "a"),
        ("node_modules/x/index.js", "b"),
        (".git/HEAD", "ref"),
    ]);
    let context = scan(dir.path()).expect("scan");
    let paths: Vec<&str> = context.entries.keys().map(String::as_str).collect();
    assert_eq!(paths, [".dockerignore", "app.py"]);
    let before = context.build_hash("FROM x", &[], "");
    fs::write(dir.path().join("debug.log"), "changed").expect("write");
    fs::write(dir.path().join("node_modules/x/index.js"), "changed").expect("write");
    assert_eq!(before, hash_of(dir.path()));
}

#[test]
fn exceptions_reach_into_ignored_directories() {
    let dir = context_with(&[
        (".dockerignore", "config\n!config/public.json\n"),
        ("config/public.json", "{}"),
        ("config/secret.json", "{}"),
    ]);
    let context = scan(dir.path()).expect("scan");
    assert!(context.entries.contains_key("config/public.json"));
    assert!(!context.entries.contains_key("config/secret.json"));
}

#[test]
fn changed_paths_names_edits_additions_and_removals() {
    let dir = context_with(&[("a", "1"), ("b", "2")]);
    let before = scan(dir.path()).expect("scan");
    fs::write(dir.path().join("a"), "changed").expect("write");
    fs::remove_file(dir.path().join("b")).expect("rm");
    fs::write(dir.path().join("c"), "new").expect("write");
    let after = scan(dir.path()).expect("scan");
    assert_eq!(after.changed_paths(&before), ["a", "b", "c"]);
}

#[test]
fn tar_holds_context_and_dockerfile() {
    let dir = context_with(&[("app/main.py", "print(1)")]);
    let tar = scan(dir.path())
        .expect("scan")
        .tar("FROM x\n")
        .expect("tar");
    let names = tar_names(&tar);
    assert!(names.contains(&"app/main.py".to_string()), "{names:?}");
    assert!(names.contains(&DOCKERFILE_NAME.to_string()), "{names:?}");
}

/// `.dockerignore` rules parsed from `text` alone.
fn rules(text: &str) -> IgnoreRules {
    IgnoreRules::parse(&[], text).expect("valid rules")
}

#[test]
fn dockerignore_comment_lines_are_never_patterns() {
    // As patterns these would fail to parse (`[`), match `#draft` or match everything.
    let comments = rules("# see [the docs]\n#draft\n  # *\n#\nkept\n");
    assert!(!comments.is_ignored("#draft"));
    assert!(!comments.is_ignored("# see [the docs]"));
    assert!(!comments.is_ignored("app.py"));
    assert!(comments.is_ignored("kept"));
    // Only a leading `#` makes a comment.
    assert!(rules("a#b").is_ignored("a#b"));
}

#[test]
fn dockerignore_errors_name_the_line_counting_from_one() {
    let first = IgnoreRules::parse(&[], "[unclosed\nok\n").expect_err("invalid");
    assert!(first.starts_with(".dockerignore line 1: "), "{first}");
    let third = IgnoreRules::parse(&[], "ok\n# [comment]\n[unclosed\n").expect_err("invalid");
    assert!(third.starts_with(".dockerignore line 3: "), "{third}");
    let after_defaults = IgnoreRules::parse(&["node_modules", ".git"], "\n\n[x").expect_err("x");
    assert!(
        after_defaults.starts_with(".dockerignore line 3: "),
        "{after_defaults}"
    );
}

/// A directory is skipped whole only when no `!` rule follows the rule that ignored
/// it; a bare `!` re-includes nothing and is dropped like an empty pattern.
#[test]
fn dockerignore_directory_is_final_only_without_a_later_bang_rule() {
    let final_below = |text: &str, path: &str| match rules(text).verdict(path) {
        Verdict::Ignored { final_below } => Some(final_below),
        Verdict::Included => None,
    };
    assert_eq!(final_below("", "tmp"), None);
    assert_eq!(final_below("*.log\ntmp\n", "tmp"), Some(true));
    assert_eq!(final_below("tmp\n!keep.log\n", "tmp"), Some(false));
    assert_eq!(final_below("!keep.log\ntmp\n", "tmp"), Some(true));
    assert_eq!(final_below("tmp\n!\n! /\n", "tmp"), Some(true));
}

#[test]
fn dockerignore_patterns_are_cleaned_like_docker_does() {
    let cases: &[(&str, &str, bool)] = &[
        ("/tmp/", "tmp/x", true),
        ("tmp/./cache", "tmp/cache/a", true),
        ("a/b/../c", "a/c", true),
        ("a/b/../c", "a/b/c", false),
        ("a//b", "a/b", true),
        ("!  ", "x", false),
        ("/", "x", false),
        (".", "x", false),
        (" ! keep ", "keep", false),
        ("*\n ! keep ", "keep", false),
        ("*\n ! keep ", "other", true),
    ];
    for (text, path, expected) in cases {
        assert_eq!(
            rules(text).is_ignored(path),
            *expected,
            "{text:?} on {path:?}"
        );
    }
}

#[test]
fn dockerignore_last_matching_rule_wins_through_parents() {
    let cases: &[(&str, &str, bool)] = &[
        // A rule on a parent directory covers everything below it.
        ("a/b", "a/b/c/d", true),
        ("a/b", "a/bc", false),
        ("a/*", "a/b/c", true),
        // Exceptions only re-include what an earlier rule excluded.
        ("!a\na", "a", true),
        ("a\n!a\n!a", "a", false),
        ("a\n!a/b", "a/b/c", false),
        ("a\n!a/b", "a/c", true),
        ("a\n!a/b\na/b/c", "a/b/c", true),
        ("a\n!a/b\na/b/c", "a/b/d", false),
        ("*\n!*.rs\nsecret.rs", "main.rs", false),
        ("*\n!*.rs\nsecret.rs", "secret.rs", true),
        ("*\n!*.rs\nsecret.rs", "x/main.rs", true),
    ];
    for (text, path, expected) in cases {
        assert_eq!(
            rules(text).is_ignored(path),
            *expected,
            "{text:?} on {path:?}"
        );
    }
}

/// Every path the defaults keep out, at the top and (for dotenv files) at any depth,
/// and `!pattern` in `.dockerignore` bringing each one back.
#[test]
fn defaults_keep_secrets_and_project_files_out_and_dockerignore_brings_them_back() {
    let top_level = [
        "gorae.yaml",
        "gorae.lock",
        ".gorae/templates/x/template.yaml",
        ".github/workflows/ci.yml",
        ".gitlab/ci.yml",
        ".gitlab-ci.yml",
        ".circleci/config.yml",
        ".travis.yml",
        ".buildkite/pipeline.yml",
        ".woodpecker/ci.yml",
        ".woodpecker.yml",
        ".drone.yml",
        "azure-pipelines.yml",
        "bitbucket-pipelines.yml",
        "Jenkinsfile",
        ".git/config",
        "node_modules/x/index.js",
        ".venv/bin/python",
    ];
    let mut out: Vec<String> = top_level.iter().map(ToString::to_string).collect();
    for dir in ["", "config/", "a/b/"] {
        for name in [".env", ".env.local", ".env.production", ".env.test.local"] {
            out.push(format!("{dir}{name}"));
        }
    }
    let defaults = IgnoreRules::parse(DEFAULT_IGNORES, "").expect("valid defaults");
    for path in &out {
        assert!(defaults.is_ignored(path), "{path} reaches the build");
        let back = IgnoreRules::parse(DEFAULT_IGNORES, &format!("!{path}")).expect("valid");
        assert!(!back.is_ignored(path), "!{path} does not bring it back");
    }
    for kept in [
        ".env.example",
        "config/.env.example",
        "env.js",
        "src/gorae.yaml.js",
    ] {
        assert!(!defaults.is_ignored(kept), "{kept} is left out");
    }
}

/// A path given as never sent is left out of the context, the hash and the tar, even
/// where `.dockerignore` brings it back.
#[test]
fn never_sent_paths_stay_out_whatever_dockerignore_says() {
    let dir = context_with(&[
        ("server.js", "s"),
        ("config/dev.key", "secret"),
        ("config/app.json", "{}"),
        (".dockerignore", "!config/dev.key\n"),
    ]);
    let never_sent = ["config/dev.key".to_string()];
    let context = scan_without(dir.path(), &never_sent).expect("scan");
    let paths: Vec<&str> = context.entries.keys().map(String::as_str).collect();
    assert_eq!(
        paths,
        [".dockerignore", "config", "config/app.json", "server.js"]
    );
    let tar = context.tar("FROM x").expect("tar");
    let names = tar_names(&tar);
    assert!(!names.iter().any(|n| n.contains("dev.key")), "{names:?}");
    let hash = |text: &str| {
        fs::write(dir.path().join("config/dev.key"), text).expect("write");
        scan_without(dir.path(), &never_sent)
            .expect("scan")
            .build_hash("FROM x", &[], "")
    };
    assert_eq!(hash("one"), hash("two"));
    assert!(
        scan(dir.path())
            .expect("scan")
            .entries
            .contains_key("config/dev.key")
    );
}
