//! gorae finds the engine as the docker CLI does: `DOCKER_HOST`, else the context
//! `DOCKER_CONTEXT` names, else the CLI's current context, else the local socket.
//! The contexts here are made by the docker CLI itself, in a config directory of the
//! test's own (`DOCKER_CONFIG`). A TLS engine is the local one behind an endpoint that
//! verifies client certificates, as `dockerd --tlsverify` does.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::tls_engine::{Authority, TlsEngine};
use support::{TestProject, ensure_stand_in_images};

/// The engine the suite runs against, as the docker CLI reaches it.
fn engine_host() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string())
}

/// Runs the docker CLI with `config` as its config directory.
fn docker_cli(config: &Path, args: &[&str]) {
    let out = Command::new("docker")
        .args(args)
        .env("DOCKER_CONFIG", config)
        .env_remove("DOCKER_CONTEXT")
        .output()
        .expect("run docker");
    assert!(
        out.status.success(),
        "docker {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// gorae with `config` as the Docker config directory, `vars` set and the other
/// Docker variables unset.
fn gorae(project: &TestProject, config: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut command = project.command(args);
    for name in [
        "DOCKER_HOST",
        "DOCKER_CONTEXT",
        "DOCKER_TLS_VERIFY",
        "DOCKER_CERT_PATH",
    ] {
        command.env_remove(name);
    }
    command
        .env("DOCKER_CONFIG", config)
        .envs(vars.iter().copied())
        .output()
        .expect("run gorae")
}

#[test]
fn the_named_context_then_the_current_one_pick_the_engine_and_docker_host_wins() {
    ensure_stand_in_images();
    let project = TestProject::new("context").services("  redis: \"7\"\n");
    let host = engine_host();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path();
    docker_cli(
        config,
        &[
            "context",
            "create",
            "gorae-here",
            "--docker",
            &format!("host={host}"),
        ],
    );
    docker_cli(
        config,
        &[
            "context",
            "create",
            "gorae-nowhere",
            "--docker",
            "host=unix:///nonexistent/docker.sock",
        ],
    );
    docker_cli(config, &["context", "use", "gorae-nowhere"]);

    // The CLI's current context is where gorae looks, and says so when it fails.
    let out = gorae(&project, config, &["up"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("unix:///nonexistent/docker.sock (Docker context `gorae-nowhere`)"),
        "{stderr}"
    );

    // DOCKER_CONTEXT names another one.
    let here = [("DOCKER_CONTEXT", "gorae-here")];
    let out = gorae(&project, config, &["up"], &here);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = gorae(&project, config, &["doctor"], &here);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains(&format!("{host} (Docker context `gorae-here`)")),
        "{report}"
    );

    // DOCKER_HOST wins over any context.
    let out = gorae(
        &project,
        config,
        &["ps"],
        &[
            ("DOCKER_HOST", host.as_str()),
            ("DOCKER_CONTEXT", "gorae-nowhere"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A context that does not exist is named, with where to look.
    let out = gorae(&project, config, &["ps"], &[("DOCKER_CONTEXT", "missing")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("Docker context `missing`"), "{stderr}");
    assert!(stderr.contains("docker context ls"), "{stderr}");

    let out = gorae(&project, config, &["down"], &here);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Asserts gorae failed with exit 4 and every phrase in `expected` on stderr.
fn assert_unreachable(out: &Output, expected: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    for phrase in expected {
        assert!(stderr.contains(phrase), "{phrase:?} in {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_tls_engine_is_used_with_its_certificates_and_refused_with_wrong_ones() {
    ensure_stand_in_images();
    let project = TestProject::new("tls").services("  redis: \"7\"\n");
    let engine_ca = Authority::new("engine CA");
    let client_ca = Authority::new("client CA");
    let engine = TlsEngine::start(&engine_ca, &client_ca);
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("config");
    std::fs::create_dir_all(&config).expect("mkdir");
    let good = dir.path().join("good");
    client_ca.client_dir(&good, &engine_ca);
    let host = engine.host();
    let described = format!("DOCKER_HOST={host} over TLS");
    let tls = |certs: &Path| {
        vec![
            ("DOCKER_HOST", host.clone()),
            ("DOCKER_TLS_VERIFY", "1".to_string()),
            ("DOCKER_CERT_PATH", certs.display().to_string()),
        ]
    };
    let run = |args: &[&str], vars: &[(&str, String)]| {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        gorae(&project, &config, args, &vars)
    };

    // With the right certificates, gorae runs the project through the TLS endpoint.
    let out = run(&["up", "--ci"], &tls(&good));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["doctor"], &tls(&good));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains(&described), "{report}");
    let out = run(&["ps"], &tls(&good));
    let ps = String::from_utf8_lossy(&out.stdout);
    assert!(ps.contains("running"), "{ps}");

    // A context made by the docker CLI with the same certificates works too.
    let file = |name: &str| good.join(name).display().to_string();
    docker_cli(
        &config,
        &[
            "context",
            "create",
            "gorae-tls",
            "--docker",
            &format!(
                "host={host},ca={},cert={},key={}",
                file("ca.pem"),
                file("cert.pem"),
                file("key.pem")
            ),
        ],
    );
    let out = run(&["ps"], &[("DOCKER_CONTEXT", "gorae-tls".to_string())]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // An engine certificate that the trusted CA did not sign.
    let strange = dir.path().join("strange-ca");
    client_ca.client_dir(&strange, &Authority::new("some other CA"));
    let out = run(&["ps"], &tls(&strange));
    assert_unreachable(&out, &[&described, "certificate", "DOCKER_CERT_PATH"]);

    // A client certificate the engine does not accept.
    let outsider = dir.path().join("outsider");
    Authority::new("outsider CA").client_dir(&outsider, &engine_ca);
    let out = run(&["ps"], &tls(&outsider));
    assert_unreachable(&out, &[&described]);

    // A certificate directory without the key.
    let keyless = dir.path().join("keyless");
    client_ca.client_dir(&keyless, &engine_ca);
    std::fs::remove_file(keyless.join("key.pem")).expect("rm key.pem");
    let out = run(&["ps"], &tls(&keyless));
    assert_unreachable(&out, &[&described, "key.pem is not there"]);

    // Plain HTTP to a TLS endpoint.
    let out = run(&["ps"], &[("DOCKER_HOST", host.clone())]);
    assert_unreachable(&out, &[&format!("DOCKER_HOST={host}")]);

    let out = run(&["down", "--volumes"], &tls(&good));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
