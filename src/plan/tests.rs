use std::path::Path;

use super::*;
use crate::config::load_str;
use crate::engine::RunOptions;

fn project(yaml: &str) -> Project {
    let no_env = |_: &str| None;
    load_str(yaml, Path::new("/projects/shop/gorae.yaml"), &no_env).expect("valid project")
}

const SHOP: &str = "name: shop
services:
  web:
    image: python:3.12
    depends_on: [db, cache]
    env: { REDIS_URL: redis://override:1 }
  db: { template: postgres, env: { POSTGRES_DB: shop } }
  cache: { template: redis }
  migrate:
    image: python:3.12
    kind: task
    depends_on: [db]
";

#[test]
fn dependencies_come_before_dependents() {
    let plan = desired(&project(SHOP));
    let order: Vec<&str> = plan.services.iter().map(|s| s.name.as_str()).collect();
    let position = |name: &str| order.iter().position(|n| *n == name).expect(name);
    assert!(position("db") < position("web"), "{order:?}");
    assert!(position("cache") < position("web"), "{order:?}");
    assert!(position("db") < position("migrate"), "{order:?}");
}

#[test]
fn dependents_get_exported_variables_and_explicit_env_wins() {
    let plan = desired(&project(SHOP));
    let web = plan.services.iter().find(|s| s.name == "web").expect("web");
    assert!(
        web.spec.env.get("DATABASE_URL").map(String::as_str)
            == Some("postgres://postgres:postgres@db:5432/shop"),
        "{:?}",
        web.spec.env
    );
    assert!(web.spec.env.get("REDIS_URL").map(String::as_str) == Some("redis://override:1"));
    let cache = plan
        .services
        .iter()
        .find(|s| s.name == "cache")
        .expect("cache");
    assert!(
        !cache
            .spec
            .env
            .keys()
            .any(|name| name.starts_with("DATABASE_URL"))
    );
}

#[test]
fn names_labels_network_and_data_volume_follow_the_project() {
    let plan = desired(&project(SHOP));
    assert_eq!(plan.network, "shop_default");
    let db = plan.services.iter().find(|s| s.name == "db").expect("db");
    assert_eq!(db.spec.name, "shop-db");
    assert_eq!(db.spec.aliases, ["db"]);
    assert_eq!(db.volumes, ["shop_db_data"]);
    assert_eq!(db.spec.labels[labels::PROJECT], "shop");
    assert_eq!(db.spec.labels[labels::PROJECT_DIR], "/projects/shop");
    assert_eq!(db.spec.labels[labels::SERVICE], "db");
}

#[test]
fn config_hash_is_stable_and_sensitive_to_spec_and_image() {
    let plan = desired(&project(SHOP));
    let web = &plan
        .services
        .iter()
        .find(|s| s.name == "web")
        .expect("web")
        .spec;
    let again = desired(&project(SHOP));
    let web_again = &again
        .services
        .iter()
        .find(|s| s.name == "web")
        .expect("web")
        .spec;
    assert_eq!(
        config_hash(web, "sha256:a"),
        config_hash(web_again, "sha256:a")
    );
    assert_ne!(config_hash(web, "sha256:a"), config_hash(web, "sha256:b"));
    let mut changed = web.clone();
    changed.env.insert("EXTRA".into(), "1".into());
    assert_ne!(
        config_hash(web, "sha256:a"),
        config_hash(&changed, "sha256:a")
    );
    // The hash label itself never feeds the hash.
    let mut labelled = web.clone();
    labelled
        .labels
        .insert(labels::CONFIG_HASH.into(), "x".into());
    assert_eq!(
        config_hash(web, "sha256:a"),
        config_hash(&labelled, "sha256:a")
    );
}

#[test]
fn config_hash_is_the_same_for_every_name_of_one_image() {
    let plan = desired(&project(SHOP));
    let id = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    // Every way `up`, `up --frozen`, a mirror or a pull by digest names one image.
    let names = [
        "redis:7".to_string(),
        "gorae-test/redis:7".to_string(),
        "mirror.example.com:5000/redis:7".to_string(),
        id.to_string(),
        format!("redis@{id}"),
        format!("127.0.0.1:5000/ns/redis@{id}"),
        String::new(),
    ];
    for service in &plan.services {
        let hashes: Vec<String> = names
            .iter()
            .map(|name| {
                let mut spec = service.spec.clone();
                spec.image = name.clone();
                config_hash(&spec, id)
            })
            .collect();
        assert!(
            hashes.iter().all(|h| *h == hashes[0]),
            "{}: {hashes:?}",
            service.name
        );
        // The content id still decides.
        let mut spec = service.spec.clone();
        spec.image = names[0].clone();
        assert_ne!(config_hash(&spec, id), config_hash(&spec, "sha256:other"));
    }
}

/// Service names in the plan's order.
fn order_of(yaml: &str) -> Vec<String> {
    desired(&project(yaml))
        .services
        .into_iter()
        .map(|s| s.name)
        .collect()
}

/// A project whose services are given as `(name, depends_on)`, written in that order.
fn graph_yaml(services: &[(&str, &[&str])]) -> String {
    let mut yaml = String::from("name: shop\nservices:\n");
    for (name, deps) in services {
        yaml.push_str(&format!(
            "  {name}: {{ image: x, depends_on: [{}] }}\n",
            deps.join(", ")
        ));
    }
    yaml
}

/// Every ordering of `items` (Heap's algorithm), so each role gets every name.
fn permutations<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
    fn heap<T: Clone>(k: usize, items: &mut Vec<T>, out: &mut Vec<Vec<T>>) {
        if k <= 1 {
            out.push(items.clone());
            return;
        }
        for i in 0..k {
            heap(k - 1, items, out);
            let swap = if k.is_multiple_of(2) { i } else { 0 };
            items.swap(swap, k - 1);
        }
    }
    let mut items = items.to_vec();
    let mut out = Vec::new();
    heap(items.len(), &mut items, &mut out);
    out
}

