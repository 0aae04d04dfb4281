//! A service's data moved as tar streams through the archive API: read out of a
//! container (stopped or not: the engine mounts its volumes for the copy) and
//! written into a helper container that only holds the volume and never runs.

use std::collections::HashMap;

use bollard::models::{ContainerCreateBody, HostConfig, Mount as EngineMount, MountType};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, DownloadFromContainerOptionsBuilder,
    UploadToContainerOptionsBuilder,
};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::{Engine, EngineError};

impl Engine {
    /// `path` and everything under it, as a tar whose entries start with its last
    /// component (`data/...` for `/var/lib/postgresql/data`).
    pub fn download_tar(
        &self,
        id: &str,
        path: &str,
    ) -> impl Stream<Item = Result<Bytes, EngineError>> + use<> {
        let options = DownloadFromContainerOptionsBuilder::default()
            .path(path)
            .build();
        self.docker
            .download_from_container(id, Some(options))
            .map(|chunk| chunk.map_err(EngineError::from))
    }

    /// Unpacks the tar `chunks` bring at `dir`; entries keep their owners and modes.
    pub async fn upload_tar_stream(
        &self,
        id: &str,
        dir: &str,
        chunks: impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    ) -> Result<(), EngineError> {
        let options = UploadToContainerOptionsBuilder::default().path(dir).build();
        self.docker
            .upload_to_container(id, Some(options), bollard::body_try_stream(chunks))
            .await?;
        Ok(())
    }

    /// Creates, and never starts, a container of `image` with `volume` mounted at
    /// `target` and no network: something to unpack files into the volume through.
    pub async fn create_volume_holder(
        &self,
        name: &str,
        image: &str,
        labels: HashMap<String, String>,
        volume: &str,
        target: &str,
    ) -> Result<String, EngineError> {
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            labels: Some(labels),
            // Never run; a command is set only because some images have none.
            cmd: Some(vec!["true".to_string()]),
            host_config: Some(HostConfig {
                mounts: Some(vec![EngineMount {
                    typ: Some(MountType::VOLUME),
                    source: Some(volume.to_string()),
                    target: Some(target.to_string()),
                    ..Default::default()
                }]),
                network_mode: Some("none".to_string()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::default().name(name).build();
        let created = self.docker.create_container(Some(options), body).await?;
        Ok(created.id)
    }
}
