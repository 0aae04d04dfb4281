//! Loading whole files: valid inputs against the model they produce, invalid inputs
//! against their rendered reports (insta snapshots in `snapshots/`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

/// A temporary project directory with some files in it.
struct TestProject {
    /// Holds the project in `proj/` so a sibling directory can play "outside".
    root: tempfile::TempDir,
    env: BTreeMap<String, String>,
}

impl TestProject {
    fn new() -> Self {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(root.path().join("proj")).expect("project dir");
        TestProject {
            root,
            env: BTreeMap::new(),
        }
    }

    fn dir(&self) -> PathBuf {
        self.root.path().join("proj")
    }

    /// Adds a file (or, with a trailing `/`, a directory) relative to the project.
    fn file(self, path: &str, text: &str) -> Self {
        let full = self.dir().join(path);
        if path.ends_with('/') {
            std::fs::create_dir_all(&full).expect("dir");
        } else {
            std::fs::create_dir_all(full.parent().expect("parent")).expect("dir");
            std::fs::write(&full, text).expect("write");
        }
        self
    }

    fn env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }

    /// Loads `yaml` as the project's gorae.yaml, shown as `gorae.yaml` in messages.
    fn load(&self, yaml: &str) -> Result<Project, LoadError> {
        let env = |name: &str| self.env.get(name).cloned();
        let dotenv = std::fs::read_to_string(self.dir().join(DOTENV_FILE))
            .ok()
            .map(|text| Source::new(DOTENV_FILE, text));
        load_parts(
            yaml.to_string(),
            self.dir().join(PROJECT_FILE),
            PROJECT_FILE.into(),
            &env,
            dotenv.into_iter().collect(),
            Vec::new(),
        )
    }

    fn ok(&self, yaml: &str) -> Project {
        match self.load(yaml) {
            Ok(project) => project,
            Err(error) => panic!("expected a valid project, got:\n{error}"),
        }
    }

    fn report(&self, yaml: &str) -> String {
        match self.load(yaml) {
            Ok(project) => panic!("expected errors, got {project:#?}"),
            Err(error) => error.to_string(),
        }
    }
}

fn web(project: &Project) -> &Service {
    &project.services["web"]
}

