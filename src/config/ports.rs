//! Published ports: parsing `ports:` entries and finding host ports published twice.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::fields::{Checker, parse_port};
use super::model::{PortMapping, Protocol};
use super::service::KeyOf;
use super::source::Span;
use super::yaml::{Kind, Node};

/// Where ports publish unless an address is written out: only this machine can reach them.
pub const DEFAULT_HOST_IP: &str = "127.0.0.1";

/// A fault in one port entry: message and help.
type Fault = (String, String);

/// Parses `3000`, `"8080:3000"`, `"0.0.0.0:3000:3000"`, `"[::1]:3000:3000"`, each with
/// an optional `/tcp` or `/udp`.
pub fn parse_port_mapping(text: &str) -> Result<PortMapping, Fault> {
    let (body, protocol) = match text.rsplit_once('/') {
        Some((body, "tcp")) => (body, Protocol::Tcp),
        Some((body, "udp")) => (body, Protocol::Udp),
        Some((_, other)) => {
            return Err((
                format!("unknown protocol `{other}` in port `{text}`"),
                "write /tcp or /udp, or leave it out for tcp".into(),
            ));
        }
        None => (text, Protocol::Tcp),
    };
    let (host_ip, ports) = if let Some(rest) = body.strip_prefix('[') {
        let Some((ip, ports)) = rest.split_once("]:") else {
            return Err((
                format!("port `{text}` has an unclosed IPv6 address"),
                "write [ADDRESS]:HOST_PORT:CONTAINER_PORT, such as [::1]:3000:3000".into(),
            ));
        };
        if ip.parse::<Ipv6Addr>().is_err() {
            return Err((
                format!("`{ip}` in port `{text}` is not an IPv6 address"),
                "write an address such as [::1]".into(),
            ));
        }
        (Some(ip.to_string()), ports)
    } else {
        match body.split(':').collect::<Vec<_>>().as_slice() {
            [_] | [_, _] => (None, body),
            [ip, _, _] => {
                if ip.parse::<Ipv4Addr>().is_err() {
                    return Err((
                        format!("`{ip}` in port `{text}` is not an IPv4 address"),
                        "write ADDRESS:HOST_PORT:CONTAINER_PORT, such as 0.0.0.0:3000:3000".into(),
                    ));
                }
                (Some(ip.to_string()), &body[ip.len() + 1..])
            }
            _ => {
                return Err((
                    format!("port `{text}` has too many `:`"),
                    "write CONTAINER_PORT, HOST_PORT:CONTAINER_PORT or ADDRESS:HOST_PORT:CONTAINER_PORT; IPv6 addresses go in brackets: [::1]:3000:3000".into(),
                ));
            }
        }
    };
    let (host, container) = match ports.split_once(':') {
        Some((host, container)) => (host, container),
        None => (ports, ports),
    };
    let number = |part: &str| {
        parse_port(part).ok_or_else(|| {
            (
                format!("`{part}` in port `{text}` is not a valid port number"),
                "a port is a number from 1 to 65535; write CONTAINER_PORT, HOST_PORT:CONTAINER_PORT or ADDRESS:HOST_PORT:CONTAINER_PORT".to_string(),
            )
        })
    };
    Ok(PortMapping {
        host_ip: host_ip.unwrap_or_else(|| DEFAULT_HOST_IP.to_string()),
        host_port: number(host)?,
        container_port: number(container)?,
        protocol,
    })
}

/// Reads a service's `ports:` list, with the span of each entry.
pub fn read_ports(check: &mut Checker, node: &Node, service: &str) -> Vec<(PortMapping, Span)> {
    let what = KeyOf {
        key: "ports",
        service,
    };
    let Some(items) = node.as_seq() else {
        check.error(
            node.span,
            format!("{what} must be a list, found {}", node.describe()),
            "write it as a list, such as [\"3000\", \"8080:80\"]",
        );
        return Vec::new();
    };
    let mut ports = Vec::new();
    for item in items {
        if let Some(scalar) = item.as_scalar()
            && scalar.kind() == Kind::Float
        {
            check.error(
                item.span,
                format!(
                    "port `{}` is a number with a fraction in YAML",
                    scalar.written()
                ),
                format!("quote it: \"{}\"", scalar.written()),
            );
            continue;
        }
        let Some(text) = check.string(item, format_args!("an entry of {what}")) else {
            continue;
        };
        match parse_port_mapping(&text) {
            Ok(mapping) => ports.push((mapping, item.span)),
            Err((message, help)) => check.error(item.span, message, help),
        }
    }
    ports
}

