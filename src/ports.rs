//! Host ports: find the ones already taken before anything starts, and name who
//! holds them.

use std::fmt;
use std::net::{TcpListener, UdpSocket};

use crate::config::{PortMapping, Protocol};
use crate::engine::Engine;

/// A published port that something else already holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenPort {
    pub service: String,
    pub mapping: PortMapping,
    /// Who holds it, when that can be found: a container or a process.
    pub holder: Option<String>,
}

impl fmt::Display for TakenPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "port {}:{} for service `{}` is already in use",
            self.mapping.host_ip, self.mapping.host_port, self.service
        )?;
        if let Some(holder) = &self.holder {
            write!(f, " by {holder}")?;
        }
        Ok(())
    }
}

/// Whether the port can be bound right now.
pub fn is_free(mapping: &PortMapping) -> bool {
    let address = (mapping.host_ip.as_str(), mapping.host_port);
    match mapping.protocol {
        Protocol::Tcp => TcpListener::bind(address).is_ok(),
        Protocol::Udp => UdpSocket::bind(address).is_ok(),
    }
}

/// Finds who holds a taken port: first a container publishing it, then (on Linux)
/// a local process listening on it.
pub async fn holder(engine: &Engine, mapping: &PortMapping) -> Option<String> {
    if let Ok(containers) = engine.containers_publishing(mapping.host_port).await
        && let Some((name, dir)) = containers.first()
    {
        return Some(container_holder(name, dir.as_deref()));
    }
    process_holder(mapping)
}

/// Names a container holding a port; for one of a gorae project, also its directory
/// and the command that frees the port.
pub fn container_holder(name: &str, project_dir: Option<&str>) -> String {
    match project_dir {
        Some(dir) => format!(
            "container `{name}` of the gorae project in {dir} (`gorae down` there stops it)"
        ),
        None => format!("container `{name}`"),
    }
}

/// Who holds a taken port when there is no engine to ask: a local process only.
pub fn process_holder(mapping: &PortMapping) -> Option<String> {
    if mapping.protocol != Protocol::Tcp {
        return None;
    }
    process_listening(mapping.host_port).map(|(pid, name)| format!("process {name} (pid {pid})"))
}

/// Looks a listening TCP port up in /proc: socket inode, then the process owning it.
#[cfg(target_os = "linux")]
fn process_listening(port: u16) -> Option<(u32, String)> {
    use std::fs;
    const LISTEN: &str = "0A";
    let inode = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .find_map(|table| {
            let text = fs::read_to_string(table).ok()?;
            text.lines().skip(1).find_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let local_port = fields.get(1)?.rsplit_once(':')?.1;
                let listening = fields.get(3) == Some(&LISTEN);
                (listening && u16::from_str_radix(local_port, 16).ok()? == port)
                    .then(|| fields.get(9).map(|s| s.to_string()))
                    .flatten()
            })
        })?;
    let socket = format!("socket:[{inode}]");
    for process in fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = process.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(fds) = fs::read_dir(process.path().join("fd")) else {
            continue;
        };
        let owns = fds.flatten().any(|fd| {
            fs::read_link(fd.path()).is_ok_and(|target| target.to_string_lossy() == socket)
        });
        if owns {
            let name = fs::read_to_string(process.path().join("comm")).unwrap_or_default();
            return Some((pid, name.trim().to_string()));
        }
    }
    None
}

#[cfg(not(target_os = "linux"))]
fn process_listening(_port: u16) -> Option<(u32, String)> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(port: u16) -> PortMapping {
        PortMapping {
            host_ip: "127.0.0.1".into(),
            host_port: port,
            container_port: port,
            protocol: Protocol::Tcp,
        }
    }

    #[test]
    fn a_listening_port_is_taken_and_its_process_is_named() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        assert!(!is_free(&mapping(port)));
        let (pid, _name) = process_listening(port).expect("holder found");
        assert_eq!(pid, std::process::id());
        drop(listener);
        assert!(is_free(&mapping(port)));
    }
}