#[test]
fn valid_inputs_produce_the_expected_model() {
    type Check = fn(&Project, &Path);
    let cases: Vec<(&str, &str, Check)> = vec![
        (
            "shorthand version",
            "services:\n  redis: \"7\"\n",
            |p, _| {
                let redis = &p.services["redis"];
                assert_eq!(
                    redis.image,
                    ImageSource::Pull {
                        image: "redis:7".into()
                    }
                );
                assert_eq!(redis.port, Some(6379));
                assert_eq!(redis.data_dir.as_deref(), Some("/data"));
                assert_eq!(
                    redis.ready,
                    Some(Probe::Command {
                        command: vec!["redis-cli".into(), "ping".into()]
                    })
                );
                assert_eq!(redis.exports["REDIS_URL"], "redis://{host}:{port}");
                assert_eq!(redis.ready_timeout, Duration::from_secs(60));
                let template = redis.template.as_ref().unwrap();
                assert_eq!(
                    (
                        template.name.as_str(),
                        template.revision,
                        template.origin.as_str()
                    ),
                    ("redis", 2, "builtin")
                );
            },
        ),
        (
            "service named after a template, defaults",
            "services:\n  redis: {}\n  postgres:\n",
            |p, _| {
                assert_eq!(
                    p.services["redis"].image,
                    ImageSource::Pull {
                        image: "redis:7".into()
                    }
                );
                assert_eq!(
                    p.services["postgres"].image,
                    ImageSource::Pull {
                        image: "postgres:16".into()
                    }
                );
            },
        ),
        (
            "postgres env merges over the template and feeds exports and probe",
            "services:\n  db:\n    template: postgres\n    version: \"15\"\n    env: { POSTGRES_DB: shop, POSTGRES_PASSWORD: s3cret }\n",
            |p, _| {
                let db = &p.services["db"];
                assert_eq!(
                    db.image,
                    ImageSource::Pull {
                        image: "postgres:15".into()
                    }
                );
                assert_eq!(db.env["POSTGRES_USER"], "postgres");
                assert_eq!(db.env["POSTGRES_DB"], "shop");
                assert_eq!(db.secret_env, ["PGPASSWORD", "POSTGRES_PASSWORD"]);
                // Client defaults follow the final user and database.
                assert_eq!(db.env["PGUSER"], "postgres");
                assert_eq!(db.env["PGDATABASE"], "shop");
                assert_eq!(
                    db.exports["DATABASE_URL"],
                    "postgres://postgres:s3cret@{host}:{port}/shop"
                );
                assert_eq!(db.exports["PGDATABASE"], "shop");
                let Some(Probe::Command { command }) = &db.ready else {
                    panic!("{:?}", db.ready)
                };
                assert_eq!(
                    command.join(" "),
                    "pg_isready -h 127.0.0.1 -U postgres -d shop"
                );
            },
        ),
        (
            "node app: rendered Dockerfile, default command, tcp probe on the first port",
            "services:\n  web:\n    template: node\n    build: ./web\n    ports: [\"8080:3000\", 9229]\n",
            |p, dir| {
                let web = web(p);
                let ImageSource::Build {
                    context,
                    dockerfile: DockerfileSource::Rendered { text },
                    ..
                } = &web.image
                else {
                    panic!("{:?}", web.image)
                };
                assert_eq!(context, &dir.join("web"));
                assert!(text.starts_with("FROM node:20\n"), "{text}");
                assert!(text.contains("COPY [\"package.json\", \"./\"]"), "{text}");
                assert_eq!(
                    web.command.as_deref(),
                    Some(&["node".to_string(), ".".to_string()][..])
                );
                assert_eq!(web.ready, Some(Probe::Tcp { port: 3000 }));
                assert_eq!(web.port, Some(3000));
                assert_eq!(web.ports[1].host_port, 9229);
            },
        ),
        (
            "image escape hatch with the prefix for unqualified names only",
            "image_prefix: mirror.corp\nservices:\n  web: { image: \"acme/web:1\" }\n  worker: { image: \"ghcr.io/acme/worker:1.4\" }\n",
            |p, _| {
                assert_eq!(p.image_prefix.as_deref(), Some("mirror.corp/"));
                assert_eq!(
                    web(p).image,
                    ImageSource::Pull {
                        image: "mirror.corp/acme/web:1".into()
                    }
                );
                assert_eq!(
                    p.services["worker"].image,
                    ImageSource::Pull {
                        image: "ghcr.io/acme/worker:1.4".into()
                    }
                );
                assert_eq!(web(p).template, None);
                assert_eq!(web(p).ready, None);
            },
        ),
        (
            "own Dockerfile: context is its directory unless build says otherwise",
            "services:\n  legacy: { dockerfile: ./legacy/Dockerfile }\n  other: { dockerfile: ./legacy/Dockerfile, build: . }\n  plain: { build: ./legacy }\n",
            |p, dir| {
                let file = DockerfileSource::File {
                    path: dir.join("legacy/Dockerfile"),
                    base_prefix: None,
                };
                assert_eq!(
                    p.services["legacy"].image,
                    ImageSource::Build {
                        context: dir.join("legacy"),
                        dockerfile: file.clone(),
                        options: Default::default(),
                    }
                );
                assert_eq!(
                    p.services["other"].image,
                    ImageSource::Build {
                        context: dir.to_path_buf(),
                        dockerfile: file.clone(),
                        options: Default::default(),
                    }
                );
                assert_eq!(
                    p.services["plain"].image,
                    ImageSource::Build {
                        context: dir.join("legacy"),
                        dockerfile: file,
                        options: Default::default(),
                    }
                );
            },
        ),
        (
            "env keeps numbers as written, accepts KEY=VALUE lists, marks secrets by name",
            "services:\n  web:\n    image: x\n    env: { DEBUG: 1, RATIO: 1.50, ON: true, API_TOKEN: t, SIGNING_KEY: k }\n  job:\n    image: x\n    env: [\"A=1\", \"B=x=y\", \"C=\"]\n",
            |p, _| {
                let env = &web(p).env;
                assert_eq!(
                    (
                        env["DEBUG"].as_str(),
                        env["RATIO"].as_str(),
                        env["ON"].as_str()
                    ),
                    ("1", "1.50", "true")
                );
                assert_eq!(web(p).secret_env, ["API_TOKEN", "SIGNING_KEY"]);
                let job = &p.services["job"].env;
                assert_eq!(
                    (job["A"].as_str(), job["B"].as_str(), job["C"].as_str()),
                    ("1", "x=y", "")
                );
            },
        ),
        (
            "task: kind, longer default timeout, no probe",
            "services:\n  migrate:\n    image: x\n    kind: task\n    ports: [\"3000\"]\n  web:\n    image: x\n    timeout: 2m\n    depends_on: [migrate]\n",
            |p, _| {
                let migrate = &p.services["migrate"];
                assert_eq!(migrate.kind, ServiceKind::Task);
                assert_eq!(migrate.ready_timeout, Duration::from_secs(300));
                assert_eq!(migrate.ready, None);
                assert_eq!(web(p).ready_timeout, Duration::from_secs(120));
                assert_eq!(web(p).depends_on, ["migrate"]);
            },
        ),
        (
            "ports: defaults to loopback, addresses and udp when written",
            "services:\n  web:\n    image: x\n    ports: [3000, \"0.0.0.0:80:8080\", \"[::1]:53:53/udp\"]\n",
            |p, _| {
                let ports = &web(p).ports;
                assert_eq!(
                    (
                        ports[0].host_ip.as_str(),
                        ports[0].host_port,
                        ports[0].container_port
                    ),
                    ("127.0.0.1", 3000, 3000)
                );
                assert_eq!(
                    (
                        ports[1].host_ip.as_str(),
                        ports[1].host_port,
                        ports[1].container_port
                    ),
                    ("0.0.0.0", 80, 8080)
                );
                assert_eq!(
                    (ports[2].host_ip.as_str(), ports[2].protocol),
                    ("::1", Protocol::Udp)
                );
            },
        ),
        (
            "volumes: binds resolved against the project, named volumes, modes",
            "services:\n  web:\n    image: x\n    volumes: [\"./src:/app/src:ro\", \"cache:/root/.cache\", \"~/conf:/conf\"]\n",
            |p, dir| {
                let volumes = &web(p).volumes;
                assert_eq!(
                    volumes[0],
                    Mount::Bind {
                        source: dir.join("src"),
                        target: "/app/src".into(),
                        read_only: true
                    }
                );
                assert_eq!(
                    volumes[1],
                    Mount::Volume {
                        name: "cache".into(),
                        target: "/root/.cache".into(),
                        read_only: false
                    }
                );
                assert_eq!(
                    volumes[2],
                    Mount::Bind {
                        source: dir.join("home/conf"),
                        target: "/conf".into(),
                        read_only: false
                    }
                );
            },
        ),
        (
            "a mount at the template's data directory replaces the data volume",
            "services:\n  redis:\n    volumes: [\"./src:/data\"]\n",
            |p, _| assert_eq!(p.services["redis"].data_dir, None),
        ),
        (
            "ready probes as written",
            "services:\n  a: { image: x, ready: { http: /health }, ports: [\"8080\"] }\n  b: { image: x, ready: { http: { port: 9000, path: /up } } }\n  c: { image: x, ready: { tcp: 1234 } }\n  d: { image: x, ready: { command: [\"true\"] } }\n",
            |p, _| {
                assert_eq!(
                    p.services["a"].ready,
                    Some(Probe::Http {
                        port: 8080,
                        path: "/health".into()
                    })
                );
                assert_eq!(
                    p.services["b"].ready,
                    Some(Probe::Http {
                        port: 9000,
                        path: "/up".into()
                    })
                );
                assert_eq!(p.services["c"].ready, Some(Probe::Tcp { port: 1234 }));
                assert_eq!(
                    p.services["d"].ready,
                    Some(Probe::Command {
                        command: vec!["true".into()]
                    })
                );
            },
        ),
        (
            "an explicit env entry settles two dependencies exporting one name",
            "services:\n  a: { template: postgres }\n  b: { template: postgres }\n  web:\n    image: x\n    depends_on: [a, b]\n    env: { DATABASE_URL: x, PGHOST: a, PGPORT: \"1\", PGUSER: u, PGPASSWORD: p, PGDATABASE: d }\n",
            |p, _| assert_eq!(web(p).depends_on, ["a", "b"]),
        ),
        (
            "anchors and x- keys let services share values",
            "x-env: &env { NODE_ENV: development }\nservices:\n  a: { image: x, env: *env }\n  b: { image: x, env: *env }\n",
            |p, _| assert_eq!(p.services["a"].env, p.services["b"].env),
        ),
        (
            "interpolation in values, with defaults and $$",
            "name: ${NAME:-shop}\nservices:\n  web: { image: \"x:${TAG}\", env: { PRICE: \"$$5\", HOME_IS: \"${HOME}\" } }\n",
            |p, dir| {
                assert_eq!(p.name, "shop");
                assert_eq!(
                    web(p).image,
                    ImageSource::Pull {
                        image: "x:from-env".into()
                    }
                );
                assert_eq!(web(p).env["PRICE"], "$5");
                assert_eq!(
                    web(p).env["HOME_IS"],
                    dir.join("home").display().to_string()
                );
            },
        ),
        (
            "project name defaults to the directory's",
            "services:\n  redis: \"7\"\n",
            |p, _| assert_eq!(p.name, "proj"),
        ),
    ];
    for (name, yaml, check) in cases {
        let test = TestProject::new()
            .file("web/package.json", "{}")
            .file("legacy/Dockerfile", "FROM scratch\n")
            .file("src/", "")
            .file("home/conf/", "");
        let home = test.dir().join("home").display().to_string();
        let test = test.env("HOME", &home).env("TAG", "from-env");
        let project = match test.load(yaml) {
            Ok(project) => project,
            Err(error) => panic!("case `{name}` failed:\n{error}"),
        };
        let dir = test.dir().canonicalize().unwrap();
        assert_eq!(project.dir, dir, "{name}");
        check(&project, &dir);
    }
}

