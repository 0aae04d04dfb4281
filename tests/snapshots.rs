//! `gorae snapshot` on the real engine: Postgres and Redis data saved and restored
//! equal (row counts and a checksum of the rows, every Redis key), into a running
//! and into a removed environment; a damaged snapshot and one from another major
//! version refused before the volume is touched.

mod support;

use support::{TestProject, ensure_stand_in_images, stdout};

const SERVICES: &str = "  db:\n    template: postgres\n    version: \"16\"\n  cache:\n    template: redis\n    version: \"7\"\n";

fn project(short: &str, services: &str) -> TestProject {
    ensure_stand_in_images();
    TestProject::new(short).services(services)
}

/// `psql -tAc SQL` in the db service; its one-line answer.
fn sql(project: &TestProject, query: &str) -> String {
    let out = project.gorae_ok(&[
        "exec",
        "db",
        "--",
        "psql",
        "-v",
        "ON_ERROR_STOP=1",
        "-tAc",
        query,
    ]);
    stdout(&out).trim().to_string()
}

/// `redis-cli ARGS` in the cache service; its answer.
fn redis(project: &TestProject, args: &[&str]) -> String {
    let mut words = vec!["exec", "cache", "--", "redis-cli"];
    words.extend_from_slice(args);
    stdout(&project.gorae_ok(&words)).trim().to_string()
}

/// The row count and an md5 over every row in order: equal only when the data is.
fn table_fingerprint(project: &TestProject) -> String {
    sql(
        project,
        "SELECT count(*) || ' ' || md5(string_agg(id || ':' || body, ',' ORDER BY id)) FROM items",
    )
}

/// How many WAL segments (24 hex digits under pg_wal/) a zstd tar archive holds.
fn wal_segments_in(archive: &std::path::Path) -> usize {
    let file = std::fs::File::open(archive).expect("archive");
    let mut tar = tar::Archive::new(zstd::Decoder::new(file).expect("zstd"));
    tar.entries()
        .expect("entries")
        .map(|entry| entry.expect("entry").path().expect("path").into_owned())
        .filter(|path| {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            path.parent().is_some_and(|p| p.ends_with("pg_wal"))
                && name.is_some_and(|n| n.len() == 24 && n.bytes().all(|b| b.is_ascii_hexdigit()))
        })
        .count()
}

fn fill(project: &TestProject) {
    sql(
        project,
        "CREATE TABLE items (id int PRIMARY KEY, body text); \
         INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 20000) g",
    );
    for (key, value) in [("greeting", "hello"), ("counter", "42")] {
        redis(project, &["SET", key, value]);
    }
    redis(project, &["RPUSH", "queue", "a", "b", "c"]);
}

fn redis_state(project: &TestProject) -> String {
    format!(
        "{} {} {} {}",
        redis(project, &["GET", "greeting"]),
        redis(project, &["GET", "counter"]),
        redis(project, &["LRANGE", "queue", "0", "-1"]).replace('\n', ","),
        redis(project, &["DBSIZE"]),
    )
}

