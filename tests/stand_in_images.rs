//! The stand-in images that replace registry images in the real-engine tests.

mod support;

use support::{IMAGE_PREFIX, docker};

fn run_in(image: &str, command: &[&str]) -> String {
    let image = format!("{IMAGE_PREFIX}{image}");
    let mut args = vec!["run", "--rm", image.as_str()];
    args.extend_from_slice(command);
    docker(&args)
}

#[test]
fn stand_in_images_build_and_run_their_main_programs() {
    support::ensure_stand_in_images();

    let redis = run_in("redis:7", &["redis-server", "--version"]);
    assert!(redis.starts_with("Redis server v="), "{redis}");
    let postgres = run_in("postgres:16", &["postgres", "--version"]);
    assert!(postgres.starts_with("postgres (PostgreSQL)"), "{postgres}");
    assert_eq!(run_in("node:20", &["node", "-e", "console.log(1+1)"]), "2");
    assert_eq!(run_in("python:3.12", &["python", "-c", "print(1+1)"]), "2");
}