/// Invalid inputs, each pinned by a snapshot of the whole rendered report.
#[test]
fn invalid_inputs_render_positioned_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "unknown_key_with_suggestion",
            "services:\n  redis: \"7\"\n  web:\n    image: node:20\n    dependson: [redis]\n",
        ),
        (
            "compose_key_suggests_gorae_key",
            "services:\n  web:\n    image: x\n    environment: { A: \"1\" }\n",
        ),
        (
            "unknown_key_lists_valid_keys",
            "services:\n  web:\n    image: x\n    banana: 1\n",
        ),
        ("version_is_a_number", "services:\n  redis: 7\n"),
        (
            "version_3_10_reads_as_3_1",
            "services:\n  app:\n    template: python\n    version: 3.10\n    build: ./app\n",
        ),
        (
            "unknown_dependency",
            "services:\n  redis: \"7\"\n  web:\n    image: x\n    depends_on: [reddis]\n",
        ),
        (
            "dependency_cycle",
            "services:\n  web:\n    image: x\n    depends_on: [db]\n  db:\n    image: y\n    depends_on: [cache]\n  cache:\n    image: z\n    depends_on: [web]\n",
        ),
        (
            "self_dependency",
            "services:\n  web: { image: x, depends_on: [web] }\n",
        ),
        (
            "duplicate_host_port",
            "services:\n  web:\n    image: x\n    ports: [\"3000\"]\n  api:\n    image: y\n    ports: [\"0.0.0.0:3000:80\"]\n",
        ),
        (
            "bad_ports",
            "services:\n  web:\n    image: x\n    ports: [\"70000\", \"abc:80\", 0, \"1:2:3:4\", \"3000/sctp\", 30.5]\n",
        ),
        (
            "missing_build_path",
            "services:\n  web:\n    template: node\n    build: ./web\n",
        ),
        (
            "build_outside_project",
            "services:\n  web:\n    template: node\n    build: ../outside\n",
        ),
        (
            "missing_env_var",
            "services:\n  web:\n    image: \"registry/web:${WEB_TAG}\"\n",
        ),
        (
            "two_dependencies_export_one_name",
            "services:\n  main: { template: postgres }\n  analytics: { template: postgres }\n  web:\n    image: x\n    depends_on: [main, analytics]\n",
        ),
        (
            "yaml_syntax_error",
            "services:\n  web:\n    image: x\n   ports: [\"3000\"]\n",
        ),
        (
            "unclosed_bracket",
            "services:\n  web: { image: x, ports: [\"3000\" }\n",
        ),
        (
            "duplicate_keys",
            "services:\n  web: { image: x }\n  web: { image: y }\n",
        ),
        ("empty_file", ""),
        ("list_at_top_level", "- redis\n- web\n"),
        ("no_services", "name: shop\n"),
        ("shorthand_without_template", "services:\n  cache: \"7\"\n"),
        (
            "nothing_to_run",
            "services:\n  web:\n    ports: [\"3000\"]\n",
        ),
        (
            "image_and_template_conflict",
            "services:\n  web:\n    image: node:20\n    template: node\n    version: \"20\"\n",
        ),
        ("app_template_needs_build", "services:\n  node: \"20\"\n"),
        (
            "command_as_a_string",
            "services:\n  web:\n    image: x\n    command: node server.js --port 3000\n",
        ),
        (
            "bad_env",
            "services:\n  web:\n    image: x\n    env:\n      \"A=B\": x\n      EMPTY:\n      LIST: [a]\n",
        ),
        (
            "bad_volumes",
            "services:\n  web:\n    image: x\n    volumes: [\"./missing:/app\", \"cache:app\", \"data\", \"cache:/a:rx\"]\n",
        ),
        (
            "http_probe_without_port_and_task_with_probe",
            "services:\n  web: { image: x, ready: { http: /health } }\n  job: { image: x, kind: task, ready: { tcp: 1 } }\n",
        ),
        (
            "bad_timeout_and_kind",
            "services:\n  web: { image: x, timeout: 60, kind: job }\n",
        ),
        (
            "unknown_template",
            "services:\n  web: { template: nodejs, build: . }\n",
        ),
        (
            "invalid_names",
            "name: My Shop\nservices:\n  Web: { image: x }\n",
        ),
        ("tabs_in_indentation", "services:\n\tweb: { image: x }\n"),
        (
            "many_errors_at_once",
            "name: shop\nservices:\n  redis: 7\n  web:\n    template: node\n    build: ./nowhere\n    dependson: [redis]\n    ports: [\"3000\", \"3000\"]\n    env: { URL: \"${UNSET}\" }\n",
        ),
    ];
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots");
    for (name, yaml) in cases {
        let test = TestProject::new().file("app/requirements.txt", "");
        std::fs::create_dir_all(test.root.path().join("outside")).unwrap();
        let report = test.report(yaml);
        assert!(
            !report.contains(&test.root.path().display().to_string()),
            "{report}"
        );
        settings.set_description(*yaml);
        settings.bind(|| insta::assert_snapshot!(*name, report));
    }
}

