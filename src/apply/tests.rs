//! apply's decisions on failure, against an in-memory engine: what it skips, what it
//! removes, what it leaves running, and which error ends the `up`. What the engine
//! itself does is tested on the real one (tests/engine_up.rs, tests/newcomer).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::*;
use crate::config::{Probe, Seed, load_str};
use crate::engine::{ContainerAddress, ImageInfo, Scope, labels};
use crate::observe::{ImageFound, Observed};
use crate::ui::Mode;

const SHOP: &str = "name: shop
services:
  db: { image: postgres:16 }
  web: { image: node:20, depends_on: [db] }
  seed: { image: node:20, kind: task, depends_on: [db] }
";

/// A container of the in-memory engine.
#[derive(Debug, Clone)]
struct Held {
    name: String,
    /// Empty for a container gorae does not manage.
    service: String,
    image: String,
    running: bool,
}

#[derive(Default)]
struct State {
    containers: BTreeMap<String, Held>,
    next_id: u32,
    /// Every change, in order: `create NAME`, `start NAME`, `remove NAME`, `rename A B`.
    calls: Vec<String>,
    /// The timeout each readiness wait was given, by service.
    waits: HashMap<String, Duration>,
}

/// An engine in memory, and how its services behave.
#[derive(Default)]
struct Fake {
    state: Mutex<State>,
    /// Services whose image cannot be had.
    no_image: BTreeSet<String>,
    /// Services that exit with code 1 instead of getting ready.
    crash: BTreeSet<String>,
    /// Services that never get ready: their wait lasts until its deadline.
    never_ready: BTreeSet<String>,
    /// Tasks that never exit.
    never_exit: BTreeSet<String>,
    /// Services whose start the engine refuses, with its words.
    start_refused: HashMap<String, String>,
    /// Services in which a SQL file fails.
    bad_sql: BTreeSet<String>,
}

impl Fake {
    /// Holds a container, as if an earlier `up` (or someone else) made it.
    fn holding(self, id: &str, name: &str, service: &str, running: bool) -> Fake {
        self.state.lock().unwrap().containers.insert(
            id.into(),
            Held {
                name: name.into(),
                service: service.into(),
                image: "old".into(),
                running,
            },
        );
        self
    }

    fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }

    /// The container of that name: its service, image and whether it runs.
    fn named(&self, name: &str) -> Option<Held> {
        let state = self.state.lock().unwrap();
        state.containers.values().find(|c| c.name == name).cloned()
    }

    fn has_id(&self, id: &str) -> bool {
        self.state.lock().unwrap().containers.contains_key(id)
    }

    fn service_of(&self, id: &str) -> String {
        let state = self.state.lock().unwrap();
        state
            .containers
            .get(id)
            .map(|c| c.service.clone())
            .unwrap_or_default()
    }

    fn record(&self, call: String) {
        self.state.lock().unwrap().calls.push(call);
    }

    fn set_running(&self, id: &str, running: bool) {
        if let Some(held) = self.state.lock().unwrap().containers.get_mut(id) {
            held.running = running;
        }
    }
}

impl Target for Fake {
    async fn image(
        &self,
        service: &ServicePlan,
    ) -> Result<crate::images::ResolvedImage, ImageError> {
        if self.no_image.contains(&service.name) {
            return Err(ImageError::Pull {
                image: "node:20".into(),
                reason: "manifest unknown".into(),
            });
        }
        Ok(crate::images::ResolvedImage {
            reference: format!("img-{}", service.name),
            info: ImageInfo {
                id: format!("sha256:{}", service.name),
                repo_digests: Vec::new(),
            },
            built: false,
            built_here: false,
        })
    }

    async fn check_resources(&self, _scope: &Scope) -> Result<(), ObserveError> {
        Ok(())
    }

    async fn ensure_network(
        &self,
        _name: &str,
        _labels: &HashMap<String, String>,
    ) -> Result<(), EngineError> {
        Ok(())
    }

