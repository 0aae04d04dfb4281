//! The engine as `apply` uses it: exactly the operations it carries a decision out
//! with, and no more. The real engine (with the run's image cache) is one
//! [`Target`]; the unit tests of apply's failure handling use an in-memory one.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::config::Probe;
use crate::engine::{
    ContainerAddress, ContainerSpec, Engine, EngineError, ExistingContainer, Scope,
};
use crate::images::{ImageError, Images, ResolvedImage};
use crate::plan::ServicePlan;
use crate::readiness::{self, NotReady};
use crate::scope::{self, ObserveError};

/// What `apply` asks of the engine. Each method is what the engine method of the
/// same name does; the three image and readiness ones stand for gorae's own loops
/// over the engine (pull or build, probe until ready).
// Only this crate implements it, and its futures are awaited on one thread.
#[allow(async_fn_in_trait)]
pub trait Target {
    /// The service's image, pulled or built if it is not here.
    async fn image(&self, service: &ServicePlan) -> Result<ResolvedImage, ImageError>;
    /// Fails when a network or volume of the project's name belongs to another
    /// directory.
    async fn check_resources(&self, scope: &Scope) -> Result<(), ObserveError>;
    async fn ensure_network(
        &self,
        name: &str,
        labels: &HashMap<String, String>,
    ) -> Result<(), EngineError>;
    async fn ensure_volume(
        &self,
        name: &str,
        labels: &HashMap<String, String>,
    ) -> Result<(), EngineError>;
    /// Creates a container; a name in use is [`EngineError::Conflict`].
    async fn create_container(&self, spec: &ContainerSpec) -> Result<String, EngineError>;
    async fn rename_container(&self, id: &str, name: &str) -> Result<(), EngineError>;
    async fn start_container(&self, id: &str) -> Result<(), EngineError>;
    async fn stop_and_remove(&self, id: &str) -> Result<(), EngineError>;
    async fn remove_container(&self, id: &str) -> Result<(), EngineError>;
    async fn scoped_containers(&self, scope: &Scope)
    -> Result<Vec<ExistingContainer>, EngineError>;
    /// Whether a running container still passes its quick probe, once.
    async fn still_ready(
        &self,
        id: &str,
        address: &ContainerAddress,
        probe: Option<&Probe>,
    ) -> bool;
    /// Probes until the container is ready, it stops, or `deadline` passes
    /// (`timeout` is how long that was, for the message).
    async fn wait_ready(
        &self,
        id: &str,
        network: &str,
        probe: Option<&Probe>,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(), NotReady>;
    /// Waits until the container exits; its exit code.
    async fn wait_exit(&self, id: &str) -> Result<i64, EngineError>;
    /// Runs `command` in the running container with the project's SQL file `file`
    /// copied in and its path added; the command's output is the error when it fails.
    async fn run_sql_file(&self, id: &str, file: &Path, command: &[String]) -> anyhow::Result<()>;
    async fn last_logs(&self, id: &str, tail: usize) -> Result<String, EngineError>;
}

/// Where a SQL file is put in the service's container while it runs.
const SQL_FILE: &str = "/tmp/gorae-seed.sql";

/// The Docker engine, with the run's image cache.
pub struct Live<'a, 'i> {
    pub engine: &'a Engine,
    pub images: &'i Images<'a>,
}

impl Target for Live<'_, '_> {
    async fn image(&self, service: &ServicePlan) -> Result<ResolvedImage, ImageError> {
        self.images.resolve(service).await
    }

    async fn check_resources(&self, scope: &Scope) -> Result<(), ObserveError> {
        scope::check_resources(self.engine, scope).await
    }

    async fn ensure_network(
        &self,
        name: &str,
        labels: &HashMap<String, String>,
    ) -> Result<(), EngineError> {
        self.engine.ensure_network(name, labels).await.map(drop)
    }

    async fn ensure_volume(
        &self,
        name: &str,
        labels: &HashMap<String, String>,
    ) -> Result<(), EngineError> {
        self.engine.ensure_volume(name, labels).await
    }

    async fn create_container(&self, spec: &ContainerSpec) -> Result<String, EngineError> {
        self.engine.create_container(spec).await
    }

    async fn rename_container(&self, id: &str, name: &str) -> Result<(), EngineError> {
        self.engine.rename_container(id, name).await
    }

    async fn start_container(&self, id: &str) -> Result<(), EngineError> {
        self.engine.start_container(id).await
    }

    async fn stop_and_remove(&self, id: &str) -> Result<(), EngineError> {
        self.engine.stop_and_remove(id).await
    }

    async fn remove_container(&self, id: &str) -> Result<(), EngineError> {
        self.engine.remove_container(id).await
    }

    async fn scoped_containers(
        &self,
        scope: &Scope,
    ) -> Result<Vec<ExistingContainer>, EngineError> {
        self.engine.scoped_containers(scope).await
    }

    async fn still_ready(
        &self,
        id: &str,
        address: &ContainerAddress,
        probe: Option<&Probe>,
    ) -> bool {
        readiness::attempt(self.engine, id, address, probe)
            .await
            .is_ok()
    }

    async fn wait_ready(
        &self,
        id: &str,
        network: &str,
        probe: Option<&Probe>,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(), NotReady> {
        readiness::wait_ready(self.engine, id, network, probe, deadline, timeout).await
    }

    async fn wait_exit(&self, id: &str) -> Result<i64, EngineError> {
        self.engine.wait_exit(id).await
    }

    async fn run_sql_file(&self, id: &str, file: &Path, command: &[String]) -> anyhow::Result<()> {
        let bytes = std::fs::read(file)
            .map_err(|err| anyhow::anyhow!("cannot read {}: {err}", file.display()))?;
        // Readable by the database's own user, whoever the command runs as.
        let tar = crate::engine::readable_files_tar(&[(SQL_FILE, bytes.as_slice())])?;
        self.engine.upload_tar(id, "/", tar).await?;
        let mut words = command.to_vec();
        words.push(SQL_FILE.to_string());
        let output = self.engine.exec(id, &words).await;
        let _ = self.engine.remove_paths(id, &[SQL_FILE.to_string()]).await;
        let output = output?;
        if output.exit_code != 0 {
            anyhow::bail!(
                "`{}` exited with {}: {}",
                words.join(" "),
                output.exit_code,
                output.output.trim()
            );
        }
        Ok(())
    }

    async fn last_logs(&self, id: &str, tail: usize) -> Result<String, EngineError> {
        self.engine.last_logs(id, tail).await
    }
}