#[test]
fn every_error_has_a_position_and_a_help_line() {
    let test = TestProject::new();
    let Err(LoadError::Invalid { diagnostics, .. }) = test.load(
        "services:\n  redis: 7\n  web: { image: x, depends_on: [nope, web], ports: [\"0\"], volumes: [\"x\"] }\n",
    ) else {
        panic!("expected errors");
    };
    assert_eq!(diagnostics.len(), 5);
    for diagnostic in &diagnostics {
        assert!(diagnostic.location.is_some(), "{diagnostic:?}");
        assert!(!diagnostic.help.is_empty(), "{diagnostic:?}");
    }
}

#[test]
fn dotenv_sits_between_process_env_and_defaults() {
    let test = TestProject::new()
        .file(".env", "# the team's defaults\nA=dotenv\nB=dotenv\n")
        .env("A", "process");
    let project = test.ok("services:\n  web: { image: x, env: { A: \"${A}\", B: \"${B:-default}\", C: \"${C:-default}\" } }\n");
    let env = &web(&project).env;
    assert_eq!(
        (env["A"].as_str(), env["B"].as_str(), env["C"].as_str()),
        ("process", "dotenv", "default")
    );
}

#[test]
fn load_reads_the_file_and_dotenv_from_disk() {
    let test = TestProject::new()
        .file("gorae.yaml", "services:\n  web: { image: \"x:${TAG}\" }\n")
        .file(".env", "TAG=1.2\n");
    let project = load(&test.dir().join(PROJECT_FILE), &|_| None).unwrap();
    assert_eq!(
        web(&project).image,
        ImageSource::Pull {
            image: "x:1.2".into()
        }
    );
    assert_eq!(
        project.file,
        test.dir().canonicalize().unwrap().join(PROJECT_FILE)
    );
}

#[test]
fn dotenv_errors_are_reported_with_their_own_file() {
    let test = TestProject::new().file(".env", "OK=1\nthis is not a variable\n");
    let report = test.report("services:\n  web: { image: x }\n");
    assert!(report.contains("--> .env:2:1"), "{report}");
}

#[test]
fn image_prefix_env_var_overrides_the_file() {
    let yaml = "image_prefix: from-file\nservices:\n  redis: \"7\"\n";
    let test = TestProject::new().env(IMAGE_PREFIX_VAR, "gorae-test//");
    assert_eq!(
        test.ok(yaml).services["redis"].image,
        ImageSource::Pull {
            image: "gorae-test/redis:7".into()
        }
    );
    let test = TestProject::new().env(IMAGE_PREFIX_VAR, "");
    assert_eq!(test.ok(yaml).image_prefix, None);
}

