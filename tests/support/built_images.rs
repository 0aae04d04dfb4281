//! The images gorae builds for test projects: removed when their project is
//! dropped, but never while a gorae of any test process may be building on them.
//!
//! The engine's builder takes its cache from the layers of other images. Removing
//! an image while another build walks its layers fails that build ("unknown parent
//! image ID"), so every gorae a test runs holds a lock shared, and a removal takes
//! it exclusively, only when no gorae runs. The lock is a file in the temp dir, so
//! the test processes of concurrent runs take part too.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

/// Images waiting for a moment when no gorae runs.
static QUEUED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn lock_file() -> std::io::Result<File> {
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(std::env::temp_dir().join("gorae-test-builds.lock"))
}

/// Makes the process `cmd` starts (and what it starts in turn) hold the lock shared
/// for as long as it lives. Taken here, while no removal runs; the file goes to the
/// process through an inherited descriptor, and the parent's copy closes when `cmd`
/// is dropped. Without the lock file the command runs anyway: removals need it too.
pub fn hold_while_running(cmd: &mut Command) {
    let Ok(file) = lock_file() else { return };
    if file.lock_shared().is_err() {
        return;
    }
    // SAFETY: runs in the child between fork and exec, where only async-signal-safe
    // calls are allowed; fcntl is one, and nothing here allocates.
    unsafe {
        cmd.pre_exec(move || {
            let flags = rustix::io::fcntl_getfd(&file)?;
            rustix::io::fcntl_setfd(&file, flags.difference(rustix::io::FdFlags::CLOEXEC))?;
            Ok(())
        });
    }
}

/// Whether a removal could run now: no process holds the lock shared.
pub fn removal_could_run() -> bool {
    lock_file().is_ok_and(|file| file.try_lock().is_ok())
}

/// Queues the images gorae built for `project` (repository `gorae-PROJECT`) and
/// removes the queue if no gorae runs. Its containers must be gone already.
pub fn remove_built_for(project: &str) {
    let Ok(out) = Command::new("docker")
        .args(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"])
        .arg(format!("gorae-{project}"))
        .output()
    else {
        return; // no docker CLI: nothing was built either
    };
    queue(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned),
    );
}

/// Removes the images of test projects whose test process has ended (crashed, or
/// ended while its own removal waited for a build of another process).
pub fn remove_left_by_finished_test_processes() {
    let Ok(out) = Command::new("docker")
        .args(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"])
        .output()
    else {
        return;
    };
    let stale = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|image| {
            test_process_of(image).is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
        })
        .map(str::to_owned)
        .collect::<Vec<_>>();
    queue(stale);
}

/// Adds `images` to the queue and removes the whole queue if no gorae of any test
/// process runs right now; otherwise it waits for the next call.
pub fn queue(images: impl IntoIterator<Item = String>) {
    let mut queued = QUEUED.lock().unwrap_or_else(|e| e.into_inner());
    queued.extend(images);
    if queued.is_empty() {
        return;
    }
    let Ok(file) = lock_file() else { return };
    if file.try_lock().is_err() {
        return;
    }
    // By tag and without force: an image that another tag or a container still
    // uses stays. Best effort: what fails here the sweep of a later run retries.
    let _ = Command::new("docker")
        .arg("rmi")
        .args(queued.iter())
        .output();
    queued.clear();
}

/// The test process that made `image`: gorae names a project's images
/// `gorae-PROJECT:TAG`, and test projects are `gt-SHORT-PID-N` (`TestProject::new`).
fn test_process_of(image: &str) -> Option<u32> {
    let (repository, _) = image.split_once(':')?;
    let project = repository.strip_prefix("gorae-gt-")?;
    let mut parts = project.rsplit('-');
    parts.next()?.parse::<usize>().ok()?;
    parts.next()?.parse().ok()
}
