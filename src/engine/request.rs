//! What gorae asks the engine to create, in the engine's own terms: the plan fills
//! these in from the project model, and nothing here knows gorae.yaml.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

pub use crate::mount::Mount;

/// Everything that goes into creating one container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    pub command: Option<Vec<String>>,
    /// Variables by name; they become `NAME=value` only in the create call.
    #[serde(serialize_with = "as_assignments")]
    pub env: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub ports: Vec<PublishedPort>,
    /// Volumes by their engine names.
    pub mounts: Vec<Mount>,
    pub network: String,
    /// DNS names on the project network (the service name).
    pub aliases: Vec<String>,
    /// How the process runs, where gorae.yaml says more than the image does.
    #[serde(flatten)]
    pub run: RunOptions,
    /// The ports readiness probes connect to. On an engine whose container networks
    /// this machine cannot route to, the engine publishes them on loopback for the
    /// probes. Not hashed: elsewhere they change nothing about the container.
    #[serde(skip)]
    pub probe_ports: Vec<u16>,
}

/// How a container's process runs, beyond its command: each is the image's own
/// unless set. Every field is left out of the configuration hash while unset, so a
/// container made before these existed keeps its hash and is not re-created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunOptions {
    /// Replaces the image's ENTRYPOINT.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// `NAME`, `UID` or `UID:GID`, replacing the image's USER.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Replaces the image's WORKDIR.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// The signal that stops the container (`SIGINT`), replacing the image's STOPSIGNAL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// `HOST:IP` lines added to /etc/hosts; the IP may be `host-gateway`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_hosts: Vec<String>,
    /// `os/arch[/variant]` the container runs as, such as `linux/amd64`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Directories kept in memory (tmpfs), gone when the container stops: a
    /// throw-away service's data directory.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tmpfs: Vec<String>,
}

impl RunOptions {
    /// Nothing differs from the image's defaults.
    pub fn is_default(&self) -> bool {
        *self == RunOptions::default()
    }
}

impl ContainerSpec {
    /// The environment as the engine takes it: `NAME=value`, sorted by name.
    pub fn env_assignments(&self) -> Vec<String> {
        self.env
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect()
    }
}

/// What a build takes beyond its context and Dockerfile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BuildOptions {
    /// The stage of a multi-stage Dockerfile to build; default: the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// `ARG` values, by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, String>,
    /// The platform built for (the service's `platform:`); default: the engine's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// `image:` beside `build:`: a name the built image is tagged with too, besides
    /// gorae's content tag. Not part of the content hash: it names the result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

impl BuildOptions {
    pub fn is_default(&self) -> bool {
        *self == BuildOptions::default()
    }

    /// What the content hash covers besides the context and the Dockerfile; empty
    /// when nothing is set, so the tags of builds made before these existed stay.
    pub fn hashed(&self) -> String {
        if self.target.is_none() && self.args.is_empty() && self.platform.is_none() {
            return String::new();
        }
        #[derive(Serialize)]
        struct Hashed<'a> {
            target: &'a Option<String>,
            args: &'a BTreeMap<String, String>,
            platform: &'a Option<String>,
        }
        serde_json::to_string(&Hashed {
            target: &self.target,
            args: &self.args,
            platform: &self.platform,
        })
        .unwrap_or_default()
    }
}

/// One container port published on a host address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedPort {
    pub host_ip: String,
    pub host_port: u16,
    pub container_port: u16,
    pub protocol: Protocol,
}

impl PublishedPort {
    /// The engine's key for the container side: `3000/tcp`.
    pub fn container_key(&self) -> String {
        format!("{}/{}", self.container_port, self.protocol.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

// The configuration hash of every container covers its spec as JSON, and it was
// made when env was a list of `NAME=value`: the same form keeps those hashes, so an
// upgrade of gorae re-creates nothing.
fn as_assignments<S: Serializer>(
    env: &BTreeMap<String, String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(env.iter().map(|(name, value)| format!("{name}={value}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_is_hashed_as_the_assignments_the_engine_is_given() {
        let spec = ContainerSpec {
            name: "shop-web".into(),
            image: String::new(),
            command: None,
            env: BTreeMap::from([
                ("PORT".to_string(), "3000".to_string()),
                ("A".to_string(), "x=y".to_string()),
            ]),
            labels: BTreeMap::new(),
            ports: vec![PublishedPort {
                host_ip: "127.0.0.1".into(),
                host_port: 8080,
                container_port: 3000,
                protocol: Protocol::Tcp,
            }],
            mounts: Vec::new(),
            network: "shop_default".into(),
            aliases: vec!["web".into()],
            run: RunOptions::default(),
            probe_ports: Vec::new(),
        };
        assert_eq!(spec.env_assignments(), ["A=x=y", "PORT=3000"]);
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(json["env"], serde_json::json!(["A=x=y", "PORT=3000"]));
        assert_eq!(
            json["ports"],
            serde_json::json!([{"host_ip": "127.0.0.1", "host_port": 8080, "container_port": 3000, "protocol": "tcp"}])
        );
        assert_eq!(spec.ports[0].container_key(), "3000/tcp");
    }
}