#[test]
fn project_templates_override_builtins_and_report_errors_in_their_file() {
    let test = TestProject::new().file(
        ".gorae/templates/redis/template.yaml",
        "revision: 3\nimage: \"my/redis:{version}\"\ndefault_version: \"6\"\nport: 6380\n",
    );
    let redis = &test.ok("services:\n  redis: {}\n").services["redis"];
    assert_eq!(
        redis.image,
        ImageSource::Pull {
            image: "my/redis:6".into()
        }
    );
    assert_eq!(
        redis
            .template
            .as_ref()
            .map(|t| (t.revision, t.origin.as_str())),
        Some((3, "project"))
    );

    let test = TestProject::new().file(
        ".gorae/templates/cache/template.yaml",
        "revision: 1\nimage: \"c:{tag}\"\n",
    );
    let report = test.report("services:\n  cache: { template: cache }\n");
    insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("project_template_error", report);
    });
}

#[test]
fn find_project_file_walks_up_and_honours_explicit_files() {
    let test = TestProject::new()
        .file("gorae.yaml", "")
        .file("a/b/", "")
        .file("other.yaml", "");
    let dir = test.dir();
    assert_eq!(
        find_project_file(None, &dir.join("a/b")).unwrap(),
        dir.join(PROJECT_FILE)
    );
    assert_eq!(
        find_project_file(Some(Path::new("../../other.yaml")), &dir.join("a/b")).unwrap(),
        dir.join("a/b/../../other.yaml")
    );
    assert_eq!(
        find_project_file(Some(Path::new(".")), &dir).unwrap(),
        dir.join(".").join(PROJECT_FILE)
    );
    assert!(matches!(
        find_project_file(Some(Path::new("nope.yaml")), &dir),
        Err(LoadError::Read { .. })
    ));
    let empty = tempfile::tempdir().unwrap();
    let error = find_project_file(None, empty.path()).unwrap_err();
    assert!(
        error.to_string().contains("`gorae init` creates one"),
        "{error}"
    );
}

#[test]
fn non_utf8_files_are_reported_at_the_first_bad_byte() {
    let test = TestProject::new();
    let file = test.dir().join(PROJECT_FILE);
    std::fs::write(&file, b"services:\n  web: \xff\xfe\n").unwrap();
    let Err(LoadError::Invalid { diagnostics, .. }) = load(&file, &|_| None) else {
        panic!("expected an error");
    };
    let location = diagnostics[0].location.as_ref().unwrap();
    assert_eq!((location.line, location.col), (2, 8));
}

#[test]
fn normalized_yaml_masks_secrets_and_shows_relative_paths() {
    let test = TestProject::new()
        .file("web/package.json", "{}")
        .file("web/src/", "");
    let project = test.ok(
        "name: shop\nservices:\n  db:\n    template: postgres\n    env: { POSTGRES_PASSWORD: hunter2, API_TOKEN: t }\n  web:\n    template: node\n    build: ./web\n    ports: [\"3000\"]\n    volumes: [\"./web/src:/app/src:ro\", \"cache:/cache\"]\n    depends_on: [db]\n    env: { OTHER_URL: \"http://u:pw@h/\" }\n",
    );
    let yaml = to_normalized_yaml(&project);
    assert!(
        !yaml.contains("hunter2") && !yaml.contains(":pw@"),
        "{yaml}"
    );
    insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("normalized_yaml", yaml);
    });
    let json: serde_json::Value = serde_json::from_str(&to_normalized_json(&project)).unwrap();
    let from_yaml: serde_json::Value = serde_yaml::from_str(&yaml).unwrap();
    assert_eq!(json, from_yaml, "YAML and JSON show the same data");
}

#[test]
fn mask_secrets_masks_env_and_exports() {
    let test = TestProject::new();
    let project =
        test.ok("services:\n  db: { template: postgres, env: { POSTGRES_PASSWORD: hunter2 } }\n");
    let masked = mask_secrets(&project);
    let db = &masked.services["db"];
    assert_eq!(db.env["POSTGRES_PASSWORD"], MASK);
    assert_eq!(
        db.exports["DATABASE_URL"],
        "postgres://postgres:********@{host}:{port}/app"
    );
    assert_eq!(db.exports["PGPASSWORD"], MASK);
    assert_eq!(db.exports["PGUSER"], "postgres");
    // The original keeps the real values for the containers.
    assert_eq!(project.services["db"].env["POSTGRES_PASSWORD"], "hunter2");
}

#[test]
fn exports_render_with_host_and_port_for_dependents() {
    let test = TestProject::new();
    let project = test.ok(
        "services:\n  db: { template: postgres, env: { POSTGRES_DB: shop } }\n  redis: \"7\"\n",
    );
    let db = project.services["db"].exported_env("db", 5432);
    assert_eq!(
        db["DATABASE_URL"],
        "postgres://postgres:postgres@db:5432/shop"
    );
    assert_eq!(
        (db["PGHOST"].as_str(), db["PGPORT"].as_str()),
        ("db", "5432")
    );
    let redis = project.services["redis"].exported_env("127.0.0.1", 16379);
    assert_eq!(redis["REDIS_URL"], "redis://127.0.0.1:16379");
}

/// Deterministic pseudo-random inputs: whatever the bytes, loading returns a result.
#[test]
fn loading_never_panics_on_junk() {
    let alphabet: Vec<char> =
        " \n\t:-[]{},&*!|>'\"#%@`?$.~\\\r\0abcsv0179éservicesimageportsdepends_on${}"
            .chars()
            .collect();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let test = TestProject::new();
    for round in 0..3000 {
        let len = round % 80;
        let mut text = String::from(if round % 2 == 0 { "services:\n  " } else { "" });
        for _ in 0..len {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            text.push(alphabet[((seed >> 33) as usize) % alphabet.len()]);
        }
        let _ = test.load(&text);
    }
}