    async fn ensure_volume(
        &self,
        _name: &str,
        _labels: &HashMap<String, String>,
    ) -> Result<(), EngineError> {
        Ok(())
    }

    async fn create_container(&self, spec: &ContainerSpec) -> Result<String, EngineError> {
        let mut state = self.state.lock().unwrap();
        if state.containers.values().any(|c| c.name == spec.name) {
            return Err(EngineError::Conflict(format!(
                "Conflict. The container name \"/{}\" is already in use",
                spec.name
            )));
        }
        state.next_id += 1;
        let id = format!("new{}", state.next_id);
        state.containers.insert(
            id.clone(),
            Held {
                name: spec.name.clone(),
                service: spec.labels[labels::SERVICE].clone(),
                image: spec.image.clone(),
                running: false,
            },
        );
        state.calls.push(format!("create {}", spec.name));
        Ok(id)
    }

    async fn rename_container(&self, id: &str, name: &str) -> Result<(), EngineError> {
        let mut state = self.state.lock().unwrap();
        if state.containers.values().any(|c| c.name == name) {
            return Err(EngineError::Conflict(format!("name {name} in use")));
        }
        let held = state
            .containers
            .get_mut(id)
            .ok_or_else(|| EngineError::NotFound(format!("No such container: {id}")))?;
        let call = format!("rename {} {name}", held.name);
        held.name = name.to_string();
        state.calls.push(call);
        Ok(())
    }

    async fn start_container(&self, id: &str) -> Result<(), EngineError> {
        let service = self.service_of(id);
        if let Some(words) = self.start_refused.get(&service) {
            return Err(EngineError::Api(words.clone()));
        }
        let mut state = self.state.lock().unwrap();
        let held = state
            .containers
            .get_mut(id)
            .ok_or_else(|| EngineError::NotFound(format!("No such container: {id}")))?;
        held.running = true;
        let call = format!("start {}", held.name);
        state.calls.push(call);
        Ok(())
    }

    async fn stop_and_remove(&self, id: &str) -> Result<(), EngineError> {
        self.remove_container(id).await
    }

    async fn remove_container(&self, id: &str) -> Result<(), EngineError> {
        let removed = self.state.lock().unwrap().containers.remove(id);
        if let Some(held) = removed {
            self.record(format!("remove {}", held.name));
        }
        Ok(())
    }

    async fn scoped_containers(
        &self,
        _scope: &Scope,
    ) -> Result<Vec<ExistingContainer>, EngineError> {
        let state = self.state.lock().unwrap();
        Ok(state
            .containers
            .iter()
            .filter(|(_, held)| !held.service.is_empty())
            .map(|(id, held)| existing(id, &held.name, &held.service, held.running))
            .collect())
    }

    async fn still_ready(
        &self,
        _id: &str,
        _address: &ContainerAddress,
        _probe: Option<&Probe>,
    ) -> bool {
        true
    }