#[test]
fn a_chain_is_planned_from_its_end_whatever_the_names_and_file_order() {
    let all = permutations(&["a", "b", "c", "d"]);
    assert_eq!(all.len(), 24);
    for names in all {
        // names[0] depends on names[1], which depends on names[2], ...
        let [first, second, third, last] = [names[0], names[1], names[2], names[3]];
        let chain: [(&str, &[&str]); 4] = [
            (first, &[second]),
            (second, &[third]),
            (third, &[last]),
            (last, &[]),
        ];
        let mut reversed = chain;
        reversed.reverse();
        for written in [chain, reversed] {
            assert_eq!(
                order_of(&graph_yaml(&written)),
                [last, third, second, first],
                "{written:?}"
            );
        }
    }
}

#[test]
fn a_diamond_is_planned_base_first_sides_by_name_top_last() {
    for names in permutations(&["a", "b", "c", "d"]) {
        let [top, left, right, base] = [names[0], names[1], names[2], names[3]];
        let diamond: [(&str, &[&str]); 4] = [
            (top, &[left, right]),
            (left, &[base]),
            (right, &[base]),
            (base, &[]),
        ];
        let mut reversed = diamond;
        reversed.reverse();
        let sides = if left < right {
            [left, right]
        } else {
            [right, left]
        };
        for written in [diamond, reversed] {
            assert_eq!(
                order_of(&graph_yaml(&written)),
                [base, sides[0], sides[1], top],
                "{written:?}"
            );
        }
    }
}

#[test]
fn independent_services_are_planned_in_name_order() {
    let yaml = graph_yaml(&[("zeta", &[]), ("alpha", &[]), ("mid", &[])]);
    assert_eq!(order_of(&yaml), ["alpha", "mid", "zeta"]);
}

