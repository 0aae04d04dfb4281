//! Files inside a container, through the Engine API (no bind mount, so it works the
//! same on a remote engine): secret values written before it starts, and for
//! `up --watch` a tar uploaded, paths removed, the process restarted in place.

use bollard::query_parameters::{RestartContainerOptionsBuilder, UploadToContainerOptionsBuilder};

use super::request::Mount;
use super::{Engine, EngineError};

/// A tar of the secret values among `mounts`, each a file readable by every user
/// (`0444`, as Compose makes secret files) at its target; `None` when there is none.
/// Missing parent directories (`/run/secrets`) are made by the engine as it unpacks.
pub fn secret_values_tar(mounts: &[Mount]) -> Result<Option<Vec<u8>>, EngineError> {
    let secrets: Vec<(&str, &[u8])> = mounts
        .iter()
        .filter_map(|mount| match mount {
            Mount::Secret { target, value } => Some((target.as_str(), value.expose().as_bytes())),
            _ => None,
        })
        .collect();
    if secrets.is_empty() {
        return Ok(None);
    }
    readable_files_tar(&secrets)
        .map(Some)
        .map_err(|err| EngineError::Api(format!("cannot pack the secrets: {err}")))
}

/// A tar of `files` (absolute path in the container, content), each readable by
/// every user (`0444`), whoever the container's process runs as.
pub fn readable_files_tar(files: &[(&str, &[u8])]) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o444);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, path.trim_start_matches('/'), *bytes)?;
    }
    builder.into_inner()
}

impl Engine {
    /// Unpacks `tar` at `dir` in the container; entries keep their modes.
    pub async fn upload_tar(&self, id: &str, dir: &str, tar: Vec<u8>) -> Result<(), EngineError> {
        let options = UploadToContainerOptionsBuilder::default().path(dir).build();
        self.docker
            .upload_to_container(id, Some(options), bollard::body_full(tar.into()))
            .await?;
        Ok(())
    }

    /// Removes `paths` (absolute, in the container) and everything beneath them.
    pub async fn remove_paths(&self, id: &str, paths: &[String]) -> Result<(), EngineError> {
        if paths.is_empty() {
            return Ok(());
        }
        let mut command = vec!["rm".to_string(), "-rf".to_string(), "--".to_string()];
        command.extend(paths.iter().cloned());
        let output = self.exec(id, &command).await?;
        if output.exit_code != 0 {
            return Err(EngineError::Api(format!(
                "removing files in the container failed: {}",
                output.output.trim()
            )));
        }
        Ok(())
    }

    /// Restarts the container's process in place (same container, same address):
    /// SIGTERM, SIGKILL after `timeout_secs`, start.
    pub async fn restart_container(&self, id: &str, timeout_secs: i32) -> Result<(), EngineError> {
        let options = RestartContainerOptionsBuilder::default()
            .t(timeout_secs)
            .build();
        self.docker.restart_container(id, Some(options)).await?;
        Ok(())
    }

    /// The working directory the container's process starts in (`/` when unset).
    pub async fn working_dir(&self, id: &str) -> Result<String, EngineError> {
        let info = self.docker.inspect_container(id, None).await?;
        let dir = info
            .config
            .and_then(|config| config.working_dir)
            .filter(|dir| !dir.is_empty())
            .unwrap_or_else(|| "/".to_string());
        Ok(dir)
    }
}
