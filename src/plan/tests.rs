use std::path::Path;

use super::*;
use crate::config::load_str;

fn project(yaml: &str) -> Project {
    let no_env = |_: &str| None;
    load_str(yaml, Path::new("/projects/shop/gorae.yaml"), &no_env).expect("valid project")
}

fn existing(service: &str, hash: &str, state: &str, status: &str) -> ExistingContainer {
    ExistingContainer {
        id: format!("{service}-id"),
        name: format!("shop-{service}"),
        service: service.into(),
        kind: "service".into(),
        project_dir: "/projects/shop".into(),
        config_hash: hash.into(),
        state: state.into(),
        status: status.into(),
        created: 0,
        ports: Vec::new(),
        addresses: Default::default(),
    }
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
        web.spec
            .env
            .contains(&"DATABASE_URL=postgres://postgres:postgres@db:5432/shop".to_string()),
        "{:?}",
        web.spec.env
    );
    assert!(
        web.spec
            .env
            .contains(&"REDIS_URL=redis://override:1".to_string())
    );
    let cache = plan
        .services
        .iter()
        .find(|s| s.name == "cache")
        .expect("cache");
    assert!(!cache.spec.env.iter().any(|e| e.starts_with("DATABASE_URL")));
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
    changed.env.push("EXTRA=1".into());
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

#[test]
fn decisions_table() {
    use ServiceKind::{Service, Task};
    let keep = |s: &str| Action::Keep {
        id: format!("{s}-id"),
    };
    let start = |s: &str| Action::Start {
        id: format!("{s}-id"),
    };
    let cases = [
        (Service, None, Action::Create),
        (
            Service,
            Some(existing("a", "h1", "running", "Up 1 minute")),
            keep("a"),
        ),
        (
            Service,
            Some(existing("a", "h1", "exited", "Exited (0) 1 minute ago")),
            start("a"),
        ),
        (
            Service,
            Some(existing("a", "h1", "created", "Created")),
            start("a"),
        ),
        (
            Service,
            Some(existing("a", "old", "running", "Up 1 minute")),
            Action::Recreate {
                old_id: "a-id".into(),
            },
        ),
        (
            Task,
            Some(existing("t", "h1", "exited", "Exited (0) 5 seconds ago")),
            keep("t"),
        ),
        (
            Task,
            Some(existing("t", "h1", "exited", "Exited (2) 5 seconds ago")),
            start("t"),
        ),
        (
            Task,
            Some(existing("t", "h1", "running", "Up 2 seconds")),
            keep("t"),
        ),
    ];
    for (kind, container, expected) in cases {
        assert_eq!(
            decide(kind, "h1", container.as_ref()),
            expected,
            "{container:?}"
        );
    }
}