/// A small deterministic generator, so the random graphs are the same on every run.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[test]
fn random_graphs_plan_every_service_once_after_its_dependencies() {
    let mut random = XorShift(0x9e37_79b9_7f4a_7c15);
    for round in 0..60 {
        let size = 2 + random.below(7);
        // Ranks 0..size; a service depends only on lower ranks, so there is no cycle.
        // Names are shuffled so the name order says nothing about the rank.
        let mut names: Vec<String> = (0..size).map(|i| format!("s{i}")).collect();
        for i in (1..size).rev() {
            names.swap(i, random.below(i + 1));
        }
        let deps: Vec<Vec<&str>> = (0..size)
            .map(|rank| {
                (0..rank)
                    .filter(|_| random.below(3) == 0)
                    .map(|lower| names[lower].as_str())
                    .collect()
            })
            .collect();
        let mut written: Vec<(&str, &[&str])> = (0..size)
            .map(|rank| (names[rank].as_str(), deps[rank].as_slice()))
            .collect();
        if round % 2 == 1 {
            written.reverse();
        }
        let order = order_of(&graph_yaml(&written));
        assert_eq!(order.len(), size, "round {round}: {order:?}");
        for (rank, name) in names.iter().enumerate() {
            let at = |n: &str| order.iter().position(|o| o == n);
            let position = at(name).expect("planned");
            assert_eq!(
                order.iter().filter(|o| *o == name).count(),
                1,
                "round {round}: {order:?}"
            );
            for dep in &deps[rank] {
                assert!(
                    at(dep).expect("planned") < position,
                    "round {round}: {dep} after {name} in {order:?}"
                );
            }
        }
    }
}