#[test]
fn postgres_and_redis_data_are_equal_after_save_and_restore_into_a_running_environment() {
    let project = project("snap-roundtrip", SERVICES);
    project.up().succeeds();
    fill(&project);
    // WAL segments in plenty: six switches, then a checkpoint that keeps them for reuse.
    sql(&project, "CREATE TABLE filler (v int)");
    for _ in 0..6 {
        sql(
            &project,
            "INSERT INTO filler VALUES (1); SELECT pg_switch_wal()",
        );
    }
    sql(&project, "CHECKPOINT");
    let segments = project.gorae_ok(&[
        "exec",
        "db",
        "--",
        "sh",
        "-c",
        "ls /var/lib/postgresql/data/pg_wal | grep -c '^[0-9A-F]\\{24\\}$'",
    ]);
    let segments: usize = stdout(&segments).trim().parse().expect("a count");
    assert!(segments >= 6, "{segments} WAL segments");
    let rows = table_fingerprint(&project);
    assert!(rows.starts_with("20000 "), "{rows}");
    let keys = redis_state(&project);
    assert_eq!(keys, "hello 42 a,b,c 3");

    let saved = project.gorae_ok(&["snapshot", "save", "--ci", "before"]);
    let progress = String::from_utf8_lossy(&saved.stderr);
    assert!(progress.contains("saved to snapshot before"), "{progress}");
    // The manifest records what the issue asks for, with a checksum per file.
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(project.path().join(".gorae/snapshots/before/manifest.json"))
            .expect("manifest"),
    )
    .expect("json");
    assert_eq!(manifest["format"], 1);
    assert_eq!(manifest["services"]["db"]["template"], "postgres");
    assert_eq!(manifest["services"]["db"]["version"], "16");
    assert_eq!(manifest["services"]["cache"]["template"], "redis");
    assert_eq!(
        manifest["services"]["db"]["sha256"].as_str().map(str::len),
        Some(64)
    );
    assert!(manifest["gorae_version"].is_string());
    // Of the WAL, only what the clean shutdown's checkpoint needs is in the archive;
    // the restore below shows Postgres starts from it with every row.
    let archive = project.path().join(".gorae/snapshots/before").join(
        manifest["services"]["db"]["file"]
            .as_str()
            .expect("a file name"),
    );
    let kept = wal_segments_in(&archive);
    assert!(
        (1..=2).contains(&kept),
        "{kept} of {segments} WAL segments archived"
    );
    // Saving stopped the services for the copy and started them again.
    assert_eq!(table_fingerprint(&project), rows);

    sql(
        &project,
        "DELETE FROM items WHERE id % 2 = 0; INSERT INTO items VALUES (0, 'after')",
    );
    redis(&project, &["FLUSHALL"]);
    assert_ne!(table_fingerprint(&project), rows);

    let restored = project.gorae_ok(&["snapshot", "restore", "--ci", "before"]);
    let progress = String::from_utf8_lossy(&restored.stderr);
    assert!(
        progress.contains("restored from snapshot before"),
        "{progress}"
    );
    // Ready when the command returns: the queries need no waiting.
    assert_eq!(table_fingerprint(&project), rows);
    assert_eq!(redis_state(&project), keys);

    let listing = stdout(&project.gorae_ok(&["snapshot", "ls"]));
    assert!(listing.contains("before"), "{listing}");
    assert!(listing.contains("db (postgres 16)"), "{listing}");
    assert!(listing.contains("cache (redis 7)"), "{listing}");
    // Nothing of the restore is left behind: only the project's two containers.
    assert_eq!(support::containers_of(project.name()).len(), 2);
}

#[test]
fn one_service_restores_into_a_removed_environment_and_is_ready() {
    let project = project("snap-down", SERVICES);
    project.up().succeeds();
    fill(&project);
    let rows = table_fingerprint(&project);
    project.gorae_ok(&["snapshot", "save", "--ci", "mine", "db"]);
    sql(&project, "DROP TABLE items");
    redis(&project, &["SET", "greeting", "changed"]);
    project.gorae_ok(&["down"]);

    project.gorae_ok(&["snapshot", "restore", "--ci", "mine"]);
    // db is back and ready; cache was in neither the snapshot nor the restore.
    assert_eq!(table_fingerprint(&project), rows);
    let manifest =
        std::fs::read_to_string(project.path().join(".gorae/snapshots/mine/manifest.json"))
            .expect("manifest");
    assert!(!manifest.contains("\"cache\""), "{manifest}");
    project.up().succeeds();
    assert_eq!(redis(&project, &["GET", "greeting"]), "changed");
}

/// Restores snapshot `name`, expecting a refusal (exit 1) that says nothing was
/// changed; its message.
fn refused_restore(project: &TestProject, name: &str) -> String {
    let refused = project
        .run(&["snapshot", "restore", "--ci", name])
        .fails_with(1);
    let message = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(message.contains("nothing was changed"), "{message}");
    message
}

#[test]
fn a_damaged_snapshot_is_refused_and_the_volume_is_untouched() {
    let project = project(
        "snap-corrupt",
        "  db:\n    template: postgres\n    version: \"16\"\n",
    );
    project.up().succeeds();
    sql(
        &project,
        "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('saved')",
    );
    project.gorae_ok(&["snapshot", "save", "--ci", "s1"]);
    sql(&project, "UPDATE marker SET v = 'after the save'");

    let archive = project.path().join(".gorae/snapshots/s1/db.tar.zst");
    let mut bytes = std::fs::read(&archive).expect("archive");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&archive, bytes).expect("damage the archive");

    let message = refused_restore(&project, "s1");
    assert!(
        message.contains("snapshot `s1` cannot be restored: its files are damaged (db.tar.zst: checksum does not match)"),
        "{message}"
    );
    // The service kept running on its own data.
    assert_eq!(sql(&project, "SELECT v FROM marker"), "after the save");
}

