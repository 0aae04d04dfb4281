//! `gorae lock`: a gorae.yaml that cannot be read when the lock is written is a
//! project-file error (exit 3) that names the file, not a build failure.

use std::process::Stdio;
use std::time::{Duration, Instant};

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use crate::support::{TestProject, stderr};

#[test]
fn lock_says_when_gorae_yaml_cannot_be_read_and_exits_as_a_config_error() {
    let project = TestProject::new("lockread");
    let yaml = project.services_yaml("  cache: { template: redis }\n");
    let project = project.file("gorae.yaml", &yaml);
    // gorae.lock is a FIFO, so `gorae lock --update` waits on it after it has loaded
    // gorae.yaml and before it reads gorae.yaml again for the lock's fingerprint:
    // the moment to take gorae.yaml away. `--update` replaces a lock it cannot parse.
    let fifo = project.path().join("gorae.lock");
    rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, Mode::RUSR | Mode::WUSR).expect("mkfifo");
    let mut gorae = project
        .command(&["lock", "--update"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start gorae lock");

    // Opening the writing end without blocking succeeds only once gorae is reading.
    let deadline = Instant::now() + Duration::from_secs(30);
    let writer = loop {
        match rustix::fs::open(&fifo, OFlags::WRONLY | OFlags::NONBLOCK, Mode::empty()) {
            Ok(writer) => break writer,
            Err(Errno::NXIO) => {}
            Err(err) => panic!("open {}: {err}", fifo.display()),
        }
        if let Some(status) = gorae.try_wait().expect("poll gorae lock") {
            let out = gorae.wait_with_output().expect("gorae lock output");
            panic!(
                "gorae lock ended ({status}) before reading gorae.lock:\n{}",
                stderr(&out)
            );
        }
        assert!(
            Instant::now() < deadline,
            "gorae lock never opened gorae.lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    std::fs::remove_file(project.path().join("gorae.yaml")).expect("remove gorae.yaml");
    // An empty lock: gorae reads it, sets it aside and goes on to write a new one.
    drop(writer);

    let out = gorae.wait_with_output().expect("gorae lock output");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("error: cannot read ")
            && err.contains("gorae.yaml: No such file or directory"),
        "{err}"
    );
    assert!(!err.contains("build context"), "{err}");
}