#[test]
fn each_cycle_is_reported_once_in_file_order() {
    let test = TestProject::new();
    let Err(LoadError::Invalid { diagnostics, .. }) = test.load(
        "services:\n  b: { image: x, depends_on: [a, c] }\n  a: { image: x, depends_on: [b] }\n  c: { image: x, depends_on: [b] }\n  d: { image: x, depends_on: [a] }\n",
    ) else {
        panic!("expected errors");
    };
    let messages: Vec<&str> = diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "dependency cycle: b -> a -> b",
            "dependency cycle: b -> c -> b"
        ]
    );
}

#[test]
fn a_long_dependency_chain_does_not_overflow_the_stack() {
    let count = 5000;
    let mut yaml = String::from("services:\n");
    for i in 0..count {
        let next = (i + 1) % count;
        yaml.push_str(&format!("  s{i}: {{ image: x, depends_on: [s{next}] }}\n"));
    }
    let test = TestProject::new();
    let Err(LoadError::Invalid { diagnostics, .. }) = test.load(&yaml) else {
        panic!("expected a cycle");
    };
    assert_eq!(diagnostics.len(), 1);
    assert!(
        diagnostics[0]
            .message
            .starts_with("dependency cycle: s0 -> s1 -> s2")
    );
    assert!(diagnostics[0].message.ends_with("-> s4999 -> s0"));
    // Without the closing edge the chain is valid.
    let chain = yaml.replace("depends_on: [s0]", "depends_on: []");
    assert_eq!(test.ok(&chain).services.len(), count);
}

#[test]
fn project_template_env_defaults_may_use_the_version() {
    let test = TestProject::new().file(
        ".gorae/templates/tool/template.yaml",
        "revision: 1\nimage: \"tool:{version}\"\ndefault_version: \"2\"\nenv: { TOOL_VERSION: \"v{version}\" }\nexports: { TOOL_URL: \"tool://{host}:{port}/{env.TOOL_VERSION}\" }\nport: 99\n",
    );
    let tool = &test.ok("services:\n  tool: \"3\"\n").services["tool"];
    assert_eq!(tool.env["TOOL_VERSION"], "v3");
    assert_eq!(tool.exports["TOOL_URL"], "tool://{host}:{port}/v3");
}

/// A task built from the project gets inputs: the template's manifests and what its
/// command names by default, or what `inputs:` lists; anything else has none, and
/// `inputs:` where it has no meaning, or outside the context, is an error.
#[test]
fn task_inputs_default_to_manifests_and_command_paths() {
    let project = TestProject::new().file("app/migrate.js", "");
    let loaded = project
        .load("services:\n  migrate:\n    template: node\n    build: ./app\n    kind: task\n    command: [\"sh\", \"-c\", \"node ./scripts/seed.js && node /app/migrate.js --all\"]\n  web:\n    template: node\n    build: ./app\n")
        .expect("valid");
    assert_eq!(
        loaded.services["migrate"].inputs,
        [
            "migrate.js",
            "node",
            "npm-shrinkwrap.json",
            "package-lock.json",
            "package.json",
            "scripts/seed.js",
            "sh"
        ]
    );
    assert!(loaded.services["web"].inputs.is_empty());

    let written = project
        .load("services:\n  migrate:\n    template: python\n    build: ./app\n    kind: task\n    inputs: [manage.py, ./shop/migrations/, manage.py]\n")
        .expect("valid");
    assert_eq!(
        written.services["migrate"].inputs,
        ["manage.py", "shop/migrations"]
    );

    for (yaml, message) in [
        (
            "services:\n  web:\n    template: node\n    build: ./app\n    inputs: [a]\n",
            "`inputs` has no meaning for `web`",
        ),
        (
            "services:\n  seed:\n    image: alpine\n    kind: task\n    inputs: [a]\n",
            "`inputs` has no meaning for `seed`",
        ),
        (
            "services:\n  seed:\n    template: node\n    build: ./app\n    kind: task\n    inputs: [../secrets]\n",
            "input `../secrets` is not a path inside the build context",
        ),
    ] {
        let err = project.load(yaml).expect_err(yaml).to_string();
        assert!(err.contains(message), "{err}");
    }
}

#[test]
fn conf_mounts_a_project_file_where_the_template_reads_its_config() {
    let project = TestProject::new().file("nginx.conf", "server {}\n");
    let loaded = project.ok("services:\n  proxy:\n    template: nginx\n    conf: ./nginx.conf\n");
    assert_eq!(
        loaded.services["proxy"].volumes,
        [Mount::Bind {
            source: project.dir().join("nginx.conf").canonicalize().unwrap(),
            target: "/etc/nginx/conf.d/default.conf".to_string(),
            read_only: true,
        }]
    );
    let report = project.report(
        "services:\n  proxy:\n    template: nginx\n    conf: ./missing.conf\n  cache:\n    template: redis\n    conf: ./nginx.conf\n",
    );
    assert!(report.contains("gorae.yaml:4:11"), "{report}");
    assert!(
        report.contains("bind mount source `./missing.conf` does not exist"),
        "{report}"
    );
    assert!(report.contains("gorae.yaml:7:11"), "{report}");
    assert!(
        report.contains("its template takes no config file"),
        "{report}"
    );
}

