//! CLI tests for what gorae does with hostile or unlucky input and output, without an
//! engine: closed pipes and full disks, files past the size limit, editors' encodings
//! and line endings, and the messages for a newcomer's classic mistakes.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn gorae_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gorae"));
    command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .env("HOME", dir);
    command
}

fn gorae(dir: &Path, args: &[&str]) -> Output {
    gorae_command(dir, args).output().expect("run gorae")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn code(output: &Output) -> i32 {
    output
        .status
        .code()
        .unwrap_or_else(|| panic!("gorae was killed: {}", stderr(output)))
}

fn project(yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("gorae.yaml"), yaml).unwrap();
    dir
}

const VALID: &str = "name: hardening\nservices:\n  redis: \"7\"\n  web:\n    image: nginx:1.25\n    ports: [\"8080:80\"]\n    env: { A: \"1\" }\n";

#[test]
fn a_closed_pipe_ends_quietly_with_exit_0() {
    let dir = project(VALID);
    for args in [&["config"][..], &["config", "--json"], &["schema"]] {
        let (reader, writer) = std::io::pipe().unwrap();
        // The reader is gone before gorae writes a byte: its first write gets EPIPE.
        drop(reader);
        let output = gorae_command(dir.path(), args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(code(&output), 0, "{args:?}: {}", stderr(&output));
        assert_eq!(stderr(&output), "", "{args:?}");
    }
}

#[test]
fn a_full_disk_is_one_line_and_exit_1() {
    let dir = project(VALID);
    for args in [&["config"][..], &["schema"]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let output = gorae_command(dir.path(), args)
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(code(&output), 1, "{args:?}: {}", stderr(&output));
        assert_eq!(
            stderr(&output),
            "error: cannot write the output: No space left on device (os error 28)\n",
            "{args:?}"
        );
    }
}

#[test]
fn files_past_the_size_limit_are_refused_with_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let big = format!(
        "services:\n  redis: \"7\"\n# {}\n",
        "x".repeat(5 * 1024 * 1024)
    );
    std::fs::write(dir.path().join("gorae.yaml"), &big).unwrap();
    let output = gorae(dir.path(), &["config"]);
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("gorae.yaml is larger than 4 MiB"),
        "{}",
        stderr(&output)
    );

    let output = gorae(dir.path(), &["-f", "/dev/zero", "config"]);
    assert_eq!(code(&output), 3, "{}", stderr(&output));

    std::fs::write(dir.path().join("gorae.yaml"), VALID).unwrap();
    std::fs::write(dir.path().join(".env"), &big).unwrap();
    let output = gorae(dir.path(), &["config"]);
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    assert!(
        stderr(&output).contains(".env is larger than 4 MiB"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_byte_order_mark_and_any_line_endings_load() {
    let reference = gorae(project(VALID).path(), &["config"]);
    assert_eq!(code(&reference), 0, "{}", stderr(&reference));
    for text in [
        format!("\u{feff}{VALID}"),
        VALID.replace('\n', "\r\n"),
        VALID.replace('\n', "\r"),
        format!(
            "\u{feff}{}",
            VALID.replacen('\n', "\r", 2).replace('\n', "\r\n")
        ),
    ] {
        let dir = project(&text);
        std::fs::write(dir.path().join(".env"), "\u{feff}A=1\r\nB=2\r").unwrap();
        let output = gorae(dir.path(), &["config"]);
        assert_eq!(code(&output), 0, "{text:?}: {}", stderr(&output));
        assert_eq!(output.stdout, reference.stdout, "{text:?}");
    }
}

#[test]
fn errors_point_at_the_same_place_whatever_the_line_endings() {
    let text = "services:\n  web:\n    image: nginx\n    dependson: [x]\n    env:\n      A: |\n        line ${NOPE}\n";
    let reference = stderr(&gorae(project(text).path(), &["config"]));
    assert!(reference.contains("gorae.yaml:4:5"), "{reference}");
    assert!(reference.contains("gorae.yaml:7:14"), "{reference}");
    for end in ["\r\n", "\r"] {
        let output = gorae(project(&text.replace('\n', end)).path(), &["config"]);
        assert_eq!(stderr(&output), reference, "{end:?}");
    }
}

/// The report as a person reads it, for a snapshot.
fn report(yaml: &str) -> String {
    let dir = project(yaml);
    let output = gorae(dir.path(), &["config"]);
    format!("exit {}\n{}", code(&output), stderr(&output))
}

#[test]
fn keys_not_indented_under_their_service_are_one_error() {
    insta::assert_snapshot!(
        "not_indented_under_services",
        report(
            "services:\n  app:\n  image: nginx:1.25\n  ports: [\"8080:80\"]\n  env: { A: \"1\" }\n  depends_on: [redis]\n  redis: \"7\"\n"
        )
    );
    insta::assert_snapshot!(
        "not_indented_at_the_top",
        report("services:\n  app:\nimage: nginx:1.25\nports: [\"8080:80\"]\n")
    );
}

#[test]
fn a_misspelt_key_is_reported_without_its_knock_on_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("web")).unwrap();
    std::fs::write(dir.path().join("web/package.json"), "{}").unwrap();
    std::fs::write(
        dir.path().join("gorae.yaml"),
        "services:\n  web:\n    template: node\n    biuld: ./web\n  db:\n    image: postgres:16\n    verison: \"16\"\n",
    )
    .unwrap();
    let output = gorae(dir.path(), &["config"]);
    insta::assert_snapshot!(
        "misspelt_build",
        format!("exit {}\n{}", code(&output), stderr(&output))
    );
}

