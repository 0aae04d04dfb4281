//! What goes into an app image: never dotenv files (their example excepted),
//! gorae's own files or CI configuration; `!pattern` in .dockerignore brings one
//! back; and editing gorae.yaml does not rebuild the app.

use crate::support::{TestProject, docker, docker_inspect, ensure_stand_in_images, stderr};

const SERVER: &str = "require('http').createServer((q, s) => s.end('ok')).listen(3000);\n";

#[test]
fn app_images_never_contain_secrets_or_project_files() {
    ensure_stand_in_images();
    let project = TestProject::new("secrets");
    // The build context is the project itself, where gorae.yaml and .env live.
    let yaml = project.services_yaml(
        "  web:\n    template: node\n    build: .\n    command: [\"node\", \"server.js\"]\n    ready: { tcp: 3000 }\n",
    );
    let project = project
        .file("gorae.yaml", &yaml)
        .file("gorae.lock", "{}\n")
        .file("package.json", r#"{"name": "web", "version": "1.0.0"}"#)
        .file("server.js", SERVER)
        .file(".env", "API_TOKEN=s3cret\n")
        .file(".env.local", "API_TOKEN=s3cret\n")
        .file(".env.production", "API_TOKEN=s3cret\n")
        .file(".env.defaults", "LOG_LEVEL=info\n")
        .file(".env.example", "API_TOKEN=\n")
        .file("config/.env", "API_TOKEN=s3cret\n")
        .file(".gorae/notes", "x\n")
        .file(".github/workflows/ci.yml", "on: push\n")
        .file(".gitlab-ci.yml", "test: {}\n")
        .file(".circleci/config.yml", "version: 2\n")
        .file(
            ".dockerignore",
            "# brought back on purpose\n!.env.defaults\n",
        );
    project.gorae_ok(&["up", "--ci"]);
    let container = format!("{}-web", project.name());
    let image = docker_inspect(&container, "{{.Image}}");
    let listing = docker(&[
        "run",
        "--rm",
        "--entrypoint",
        "find",
        &image,
        "/app",
        "-mindepth",
        "1",
    ]);
    let mut files: Vec<&str> = listing
        .lines()
        .map(|line| line.trim_start_matches("/app/"))
        .collect();
    files.sort();
    assert_eq!(
        files,
        // .dockerignore is read by the engine and not copied.
        [
            ".env.defaults",
            ".env.example",
            "config",
            "package.json",
            "server.js"
        ],
        "what the image holds in /app"
    );

    // gorae.yaml is not part of the app: editing it (here another service) does not
    // rebuild or re-create the app.
    let before = docker_inspect(&container, "{{.Id}}");
    let edited = format!("{yaml}  cache: {{ template: redis }}\n");
    let project = project.file("gorae.yaml", &edited);
    let again = project.gorae_ok(&["up", "--ci"]);
    assert!(!stderr(&again).contains("building"), "{}", stderr(&again));
    assert_eq!(before, docker_inspect(&container, "{{.Id}}"));
}
