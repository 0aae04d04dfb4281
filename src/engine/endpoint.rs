//! Where the engine is, found as the docker CLI finds it, so that gorae talks to the
//! engine `docker` does: `DOCKER_HOST`, else the Docker context `DOCKER_CONTEXT`
//! names, else the CLI's current context (`currentContext` in its config.json, under
//! `DOCKER_CONFIG` or `~/.docker`), else the local socket. TLS settings come with
//! it: `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`, or the context's own certificates.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

/// The socket a local engine listens on.
pub const LOCAL_SOCKET: &str = "unix:///var/run/docker.sock";

/// The engine's address and how it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `unix:///…`, `tcp://…`, `ssh://…`.
    pub host: String,
    pub from: Source,
    /// Set when the engine is spoken to over TLS.
    pub tls: Option<Tls>,
}

/// The certificates for a TLS engine, as the docker CLI keeps them: the CA that
/// signed the engine's certificate, and this client's certificate and key. gorae
/// always verifies the engine against the CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Tls {
    /// The docker CLI's file names in `dir`.
    fn in_dir(dir: &std::path::Path) -> Tls {
        Tls {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        }
    }

    /// The first of the three files that is not there, so that a wrong
    /// `DOCKER_CERT_PATH` is reported as such rather than as a failed handshake.
    pub fn missing_file(&self) -> Option<&std::path::Path> {
        [&self.ca, &self.cert, &self.key]
            .into_iter()
            .find(|path| !path.is_file())
            .map(PathBuf::as_path)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    DockerHost,
    /// A Docker context, by name.
    Context(String),
    Default,
}

impl Endpoint {
    /// The machine the engine runs on when it is not this one: the host of an
    /// `ssh://` address, or of a `tcp://` one that is not loopback. A unix socket is
    /// taken as local (one forwarded from elsewhere cannot be told apart).
    pub fn remote_host(&self) -> Option<String> {
        let rest = self
            .host
            .strip_prefix("ssh://")
            .or_else(|| self.host.strip_prefix("tcp://"))
            .or_else(|| self.host.strip_prefix("http://"))
            .or_else(|| self.host.strip_prefix("https://"))?;
        let authority = rest.split('/').next().unwrap_or(rest);
        let host_port = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        let host = if let Some(bracketed) = host_port.strip_prefix('[') {
            bracketed.split(']').next().unwrap_or(bracketed)
        } else {
            host_port.split(':').next().unwrap_or(host_port)
        };
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        (!loopback || self.host.starts_with("ssh://")).then(|| host.to_string())
    }

    /// The ssh command that makes `ports`, published on the engine machine's
    /// loopback, reachable on this one's (`ssh -NL 5432:127.0.0.1:5432 dev@box`);
    /// `None` for a local engine.
    pub fn tunnel_command(&self, ports: &[u16]) -> Option<String> {
        let host = self.remote_host()?;
        let destination = match self.host.strip_prefix("ssh://") {
            Some(rest) => {
                let authority = rest.split('/').next().unwrap_or(rest);
                match authority.rsplit_once(':') {
                    Some((destination, port)) if port.bytes().all(|b| b.is_ascii_digit()) => {
                        format!("-p {port} {destination}")
                    }
                    _ => authority.to_string(),
                }
            }
            None => host,
        };
        let forwards: Vec<String> = ports
            .iter()
            .map(|port| format!("-L {port}:127.0.0.1:{port}"))
            .collect();
        Some(format!("ssh -N {} {destination}", forwards.join(" ")))
    }

    /// Where the engine is expected, in the words a user can act on.
    pub fn describe(&self) -> String {
        let tls = if self.tls.is_some() { " over TLS" } else { "" };
        match &self.from {
            Source::DockerHost => format!("DOCKER_HOST={}{tls}", self.host),
            Source::Context(name) => format!("{}{tls} (Docker context `{name}`)", self.host),
            Source::Default => self.host.clone(),
        }
    }
}

/// Why no engine address could be settled on: where gorae looked, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointError {
    /// `Docker context `dev``, `DOCKER_HOST=tcp://…`.
    pub endpoint: String,
    pub reason: String,
}