#[test]
fn build_map_process_keys_and_image_beside_build_are_read() {
    let project = TestProject::new()
        .file("web/Dockerfile", "FROM node:20 AS dev\n")
        .env("NODE_VERSION", "20");
    let p = project.ok(concat!(
        "services:\n  web:\n    image: acme/web:dev\n",
        "    build:\n      context: ./web\n      target: dev\n",
        "      args: { NODE_VERSION: \"${NODE_VERSION}\", MODE: development }\n",
        "    entrypoint: [docker-entrypoint.sh]\n    user: \"1000:1000\"\n",
        "    working_dir: /app\n    stop_signal: int\n",
        "    extra_hosts: [\"host.docker.internal:host-gateway\", \"db.local:10.0.0.5\"]\n",
        "    platform: linux/amd64\n",
    ));
    let ImageSource::Build {
        context, options, ..
    } = &web(&p).image
    else {
        panic!("expected a build: {:?}", web(&p).image);
    };
    assert_eq!(*context, project.dir().join("web"));
    assert_eq!(options.target.as_deref(), Some("dev"));
    assert_eq!(options.args["NODE_VERSION"], "20");
    assert_eq!(options.args["MODE"], "development");
    assert_eq!(options.tag.as_deref(), Some("acme/web:dev"));
    assert_eq!(options.platform.as_deref(), Some("linux/amd64"));
    let run = &web(&p).run;
    assert_eq!(
        run.entrypoint,
        Some(vec!["docker-entrypoint.sh".to_string()])
    );
    assert_eq!(run.user.as_deref(), Some("1000:1000"));
    assert_eq!(run.working_dir.as_deref(), Some("/app"));
    assert_eq!(run.stop_signal.as_deref(), Some("SIGINT"));
    assert_eq!(run.extra_hosts.len(), 2);
    assert_eq!(run.platform.as_deref(), Some("linux/amd64"));
}

#[test]
fn wrong_build_and_process_values_point_at_their_line() {
    let project = TestProject::new().file("web/Dockerfile", "FROM node:20\n");
    let report = project.report(concat!(
        "services:\n  web:\n    build:\n      context: ./web\n      target: \"dev stage\"\n",
        "      tagret: x\n    user: \"a b\"\n    working_dir: app\n    stop_signal: SIGNOPE\n",
        "    extra_hosts: [\"nohost\"]\n    platform: amd64\n",
    ));
    for expected in [
        "gorae.yaml:5:15",
        "is not a stage name",
        "gorae.yaml:6:7",
        "did you mean `target`",
        "gorae.yaml:7:11",
        "is not a user",
        "gorae.yaml:8:18",
        "not an absolute path",
        "gorae.yaml:9:18",
        "is not a signal",
        "gorae.yaml:10:19",
        "is not HOST:IP",
        "gorae.yaml:11:15",
        "is not a platform",
    ] {
        assert!(
            report.contains(expected),
            "{expected} missing from:\n{report}"
        );
    }
}

#[test]
fn an_anonymous_volume_is_a_volume_named_after_the_service_and_path() {
    let project = TestProject::new().file("web/Dockerfile", "FROM node:20\n");
    let p = project.ok(
        "services:\n  web:\n    build: ./web\n    volumes: [\"./web:/app\", \"/app/node_modules\"]\n",
    );
    assert_eq!(
        web(&p).volumes[1],
        Mount::Volume {
            name: "web_app_node_modules".into(),
            target: "/app/node_modules".into(),
            read_only: false,
        }
    );
}

/// Every way a generated volume name can meet another volume's name is reported at the
/// anonymous entry, with the other use; a named volume shared on purpose is not.
#[test]
fn an_anonymous_volume_never_shares_its_name_with_another_volume() {
    let project = TestProject::new().file("web/Dockerfile", "FROM node:20\n");
    // (file, message, where it points, where the other use is)
    let cases = [
        (
            "services:\n  web:\n    build: ./web\n    volumes: [\"/app/node_modules\"]\n  web_app:\n    image: x\n    volumes: [\"/node_modules\"]\n",
            "the volume gorae names `web_app_node_modules` for `/node_modules` of `web_app` is also `/app/node_modules` of `web`",
            "gorae.yaml:7:15",
            "gorae.yaml:4:15",
        ),
        (
            "services:\n  web:\n    image: x\n    volumes: [\"/a_b\", \"/a/b\"]\n",
            "the volume gorae names `web_a_b` for `/a/b` of `web` is also `/a_b` of `web`",
            "gorae.yaml:4:23",
            "gorae.yaml:4:15",
        ),
        (
            "services:\n  db:\n    template: postgres\n    volumes: [\"/data\"]\n",
            "the volume gorae names `db_data` for `/data` of `db` is also the data volume of `db`",
            "gorae.yaml:4:15",
            "gorae.yaml:2:3",
        ),
        (
            "services:\n  web:\n    image: x\n    volumes: [\"/cache\"]\n  tool:\n    image: x\n    volumes: [\"web_cache:/cache\"]\n",
            "the volume gorae names `web_cache` for `/cache` of `web` is also `/cache` of `tool`",
            "gorae.yaml:4:15",
            "gorae.yaml:7:15",
        ),
    ];
    for (yaml, message, at, other) in cases {
        let report = project.report(yaml);
        for expected in [
            format!("error: {message}\n --> {at}\n"),
            format!("note: the other use\n --> {other}\n"),
            "help: give it a name of its own: `NAME:/".to_string(),
            "gorae.yaml: 1 error".to_string(),
        ] {
            assert!(
                report.contains(&expected),
                "{expected}\nmissing from:\n{report}"
            );
        }
    }
    // Shared on purpose, named alike by hand, or at a template's data directory
    // (which then replaces the data volume): one volume, no report.
    for yaml in [
        "services:\n  a:\n    image: x\n    volumes: [\"shared:/s\"]\n  b:\n    image: x\n    volumes: [\"shared:/s\"]\n",
        "services:\n  web:\n    image: x\n    volumes: [\"/cache\"]\n  tool:\n    image: x\n    volumes: [\"tool_cache:/cache\"]\n",
        "services:\n  redis:\n    template: redis\n    volumes: [\"/data\"]\n",
    ] {
        project.ok(yaml);
    }
}

