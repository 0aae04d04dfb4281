//! `gorae env`: the variables point programs on the host at the published ports,
//! in all three formats, and actually connect.

use std::collections::BTreeMap;
use std::process::Command;

use crate::sh_quote;
use crate::support::{TestProject, ensure_stand_in_images, free_port, stderr, stdout};

/// The password has a quote in it, so the shell format's quoting is exercised by
/// a real `eval`.
const PASSWORD: &str = "it's-s3cret";

#[test]
fn env_variables_reach_the_services_from_the_host_in_every_format() {
    ensure_stand_in_images();
    let (redis_port, pg_port) = (free_port(), free_port());
    let project = TestProject::new("env");
    let yaml = project.services_yaml(&format!(
            "  cache:\n    template: redis\n    ports: [\"{redis_port}:6379\"]\n  db:\n    template: postgres\n    ports: [\"{pg_port}:5432\"]\n    env: {{ POSTGRES_USER: shopper, POSTGRES_DB: shop, POSTGRES_PASSWORD: \"{PASSWORD}\" }}\n  hidden: {{ template: redis }}\n"
        ),
    );
    let project = project.file("gorae.yaml", &yaml);
    project.gorae_ok(&["up", "--ci"]);

    let database_url = format!("postgres://shopper:{PASSWORD}@127.0.0.1:{pg_port}/shop");
    let redis_url = format!("redis://127.0.0.1:{redis_port}");

    // shell: eval it, then connect with psql (URL and PG* variables) and to Redis.
    let shell = project.gorae_ok(&["env"]);
    assert!(
        stdout(&shell).contains(&format!("export REDIS_URL='{redis_url}'")),
        "{}",
        stdout(&shell)
    );
    let script = format!(
        r#"set -e
eval "$({gorae} env)"
psql "$DATABASE_URL" -tAc 'select current_database()'
psql -tAc 'select current_user'
python3 -c "import os,socket,urllib.parse as u
r=u.urlparse(os.environ['REDIS_URL'])
s=socket.create_connection((r.hostname,r.port),5)
s.sendall(b'PING\r\n')
print(s.recv(16).decode().strip())""#,
        gorae = sh_quote(env!("CARGO_BIN_EXE_gorae"))
    );
    let connected = project
        .environment(&mut Command::new("sh"))
        .arg("-c")
        .arg(&script)
        .current_dir(project.path())
        .output()
        .expect("run sh (and psql, python3 from the host)");
    assert!(
        connected.status.success(),
        "connecting with the eval'd variables failed:\n{}{}",
        stdout(&connected),
        stderr(&connected)
    );
    assert_eq!(stdout(&connected), "shop\nshopper\n+PONG\n");

    // A service without a published port is left out, with the fix on stderr.
    assert!(!stdout(&shell).contains("# hidden"), "{}", stdout(&shell));
    assert!(
        stderr(&shell).contains("`hidden` publishes no port")
            && stderr(&shell).contains(r#"add `ports: ["6379"]` to `hidden`"#),
        "{}",
        stderr(&shell)
    );

    // dotenv: plain where safe, quoted where a reader could stumble (the quote).
    let dotenv = stdout(&project.gorae_ok(&["env", "--format", "dotenv"]));
    let lines: Vec<&str> = dotenv.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(
        lines.contains(&format!("REDIS_URL={redis_url}").as_str()),
        "{dotenv}"
    );
    assert!(
        lines.contains(&format!("DATABASE_URL=\"{database_url}\"").as_str()),
        "{dotenv}"
    );
    assert!(
        lines.contains(&format!("PGPORT={pg_port}").as_str()),
        "{dotenv}"
    );

    // json: one object with exactly the exported names.
    let json = stdout(&project.gorae_ok(&["env", "--format", "json"]));
    let vars: BTreeMap<String, String> = serde_json::from_str(&json).expect("env JSON");
    assert_eq!(
        vars.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "DATABASE_URL",
            "PGDATABASE",
            "PGHOST",
            "PGPASSWORD",
            "PGPORT",
            "PGUSER",
            "REDIS_URL"
        ]
    );
    assert_eq!(vars["DATABASE_URL"], database_url);
    assert_eq!(vars["PGPASSWORD"], PASSWORD);
    assert_eq!(vars["REDIS_URL"], redis_url);

    // Asking for one service prints only its variables.
    let only = stdout(&project.gorae_ok(&["env", "cache", "--format", "json"]));
    let vars: BTreeMap<String, String> = serde_json::from_str(&only).expect("env JSON");
    assert_eq!(vars.keys().collect::<Vec<_>>(), ["REDIS_URL"]);
}

#[test]
fn env_of_a_stopped_project_prints_nothing_and_says_why() {
    let project = TestProject::new("envdown");
    let yaml = project.services_yaml(&format!(
        "  cache:\n    template: redis\n    ports: [\"{}:6379\"]\n",
        free_port()
    ));
    let project = project.file("gorae.yaml", &yaml);
    let out = project.gorae_ok(&["env"]);
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("`cache` is not running") && stderr(&out).contains("gorae up"),
        "{}",
        stderr(&out)
    );
    let unknown = project.gorae(&["env", "nope"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));
}