/// Where the engine is, from this process's environment.
pub fn find() -> Result<Endpoint, EndpointError> {
    find_with(&|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
}

/// [`find`] with the variables from `var`.
pub fn find_with(var: &dyn Fn(&str) -> Option<String>) -> Result<Endpoint, EndpointError> {
    let config_dir = var("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".docker")));
    if let Some(host) = var("DOCKER_HOST") {
        // As the docker CLI: any value turns verification on, and the certificates
        // are in DOCKER_CERT_PATH, else the config directory.
        let tls = if var("DOCKER_TLS_VERIFY").is_some() {
            let dir = var("DOCKER_CERT_PATH").map(PathBuf::from).or(config_dir);
            let dir = dir.ok_or_else(|| EndpointError {
                endpoint: format!("DOCKER_HOST={host}"),
                reason: "DOCKER_TLS_VERIFY is set but neither DOCKER_CERT_PATH nor HOME says where the certificates are".into(),
            })?;
            Some(Tls::in_dir(&dir))
        } else {
            None
        };
        return Ok(Endpoint {
            host,
            from: Source::DockerHost,
            tls,
        });
    }
    let named = var("DOCKER_CONTEXT").or_else(|| {
        let config = std::fs::read_to_string(config_dir.as_ref()?.join("config.json")).ok()?;
        let config: serde_json::Value = serde_json::from_str(&config).ok()?;
        config["currentContext"].as_str().map(str::to_string)
    });
    let default = Endpoint {
        host: LOCAL_SOCKET.to_string(),
        from: Source::Default,
        tls: None,
    };
    match named {
        None => Ok(default),
        Some(name) if name == "default" => Ok(default),
        Some(name) => context_endpoint(config_dir, &name).map(|(host, tls)| Endpoint {
            host,
            from: Source::Context(name),
            tls,
        }),
    }
}

/// The engine address a context's metadata holds, and its TLS certificates: the CLI
/// keeps the address in `contexts/meta/<sha256 of the name>/meta.json`, under
/// `Endpoints.docker.Host`, and the certificates in `contexts/tls/<same>/docker/`.
fn context_endpoint(
    config_dir: Option<PathBuf>,
    name: &str,
) -> Result<(String, Option<Tls>), EndpointError> {
    let error = |reason: String| EndpointError {
        endpoint: format!("Docker context `{name}`"),
        reason,
    };
    let id = crate::hash::hex(&Sha256::digest(name.as_bytes()));
    let dir = config_dir.ok_or_else(|| error("HOME and DOCKER_CONFIG are unset".into()))?;
    let file = dir.join("contexts/meta").join(&id).join("meta.json");
    let text = std::fs::read_to_string(&file).map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => error(
            "there is no such context; `docker context ls` lists them, and `docker context use default` goes back to the local engine".into(),
        ),
        _ => error(format!("cannot read {}: {err}", file.display())),
    })?;
    let meta: serde_json::Value = serde_json::from_str(&text)
        .map_err(|err| error(format!("{} is not valid JSON: {err}", file.display())))?;
    let host = meta["Endpoints"]["docker"]["Host"]
        .as_str()
        .filter(|host| !host.is_empty())
        .ok_or_else(|| error(format!("{} names no Docker endpoint", file.display())))?;
    let certificates = dir.join("contexts/tls").join(&id).join("docker");
    if !certificates.exists() {
        return Ok((host.to_string(), None));
    }
    // An engine whose certificate is not checked could be anyone's.
    if meta["Endpoints"]["docker"]["SkipTLSVerify"].as_bool() == Some(true) {
        return Err(error(
            "it skips verifying the engine's TLS certificate, which gorae does not do; give the context the engine's CA (`docker context update --docker \"host=…,ca=ca.pem,cert=cert.pem,key=key.pem\"`)".into(),
        ));
    }
    Ok((host.to_string(), Some(Tls::in_dir(&certificates))))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// A Docker config directory with `contexts` (name, host) and, when given, a
    /// current context in config.json.
    fn config_dir(contexts: &[(&str, &str)], current: Option<&str>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, host) in contexts {
            let id = crate::hash::hex(&Sha256::digest(name.as_bytes()));
            let meta = dir.path().join("contexts/meta").join(id);
            std::fs::create_dir_all(&meta).expect("mkdir");
            let json = serde_json::json!({
                "Name": name,
                "Metadata": {},
                "Endpoints": { "docker": { "Host": host, "SkipTLSVerify": false } }
            });
            std::fs::write(meta.join("meta.json"), json.to_string()).expect("write");
        }
        if let Some(current) = current {
            let json = serde_json::json!({ "currentContext": current });
            std::fs::write(dir.path().join("config.json"), json.to_string()).expect("write");
        }
        dir
    }

    fn find_in(vars: &[(&str, &str)]) -> Result<Endpoint, EndpointError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        find_with(&|name| vars.get(name).cloned())
    }

    #[test]
    fn docker_host_wins_then_the_named_context_then_the_current_one_then_the_socket() {
        let dir = config_dir(
            &[
                ("remote", "ssh://dev@build-box"),
                ("other", "tcp://10.0.0.2:2375"),
            ],
            Some("other"),
        );
        let config = dir.path().display().to_string();
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut vars = vec![("DOCKER_CONFIG", config.as_str())];
            vars.extend_from_slice(extra);
            find_in(&vars).expect("found")
        };
        assert_eq!(
            with(&[("DOCKER_HOST", "tcp://h:1"), ("DOCKER_CONTEXT", "remote")]),
            Endpoint {
                host: "tcp://h:1".into(),
                from: Source::DockerHost,
                tls: None,
            }
        );
        assert_eq!(
            with(&[("DOCKER_CONTEXT", "remote")]),
            Endpoint {
                host: "ssh://dev@build-box".into(),
                from: Source::Context("remote".into()),
                tls: None,
            }
        );
        assert_eq!(with(&[]).host, "tcp://10.0.0.2:2375");
        assert_eq!(
            with(&[("DOCKER_CONTEXT", "default")]),
            Endpoint {
                host: LOCAL_SOCKET.into(),
                from: Source::Default,
                tls: None,
            }
        );
        // No config at all: the local socket.
        assert_eq!(find_in(&[]).expect("found").from, Source::Default);
        // TLS: the certificates in DOCKER_CERT_PATH, else in the config directory.
        let tls = |extra: &[(&'static str, &'static str)]| {
            let mut vars = vec![
                ("DOCKER_CONFIG", config.as_str()),
                ("DOCKER_HOST", "tcp://h:2376"),
                ("DOCKER_TLS_VERIFY", "1"),
            ];
            vars.extend_from_slice(extra);
            find_in(&vars).expect("found").tls
        };
        assert_eq!(
            tls(&[("DOCKER_CERT_PATH", "/certs")]),
            Some(Tls {
                ca: "/certs/ca.pem".into(),
                cert: "/certs/cert.pem".into(),
                key: "/certs/key.pem".into(),
            })
        );
        assert_eq!(tls(&[]).map(|tls| tls.ca), Some(dir.path().join("ca.pem")));
        assert_eq!(with(&[("DOCKER_HOST", "tcp://h:2375")]).tls, None);
        assert_eq!(
            find_in(&[("DOCKER_HOST", "tcp://h:2376"), ("DOCKER_TLS_VERIFY", "1")])
                .expect_err("nowhere to look")
                .endpoint,
            "DOCKER_HOST=tcp://h:2376"
        );
        assert_eq!(
            with(&[("DOCKER_CONTEXT", "remote")]).describe(),
            "ssh://dev@build-box (Docker context `remote`)"
        );
    }

    #[test]
    fn an_engine_is_remote_over_ssh_or_tcp_to_another_host() {
        let remote = |host: &str| {
            Endpoint {
                host: host.to_string(),
                from: Source::DockerHost,
                tls: None,
            }
            .remote_host()
        };
        assert_eq!(remote("ssh://dev@build-box"), Some("build-box".into()));
        assert_eq!(
            remote("ssh://dev@build-box:2222/"),
            Some("build-box".into())
        );
        // Over ssh even to this machine: another sshd, another user, maybe a VM.
        assert_eq!(remote("ssh://127.0.0.1"), Some("127.0.0.1".into()));
        assert_eq!(remote("tcp://10.0.0.2:2375"), Some("10.0.0.2".into()));
        assert_eq!(
            remote("tcp://[2001:db8::1]:2375"),
            Some("2001:db8::1".into())
        );
        for local in [
            "unix:///var/run/docker.sock",
            "tcp://127.0.0.1:2375",
            "tcp://localhost:2375",
            "tcp://[::1]:2375",
        ] {
            assert_eq!(remote(local), None, "{local}");
        }
    }

    #[test]
    fn ports_on_another_machine_are_reached_through_an_ssh_tunnel() {
        let tunnel = |host: &str| {
            Endpoint {
                host: host.to_string(),
                from: Source::DockerHost,
                tls: None,
            }
            .tunnel_command(&[5432, 6379])
        };
        assert_eq!(
            tunnel("ssh://dev@box"),
            Some("ssh -N -L 5432:127.0.0.1:5432 -L 6379:127.0.0.1:6379 dev@box".into())
        );
        assert_eq!(
            tunnel("ssh://dev@box:2222"),
            Some("ssh -N -L 5432:127.0.0.1:5432 -L 6379:127.0.0.1:6379 -p 2222 dev@box".into())
        );
        assert_eq!(
            tunnel("tcp://10.0.0.2:2375"),
            Some("ssh -N -L 5432:127.0.0.1:5432 -L 6379:127.0.0.1:6379 10.0.0.2".into())
        );
        assert_eq!(tunnel("unix:///var/run/docker.sock"), None);
    }

    #[test]
    fn a_context_with_certificates_is_spoken_to_over_tls_and_never_unverified() {
        let dir = config_dir(&[("secure", "tcp://box:2376")], None);
        let config = dir.path().display().to_string();
        let id = crate::hash::hex(&Sha256::digest(b"secure"));
        let certificates = dir.path().join("contexts/tls").join(&id).join("docker");
        std::fs::create_dir_all(&certificates).expect("mkdir");
        let found =
            find_in(&[("DOCKER_CONFIG", &config), ("DOCKER_CONTEXT", "secure")]).expect("found");
        assert_eq!(
            found.tls.map(|tls| tls.key),
            Some(certificates.join("key.pem"))
        );
        let meta = dir.path().join("contexts/meta").join(&id).join("meta.json");
        let json = serde_json::json!({
            "Endpoints": { "docker": { "Host": "tcp://box:2376", "SkipTLSVerify": true } }
        });
        std::fs::write(meta, json.to_string()).expect("write");
        let err = find_in(&[("DOCKER_CONFIG", &config), ("DOCKER_CONTEXT", "secure")])
            .expect_err("unverified");
        assert!(err.reason.contains("skips verifying"), "{}", err.reason);
    }

    #[test]
    fn a_context_that_cannot_be_read_says_which_and_why() {
        let dir = config_dir(&[], Some("gone"));
        let config = dir.path().display().to_string();
        let err = find_in(&[("DOCKER_CONFIG", &config)]).expect_err("no such context");
        assert_eq!(err.endpoint, "Docker context `gone`");
        assert!(err.reason.contains("docker context ls"), "{}", err.reason);
        let id = crate::hash::hex(&Sha256::digest(b"gone"));
        let meta = dir.path().join("contexts/meta").join(&id);
        std::fs::create_dir_all(&meta).expect("mkdir");
        std::fs::write(meta.join("meta.json"), "{").expect("write");
        let err = find_in(&[("DOCKER_CONFIG", &config)]).expect_err("bad JSON");
        assert!(err.reason.contains("is not valid JSON"), "{}", err.reason);
        std::fs::write(meta.join("meta.json"), r#"{"Endpoints":{}}"#).expect("write");
        let err = find_in(&[("DOCKER_CONFIG", &config)]).expect_err("no endpoint");
        assert!(
            err.reason.contains("names no Docker endpoint"),
            "{}",
            err.reason
        );
    }
}