#[test]
fn values_the_engine_would_reject_are_refused_where_they_are_written() {
    insta::assert_snapshot!(
        "engine_rejects",
        report(concat!(
            "services:\n",
            "  a:\n    image: \"redis:7@sha256:abc\"\n",
            "  b:\n    image: \"my_registry.com:x/app\"\n",
            "  c:\n    image: nginx\n    volumes: [\"data:/\"]\n",
            "  d:\n    image: nginx\n    ready: { http: \"/h\\r\\nX-Evil: 1\" }\n    ports: [\"80\"]\n",
            "  e:\n    image: nginx\n    env: { A: \"x\\u0000y\" }\n    timeout: 99999999h\n",
            "  f:\n    image: nginx\n    command: [\"sh\", \"-c\", \"echo 1\\necho 2\"]\n",
        ))
    );
}

#[test]
fn thousands_of_errors_give_a_short_report() {
    let mut yaml = String::from("services:\n");
    for i in 0..2000 {
        yaml.push_str(&format!("  s{i}: {{ image: nginx, dependson: [x] }}\n"));
    }
    let output = gorae(project(&yaml).path(), &["config"]);
    assert_eq!(code(&output), 3);
    let err = stderr(&output);
    assert!(err.len() < 64 * 1024, "{} bytes", err.len());
    assert!(err.contains("and 1970 more errors"), "{err}");
    assert!(err.ends_with("gorae.yaml: 2000 errors\n"), "{err}");
}

#[test]
fn init_a_second_time_is_a_documented_conflict() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("requirements.txt"), "redis\n").unwrap();
    std::fs::write(dir.path().join("app.py"), "print(1)\n").unwrap();
    let first = gorae(dir.path(), &["init"]);
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    let second = gorae(dir.path(), &["init"]);
    assert_eq!(code(&second), 8);
    insta::assert_snapshot!("init_twice", stderr(&second));
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(
        readme
            .lines()
            .any(|line| line.starts_with("| 8 | conflict:")
                && line.contains("the file `init` or `ci` would write already exists")),
        "README's exit codes must say what 8 means for init"
    );
}

#[test]
fn init_finds_database_url_read_in_the_source() {
    for (file, source) in [
        (
            "index.js",
            "const pool = new Pool({ connectionString: process.env.DATABASE_URL });\n",
        ),
        ("app.py", "import os\nurl = os.environ[\"DATABASE_URL\"]\n"),
        ("main.py", "import os\nurl = os.getenv(\"DATABASE_URL\")\n"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        if file.ends_with(".js") {
            std::fs::write(dir.path().join("package.json"), "{\"main\": \"index.js\"}").unwrap();
        } else {
            std::fs::write(dir.path().join("requirements.txt"), "flask\n").unwrap();
        }
        std::fs::write(dir.path().join(file), source).unwrap();
        let output = gorae(dir.path(), &["init"]);
        assert_eq!(code(&output), 0, "{file}: {}", stderr(&output));
        let written = std::fs::read_to_string(dir.path().join("gorae.yaml")).unwrap();
        assert!(written.contains("reads DATABASE_URL"), "{file}:\n{written}");
        assert!(
            written.contains("template: postgres") || written.contains("postgres: \""),
            "{file}:\n{written}"
        );
    }
}

#[test]
fn a_compose_file_with_a_byte_order_mark_and_crlf_is_imported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "\u{feff}services:\r\n  cache:\r\n    image: redis:7\r\n    ports: [\"6379:6379\"]\r\n",
    )
    .unwrap();
    let output = gorae(dir.path(), &["init"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let written = std::fs::read_to_string(dir.path().join("gorae.yaml")).unwrap();
    assert!(
        written.contains("  cache:\n    template: redis\n"),
        "{written}"
    );
    assert!(
        written.contains(
            "- \"6379:6379\" # Compose: every interface; write \"0.0.0.0:6379:6379\" for that"
        ),
        "{written}"
    );
}
