//! After any sequence of edits, creates, deletes, renames and mode changes, the
//! container's files equal the host's: random operations, then every file's path,
//! type, mode and sha256 compared on both sides.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::support;
use crate::{Watching, web_project};

/// xorshift64*: enough randomness for choosing operations, and repeatable by seed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }
}

/// Every path under `root` except what the image build adds and the ignore rules
/// leave out: `path -> "type mode digest-or-target"`.
fn host_tree(root: &Path) -> BTreeMap<String, String> {
    let mut tree = BTreeMap::new();
    for item in walkdir::WalkDir::new(root).min_depth(1) {
        let item = item.expect("walk");
        let rel = item
            .path()
            .strip_prefix(root)
            .expect("inside")
            .display()
            .to_string();
        if skipped(&rel) {
            continue;
        }
        let meta = fs::symlink_metadata(item.path()).expect("metadata");
        let mode = meta.permissions().mode() & 0o7777;
        let value = if meta.file_type().is_symlink() {
            format!("l {}", fs::read_link(item.path()).expect("link").display())
        } else if meta.is_dir() {
            format!("d {mode:o}")
        } else {
            let digest = Sha256::digest(fs::read(item.path()).expect("read"));
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            format!("f {mode:o} {hex}")
        };
        tree.insert(rel, value);
    }
    tree
}

fn skipped(rel: &str) -> bool {
    let first = rel.split('/').next().unwrap_or(rel);
    matches!(
        first,
        "node_modules" | ".dockerignore" | ".gorae-Dockerfile"
    ) || rel.ends_with(".log")
}

/// The same listing of the container's working directory.
fn container_tree(container: &str) -> Option<BTreeMap<String, String>> {
    let script = r#"cd /app && find . -mindepth 1 \( -type l -printf 'l %p %l\n' \) -o \( -type d -printf 'd %p %m\n' \) -o \( -type f -printf 'f %p %m ' -exec sh -c 'sha256sum "$1" | cut -d" " -f1' _ {} \; \)"#;
    // An exec may race a restart of the app (a removed directory restarts it).
    let out = std::process::Command::new("docker")
        .args(["exec", container, "sh", "-c", script])
        .output()
        .expect("docker exec");
    if !out.status.success() {
        return None;
    }
    let listing = String::from_utf8_lossy(&out.stdout);
    let mut tree = BTreeMap::new();
    for line in listing.lines() {
        let mut parts = line.splitn(3, ' ');
        let (Some(kind), Some(path), Some(rest)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let rel = path.trim_start_matches("./").to_string();
        if skipped(&rel) {
            continue;
        }
        tree.insert(rel, format!("{kind} {rest}"));
    }
    Some(tree)
}

/// One random operation in `root/rand`.
fn operate(random: &mut Random, root: &Path, counter: &mut usize) {
    let base = root.join("rand");
    let mut files: Vec<PathBuf> = Vec::new();
    let mut dirs: Vec<PathBuf> = vec![base.clone()];
    for item in walkdir::WalkDir::new(&base)
        .min_depth(1)
        .into_iter()
        .flatten()
    {
        if item.file_type().is_dir() {
            dirs.push(item.path().to_path_buf());
        } else {
            files.push(item.path().to_path_buf());
        }
    }
    *counter += 1;
    let n = *counter;
    let names = [
        "notes.txt",
        "readme.md",
        "data.json",
        "page.html",
        "list.csv",
    ];
    let name = format!("{n}-{}", random.pick(&names).expect("names"));
    let dir = random.pick(&dirs).expect("dirs").clone();
    match random.below(9) {
        0 | 1 => {
            let body = "x".repeat(random.below(3000));
            fs::write(dir.join(&name), format!("{n} {body}")).expect("create");
        }
        2 => {
            if let Some(file) = random.pick(&files)
                && !fs::symlink_metadata(file)
                    .expect("meta")
                    .file_type()
                    .is_symlink()
            {
                fs::write(file, format!("edited {n}")).expect("edit");
            }
        }
        3 => {
            if let Some(file) = random.pick(&files) {
                fs::remove_file(file).expect("delete");
            }
        }
        4 => {
            if let Some(file) = random.pick(&files) {
                fs::rename(file, dir.join(&name)).expect("rename");
            }
        }
        5 => {
            let made = dir.join(format!("dir{n}"));
            fs::create_dir_all(made.join("inner")).expect("mkdir");
            fs::write(made.join("inner/first.txt"), format!("in {n}")).expect("write");
        }
        6 => {
            if let Some(gone) = dirs.iter().skip(1).nth(random.below(dirs.len())) {
                fs::remove_dir_all(gone).expect("rmdir");
            }
        }
        7 => {
            if let Some(moved) = dirs.iter().skip(1).nth(random.below(dirs.len()))
                && !dir.starts_with(moved)
            {
                fs::rename(moved, dir.join(format!("moved{n}"))).expect("rename dir");
            }
        }
        _ => {
            if let Some(file) = random.pick(&files)
                && !fs::symlink_metadata(file)
                    .expect("meta")
                    .file_type()
                    .is_symlink()
            {
                let mode = *random.pick(&[0o600, 0o644, 0o755, 0o700]).expect("modes");
                fs::set_permissions(file, fs::Permissions::from_mode(mode)).expect("chmod");
            } else {
                std::os::unix::fs::symlink("../data.txt", dir.join(format!("link{n}.txt")))
                    .expect("symlink");
            }
        }
    }
}

#[test]
fn after_random_edits_creates_deletes_and_renames_the_containers_files_equal_the_hosts() {
    support::ensure_stand_in_images();
    let (project, _port) = web_project("watch-sync");
    let project = project.file("web/rand/start.txt", "start");
    let watching = Watching::start(&project);
    let container = format!("{}-web", project.name());
    let root = project.path().join("web");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(7)
        | 1;
    let mut random = Random(seed);
    let mut counter = 0;
    for round in 0..6 {
        for _ in 0..12 {
            operate(&mut random, &root, &mut counter);
            // Sometimes a burst, sometimes spread over several batches.
            if random.below(3) == 0 {
                thread::sleep(Duration::from_millis(random.below(80) as u64));
            }
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let host = host_tree(&root);
            let inside = container_tree(&container).unwrap_or_default();
            if host == inside {
                break;
            }
            if Instant::now() > deadline {
                let only_host: Vec<_> = host
                    .iter()
                    .filter(|(k, v)| inside.get(*k) != Some(v))
                    .collect();
                let only_inside: Vec<_> = inside
                    .iter()
                    .filter(|(k, v)| host.get(*k) != Some(v))
                    .collect();
                panic!(
                    "seed {seed}, round {round}: the container differs from the host\nhost only/different: {only_host:#?}\ncontainer only/different: {only_inside:#?}\n--- gorae\n{}",
                    watching.text()
                );
            }
            thread::sleep(Duration::from_millis(200));
        }
    }
    assert!(watching.text().contains("synced"), "{}", watching.text());
}