    async fn wait_ready(
        &self,
        id: &str,
        _network: &str,
        _probe: Option<&Probe>,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(), NotReady> {
        let service = self.service_of(id);
        self.state
            .lock()
            .unwrap()
            .waits
            .insert(service.clone(), timeout);
        if self.crash.contains(&service) {
            // A crash shows some time after the start, as on the real engine.
            tokio::time::sleep(Duration::from_millis(20)).await;
            self.set_running(id, false);
            return Err(NotReady::Exited {
                code: 1,
                oom: false,
            });
        }
        if self.never_ready.contains(&service) {
            tokio::time::sleep_until(deadline.into()).await;
            return Err(NotReady::Timeout {
                timeout,
                last: None,
            });
        }
        Ok(())
    }

    async fn wait_exit(&self, id: &str) -> Result<i64, EngineError> {
        if self.never_exit.contains(&self.service_of(id)) {
            std::future::pending::<()>().await;
        }
        self.set_running(id, false);
        Ok(0)
    }

    async fn last_logs(&self, id: &str, _tail: usize) -> Result<String, EngineError> {
        Ok(format!("last words of {}", self.service_of(id)))
    }

    async fn run_sql_file(&self, id: &str, file: &Path, _command: &[String]) -> anyhow::Result<()> {
        let service = self.service_of(id);
        self.record(format!("sql {} in {service}", file.display()));
        if self.bad_sql.contains(&service) {
            anyhow::bail!("ERROR: relation \"nowhere\" does not exist");
        }
        Ok(())
    }
}

/// A container as the engine lists it, made by an earlier `up` of another
/// configuration (its hash matches nothing, so a decision re-creates it).
fn existing(id: &str, name: &str, service: &str, running: bool) -> ExistingContainer {
    ExistingContainer {
        id: id.into(),
        name: name.into(),
        service: service.into(),
        kind: "service".into(),
        project_dir: "/projects/shop".into(),
        config_hash: "from-an-older-file".into(),
        fields: String::new(),
        image_id: "sha256:old".into(),
        state: if running { "running" } else { "exited" }.into(),
        status: String::new(),
        created: 0,
        ports: Vec::new(),
        probe_ports: Vec::new(),
        addresses: Default::default(),
    }
}

fn shop() -> Plan {
    let no_env = |_: &str| None;
    let project =
        load_str(SHOP, Path::new("/projects/shop/gorae.yaml"), &no_env).expect("valid project");
    plan::desired(&project)
}

/// What observe would find: every image here, and `containers` (planned ones by
/// service, the rest orphans).
fn observed(plan: &Plan, containers: Vec<ExistingContainer>) -> Observed {
    let (containers, orphans) = observe::match_containers(plan, containers);
    Observed {
        containers,
        orphans,
        images: plan
            .services
            .iter()
            .map(|s| {
                let found = ImageFound::Present {
                    reference: format!("img-{}", s.name),
                    id: format!("sha256:{}", s.name),
                };
                (s.name.clone(), found)
            })
            .collect(),
        ..Observed::default()
    }
}

async fn run(
    fake: &Fake,
    plan: &Plan,
    observed: &Observed,
    only: Option<&[String]>,
    timeout: Option<Duration>,
) -> Result<UpReport, UpError> {
    let options = UpOptions {
        timeout,
        only: only.map(<[String]>::to_vec),
        ..UpOptions::default()
    };
    run_with(fake, plan, observed, &options).await
}

async fn run_with(
    fake: &Fake,
    plan: &Plan,
    observed: &Observed,
    options: &UpOptions,
) -> Result<UpReport, UpError> {
    let decision = plan::decide(plan, observed, options.only.as_deref(), &options.rerun);
    let ui = Ui::new(Mode::Plain, false);
    carry_out(fake, plan, &ui, options, &decision).await
}

/// Options that seed db from `seed`.
fn seeding_db(seed: Seed, only_when_started: bool) -> UpOptions {
    UpOptions {
        seeds: BTreeMap::from([(
            "db".to_string(),
            PendingSeed {
                seed,
                only_when_started,
            },
        )]),
        ..UpOptions::default()
    }
}

fn sql_seed() -> Seed {
    Seed::Sql {
        path: "/projects/shop/seed.sql".into(),
        command: vec!["psql".into()],
    }
}

fn position(calls: &[String], call: &str) -> usize {
    calls
        .iter()
        .position(|c| c == call)
        .unwrap_or_else(|| panic!("no `{call}` in {calls:?}"))
}

#[tokio::test]
async fn a_failed_dependency_skips_its_dependents_and_removes_what_was_made_for_them() {
    let plan = shop();
    let fake = Fake {
        crash: BTreeSet::from(["db".to_string()]),
        ..Fake::default()
    };
    let err = run(&fake, &plan, &observed(&plan, Vec::new()), None, None)
        .await
        .expect_err("db crashes");
    let UpError::Services { failures, running } = &err else {
        panic!("a service failure, not {err:?}");
    };
    let failed: Vec<&str> = failures.iter().map(|f| f.service.as_str()).collect();
    assert_eq!(
        failed,
        ["db"],
        "only the cause is a failure; the rest are skipped"
    );
    assert_eq!(failures[0].reason, "exited with code 1");
    assert_eq!(failures[0].logs, "last words of db");
    assert!(running.is_empty(), "{running:?}");
    assert_eq!(err.exit_code(), ExitCode::ServiceFailed);
    // Created early while db started, never started, and gone again.
    let calls = fake.calls();
    for dependent in ["shop-web", "shop-seed"] {
        assert!(calls.contains(&format!("create {dependent}")), "{calls:?}");
        assert!(!calls.contains(&format!("start {dependent}")), "{calls:?}");
        assert!(fake.named(dependent).is_none(), "{dependent} left behind");
    }
}

#[tokio::test]
async fn a_dependent_is_created_once_its_dependency_has_started_and_started_after() {
    let plan = shop();
    let fake = Fake::default();
    run(&fake, &plan, &observed(&plan, Vec::new()), None, None)
        .await
        .expect("up succeeds");
    let calls = fake.calls();
    for dependent in ["shop-web", "shop-seed"] {
        let created = position(&calls, &format!("create {dependent}"));
        assert!(position(&calls, "start shop-db") < created, "{calls:?}");
        assert!(created < position(&calls, &format!("start {dependent}")));
    }
    assert_eq!(calls.len(), 6, "one create and one start each: {calls:?}");
}

#[tokio::test]
async fn a_dependent_of_a_service_that_never_started_is_never_created() {
    let plan = shop();
    let fake = Fake {
        start_refused: HashMap::from([("db".to_string(), "no".to_string())]),
        ..Fake::default()
    };
    run(&fake, &plan, &observed(&plan, Vec::new()), None, None)
        .await
        .expect_err("db cannot start");
    assert_eq!(fake.calls(), ["create shop-db"]);
}

#[tokio::test]
async fn a_recreated_service_whose_dependency_fails_keeps_its_old_container_running() {
    let plan = shop();
    let fake = Fake {
        crash: BTreeSet::from(["db".to_string()]),
        ..Fake::default()
    }
    .holding("old-web", "shop-web", "web", true);
    let found = observed(&plan, vec![existing("old-web", "shop-web", "web", true)]);
    let err = run(&fake, &plan, &found, None, None)
        .await
        .expect_err("db crashes");
    let UpError::Services { running, .. } = &err else {
        panic!("a service failure, not {err:?}");
    };
    assert_eq!(running, &["web"], "the old web still serves");
    assert!(fake.has_id("old-web"));
    assert_eq!(fake.named("shop-web").map(|c| c.image), Some("old".into()));
    assert!(
        fake.named("shop-web-next").is_none(),
        "the spare is removed"
    );
    assert!(err.to_string().contains("left running: web"), "{err}");
}

#[tokio::test]
async fn a_recreation_makes_the_new_container_under_a_spare_name_then_takes_the_name_over() {
    let plan = shop();
    let fake = Fake::default().holding("old-web", "shop-web", "web", true);
    let found = observed(&plan, vec![existing("old-web", "shop-web", "web", true)]);
    let report = run(&fake, &plan, &found, None, None)
        .await
        .expect("up succeeds");
    assert!(report.created.contains(&"web".to_string()), "{report:?}");
    let calls = fake.calls();
    let spare = position(&calls, "create shop-web-next");
    let old_gone = position(&calls, "remove shop-web");
    let renamed = position(&calls, "rename shop-web-next shop-web");
    assert!(spare < old_gone && old_gone < renamed, "{calls:?}");
    assert!(renamed < position(&calls, "start shop-web"), "{calls:?}");
    let web = fake.named("shop-web").expect("web");
    assert_eq!((web.image.as_str(), web.running), ("img-web", true));
    assert!(!fake.has_id("old-web"));
}

#[tokio::test]
async fn a_spare_left_by_an_interrupted_up_falls_back_to_the_plain_name() {
    let plan = shop();
    let fake = Fake::default()
        .holding("old-web", "shop-web", "web", true)
        .holding("spare", "shop-web-next", "web", false);
    // Only web (and db): orphans are left alone, so the spare is still there.
    let found = observed(
        &plan,
        vec![
            existing("old-web", "shop-web", "web", true),
            existing("spare", "shop-web-next", "web", false),
        ],
    );
    let only = ["web".to_string()];
    let report = run(&fake, &plan, &found, Some(&only), None)
        .await
        .expect("up succeeds");
    assert!(report.created.contains(&"web".to_string()), "{report:?}");
    assert!(report.removed.is_empty(), "{report:?}");
    let web = fake.named("shop-web").expect("web");
    assert_eq!((web.image.as_str(), web.running), ("img-web", true));
    assert!(!fake.has_id("old-web"));
    assert!(
        fake.has_id("spare"),
        "the next full `up` removes it as an orphan"
    );
}

#[tokio::test]
async fn a_container_gorae_does_not_manage_holding_the_name_is_a_conflict() {
    let plan = shop();
    let fake = Fake::default().holding("theirs", "shop-web", "", true);
    let err = run(&fake, &plan, &observed(&plan, Vec::new()), None, None)
        .await
        .expect_err("the name is taken");
    assert!(
        matches!(&err, UpError::NameTaken { name, .. } if name == "shop-web"),
        "{err:?}"
    );
    assert_eq!(err.exit_code(), ExitCode::Conflict);
    let message = err.to_string();
    assert!(message.contains("is already in use"), "{message}");
    assert!(
        message.contains("hint: a container named `shop-web` exists but gorae does not manage it"),
        "{message}"
    );
    let theirs = fake.named("shop-web").expect("still there");
    assert!(theirs.running && theirs.service.is_empty(), "left alone");
}

#[tokio::test]
async fn orphans_are_removed_before_anything_is_created() {
    let plan = shop();
    let fake = Fake::default()
        .holding("gone", "shop-cache", "cache", true)
        .holding("twin", "shop-db-2", "db", true);
    let found = observed(
        &plan,
        vec![
            existing("gone", "shop-cache", "cache", true),
            existing("twin", "shop-db-2", "db", true),
        ],
    );
    let report = run(&fake, &plan, &found, None, None)
        .await
        .expect("up succeeds");
    let removed: BTreeSet<&str> = report.removed.iter().map(String::as_str).collect();
    assert_eq!(removed, BTreeSet::from(["cache", "db"]));
    let calls = fake.calls();
    let last_removal =
        position(&calls, "remove shop-cache").max(position(&calls, "remove shop-db-2"));
    assert!(
        last_removal < position(&calls, "create shop-db"),
        "{calls:?}"
    );
    assert!(!fake.has_id("gone") && !fake.has_id("twin"));
}

#[tokio::test]
async fn bringing_up_some_services_removes_no_orphan() {
    let plan = shop();
    let fake = Fake::default().holding("gone", "shop-cache", "cache", true);
    let found = observed(&plan, vec![existing("gone", "shop-cache", "cache", true)]);
    let only = ["db".to_string()];
    let report = run(&fake, &plan, &found, Some(&only), None)
        .await
        .expect("up succeeds");
    assert!(report.removed.is_empty(), "{report:?}");
    assert!(fake.has_id("gone"));
    assert_eq!(report.created, ["db"]);
}

#[tokio::test]
async fn the_overall_timeout_cuts_a_services_own_and_is_a_timeout() {
    let plan = shop();
    let own = plan
        .services
        .iter()
        .find(|s| s.name == "db")
        .unwrap()
        .ready_timeout;
    assert!(
        own >= Duration::from_secs(30),
        "the service's own is the longer"
    );
    let fake = Fake {
        never_ready: BTreeSet::from(["db".to_string()]),
        ..Fake::default()
    };
    let started = Instant::now();
    let overall = Duration::from_secs(1);
    let err = run(
        &fake,
        &plan,
        &observed(&plan, Vec::new()),
        None,
        Some(overall),
    )
    .await
    .expect_err("db is never ready");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(started.elapsed() >= overall, "{:?}", started.elapsed());
    // Said as the user set it, not as what was left of it when db started.
    assert_eq!(fake.state.lock().unwrap().waits["db"], overall);
    let UpError::Services { failures, .. } = &err else {
        panic!("a service failure, not {err:?}");
    };
    assert!(failures.iter().all(|f| f.timed_out), "{failures:?}");
    assert_eq!(failures[0].reason, "not ready after 1s");
    assert_eq!(err.exit_code(), ExitCode::Timeout);
}

#[tokio::test]
async fn a_task_unfinished_at_the_deadline_is_a_timeout_with_its_logs() {
    let plan = shop();
    let fake = Fake {
        never_exit: BTreeSet::from(["seed".to_string()]),
        ..Fake::default()
    };
    let only = ["seed".to_string()];
    let err = run(
        &fake,
        &plan,
        &observed(&plan, Vec::new()),
        Some(&only),
        Some(Duration::from_secs(1)),
    )
    .await
    .expect_err("seed never exits");
    let UpError::Services { failures, running } = &err else {
        panic!("a service failure, not {err:?}");
    };
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].service, "seed");
    assert!(failures[0].timed_out);
    assert_eq!(failures[0].reason, "did not finish within 1s");
    assert_eq!(failures[0].logs, "last words of seed");
    assert_eq!(running, &["db", "seed"]);
    assert_eq!(err.exit_code(), ExitCode::Timeout);
}