#[test]
fn every_field_of_a_service_plan_follows_its_configuration() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("src")).expect("src dir");
    let outside = tempfile::tempdir().expect("temp dir");
    let outside_text = outside.path().display().to_string();
    let file = dir.path().join("gorae.yaml");
    let yaml = format!(
        "name: shop
services:
  db: {{ template: postgres, env: {{ POSTGRES_DB: shop }} }}
  web:
    image: python:3.12
    command: [python, -m, http.server]
    ports: [\"8000\"]
    volumes: [\"./src:/app/src:ro\", \"cache:/cache\", \"{outside_text}:/abs\"]
    depends_on: [db]
    env: {{ ZED: \"last\", ALPHA: \"1\", PGHOST: mine }}
    ready: {{ http: /health }}
    timeout: 2m
"
    );
    let no_env = |_: &str| None;
    let project = load_str(&yaml, &file, &no_env).expect("valid project");
    let plan = desired(&project);
    let dir_text = dir.path().display().to_string();

    assert_eq!(plan.project, "shop");
    assert_eq!(plan.project_dir, dir_text);
    assert_eq!(plan.network, "shop_default");
    assert_eq!(
        plan.resource_labels,
        HashMap::from([
            (labels::PROJECT.to_string(), "shop".to_string()),
            (labels::PROJECT_DIR.to_string(), dir_text.clone()),
        ])
    );
    assert_eq!(plan.services.len(), 2);

    let web = &plan.services[1];
    assert_eq!(web.name, "web");
    assert_eq!(web.kind, ServiceKind::Service);
    assert_eq!(
        web.image,
        ImagePlan::Pull {
            reference: "python:3.12".into(),
            platform: None,
        }
    );
    assert_eq!(web.depends_on, ["db"]);
    assert_eq!(
        web.ready,
        Some(Probe::Http {
            port: 8000,
            path: "/health".into()
        })
    );
    assert_eq!(web.ready_timeout, Duration::from_secs(120));
    assert_eq!(web.port, Some(8000));
    assert_eq!(web.volumes, ["shop_cache"]);

    let spec = &web.spec;
    assert_eq!(spec.name, "shop-web");
    assert_eq!(spec.image, "", "filled in once the image is resolved");
    assert_eq!(
        spec.command,
        Some(vec!["python".into(), "-m".into(), "http.server".into()])
    );
    // Sorted by name; the dependency's exports first, the service's own env on top.
    assert_eq!(
        spec.env_assignments(),
        [
            "ALPHA=1",
            "DATABASE_URL=postgres://postgres:postgres@db:5432/shop",
            "PGDATABASE=shop",
            "PGHOST=mine",
            "PGPASSWORD=postgres",
            "PGPORT=5432",
            "PGUSER=postgres",
            "ZED=last",
        ]
    );
    assert_eq!(
        spec.labels,
        BTreeMap::from([
            (labels::PROJECT.to_string(), "shop".to_string()),
            (labels::PROJECT_DIR.to_string(), dir_text.clone()),
            (labels::SERVICE.to_string(), "web".to_string()),
            (labels::KIND.to_string(), "service".to_string()),
        ])
    );
    // The engine's own port type, converted field for field.
    let fields = |ip: &str, host: u16, container: u16, protocol: &str| {
        (ip.to_string(), host, container, protocol.to_string())
    };
    assert_eq!(
        spec.ports
            .iter()
            .map(|p| fields(
                &p.host_ip,
                p.host_port,
                p.container_port,
                p.protocol.as_str()
            ))
            .collect::<Vec<_>>(),
        project.services["web"]
            .ports
            .iter()
            .map(|p| {
                let protocol = match p.protocol {
                    crate::config::Protocol::Tcp => "tcp",
                    crate::config::Protocol::Udp => "udp",
                };
                fields(&p.host_ip, p.host_port, p.container_port, protocol)
            })
            .collect::<Vec<_>>()
    );
    assert!(!spec.ports.is_empty());
    assert_eq!(web.published, project.services["web"].ports);
    assert_eq!(
        spec.mounts,
        [
            Mount::Bind {
                source: format!("{dir_text}/src").into(),
                target: "/app/src".into(),
                read_only: true,
            },
            Mount::Volume {
                name: "shop_cache".into(),
                target: "/cache".into(),
                read_only: false,
            },
            Mount::Bind {
                source: outside_text.clone().into(),
                target: "/abs".into(),
                read_only: false,
            },
        ]
    );
    assert_eq!(spec.network, "shop_default");
    assert_eq!(spec.aliases, ["web"]);

    // A template's data directory comes first, in a volume named after the service.
    let db = &plan.services[0];
    assert_eq!(db.name, "db");
    assert_eq!(db.volumes, ["shop_db_data"]);
    assert_eq!(
        db.spec.mounts,
        [Mount::Volume {
            name: "shop_db_data".into(),
            target: "/var/lib/postgresql/data".into(),
            read_only: false,
        }]
    );
    assert_eq!(db.port, Some(5432));
}

#[test]
fn tasks_are_labelled_as_tasks_and_builds_get_the_project_repository() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("web")).expect("web dir");
    std::fs::write(dir.path().join("web/Dockerfile"), "FROM node:20\n").expect("Dockerfile");
    let yaml = "name: shop
services:
  web: { build: ./web }
  migrate: { image: x, kind: task, volumes: [\"cache:/c:ro\"] }
";
    let no_env = |_: &str| None;
    let project = load_str(yaml, &dir.path().join("gorae.yaml"), &no_env).expect("valid");
    let plan = desired(&project);
    let migrate = &plan.services[0];
    assert_eq!(migrate.name, "migrate");
    assert_eq!(migrate.kind, ServiceKind::Task);
    assert_eq!(migrate.spec.labels[labels::KIND], "task");
    assert_eq!(
        migrate.spec.mounts,
        [Mount::Volume {
            name: "shop_cache".into(),
            target: "/c".into(),
            read_only: true,
        }]
    );
    let web = &plan.services[1];
    assert_eq!(web.spec.labels[labels::KIND], "service");
    assert_eq!(
        web.image,
        ImagePlan::Build(BuildPlan {
            context: dir.path().join("web"),
            dockerfile: DockerfileSource::File {
                path: dir.path().join("web/Dockerfile"),
                base_prefix: None,
            },
            repository: "gorae-shop".into(),
            options: Default::default(),
            never_sent: vec![],
        })
    );
}

/// Every secret file of the project inside a build context is left out of that
/// build, whichever service mounts it; one outside the context is not its concern,
/// nor is a plain bind mount of a directory in the context.
#[test]
fn secret_files_inside_a_build_context_are_never_sent_to_the_engine() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, text) in [
        ("web/Dockerfile", "FROM node:20\n"),
        ("web/config/dev.key", "k"),
        ("web/token", "t"),
        ("api/Dockerfile", "FROM node:20\n"),
        ("outside", "o"),
    ] {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(path, text).expect("write");
    }
    let yaml = "name: shop
services:
  web: { build: ./web, volumes: [\"./web/config:/etc/app\"], secrets: { key: ./web/config/dev.key, other: ./outside } }
  api: { build: ./api }
  tool: { image: x, secrets: { token: ./web/token } }
";
    let no_env = |_: &str| None;
    let project = load_str(yaml, &dir.path().join("gorae.yaml"), &no_env).expect("valid");
    let never_sent = |name: &str| {
        let plan = desired(&project);
        match &plan
            .services
            .iter()
            .find(|s| s.name == name)
            .expect(name)
            .image
        {
            ImagePlan::Build(build) => build.never_sent.clone(),
            ImagePlan::Pull { .. } => panic!("{name} is built"),
        }
    };
    assert_eq!(never_sent("web"), ["config/dev.key", "token"]);
    assert!(never_sent("api").is_empty());
}

#[test]
fn config_hash_is_sixteen_hex_digits_and_pinned() {
    let plan = desired(&project(SHOP));
    let hash = config_hash(&plan.services[0].spec, "sha256:a");
    assert_eq!(hash.len(), 16);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()), "{hash}");
    // Pinned: a change to what feeds the hash re-creates every user's containers, so it
    // must be deliberate (and come with a SPEC_REVISION bump).
    let spec = ContainerSpec {
        name: "p-s".into(),
        image: String::new(),
        command: None,
        env: BTreeMap::from([("A".to_string(), "1".to_string())]),
        labels: BTreeMap::new(),
        ports: Vec::new(),
        mounts: Vec::new(),
        network: "p_default".into(),
        aliases: vec!["s".into()],
        run: RunOptions::default(),
        // Not hashed: where it matters, the engine publishes it at create time.
        probe_ports: vec![5432],
    };
    assert_eq!(config_hash(&spec, "sha256:a"), "f4eba08f195a0cf4");
    // A process option changes the hash only when it is set.
    let mut signalled = spec.clone();
    signalled.run.stop_signal = Some("SIGINT".into());
    assert_ne!(config_hash(&signalled, "sha256:a"), "f4eba08f195a0cf4");
}

#[test]
fn a_dependent_waits_for_the_next_round_behind_its_tie_mates() {
    // `b` has no dependencies; `c` and `a` both wait only for `b`, so they come next, by
    // name, although `c` sorts right after `b`.
    let yaml = graph_yaml(&[("d", &["a", "c"]), ("a", &["b"]), ("c", &["b"]), ("b", &[])]);
    assert_eq!(order_of(&yaml), ["b", "a", "c", "d"]);
    let yaml = graph_yaml(&[("api", &["db"]), ("db", &[]), ("redis", &[])]);
    assert_eq!(order_of(&yaml), ["db", "redis", "api"]);
}

#[test]
fn a_cycle_that_slipped_past_validation_still_plans_every_service_once() {
    let mut project = project(&graph_yaml(&[("a", &["b"]), ("b", &[]), ("c", &[])]));
    project
        .services
        .get_mut("b")
        .expect("b")
        .depends_on
        .push("a".into());
    assert_eq!(
        dependency_order(&project),
        ["c", "a", "b"],
        "the free service first, then the cycle in name order"
    );
}

#[test]
fn task_hash_follows_the_spec_and_the_inputs_but_not_the_image_tag() {
    let plan = desired(&project(SHOP));
    let migrate = &plan
        .services
        .iter()
        .find(|s| s.name == "migrate")
        .expect("migrate")
        .spec;
    let hash = task_hash(migrate, "sha256:inputs");
    assert_eq!(hash.len(), 16, "{hash}");
    assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "{hash}");
    // The same spec and inputs: the task does not run again.
    assert_eq!(task_hash(&migrate.clone(), "sha256:inputs"), hash);
    // A new build tag alone (every change of the build context gives one) is no change.
    let mut retagged = migrate.clone();
    retagged.image = "gorae-shop-migrate:0123abcd".into();
    assert_eq!(task_hash(&retagged, "sha256:inputs"), hash);
    // Changed inputs or a changed spec run it again.
    assert_ne!(task_hash(migrate, "sha256:other"), hash);
    let mut changed = migrate.clone();
    changed.env.insert("EXTRA".into(), "1".into());
    assert_ne!(task_hash(&changed, "sha256:inputs"), hash);
    // The inputs digest is not taken for an image id.
    assert_ne!(config_hash(migrate, "sha256:inputs"), hash);
}

