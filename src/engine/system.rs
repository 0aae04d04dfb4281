//! Engine-wide facts, for `doctor` and `logs`: where the engine keeps its data, its
//! clock, and whether a registry would serve an image.

use super::{Engine, EngineError};

/// What `info` says that gorae uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemInfo {
    /// `DockerRootDir`: images, containers and volumes live under it, on the
    /// engine's machine.
    pub root_dir: String,
    /// The engine's clock now (RFC 3339), the clock its log timestamps come from.
    pub time: String,
}

impl Engine {
    pub async fn system_info(&self) -> Result<SystemInfo, EngineError> {
        let info = self.docker.info().await?;
        Ok(SystemInfo {
            root_dir: info.docker_root_dir.unwrap_or_default(),
            time: info.system_time.unwrap_or_default(),
        })
    }

    /// Asks the registry, through the engine, for the manifest of `reference`
    /// without pulling it: `Ok` means a pull would find it.
    pub async fn registry_has(&self, reference: &str) -> Result<(), EngineError> {
        self.docker.inspect_registry_image(reference, None).await?;
        Ok(())
    }
}
