//! Which value wins, for every pair of places a variable can be set (the order the
//! README's table gives), `env --explain`'s report, and the loader's errors for
//! `env_file`, profiles and secrets.

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;

use super::*;

/// A project in a temporary directory, loaded the way `load_with` does.
struct Fixture {
    dir: tempfile::TempDir,
    env: BTreeMap<String, String>,
    profiles: Vec<String>,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            dir: tempfile::tempdir().expect("temp dir"),
            env: BTreeMap::new(),
            profiles: Vec::new(),
        }
    }

    fn file(self, path: &str, text: &str) -> Self {
        let full = self.dir.path().join(path);
        if path.ends_with('/') {
            std::fs::create_dir_all(&full).expect("dir");
        } else {
            std::fs::write(&full, text).expect("write");
        }
        self
    }

    fn env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }

    fn profiles(mut self, profiles: &[&str]) -> Self {
        self.profiles = profiles.iter().map(|p| p.to_string()).collect();
        self
    }

    fn load(&self, yaml: &str) -> Result<Project, LoadError> {
        let env = |name: &str| self.env.get(name).cloned();
        let layers = read_layers(self.dir.path(), Path::new(""), &self.profiles)
            .map_err(|d| invalid(vec![d], PROJECT_FILE))?;
        let project = load_parts(
            yaml.to_string(),
            self.dir.path().join(PROJECT_FILE),
            PROJECT_FILE.into(),
            &env,
            layers,
            self.profiles.clone(),
        )?;
        check_profiles(&project, &self.profiles, "--profile", PROJECT_FILE)?;
        Ok(project)
    }

    fn ok(&self, yaml: &str) -> Project {
        self.load(yaml)
            .unwrap_or_else(|error| panic!("expected a valid project, got:\n{error}"))
    }

    fn report(&self, yaml: &str) -> String {
        match self.load(yaml) {
            Ok(_) => panic!("expected errors"),
            Err(error) => error.to_string(),
        }
    }
}

/// The project-variable layers, lowest precedence first; profiles `a` then `b` active.
const LAYERS: [&str; 6] = [
    "default in gorae.yaml",
    ".env",
    ".env.local",
    ".env.a",
    ".env.b",
    "process env",
];

/// How a `.env` line is saved: line break, byte-order mark, quoting.
#[derive(Debug, Clone, Copy)]
struct Style {
    crlf: bool,
    bom: bool,
    quote: u8,
}

fn style() -> impl Strategy<Value = Style> {
    (any::<bool>(), any::<bool>(), 0u8..3).prop_map(|(crlf, bom, quote)| Style { crlf, bom, quote })
}

fn dotenv_text(value: &str, style: Style) -> String {
    let value = match style.quote {
        0 => value.to_string(),
        1 => format!("'{value}'"),
        _ => format!("\"{value}\""),
    };
    let newline = if style.crlf { "\r\n" } else { "\n" };
    let bom = if style.bom { "\u{feff}" } else { "" };
    format!("{bom}# set by the test{newline}OTHER=x{newline}V={value}{newline}")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// For any set of layers that set V, the highest wins, whatever the files' line
    /// endings, byte-order mark or quoting; and the trail lists the others below it.
    #[test]
    fn the_highest_layer_setting_a_variable_wins(
        set in proptest::sample::subsequence((0..LAYERS.len()).collect::<Vec<_>>(), 1..=LAYERS.len()),
        value in "[a-z0-9._-]{0,12}",
        styles in proptest::collection::vec(style(), 4),
    ) {
        let mut fixture = Fixture::new().profiles(&["a", "b"]);
        let at = |layer: usize| format!("{value}@{layer}");
        for (file_index, layer) in (1..=4).enumerate() {
            if set.contains(&layer) {
                fixture = fixture.file(LAYERS[layer], &dotenv_text(&at(layer), styles[file_index]));
            }
        }
        if set.contains(&5) {
            fixture = fixture.env("V", &at(5));
        }
        let default = if set.contains(&0) { at(0) } else { String::new() };
        let yaml = format!(
            "services:\n  web: {{ image: x, env: {{ V: \"${{V:-{default}}}\" }} }}\n  a: {{ image: y, profiles: [a, b] }}\n"
        );
        let project = fixture.ok(&yaml);
        let highest = *set.iter().max().expect("non-empty");
        prop_assert_eq!(&project.services["web"].env["V"], &at(highest));
        // The trail lists every file that set V, and the process env above them.
        let files = set.iter().filter(|l| (1..=4).contains(*l)).count();
        let expected_trail = if files == 0 { 0 } else { files + usize::from(set.contains(&5)) };
        prop_assert_eq!(project.variables.trails.get("V").map_or(0, Vec::len), expected_trail);
        if let Some(trail) = project.variables.trails.get("V") {
            prop_assert_eq!(&trail.last().expect("trail").value, &at(highest));
        }
    }
}