#[tokio::test]
async fn a_port_taken_after_observing_ends_up_in_the_engines_words_and_starts_no_dependent() {
    let plan = shop();
    let words = "driver failed programming external connectivity: Bind for 127.0.0.1:5432 failed: port is already allocated";
    let fake = Fake {
        start_refused: HashMap::from([("db".to_string(), words.to_string())]),
        ..Fake::default()
    };
    let err = run(&fake, &plan, &observed(&plan, Vec::new()), None, None)
        .await
        .expect_err("db cannot start");
    assert!(
        matches!(&err, UpError::Engine(EngineError::Api(said)) if said == words),
        "{err:?}"
    );
    let calls = fake.calls();
    assert!(!calls.iter().any(|c| c.starts_with("start")), "{calls:?}");
    assert!(fake.named("shop-web").is_none() && fake.named("shop-seed").is_none());
}

#[tokio::test]
async fn an_image_that_cannot_be_had_ends_up_with_its_own_code_and_skips_dependents() {
    let plan = shop();
    let fake = Fake {
        no_image: BTreeSet::from(["db".to_string()]),
        ..Fake::default()
    };
    let err = run(&fake, &plan, &observed(&plan, Vec::new()), None, None)
        .await
        .expect_err("no image for db");
    assert!(
        matches!(&err, UpError::Image(ImageError::Pull { .. })),
        "{err:?}"
    );
    assert_eq!(err.exit_code(), ExitCode::ImageUnavailable);
    let calls = fake.calls();
    assert!(!calls.iter().any(|c| c.starts_with("start")), "{calls:?}");
    assert!(fake.named("shop-web").is_none() && fake.named("shop-db").is_none());
}