#[test]
fn secrets_are_project_files_mounted_read_only_under_run_secrets() {
    let project = TestProject::new().file("secrets/token", "s3cret\n");
    let p = project
        .ok("services:\n  web:\n    image: x\n    secrets: { api_token: ./secrets/token }\n");
    assert_eq!(
        web(&p).volumes,
        [Mount::Bind {
            source: project.dir().join("secrets/token").canonicalize().unwrap(),
            target: "/run/secrets/api_token".into(),
            read_only: true,
        }]
    );
    // The content is the container's business: nothing gorae shows holds it.
    assert!(!to_normalized_yaml(&p).contains("s3cret"));
    let report = project.report(
        "services:\n  web:\n    image: x\n    secrets: { \"a/b\": ./secrets/token, gone: ./nope }\n",
    );
    assert!(report.contains("gorae.yaml:4:16"), "{report}");
    assert!(report.contains("is not a file name"), "{report}");
    assert!(report.contains("./nope"), "{report}");
}

/// A secret from a variable is written into the container, and shown nowhere: not by
/// `gorae config` (JSON or YAML), not in the model's debug form.
#[test]
fn a_secret_from_a_variable_is_a_value_written_into_the_container_and_shown_nowhere() {
    let value = "pa$$ word\nwith a second line";
    let project = TestProject::new().env("DB_PASSWORD", value);
    let p = project.ok(
        "services:\n  web:\n    image: x\n    secrets: { db_password: { value: \"${DB_PASSWORD}\" } }\n",
    );
    let [
        Mount::Secret {
            target,
            value: secret,
        },
    ] = web(&p).volumes.as_slice()
    else {
        panic!("{:?}", web(&p).volumes);
    };
    assert_eq!(target, "/run/secrets/db_password");
    assert_eq!(secret.expose(), value);
    for shown in [
        to_normalized_yaml(&p),
        to_normalized_json(&p),
        format!("{p:?}"),
    ] {
        assert!(!shown.contains("pa$$"), "{shown}");
    }
    assert!(to_normalized_yaml(&p).contains("/run/secrets/db_password"));

    for (yaml, message, at) in [
        (
            "services:\n  web:\n    image: x\n    secrets: { t: { file: ./x } }\n",
            "unknown key `file` in secret `t`",
            "gorae.yaml:4:21",
        ),
        (
            "services:\n  web:\n    image: x\n    secrets: { t: {} }\n",
            "secret `t` has no `value`",
            "gorae.yaml:4:19",
        ),
        (
            "services:\n  web:\n    image: x\n    secrets: { t: { value: [a] } }\n",
            "the value of secret `t` must be a string, found a list",
            "gorae.yaml:4:28",
        ),
        (
            "services:\n  web:\n    image: x\n    secrets: { t: { value: \"${UNSET_SECRET}\" } }\n",
            "UNSET_SECRET",
            "gorae.yaml:4:",
        ),
    ] {
        let report = project.report(yaml);
        assert!(
            report.contains(message),
            "{message}\nmissing from:\n{report}"
        );
        assert!(report.contains(at), "{at}\nmissing from:\n{report}");
    }
}

#[test]
fn a_seed_names_a_sql_file_a_snapshot_or_a_task() {
    let project = TestProject::new().file("db/seed.sql", "SELECT 1;\n");
    let loaded = project.ok(
        "services:\n  db:\n    template: postgres\n    seed: { sql: ./db/seed.sql }\n  other:\n    template: postgres\n    seed: { snapshot: demo }\n  cache:\n    template: redis\n    seed: { task: load }\n  load:\n    image: x\n    kind: task\n    depends_on: [cache]\n",
    );
    let db = loaded.services["db"].seed.as_deref().expect("a seed");
    assert_eq!(db.describe(), "seed.sql");
    assert!(
        matches!(db, Seed::Sql { path, command } if path.ends_with("db/seed.sql") && command[0] == "psql")
    );
    assert_eq!(
        loaded.services["other"].seed.as_deref(),
        Some(&Seed::Snapshot {
            name: "demo".into()
        })
    );
    assert_eq!(
        loaded.services["cache"].seed.as_deref(),
        Some(&Seed::Task {
            name: "load".into()
        })
    );
}

#[test]
fn seed_mistakes_are_reported_where_they_are_written() {
    let project = TestProject::new().file("seed.sql", "SELECT 1;\n");
    let report = project.report(
        "services:\n  db:\n    template: postgres\n    seed: { sql: ./missing.sql }\n  cache:\n    template: redis\n    seed: { sql: ./seed.sql }\n  web:\n    image: x\n    seed: { task: db }\n  two:\n    template: postgres\n    seed: { sql: ./seed.sql, snapshot: x }\n  typo:\n    template: postgres\n    seed: { sqll: ./seed.sql }\n  task:\n    template: postgres\n    seed: { task: db }\n  name:\n    template: postgres\n    seed: { snapshot: ../x }\n  text:\n    template: postgres\n    seed: ./seed.sql\n",
    );
    insta::assert_snapshot!("seed_mistakes", report);
}

#[test]
fn a_seed_task_runs_after_its_service_and_waits_for_none_of_its_dependents() {
    let report = TestProject::new().report(
        "services:\n  db:\n    template: postgres\n    seed: { task: loose }\n  loose:\n    image: x\n    kind: task\n  cache:\n    template: redis\n    seed: { task: fill }\n  fill:\n    image: x\n    kind: task\n    depends_on: [cache, api]\n  api:\n    image: x\n    depends_on: [web]\n  web:\n    image: x\n    depends_on: [cache]\n",
    );
    insta::assert_snapshot!("seed_task_order", report);
}