#[test]
fn every_pair_of_service_sources_has_one_winner() {
    // Lowest first: wired from a dependency, an env file, a second env file, `env:`.
    let sources = ["wired", "first.env", "second.env", "env"];
    for low in 0..sources.len() {
        for high in low + 1..sources.len() {
            let chosen = [low, high];
            let mut files = Vec::new();
            for (index, name) in [(1, "first.env"), (2, "second.env")] {
                if chosen.contains(&index) {
                    files.push(name);
                }
            }
            let mut fixture = Fixture::new();
            for name in &files {
                fixture = fixture.file(name, &format!("PGHOST=from-{name}\n"));
            }
            let depends = if chosen.contains(&0) {
                ", depends_on: [db]"
            } else {
                ""
            };
            let env = if chosen.contains(&3) {
                ", env: { PGHOST: from-env }"
            } else {
                ""
            };
            let env_file = if files.is_empty() {
                String::new()
            } else {
                format!(", env_file: [{}]", files.join(", "))
            };
            let yaml = format!(
                "services:\n  db: {{ template: postgres }}\n  web: {{ image: x{depends}{env}{env_file} }}\n"
            );
            let project = fixture.ok(&yaml);
            let plan = crate::plan::desired(&project);
            let web = plan.services.iter().find(|s| s.name == "web").expect("web");
            let expected = match sources[high] {
                "env" => "from-env".to_string(),
                file => format!("from-{file}"),
            };
            assert_eq!(
                web.spec.env["PGHOST"], expected,
                "{} vs {}",
                sources[low], sources[high]
            );
        }
    }
}

#[test]
fn a_template_default_loses_to_an_env_file_which_loses_to_env() {
    let fixture = Fixture::new().file("db.env", "POSTGRES_DB=from-file\nPOSTGRES_USER=u\n");
    let project = fixture.ok(
        "services:\n  db:\n    template: postgres\n    env_file: db.env\n    env: { POSTGRES_USER: shop }\n",
    );
    let db = &project.services["db"];
    assert_eq!(db.env["POSTGRES_DB"], "from-file");
    assert_eq!(db.env["POSTGRES_USER"], "shop");
    // The client defaults follow what won.
    assert_eq!(db.env["PGDATABASE"], "from-file");
    // A value from an env file is never printed; one written in gorae.yaml is.
    assert!(db.secret_env.contains(&"POSTGRES_DB".to_string()));
    assert!(!db.secret_env.contains(&"POSTGRES_USER".to_string()));
}

#[test]
fn env_file_values_are_taken_as_written() {
    let fixture = Fixture::new()
        .file("web.env", "A=${HOME}\nB='q'\n")
        .env("HOME", "/home/x");
    let project = fixture.ok("services:\n  web: { image: x, env_file: web.env }\n");
    assert_eq!(project.services["web"].env["A"], "${HOME}");
    assert_eq!(project.services["web"].env["B"], "q");
}

#[test]
fn env_file_mistakes_are_reported_where_they_are() {
    let fixture = Fixture::new()
        .file("dir.env/", "")
        .file("bad.env", "OK=1\nnot a line\n");
    let report = fixture.report(
        "services:\n  web:\n    image: x\n    env_file: [missing.env, dir.env, bad.env, { path: optional.env, required: false }]\n",
    );
    assert!(
        report.contains("env_file `missing.env` of service `web` does not exist"),
        "{report}"
    );
    assert!(report.contains("--> gorae.yaml:4:16"), "{report}");
    assert!(report.contains("required: false"), "{report}");
    assert!(
        report.contains("env_file `dir.env` of service `web` is a directory"),
        "{report}"
    );
    assert!(report.contains("--> bad.env:2:1"), "{report}");
    assert!(!report.contains("env_file `optional.env`"), "{report}");
    assert!(report.contains("gorae.yaml: 3 errors"), "{report}");
}

#[test]
fn a_cycle_between_env_files_is_one_error_with_the_whole_cycle() {
    let fixture = Fixture::new()
        .file(".env", "A=${B}\n")
        .file(".env.local", "B=${A}/x\n");
    let report = fixture.report("services:\n  web: { image: \"x:${A}\" }\n");
    assert!(
        report.contains("variables refer to each other in a cycle: A -> B -> A"),
        "{report}"
    );
    assert!(report.contains("--> .env:1:1"), "{report}");
    assert!(report.contains(".env.local:1:1"), "{report}");
}

#[test]
fn a_profiled_service_is_active_only_with_its_profile() {
    let yaml = "services:\n  web: { image: x }\n  debug: { image: y, profiles: [debug, tools] }\n";
    let project = Fixture::new().ok(yaml);
    assert!(project.is_active(&project.services["web"]));
    assert!(!project.is_active(&project.services["debug"]));
    let project = Fixture::new().profiles(&["tools"]).ok(yaml);
    assert!(project.is_active(&project.services["debug"]));
}