#[test]
fn a_snapshot_from_another_major_version_is_refused_and_the_volume_is_untouched() {
    let sixteen = "  db:\n    template: postgres\n    version: \"16\"\n";
    let project = project("snap-major", sixteen);
    project.up().succeeds();
    sql(
        &project,
        "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('saved')",
    );
    project.gorae_ok(&["snapshot", "save", "--ci", "s16"]);
    sql(&project, "UPDATE marker SET v = 'after the save'");

    // The project moves to another major version (its image need not exist: the
    // restore refuses before it asks the engine anything).
    std::fs::write(
        project.path().join("gorae.yaml"),
        project.services_yaml(&sixteen.replace("\"16\"", "\"17\"")),
    )
    .expect("write gorae.yaml");
    let message = refused_restore(&project, "s16");
    assert!(
        message.contains("`db` was saved from postgres 16, and is now version 17"),
        "{message}"
    );

    std::fs::write(
        project.path().join("gorae.yaml"),
        project.services_yaml(sixteen),
    )
    .expect("write gorae.yaml");
    assert_eq!(sql(&project, "SELECT v FROM marker"), "after the save");
}

#[test]
fn snapshot_mistakes_get_one_message_and_change_nothing() {
    let project = project(
        "snap-mistakes",
        "  db:\n    template: postgres\n    version: \"16\"\n  worker:\n    image: redis:7\n",
    );
    let unknown = project.run(&["snapshot", "restore", "nope"]).fails_with(2);
    let message = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        message.contains("no snapshot `nope` in .gorae/snapshots")
            && message.contains("gorae snapshot save NAME"),
        "{message}"
    );
    let bad_name = project.run(&["snapshot", "rm", "../x"]).fails_with(2);
    assert!(String::from_utf8_lossy(&bad_name.stderr).contains("is not a snapshot name"));
    let stateless = project
        .run(&["snapshot", "save", "s", "worker"])
        .fails_with(2);
    let message = String::from_utf8_lossy(&stateless.stderr);
    assert!(
        message.contains("`worker` keeps no data that gorae can snapshot")
            && message.contains("are: db"),
        "{message}"
    );
    let never_started = project.run(&["snapshot", "save", "s"]).fails_with(6);
    let message = String::from_utf8_lossy(&never_started.stderr);
    assert!(message.contains("run `gorae up db` first"), "{message}");
    assert!(!project.path().join(".gorae/snapshots/s").exists());
    assert_eq!(
        stdout(&project.gorae_ok(&["snapshot", "ls"])).trim(),
        "no snapshots in .gorae/snapshots; `gorae snapshot save NAME` makes one"
    );
}

