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
