//! How a service's process runs beyond its command: `entrypoint`, `user`,
//! `working_dir`, `stop_signal`, `extra_hosts` and `platform`, each checked where it
//! is written, so a mistake shows at its line rather than as an engine error at `up`.

use super::fields::Checker;
use super::model::RunOptions;
use super::service::KeyOf;
use super::yaml::Node;

/// The keys this module reads.
pub const KEYS: [&str; 6] = [
    "entrypoint",
    "user",
    "working_dir",
    "stop_signal",
    "extra_hosts",
    "platform",
];

/// Reads one of [`KEYS`] into `run`.
pub fn read(check: &mut Checker, run: &mut RunOptions, key: &str, node: &Node, service: &str) {
    let what = KeyOf { key, service };
    match key {
        "entrypoint" => run.entrypoint = check.command(node, what),
        "user" => run.user = user(check, node, what),
        "working_dir" => run.working_dir = working_dir(check, node, what),
        "stop_signal" => run.stop_signal = stop_signal(check, node, what),
        "extra_hosts" => run.extra_hosts = extra_hosts(check, node, what),
        "platform" => run.platform = platform(check, node, what),
        _ => {}
    }
}

fn user(check: &mut Checker, node: &Node, what: KeyOf) -> Option<String> {
    let text = check.string(node, what)?;
    let part_ok = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    };
    let valid = match text.split_once(':') {
        Some((user, group)) => part_ok(user) && part_ok(group),
        None => part_ok(&text),
    };
    if !valid {
        check.error(
            node.span,
            format!("{what} `{text}` is not a user"),
            "write a user name or number, optionally with a group: node, 1000 or \"1000:1000\"",
        );
        return None;
    }
    Some(text)
}

fn working_dir(check: &mut Checker, node: &Node, what: KeyOf) -> Option<String> {
    let text = check.string(node, what)?;
    if !text.starts_with('/') {
        check.error(
            node.span,
            format!("{what} `{text}` is not an absolute path"),
            format!(
                "write the directory inside the container, such as /{}",
                text.trim_start_matches("./")
            ),
        );
        return None;
    }
    Some(text)
}

/// Signal names the engine knows on Linux, without their `SIG` prefix.
const SIGNALS: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

/// `SIGINT`, `INT` or a number, as the engine takes it; a name is kept as `SIGINT`.
fn stop_signal(check: &mut Checker, node: &Node, what: KeyOf) -> Option<String> {
    let text = check.string(node, what)?;
    if text.parse::<u8>().is_ok_and(|n| (1..=64).contains(&n)) {
        return Some(text);
    }
    let upper = text.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    if SIGNALS.contains(&bare) || bare.starts_with("RTMIN") || bare.starts_with("RTMAX") {
        return Some(format!("SIG{bare}"));
    }
    check.error(
        node.span,
        format!("{what} `{text}` is not a signal"),
        "write a signal name such as SIGINT, SIGTERM or SIGQUIT",
    );
    None
}

/// `HOST:IP` entries; the IP may be `host-gateway`, the engine's address on the host
/// (so `host.docker.internal:host-gateway` works on Linux as on Docker Desktop).
fn extra_hosts(check: &mut Checker, node: &Node, what: KeyOf) -> Vec<String> {
    let Some(items) = check.names(node, what) else {
        return Vec::new();
    };
    let mut hosts = Vec::new();
    for (text, span) in items {
        let valid = text.split_once(':').is_some_and(|(host, ip)| {
            let host_ok = !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
            host_ok && (ip == "host-gateway" || ip.parse::<std::net::IpAddr>().is_ok())
        });
        if valid {
            hosts.push(text);
        } else {
            check.error(
                span,
                format!("`{text}` in {what} is not HOST:IP"),
                "write a host name and an address, such as host.docker.internal:host-gateway or db.local:10.0.0.5",
            );
        }
    }
    hosts
}

/// `os/arch[/variant]`, such as `linux/amd64` or `linux/arm64/v8`.
fn platform(check: &mut Checker, node: &Node, what: KeyOf) -> Option<String> {
    let text = check.string(node, what)?;
    let parts: Vec<&str> = text.split('/').collect();
    let valid = (2..=3).contains(&parts.len())
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        });
    if !valid {
        check.error(
            node.span,
            format!("{what} `{text}` is not a platform"),
            "write OS/ARCH, such as linux/amd64 or linux/arm64",
        );
        return None;
    }
    Some(text)
}
