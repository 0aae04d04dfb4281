//! Networks and volumes: ensured by name, removed by label.

use std::collections::HashMap;

use bollard::models::{NetworkCreateRequest, VolumeCreateRequest};
use bollard::query_parameters::{ListNetworksOptionsBuilder, ListVolumesOptionsBuilder};

use super::{Engine, EngineError, labels};

impl Engine {
    /// Creates the project network unless it exists; returns whether it was created.
    pub async fn ensure_network(
        &self,
        name: &str,
        resource_labels: &HashMap<String, String>,
    ) -> Result<bool, EngineError> {
        match self.docker.inspect_network(name, None).await {
            Ok(_) => return Ok(false),
            Err(err) => {
                let err = EngineError::from(err);
                if !err.is_not_found() {
                    return Err(err);
                }
            }
        }
        let request = NetworkCreateRequest {
            name: name.to_string(),
            driver: Some("bridge".to_string()),
            labels: Some(resource_labels.clone()),
            ..Default::default()
        };
        match self.docker.create_network(request).await {
            Ok(_) => Ok(true),
            // Another `up` created it between our inspect and create.
            Err(err) => match EngineError::from(err) {
                EngineError::Conflict(_) => Ok(false),
                other => Err(other),
            },
        }
    }

    /// Creates a named volume (idempotent in the engine: an existing one is returned).
    pub async fn ensure_volume(
        &self,
        name: &str,
        resource_labels: &HashMap<String, String>,
    ) -> Result<(), EngineError> {
        let request = VolumeCreateRequest {
            name: Some(name.to_string()),
            labels: Some(resource_labels.clone()),
            ..Default::default()
        };
        self.docker.create_volume(request).await?;
        Ok(())
    }

    /// Networks carrying the project name `name`, as (network, its project directory).
    /// Only [`super::scope`] reads this; commands get their own networks from there.
    pub(super) async fn networks_named(&self, name: &str) -> Result<Vec<Labelled>, EngineError> {
        let filters = name_filter(name);
        let options = ListNetworksOptionsBuilder::default()
            .filters(&filters)
            .build();
        let networks = self.docker.list_networks(Some(options)).await?;
        Ok(networks
            .into_iter()
            .filter_map(|n| Some(Labelled::new(n.name?, n.labels.unwrap_or_default())))
            .collect())
    }

    pub async fn remove_network(&self, name: &str) -> Result<(), EngineError> {
        match self.docker.remove_network(name).await {
            Err(err) => match EngineError::from(err) {
                EngineError::NotFound(_) => Ok(()),
                other => Err(other),
            },
            Ok(()) => Ok(()),
        }
    }

    /// Volumes carrying the project name `name`, as (volume, its project directory).
    /// Only [`super::scope`] reads this; commands get their own volumes from there.
    pub(super) async fn volumes_named(&self, name: &str) -> Result<Vec<Labelled>, EngineError> {
        let filters = name_filter(name);
        let options = ListVolumesOptionsBuilder::default()
            .filters(&filters)
            .build();
        let response = self.docker.list_volumes(Some(options)).await?;
        Ok(response
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| Labelled::new(v.name, v.labels))
            .collect())
    }

    pub async fn remove_volume(&self, name: &str) -> Result<(), EngineError> {
        match self
            .docker
            .remove_volume(name, None::<bollard::query_parameters::RemoveVolumeOptions>)
            .await
        {
            Err(err) => match EngineError::from(err) {
                EngineError::NotFound(_) => Ok(()),
                other => Err(other),
            },
            Ok(()) => Ok(()),
        }
    }
}

/// A network or volume with the project directory it is labelled with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labelled {
    pub name: String,
    /// Empty when the label is missing.
    pub project_dir: String,
}

impl Labelled {
    fn new(name: String, resource_labels: HashMap<String, String>) -> Labelled {
        let project_dir = resource_labels
            .get(labels::PROJECT_DIR)
            .cloned()
            .unwrap_or_default();
        Labelled { name, project_dir }
    }
}

fn name_filter(name: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([(
        "label".to_string(),
        vec![format!("{}={name}", labels::PROJECT)],
    )])
}
