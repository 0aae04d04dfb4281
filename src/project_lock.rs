//! One `up` or `down` at a time per project: a second one waits for the first, so
//! a service never gets two containers.

use std::fs::{File, TryLockError};
use std::path::PathBuf;

/// Held for as long as the command changes the project; released on drop.
pub struct ProjectLock {
    _file: File,
}

impl ProjectLock {
    /// Takes the project's lock, calling `on_wait` once if another gorae holds it.
    pub async fn acquire(project: &str, on_wait: impl FnOnce()) -> std::io::Result<ProjectLock> {
        let path = lock_path(project);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => return Ok(ProjectLock { _file: file }),
            Err(TryLockError::WouldBlock) => on_wait(),
            Err(TryLockError::Error(err)) => return Err(err),
        }
        let file = tokio::task::spawn_blocking(move || file.lock().map(|()| file))
            .await
            .map_err(std::io::Error::other)??;
        Ok(ProjectLock { _file: file })
    }
}

fn lock_path(project: &str) -> PathBuf {
    std::env::temp_dir().join(format!("gorae-{project}.lock"))
}