/// Whether two publications need the same host port. A wildcard address (0.0.0.0,
/// ::) takes the port on every address, so it collides with any other.
pub fn collide(a: &PortMapping, b: &PortMapping) -> bool {
    let wildcard = |ip: &str| ip == "0.0.0.0" || ip == "::";
    a.host_port == b.host_port
        && a.protocol == b.protocol
        && (a.host_ip == b.host_ip || wildcard(&a.host_ip) || wildcard(&b.host_ip))
}

/// Shows a publication the way users write it.
pub fn display(port: &PortMapping) -> String {
    let ip = if port.host_ip.contains(':') {
        format!("[{}]", port.host_ip)
    } else {
        port.host_ip.clone()
    };
    let protocol = match port.protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    };
    format!("{ip}:{}:{}/{protocol}", port.host_port, port.container_port)
}

/// Reports every host port published a second time (by the same or another service),
/// pointing at both places. `published` is in file order: (service, mapping, span).
pub fn check_collisions(check: &mut Checker, published: &[(&str, &PortMapping, Span)]) {
    /// The publications of one host port and protocol seen so far: the first of all,
    /// the first on a wildcard address, and the first on each address.
    #[derive(Default)]
    struct Seen {
        first: Option<usize>,
        wildcard: Option<usize>,
        by_ip: HashMap<String, usize>,
    }
    let wildcard = |ip: &str| ip == "0.0.0.0" || ip == "::";
    let mut seen: HashMap<(u16, bool), Seen> = HashMap::new();
    for (index, (service, port, span)) in published.iter().enumerate() {
        let group = seen
            .entry((port.host_port, port.protocol == Protocol::Tcp))
            .or_default();
        // A wildcard address collides with every earlier publication of the port; any
        // address collides with an earlier wildcard and with itself.
        let earlier = if wildcard(&port.host_ip) {
            group.first
        } else {
            [group.wildcard, group.by_ip.get(&port.host_ip).copied()]
                .into_iter()
                .flatten()
                .min()
        };
        group.first.get_or_insert(index);
        if wildcard(&port.host_ip) {
            group.wildcard.get_or_insert(index);
        }
        group.by_ip.entry(port.host_ip.clone()).or_insert(index);
        let Some(&(first_service, first_port, first_span)) = earlier.and_then(|i| published.get(i))
        else {
            continue;
        };
        debug_assert!(collide(first_port, port));
        let whom = if first_service == *service {
            format!("twice by `{service}`")
        } else {
            format!("by both `{first_service}` and `{service}`")
        };
        let diagnostic = check
            .source
            .error(
                *span,
                format!("host port {} is published {whom}", port.host_port),
                "give one of them another host port, such as \"HOST_PORT:CONTAINER_PORT\"",
            )
            .with_note(
                format!("`{first_service}` publishes {} here", display(first_port)),
                Some(check.source.locate(first_span)),
            );
        check.push(diagnostic);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(ip: &str, host: u16, container: u16, protocol: Protocol) -> PortMapping {
        PortMapping {
            host_ip: ip.into(),
            host_port: host,
            container_port: container,
            protocol,
        }
    }

    #[test]
    fn port_forms() {
        use Protocol::*;
        for (text, expected) in [
            ("3000", mapping("127.0.0.1", 3000, 3000, Tcp)),
            ("8080:3000", mapping("127.0.0.1", 8080, 3000, Tcp)),
            ("0.0.0.0:3000:3000", mapping("0.0.0.0", 3000, 3000, Tcp)),
            ("[::1]:3000:3001", mapping("::1", 3000, 3001, Tcp)),
            ("53:53/udp", mapping("127.0.0.1", 53, 53, Udp)),
            ("3000/tcp", mapping("127.0.0.1", 3000, 3000, Tcp)),
        ] {
            assert_eq!(parse_port_mapping(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn bad_ports_are_rejected() {
        for text in [
            "0",
            "65536",
            "http",
            "3000:",
            ":3000",
            "1:2:3:4",
            "x.y:1:2",
            "::1:3000:3000",
            "[::1:3000:3000",
            "3000/sctp",
            "3000-3005",
        ] {
            assert!(parse_port_mapping(text).is_err(), "{text}");
        }
    }

    #[test]
    fn wildcard_addresses_collide_with_every_address() {
        use Protocol::*;
        let local = mapping("127.0.0.1", 3000, 3000, Tcp);
        assert!(collide(&local, &mapping("0.0.0.0", 3000, 1, Tcp)));
        assert!(collide(&mapping("::", 3000, 1, Tcp), &local));
        assert!(!collide(&local, &mapping("127.0.0.2", 3000, 1, Tcp)));
        assert!(!collide(&local, &mapping("127.0.0.1", 3000, 3000, Udp)));
        assert!(!collide(&local, &mapping("127.0.0.1", 3001, 3000, Tcp)));
    }
}