#[test]
fn a_fatal_failure_is_shown_with_its_causes_on_one_line() {
    let unreadable = std::io::Error::other("disk gone");
    let err = ImageError::context("web", unreadable);
    assert_eq!(
        with_causes(&err),
        "cannot read the build context of service `web`: disk gone"
    );
}

#[tokio::test]
async fn a_sql_seed_runs_once_its_service_answers_and_before_any_dependent_starts() {
    let plan = shop();
    let fake = Fake::default();
    run_with(
        &fake,
        &plan,
        &observed(&plan, Vec::new()),
        &seeding_db(sql_seed(), false),
    )
    .await
    .expect("up succeeds");
    let calls = fake.calls();
    let seeded = position(&calls, "sql /projects/shop/seed.sql in db");
    assert!(position(&calls, "start shop-db") < seeded, "{calls:?}");
    for dependent in ["start shop-web", "start shop-seed"] {
        assert!(seeded < position(&calls, dependent), "{calls:?}");
    }
}

#[tokio::test]
async fn a_failed_sql_seed_fails_its_service_and_skips_its_dependents() {
    let plan = shop();
    let fake = Fake {
        bad_sql: BTreeSet::from(["db".to_string()]),
        ..Fake::default()
    };
    let err = run_with(
        &fake,
        &plan,
        &observed(&plan, Vec::new()),
        &seeding_db(sql_seed(), false),
    )
    .await
    .expect_err("the seed fails");
    let UpError::Services { failures, running } = &err else {
        panic!("a service failure, not {err:?}");
    };
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].service, "db");
    assert!(
        failures[0]
            .reason
            .starts_with("was not seeded from seed.sql: ERROR: relation \"nowhere\""),
        "{}",
        failures[0].reason
    );
    assert!(failures[0].reason.contains("gorae up --reseed db"));
    assert_eq!(running, &["db"], "db runs, unseeded, for a look");
    assert_eq!(err.exit_code(), ExitCode::ServiceFailed);
    let calls = fake.calls();
    assert!(!calls.contains(&"start shop-web".to_string()), "{calls:?}");
}

