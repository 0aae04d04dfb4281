//! Where the engine is, found as the docker CLI finds it, so that gorae talks to the
//! engine `docker` does: `DOCKER_HOST`, else the Docker context `DOCKER_CONTEXT`
//! names, else the CLI's current context (`currentContext` in its config.json, under
//! `DOCKER_CONFIG` or `~/.docker`), else the local socket.

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
        match &self.from {
            Source::DockerHost => format!("DOCKER_HOST={}", self.host),
            Source::Context(name) => format!("{} (Docker context `{name}`)", self.host),
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
    if let Some(host) = var("DOCKER_HOST") {
        // Refused rather than tried in the clear: the engine would see plain HTTP.
        if var("DOCKER_TLS_VERIFY").is_some() {
            return Err(EndpointError {
                endpoint: format!("DOCKER_HOST={host}"),
                reason: "DOCKER_TLS_VERIFY is set, and gorae does not speak TLS to an engine yet; forward the engine's socket instead (`ssh -NL /tmp/docker.sock:/var/run/docker.sock user@host`, then DOCKER_HOST=unix:///tmp/docker.sock)".into(),
            });
        }
        return Ok(Endpoint {
            host,
            from: Source::DockerHost,
        });
    }
    let config_dir = var("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".docker")));
    let named = var("DOCKER_CONTEXT").or_else(|| {
        let config = std::fs::read_to_string(config_dir.as_ref()?.join("config.json")).ok()?;
        let config: serde_json::Value = serde_json::from_str(&config).ok()?;
        config["currentContext"].as_str().map(str::to_string)
    });
    let default = Endpoint {
        host: LOCAL_SOCKET.to_string(),
        from: Source::Default,
    };
    match named {
        None => Ok(default),
        Some(name) if name == "default" => Ok(default),
        Some(name) => context_host(config_dir, &name).map(|host| Endpoint {
            host,
            from: Source::Context(name),
        }),
    }
}

/// The engine address a context's metadata holds: the CLI keeps it in
/// `contexts/meta/<sha256 of the name>/meta.json`, under `Endpoints.docker.Host`.
fn context_host(config_dir: Option<PathBuf>, name: &str) -> Result<String, EndpointError> {
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
    if dir.join("contexts/tls").join(&id).exists() {
        return Err(error(
            "it uses TLS, which gorae does not read from contexts yet; set DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH instead".into(),
        ));
    }
    Ok(host.to_string())
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
                from: Source::DockerHost
            }
        );
        assert_eq!(
            with(&[("DOCKER_CONTEXT", "remote")]),
            Endpoint {
                host: "ssh://dev@build-box".into(),
                from: Source::Context("remote".into())
            }
        );
        assert_eq!(with(&[]).host, "tcp://10.0.0.2:2375");
        assert_eq!(
            with(&[("DOCKER_CONTEXT", "default")]),
            Endpoint {
                host: LOCAL_SOCKET.into(),
                from: Source::Default
            }
        );
        // No config at all: the local socket.
        assert_eq!(find_in(&[]).expect("found").from, Source::Default);
        // TLS is refused, not tried in the clear.
        let tls = find_in(&[("DOCKER_HOST", "tcp://h:2376"), ("DOCKER_TLS_VERIFY", "1")])
            .expect_err("no TLS yet");
        assert_eq!(tls.endpoint, "DOCKER_HOST=tcp://h:2376");
        assert!(tls.reason.contains("TLS"), "{}", tls.reason);
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
