//! How long gorae takes to decide that a build context has not changed: walk it,
//! hash every file (`gorae::context::scan`) and hash the result with the Dockerfile
//! (`BuildContext::build_hash`). This is the work a no-op `gorae up` does for each
//! built service before it asks the engine whether the tagged image exists.
//!
//! ```sh
//! cargo bench --bench context_hash                   # a generated 20,000-file context
//! cargo bench --bench context_hash -- DIR --runs 20  # an existing directory
//! ```
//!
//! Prints one human line and one `RESULT {json}` line that `benches/run` reads.
//! No benchmark framework: plain wall-clock timing of whole scans is what a user
//! waits for, and it needs no extra dependency.

// A benchmark's whole job is printing its figures; gorae's own code prints only
// through its output module.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Files in the generated context (issue 3 asks for 20,000).
const GENERATED_FILES: usize = 20_000;
const DEFAULT_RUNS: usize = 10;
/// Stands in for the rendered template; only its bytes enter the hash.
const DOCKERFILE: &str = "FROM node:20\nWORKDIR /app\nCOPY . .\n";

struct Options {
    dir: Option<PathBuf>,
    runs: usize,
}

fn main() {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("context_hash: {message}");
            eprintln!("usage: cargo bench --bench context_hash -- [DIR] [--runs N]");
            std::process::exit(2);
        }
    };
    // Keep the generated directory alive until the runs are done.
    let generated;
    let dir = match &options.dir {
        Some(dir) => dir.clone(),
        None => {
            generated = generate_context(GENERATED_FILES);
            generated.path().to_path_buf()
        }
    };

    // One untimed scan warms the page cache, so every timed run sees the state of
    // a second `up`: files unchanged and cached.
    let (entries, hash) = scan_and_hash(&dir);
    let mut times: Vec<Duration> = (0..options.runs)
        .map(|_| {
            let started = Instant::now();
            let (_, again) = scan_and_hash(&dir);
            let elapsed = started.elapsed();
            assert_eq!(again, hash, "the hash of an unchanged context moved");
            elapsed
        })
        .collect();
    times.sort();
    let secs = |d: Duration| d.as_secs_f64();
    let median = secs(times[times.len() / 2]);
    let (min, max) = (secs(times[0]), secs(times[times.len() - 1]));
    println!(
        "context_hash: {entries} entries, median {:.1} ms (min {:.1}, max {:.1}) over {} runs",
        median * 1e3,
        min * 1e3,
        max * 1e3,
        times.len()
    );
    println!(
        "RESULT {{\"entries\":{entries},\"runs\":{},\"median_s\":{median:.6},\"min_s\":{min:.6},\"max_s\":{max:.6}}}",
        times.len()
    );
}

/// Everything not starting with `--` is the directory; `--bench`, which cargo
/// passes to every bench binary, is ignored.
fn parse_args(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        dir: None,
        runs: DEFAULT_RUNS,
    };
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bench" => {}
            "--runs" => {
                let value = args.next().ok_or("--runs needs a number")?;
                options.runs = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(format!("--runs {value}: not a positive number"))?;
            }
            other if other.starts_with("--") => return Err(format!("unknown option {other}")),
            dir => options.dir = Some(PathBuf::from(dir)),
        }
    }
    Ok(options)
}

fn scan_and_hash(dir: &Path) -> (usize, String) {
    let context = gorae::context::scan(dir)
        .unwrap_or_else(|err| panic!("cannot scan {}: {err}", dir.display()));
    let hash = context.build_hash(DOCKERFILE, &[], "");
    (context.entries.len(), hash)
}

/// A source tree shaped like a real one: 100 directories of 200 small files.
fn generate_context(files: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("cannot create a temp dir");
    for i in 0..files {
        let sub = dir.path().join(format!("src/d{:03}", i / 200));
        if i % 200 == 0 {
            std::fs::create_dir_all(&sub).expect("cannot create a directory");
        }
        let body = format!("// file {i}\nmodule.exports = {i};\n").repeat(8);
        std::fs::write(sub.join(format!("f{i:05}.js")), body).expect("cannot write a file");
    }
    dir
}