#[tokio::test]
async fn a_seed_task_starts_once_its_service_answers_and_its_dependents_wait_for_it() {
    let plan = shop();
    // The task never finishes: web, which waits for db's seed, must never start.
    let fake = Fake {
        never_exit: BTreeSet::from(["seed".to_string()]),
        ..Fake::default()
    };
    let mut options = seeding_db(
        Seed::Task {
            name: "seed".into(),
        },
        false,
    );
    options.timeout = Some(Duration::from_millis(300));
    let err = run_with(&fake, &plan, &observed(&plan, Vec::new()), &options)
        .await
        .expect_err("the seed task never ends");
    let calls = fake.calls();
    assert!(calls.contains(&"start shop-seed".to_string()), "{calls:?}");
    assert!(!calls.contains(&"start shop-web".to_string()), "{calls:?}");
    let UpError::Services { failures, .. } = &err else {
        panic!("a service failure, not {err:?}");
    };
    let db = failures
        .iter()
        .find(|f| f.service == "db")
        .expect("db failed");
    assert!(
        db.reason
            .starts_with("was not seeded from task seed: `seed` did not succeed"),
        "{}",
        db.reason
    );
}

#[tokio::test]
async fn a_throwaway_seed_applies_when_the_service_starts_and_not_while_it_runs() {
    let plan = shop();
    let up_to_date = |running: bool| {
        let decision = plan::decide(&plan, &observed(&plan, Vec::new()), None, &[]);
        let step = decision.steps.iter().find(|s| s.service == "db").unwrap();
        let spec = step.spec_for("img-db", "sha256:db");
        let mut container = existing("c1", "shop-db", "db", running);
        container.kind = spec.labels[labels::KIND].clone();
        container.config_hash = spec.labels[labels::CONFIG_HASH].clone();
        container.fields = spec.labels[labels::FIELDS].clone();
        container.image_id = "sha256:db".into();
        container
    };
    // Whether an `up` that finds db up to date, running or not, runs the SQL file.
    let seeds_when = async |running: bool| {
        let fake = Fake::default().holding("c1", "shop-db", "db", running);
        run_with(
            &fake,
            &plan,
            &observed(&plan, vec![up_to_date(running)]),
            &seeding_db(sql_seed(), true),
        )
        .await
        .expect("up succeeds");
        fake.calls().iter().any(|c| c.starts_with("sql "))
    };
    // Kept running: its tmpfs data is still there.
    assert!(!seeds_when(true).await);
    // Stopped, it starts empty and is seeded again.
    assert!(seeds_when(false).await);
}
