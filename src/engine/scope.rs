//! Which engine resources are this project's: the one place every command reads them.
//! Listing by the project name alone is private to the engine module, so a command
//! can only get its resources through [`observe`] (name, directory and the clash
//! check) or by both labels at once ([`Engine::scoped_containers`]).
//!
//! A project is its name AND its directory. Another directory may claim the same
//! name (copied gorae.yaml, two checkouts); its containers, network and data volumes
//! carry the same `dev.gorae.project` label and, since engine names derive from the
//! project name, the same names. [`observe`] lists everything carrying the name and
//! refuses, naming the other directory, when any of it belongs elsewhere: a command
//! that went ahead would show, stop, reuse or delete the other project's data.

use std::collections::BTreeMap;

use super::{Engine, EngineError, ExistingContainer, Labelled, Scope};
use crate::exit::ExitCode;

/// This project's resources, as the engine has them now.
#[derive(Debug, Clone, Default)]
pub struct Owned {
    pub containers: Vec<ExistingContainer>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
}

/// Another directory's project already uses this project's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct NameClash {
    pub name: String,
    pub other_dir: String,
    /// The other project's resources, by engine name.
    pub containers: Vec<String>,
    pub volumes: Vec<String>,
    pub networks: Vec<String>,
}

impl NameClash {
    /// Another project holds the name: a conflict, like a taken port.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::Conflict
    }

    fn message(&self) -> String {
        let mut held = Vec::new();
        for (what, names) in [
            ("containers", &self.containers),
            ("data volumes", &self.volumes),
            ("network", &self.networks),
        ] {
            if !names.is_empty() {
                held.push(format!("{what} {}", names.join(", ")));
            }
        }
        let dir = if self.other_dir.is_empty() {
            "a project with no directory label (made by an older gorae)".to_string()
        } else {
            self.other_dir.clone()
        };
        let free = if self.volumes.is_empty() {
            format!("run `gorae down` in {dir}")
        } else {
            format!(
                "run `gorae down --volumes` in {dir} if its data may go (plain `gorae down` keeps the volumes, and with them the name)"
            )
        };
        format!(
            "project name `{}` is already used by the project in {dir} ({}); nothing was changed\n  hint: give this project another `name:` in its gorae.yaml, or {free}",
            self.name,
            held.join("; ")
        )
    }
}

/// Why the project's resources could not be had.
#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    #[error(transparent)]
    Clash(#[from] NameClash),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl ObserveError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            ObserveError::Clash(clash) => clash.exit_code(),
            ObserveError::Engine(err) => err.exit_code(),
        }
    }
}

/// Lists everything labelled with the project's name (three engine calls, at once)
/// and returns what belongs to this directory; fails when anything belongs to another.
pub async fn observe(engine: &Engine, scope: &Scope) -> Result<Owned, ObserveError> {
    let (containers, networks, volumes) = tokio::join!(
        engine.containers_named(&scope.name),
        engine.networks_named(&scope.name),
        engine.volumes_named(&scope.name),
    );
    split(scope, containers?, networks?, volumes?)
}

/// This directory's containers, in one engine call; fails when a container carrying
/// the name belongs to another directory. Networks and volumes are not looked at:
/// a caller about to create any must call [`check_resources`] first (see `up`).
pub async fn observe_containers(
    engine: &Engine,
    scope: &Scope,
) -> Result<Vec<ExistingContainer>, ObserveError> {
    let containers = engine.containers_named(&scope.name).await?;
    Ok(split(scope, containers, Vec::new(), Vec::new())?.containers)
}

/// Fails when a network or data volume carrying the name belongs to another
/// directory (two engine calls, at once). Creating a volume another directory owns
/// would silently share its data, so this runs before anything is created.
pub async fn check_resources(engine: &Engine, scope: &Scope) -> Result<(), ObserveError> {
    let (networks, volumes) = tokio::join!(
        engine.networks_named(&scope.name),
        engine.volumes_named(&scope.name),
    );
    split(scope, Vec::new(), networks?, volumes?).map(drop)
}