/// A task that depends on db and fails unless `table` is there: started before db's
/// seed is in, it fails the `up`.
fn reader(table: &str) -> String {
    let read =
        format!(r#"psql "$$DATABASE_URL" -v ON_ERROR_STOP=1 -tAc "SELECT count(*) FROM {table}""#);
    format!(
        "  reader:\n    image: postgres:16\n    kind: task\n    depends_on: [db]\n    command: {}\n",
        serde_json::to_string(&["sh", "-c", &read]).expect("json")
    )
}

#[test]
fn a_sql_seed_is_applied_once_and_again_after_reseed() {
    // `reader` depends on db and fails without the seed's table: it must start only
    // once the seed is in (which takes a second).
    let project = project(
        "seed-sql",
        &format!(
            "  db:\n    template: postgres\n    version: \"16\"\n    seed: {{ sql: ./db/seed.sql }}\n{}",
            reader("fixtures")
        ),
    )
    .file(
        "db/seed.sql",
        "SELECT pg_sleep(1);\nCREATE TABLE fixtures (v text);\nINSERT INTO fixtures VALUES ('seeded');\n",
    );
    let first = project.up().succeeds();
    let progress = String::from_utf8_lossy(&first.stderr);
    assert!(progress.contains("seeded from seed.sql in "), "{progress}");
    assert_eq!(
        sql(&project, "SELECT string_agg(v, ',') FROM fixtures"),
        "seeded"
    );

    // The volume is not empty now: no later `up` seeds again (the CREATE TABLE
    // would fail if it did), and what was written since stays.
    sql(&project, "INSERT INTO fixtures VALUES ('mine')");
    project.gorae_ok(&["down"]);
    let again = project.up().succeeds();
    let progress = String::from_utf8_lossy(&again.stderr);
    assert!(!progress.contains("seeded"), "{progress}");
    assert_eq!(
        sql(
            &project,
            "SELECT string_agg(v, ',' ORDER BY v) FROM fixtures"
        ),
        "mine,seeded"
    );

    // Without a terminal, --reseed needs --yes, and changes nothing without it.
    let refused = project.run(&["up", "--ci", "--reseed", "db"]).fails_with(2);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("add --yes to confirm"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(
        sql(
            &project,
            "SELECT string_agg(v, ',' ORDER BY v) FROM fixtures"
        ),
        "mine,seeded"
    );
    let reseeded = project.gorae_ok(&["up", "--ci", "--reseed", "db", "--yes"]);
    let progress = String::from_utf8_lossy(&reseeded.stderr);
    assert!(progress.contains("seeded from seed.sql in "), "{progress}");
    assert_eq!(
        sql(&project, "SELECT string_agg(v, ',') FROM fixtures"),
        "seeded"
    );
}

#[test]
fn a_snapshot_seed_fills_a_new_volume_before_the_first_start() {
    let project = project("seed-snap", SERVICES);
    project.up().succeeds();
    fill(&project);
    let rows = table_fingerprint(&project);
    let keys = redis_state(&project);
    project.gorae_ok(&["snapshot", "save", "--ci", "demo"]);
    project.gorae_ok(&["down", "--volumes"]);

    std::fs::write(
        project.path().join("gorae.yaml"),
        project.services_yaml(
            "  db:\n    template: postgres\n    version: \"16\"\n    seed: { snapshot: demo }\n  cache:\n    template: redis\n    version: \"7\"\n    seed: { snapshot: demo }\n",
        ),
    )
    .expect("write gorae.yaml");
    let seeded = project.up().succeeds();
    let progress = String::from_utf8_lossy(&seeded.stderr);
    assert!(
        progress.contains("seeded from snapshot demo in "),
        "{progress}"
    );
    assert_eq!(table_fingerprint(&project), rows);
    assert_eq!(redis_state(&project), keys);
}

#[test]
fn a_seed_that_fails_says_how_to_seed_again() {
    let project = project(
        "seed-fail",
        "  db:\n    template: postgres\n    version: \"16\"\n    seed: { sql: ./seed.sql }\n",
    )
    .file("seed.sql", "INSERT INTO nowhere VALUES (1);\n");
    let failed = project.up().fails_with(6);
    let message = String::from_utf8_lossy(&failed.stderr);
    assert!(
        message.contains("service `db` was not seeded from seed.sql: `psql"),
        "{message}"
    );
    assert!(
        message.contains("relation \"nowhere\" does not exist"),
        "{message}"
    );
    assert!(message.contains("gorae up --reseed db"), "{message}");
}

/// `stat -f` of a directory in a service: `tmpfs` when it is in memory.
fn filesystem(project: &TestProject, service: &str, dir: &str) -> String {
    let out = project.gorae_ok(&["exec", service, "--", "stat", "-f", "-c", "%T", dir]);
    stdout(&out).trim().to_string()
}

#[test]
fn throwaway_mode_keeps_the_data_in_memory_with_durability_off() {
    let project = project(
        "throwaway",
        "  db:\n    template: postgres\n    version: \"16\"\n    throwaway: true\n    seed: { sql: ./seed.sql }\n  cache:\n    template: redis\n    version: \"7\"\n",
    )
    .file("seed.sql", "CREATE TABLE fixtures (v text); INSERT INTO fixtures VALUES ('seeded');\n");
    // db by its own `throwaway: true`, cache by the flag.
    let up = project.run(&["up", "--ci", "--throwaway"]).succeeds();
    let progress = String::from_utf8_lossy(&up.stderr);
    assert!(progress.contains("seeded from seed.sql"), "{progress}");
    for setting in ["fsync", "synchronous_commit", "full_page_writes"] {
        assert_eq!(
            sql(&project, &format!("SHOW {setting}")),
            "off",
            "{setting}"
        );
    }
    assert_eq!(
        filesystem(&project, "db", "/var/lib/postgresql/data"),
        "tmpfs"
    );
    assert_eq!(filesystem(&project, "cache", "/data"), "tmpfs");
    assert_eq!(
        redis(&project, &["CONFIG", "GET", "save"]).trim_end(),
        "save"
    );
    assert_eq!(
        redis(&project, &["CONFIG", "GET", "appendonly"]),
        "appendonly\nno"
    );
    let volumes = support::docker(&[
        "volume",
        "ls",
        "-q",
        "--filter",
        &format!("label=dev.gorae.project={}", project.name()),
    ]);
    assert_eq!(volumes, "", "a throw-away service has no data volume");

    // The seed applies whenever a throw-away service starts empty; while it runs,
    // a no-op `up` leaves its data alone.
    sql(&project, "INSERT INTO fixtures VALUES ('mine')");
    let again = project.run(&["up", "--ci", "--throwaway"]).succeeds();
    assert!(!String::from_utf8_lossy(&again.stderr).contains("seeded"));
    assert_eq!(sql(&project, "SELECT count(*) FROM fixtures"), "2");

    // It comes back seeded whenever it starts empty: after `restart`, and when `up`
    // re-creates it for a changed configuration.
    let restarted = project.gorae_ok(&["restart", "--ci", "db"]);
    assert!(String::from_utf8_lossy(&restarted.stderr).contains("seeded from seed.sql"));
    assert_eq!(
        sql(&project, "SELECT string_agg(v, ',') FROM fixtures"),
        "seeded"
    );
    sql(&project, "INSERT INTO fixtures VALUES ('mine')");
    let project = project.services(
        "  db:\n    template: postgres\n    version: \"16\"\n    throwaway: true\n    seed: { sql: ./seed.sql }\n    env: { TZ: UTC }\n  cache:\n    template: redis\n    version: \"7\"\n",
    );
    let recreated = project.run(&["up", "--ci", "--throwaway"]).succeeds();
    let progress = String::from_utf8_lossy(&recreated.stderr);
    assert!(progress.contains("seeded from seed.sql"), "{progress}");
    assert_eq!(
        sql(&project, "SELECT string_agg(v, ',') FROM fixtures"),
        "seeded"
    );

    let refused = project.run(&["snapshot", "save", "s", "db"]).fails_with(2);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("`db` is throw-away"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

#[test]
fn a_task_seed_runs_once_on_a_new_volume_and_again_after_reseed() {
    let load = r#"psql "$$DATABASE_URL" -v ON_ERROR_STOP=1 -c "SELECT pg_sleep(1); CREATE TABLE IF NOT EXISTS runs (n int); INSERT INTO runs VALUES (1)""#;
    let project = project(
        "seed-task",
        &format!(
            "  db:\n    template: postgres\n    version: \"16\"\n    seed: {{ task: load }}\n  load:\n    image: postgres:16\n    kind: task\n    depends_on: [db]\n    command: {}\n{}",
            serde_json::to_string(&["sh", "-c", load]).expect("json"),
            reader("runs")
        ),
    );
    let first = project.up().succeeds();
    let progress = String::from_utf8_lossy(&first.stderr);
    assert!(progress.contains("seeded from task load in "), "{progress}");
    // Run by this `up` as any task is, and not a second time as the seed.
    assert_eq!(sql(&project, "SELECT count(*) FROM runs"), "1");
    project.up().succeeds();
    assert_eq!(sql(&project, "SELECT count(*) FROM runs"), "1");

    let reseeded = project.gorae_ok(&["up", "--ci", "--reseed", "db", "--yes"]);
    let progress = String::from_utf8_lossy(&reseeded.stderr);
    assert!(progress.contains("seeded from task load in "), "{progress}");
    assert_eq!(sql(&project, "SELECT count(*) FROM runs"), "1");
}