#[test]
fn a_profile_file_is_read_only_for_its_active_profile() {
    let fixture = Fixture::new()
        .file(".env", "V=base\n")
        .file(".env.debug", "V=debugging\n");
    let yaml = "services:\n  web: { image: x, env: { V: \"${V}\" } }\n  d: { image: y, profiles: [debug] }\n";
    assert_eq!(fixture.ok(yaml).services["web"].env["V"], "base");
    let fixture = fixture.profiles(&["debug"]);
    assert_eq!(fixture.ok(yaml).services["web"].env["V"], "debugging");
}

#[test]
fn an_unknown_profile_is_a_usage_error_with_a_suggestion() {
    let fixture = Fixture::new().profiles(&["debgu"]);
    let error = fixture
        .load("services:\n  d: { image: y, profiles: [debug] }\n")
        .unwrap_err();
    assert_eq!(error.exit_code(), ExitCode::Usage);
    let message = error.to_string();
    assert!(
        message.contains("--profile names profile `debgu`"),
        "{message}"
    );
    assert!(message.contains("did you mean `debug`?"), "{message}");
    let report = Fixture::new().report("services:\n  d: { image: y, profiles: [\"../x\"] }\n");
    assert!(
        report.contains("profile name `../x` of service `d` is not valid"),
        "{report}"
    );
}

#[test]
fn a_secret_variable_holds_a_placeholder_that_every_output_masks() {
    let project = Fixture::new().ok(
        "services:\n  db:\n    template: postgres\n    env:\n      POSTGRES_PASSWORD: { secret: { command: [pass, show, db] } }\n  web: { image: x, depends_on: [db] }\n",
    );
    let db = &project.services["db"];
    assert!(db.env_secrets.contains_key("POSTGRES_PASSWORD"));
    assert!(db.secret_env.contains(&"POSTGRES_PASSWORD".to_string()));
    let shown = to_normalized_yaml(&project);
    assert!(!shown.contains('\u{1}'), "{shown}");
    assert!(shown.contains("command:"), "{shown}");
    // The dependent's URL carries the placeholder until `up` reads the value.
    let plan = crate::plan::desired(&project);
    let web = plan.services.iter().find(|s| s.name == "web").expect("web");
    assert!(web.spec.env["DATABASE_URL"].contains("gorae-secret:db:POSTGRES_PASSWORD"));
    assert_eq!(
        mask_value("DATABASE_URL", &web.spec.env["DATABASE_URL"], &[]),
        "postgres://postgres:********@db:5432/app"
    );
}

#[test]
fn a_secret_written_wrong_is_reported_with_its_position() {
    let report = Fixture::new().report(
        "services:\n  web:\n    image: x\n    env:\n      A: { secret: { file: a, command: [b] } }\n      B: { secret: { path: b } }\n",
    );
    assert!(
        report.contains("exactly one of `file` and `command`"),
        "{report}"
    );
    assert!(
        report.contains("unknown key `path` in the secret of `B`"),
        "{report}"
    );
    assert!(report.contains("--> gorae.yaml:6:22"), "{report}");
}

#[test]
fn explain_says_where_each_value_came_from_and_what_it_overrode() {
    let fixture = Fixture::new()
        .file(
            ".env",
            "# the team's\nAPI_HOST=api.example\nDB_PASSWORD=team-pw\n",
        )
        .file(".env.local", "API_HOST=localhost\n")
        .file("web.env", "LOG_LEVEL=debug\nAPI_HOST=from-file\n")
        .env("DB_PASSWORD", "mine")
        .profiles(&["debug"]);
    let project = fixture.ok(concat!(
        "services:\n",
        "  db:\n",
        "    template: postgres\n",
        "    env:\n",
        "      POSTGRES_PASSWORD: \"${DB_PASSWORD}\"\n",
        "  web:\n",
        "    image: x\n",
        "    depends_on: [db]\n",
        "    env_file: web.env\n",
        "    env:\n",
        "      API_HOST: \"${API_HOST}\"\n",
        "      TOKEN: { secret: { file: ./secrets/token } }\n",
        "  tools: { image: y, profiles: [debug], env: { API_HOST: \"${API_HOST}\" } }\n",
        "  later: { image: y, profiles: [other], env: { LOG_LEVEL: info } }\n",
    ));
    let names: Vec<String> = [
        "API_HOST",
        "DB_PASSWORD",
        "POSTGRES_PASSWORD",
        "DATABASE_URL",
        "LOG_LEVEL",
        "TOKEN",
        "NOWHERE",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let env = |name: &str| fixture.env.get(name).cloned();
    let report = crate::explain::explain(&project, &names, &env);
    assert!(
        !report.contains("mine") && !report.contains("team-pw"),
        "{report}"
    );
    insta::assert_snapshot!(report);
}