/// Pure part of [`observe`]: this directory's resources, or the clash with the first
/// other directory (by name, so the message is stable).
fn split(
    scope: &Scope,
    containers: Vec<ExistingContainer>,
    networks: Vec<Labelled>,
    volumes: Vec<Labelled>,
) -> Result<Owned, ObserveError> {
    let mut owned = Owned::default();
    let mut others: BTreeMap<String, NameClash> = BTreeMap::new();
    fn other<'a>(
        others: &'a mut BTreeMap<String, NameClash>,
        name: &str,
        dir: String,
    ) -> &'a mut NameClash {
        others.entry(dir.clone()).or_insert_with(|| NameClash {
            name: name.to_string(),
            other_dir: dir,
            containers: Vec::new(),
            volumes: Vec::new(),
            networks: Vec::new(),
        })
    }
    for container in containers {
        if container.project_dir == scope.dir {
            owned.containers.push(container);
        } else {
            other(&mut others, &scope.name, container.project_dir)
                .containers
                .push(container.name);
        }
    }
    for network in networks {
        if network.project_dir == scope.dir {
            owned.networks.push(network.name);
        } else {
            other(&mut others, &scope.name, network.project_dir)
                .networks
                .push(network.name);
        }
    }
    for volume in volumes {
        if volume.project_dir == scope.dir {
            owned.volumes.push(volume.name);
        } else {
            other(&mut others, &scope.name, volume.project_dir)
                .volumes
                .push(volume.name);
        }
    }
    if let Some((_, mut first)) = others.into_iter().next() {
        first.containers.sort();
        first.volumes.sort();
        first.networks.sort();
        return Err(ObserveError::Clash(first));
    }
    owned.volumes.sort();
    owned.networks.sort();
    Ok(owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(name: &str, dir: &str) -> ExistingContainer {
        ExistingContainer {
            id: format!("{name}-id"),
            name: name.into(),
            service: name.rsplit('-').next().unwrap_or(name).into(),
            kind: "service".into(),
            project_dir: dir.into(),
            config_hash: String::new(),
            fields: String::new(),
            image_id: String::new(),
            state: "running".into(),
            status: "Up 1 second".into(),
            created: 0,
            ports: Vec::new(),
            probe_ports: Vec::new(),
            addresses: Default::default(),
        }
    }

    fn labelled(name: &str, dir: &str) -> Labelled {
        Labelled {
            name: name.into(),
            project_dir: dir.into(),
        }
    }

    fn scope() -> Scope {
        Scope {
            name: "shop".into(),
            dir: "/b".into(),
        }
    }

    /// Every kind of resource, alone, from another directory makes a clash; the
    /// same resources from this directory are returned as ours.
    #[test]
    fn any_resource_of_another_directory_is_a_clash() {
        type Case = (Vec<ExistingContainer>, Vec<Labelled>, Vec<Labelled>);
        let cases = |dir: &str| -> Vec<Case> {
            vec![
                (vec![container("shop-db", dir)], vec![], vec![]),
                (vec![], vec![labelled("shop_default", dir)], vec![]),
                (vec![], vec![], vec![labelled("shop_db_data", dir)]),
                (vec![], vec![], vec![labelled("shop_db_data", "")]),
            ]
        };
        for (containers, networks, volumes) in cases("/a") {
            let err = split(&scope(), containers, networks, volumes).expect_err("clash");
            assert!(matches!(err, ObserveError::Clash(_)), "{err}");
        }
        for (containers, networks, volumes) in cases("/b").into_iter().take(3) {
            let owned = split(&scope(), containers, networks, volumes).expect("ours");
            assert_eq!(
                owned.containers.len() + owned.networks.len() + owned.volumes.len(),
                1
            );
        }
    }

    #[test]
    fn a_clash_lists_the_other_directory_and_how_to_free_the_name() {
        let err = split(
            &scope(),
            vec![container("shop-db", "/b"), container("shop-web", "/a")],
            vec![labelled("shop_default", "/a")],
            vec![
                labelled("shop_redis_data", "/a"),
                labelled("shop_db_data", "/a"),
            ],
        )
        .expect_err("clash");
        insta::assert_snapshot!("name_clash_with_data", err.to_string());
        let only_volumes = split(
            &scope(),
            vec![],
            vec![],
            vec![labelled("shop_db_data", "/a")],
        )
        .expect_err("clash");
        assert!(
            only_volumes
                .to_string()
                .contains("`gorae down --volumes` in /a"),
            "{only_volumes}"
        );
        let only_containers =
            split(&scope(), vec![container("shop-web", "/a")], vec![], vec![]).expect_err("clash");
        insta::assert_snapshot!("name_clash_containers_only", only_containers.to_string());
    }
}
