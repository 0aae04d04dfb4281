//! `gorae export`: the environment written as files that other tools run.

pub mod compose;
pub mod kubernetes;
pub mod swarm;

use crate::config::Project;
use crate::lock::{Lockfile, unprefix};

/// `reference@digest` when gorae.lock has the registry digest of the image `service`
/// pulls (which every machine pulls alike), else the reference as it is.
fn pinned(project: &Project, service: &str, reference: &str, locked: Option<&Lockfile>) -> String {
    let digest = locked
        .and_then(|lock| lock.services.get(service))
        .and_then(|entry| entry.images.get(&unprefix(project, reference)))
        .and_then(|image| image.digest.clone());
    match digest {
        Some(digest) => format!("{reference}@{digest}"),
        None => reference.to_string(),
    }
}

/// A project that uses every key the exports translate, for their tests.
#[cfg(test)]
mod fixture {
    pub const SHOP: &str = r#"name: shop
services:
  cache: { template: redis }
  db: { template: postgres }
  migrate: { image: "tool:1", kind: task, depends_on: [db], command: [sh, -c, "echo $$HOME"] }
  api:
    build: { context: ./api, target: dev, args: { MODE: "a$$b" } }
    image: acme/api:dev
    env: { PRICE: "5$$" }
    ports: ["8080:80"]
    volumes: ["./api:/app", "/app/node_modules", "cache:/root/.cache:ro"]
    secrets: { token: ./secrets/token, pw: { value: "${PW}" } }
    depends_on: [cache, migrate, side]
    stop_signal: SIGINT
    user: node
    extra_hosts: ["host.docker.internal:host-gateway"]
  side: { image: "side:1", ready: { running: 2s } }
"#;

    /// A password read from a command at `up`, which `web` receives inside the
    /// wired DATABASE_URL.
    pub const VAULT: &str = r#"name: vault
services:
  db:
    template: postgres
    env: { POSTGRES_PASSWORD: { secret: { command: [pass, show, db] } } }
  web: { image: "web:1", depends_on: [db] }
"#;

    pub fn vault() -> crate::config::Project {
        crate::config::load_str(VAULT, std::path::Path::new("/p/gorae.yaml"), &|_| None)
            .expect("valid project")
    }

    /// [`SHOP`] loaded from a temporary project directory (kept alive by the
    /// returned guard), with `PW` set to `hunter2`.
    pub fn shop() -> (tempfile::TempDir, crate::config::Project) {
        let dir = tempfile::tempdir().expect("temp dir");
        for (path, text) in [
            ("api/Dockerfile", "FROM node:20 AS dev\n"),
            ("secrets/token", "t"),
        ] {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
            std::fs::write(path, text).expect("write");
        }
        let env = |name: &str| (name == "PW").then(|| "hunter2".to_string());
        let project = crate::config::load_str(SHOP, &dir.path().join("gorae.yaml"), &env)
            .expect("valid project");
        (dir, project)
    }
}