/// Named services bring what they depend on, directly or not, and nothing else.
#[test]
fn a_selection_closes_over_dependencies() {
    let yaml = "name: shop\nservices:\n  db: { template: postgres }\n  cache: { template: redis }\n  migrate: { image: x, kind: task, depends_on: [db] }\n  web: { image: x, depends_on: [migrate, cache] }\n  admin: { image: x, depends_on: [db] }\n";
    let no_env = |_: &str| None;
    let project = load_str(yaml, Path::new("/shop/gorae.yaml"), &no_env).expect("valid");
    let plan = desired(&project);
    let names =
        |only: Option<&[String]>| -> Vec<String> { selection(&plan, only).into_iter().collect() };
    let cases: [(&[&str], &[&str]); 4] = [
        (&["web"], &["cache", "db", "migrate", "web"]),
        (&["migrate"], &["db", "migrate"]),
        (&["cache", "admin"], &["admin", "cache", "db"]),
        (&["db"], &["db"]),
    ];
    for (only, expected) in cases {
        let only: Vec<String> = only.iter().map(ToString::to_string).collect();
        assert_eq!(names(Some(&only)), expected, "{only:?}");
    }
    assert_eq!(names(None).len(), 5);
}

#[test]
fn only_long_running_services_built_from_a_template_run_under_the_supervisor() {
    let dir = tempfile::tempdir().expect("temp dir");
    for app in ["web", "seed", "own"] {
        std::fs::create_dir(dir.path().join(app)).expect("app dir");
        std::fs::write(dir.path().join(app).join("package.json"), "{}").expect("manifest");
    }
    std::fs::write(dir.path().join("own/Dockerfile"), "FROM node:20\n").expect("Dockerfile");
    let yaml = "name: shop
services:
  web: { template: node, build: ./web, command: [node, a.js] }
  seed: { template: node, build: ./seed, command: [node, a.js], kind: task }
  own: { build: ./own, command: [node, a.js] }
  plain: { image: node:20, command: [node, a.js] }
";
    let no_env = |_: &str| None;
    let project = load_str(yaml, &dir.path().join("gorae.yaml"), &no_env).expect("valid");
    let plan = desired(&project);
    let command = |name: &str| {
        let service = plan.services.iter().find(|s| s.name == name).expect(name);
        service.spec.command.clone().expect("a command")
    };
    let plain = ["node", "a.js"].map(String::from).to_vec();
    assert_eq!(command("web"), crate::watch::supervise::wrap(&plain));
    for unwrapped in ["seed", "own", "plain"] {
        assert_eq!(command(unwrapped), plain, "{unwrapped}");
    }
}
