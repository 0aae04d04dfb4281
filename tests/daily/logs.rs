//! `gorae logs`: prefixes, order by time across services, `--tail`, colour only on
//! a terminal, and `-f` through a restart and a re-creation.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::{TestProject, docker, ensure_stand_in_images, stderr, stdout};
use crate::{sh_quote, wait_for};

/// A service printing `NAME-1` .. `NAME-20`, one every 100 ms, then idling. Two of
/// them run at once, so their lines alternate in time.
fn counter(name: &str) -> String {
    format!(
        "  {name}:\n    image: python:3.12\n    command: [\"sh\", \"-c\", \"for i in $(seq 1 20); do echo {name}-$i; sleep 0.1; done; exec sleep 600\"]\n"
    )
}

#[test]
fn logs_interleave_services_by_time_with_prefixes_tail_and_colour() {
    ensure_stand_in_images();
    let project = TestProject::new("logs");
    let yaml = project.services_yaml(&format!("{}{}", counter("a"), counter("bb")));
    let project = project.file("gorae.yaml", &yaml);
    project.gorae_ok(&["up", "--ci"]);
    wait_for(
        "both services to print 20 lines",
        Duration::from_secs(20),
        || {
            let out = stdout(&project.gorae_ok(&["logs"]));
            (out.lines().count() >= 40).then_some(())
        },
    );

    // Prefixes aligned to the longest name; lines of one service keep their order.
    let plain = stdout(&project.gorae_ok(&["logs"]));
    let lines: Vec<&str> = plain.lines().collect();
    assert_eq!(lines.len(), 40, "{plain}");
    for line in &lines {
        assert!(
            line.starts_with("a  | a-") || line.starts_with("bb | bb-"),
            "{line:?}"
        );
    }
    let a_lines: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("a "))
        .collect();
    let expected: Vec<String> = (1..=20).map(|i| format!("a  | a-{i}")).collect();
    assert_eq!(a_lines, expected);

    // Ordered by time across services: the timestamps never go back, and the two
    // services alternate (grouped output would switch once).
    let stamped = stdout(&project.gorae_ok(&["logs", "--timestamps"]));
    let times: Vec<(String, String)> = stamped
        .lines()
        .map(|line| {
            let (service, rest) = line.split_once(" | ").expect("a prefix");
            let stamp = rest.split(' ').next().expect("a timestamp");
            (service.trim().to_string(), comparable(stamp))
        })
        .collect();
    for pair in times.windows(2) {
        assert!(pair[0].1 <= pair[1].1, "out of order: {pair:?}\n{stamped}");
    }
    let switches = times.windows(2).filter(|p| p[0].0 != p[1].0).count();
    assert!(
        switches >= 10,
        "services not interleaved ({switches} switches):\n{stamped}"
    );

    // --tail counts per service; a service filter keeps only that service.
    let tail = stdout(&project.gorae_ok(&["logs", "--tail", "2"]));
    let mut tail_lines: Vec<&str> = tail.lines().collect();
    tail_lines.sort();
    assert_eq!(
        tail_lines,
        ["a  | a-19", "a  | a-20", "bb | bb-19", "bb | bb-20"]
    );
    let only = stdout(&project.gorae_ok(&["logs", "bb", "--tail", "1"]));
    assert_eq!(only, "bb | bb-20\n");
    let unknown = project.gorae(&["logs", "nope"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));

    // Colour only on a terminal, and not with NO_COLOR; never into a pipe.
    let on_terminal = |no_color: Option<&str>| {
        let mut command = Command::new("script");
        project
            .environment(&mut command)
            .args([
                "-qec",
                &format!("{} logs --tail 1", sh_quote(env!("CARGO_BIN_EXE_gorae"))),
            ])
            .arg("/dev/null")
            .current_dir(project.path())
            .env_remove("NO_COLOR")
            .stdin(Stdio::null());
        if let Some(value) = no_color {
            command.env("NO_COLOR", value);
        }
        let out = command
            .output()
            .expect("run `script` (util-linux) for a terminal");
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let coloured = on_terminal(None);
    assert!(
        coloured.contains("\x1b[36ma  |\x1b[0m a-20"),
        "{coloured:?}"
    );
    assert!(
        coloured.contains("\x1b[33mbb |\x1b[0m bb-20"),
        "{coloured:?}"
    );
    let no_color = on_terminal(Some("1"));
    assert!(
        no_color.contains("a  | a-20") && !no_color.contains('\x1b'),
        "{no_color:?}"
    );
    let piped = project
        .command(&["logs", "--tail", "1"])
        .env_remove("NO_COLOR")
        .output()
        .expect("run gorae");
    assert!(!stdout(&piped).contains('\x1b'), "{:?}", stdout(&piped));
}

/// `2026-11-27T10:00:00.5Z` with its fraction padded to nine digits, so that
/// string order is time order (all the engine's log times are in UTC).
fn comparable(stamp: &str) -> String {
    let stamp = stamp.trim_end_matches('Z');
    match stamp.split_once('.') {
        Some((seconds, fraction)) => format!("{seconds}.{fraction:0<9}"),
        None => format!("{stamp}.000000000"),
    }
}

/// A service printing `tick GEN START N` every 200 ms, where START is when this
/// run of the container began: a restart starts a new START at N = 1.
const TICKER: &str = "  ticker:\n    image: python:3.12\n    command: [\"sh\", \"-c\", \"s=$(date +%s%N); i=0; while :; do i=$((i+1)); echo tick $GEN $s $i; sleep 0.2; done\"]\n    env: { GEN: ";

#[test]
fn logs_follow_survives_a_restart_and_a_recreation() {
    ensure_stand_in_images();
    let project = TestProject::new("follow");
    let yaml = project.services_yaml(&format!("{TICKER}one }}\n"));
    let project = project.file("gorae.yaml", &yaml);
    project.gorae_ok(&["up", "--ci"]);

    let mut follower = project
        .command(&["logs", "-f"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start `gorae logs -f`");
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let reader = {
        let seen = Arc::clone(&seen);
        let out = follower.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                seen.lock().expect("lock").push(line);
            }
        })
    };
    // (generation, start) of each container run seen so far, in order.
    let runs = |seen: &Arc<Mutex<Vec<String>>>| -> Vec<(String, String)> {
        let mut runs: Vec<(String, String)> = Vec::new();
        for line in seen.lock().expect("lock").iter() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if let ["ticker", "|", "tick", generation, start, _] = words[..] {
                let run = (generation.to_string(), start.to_string());
                if !runs.contains(&run) {
                    runs.push(run);
                }
            }
        }
        runs
    };
    let limit = Duration::from_secs(30);
    wait_for("the first lines", limit, || {
        (!runs(&seen).is_empty()).then_some(())
    });

    let container = format!("{}-ticker", project.name());
    docker(&["restart", "-t", "1", &container]);
    wait_for("lines after `docker restart`", limit, || {
        (runs(&seen).len() >= 2).then_some(())
    });

    let yaml = project.services_yaml(&format!("{TICKER}two }}\n"));
    let project = project.file("gorae.yaml", &yaml);
    project.gorae_ok(&["up", "--ci"]);
    wait_for("lines of the re-created container", limit, || {
        runs(&seen)
            .iter()
            .any(|(generation, _)| generation == "two")
            .then_some(())
    });
    // A few more ticks of the new container, to catch duplicates from re-attaching.
    std::thread::sleep(Duration::from_secs(1));

    follower.kill().expect("stop the follower");
    let _ = follower.wait();
    let _ = reader.join();
    let lines = seen.lock().expect("lock").clone();
    let runs = runs(&seen);
    assert_eq!(
        runs.iter().map(|(g, _)| g.as_str()).collect::<Vec<_>>(),
        ["one", "one", "two"],
        "{lines:#?}"
    );
    // Every run is complete from its first line, with nothing lost or repeated
    // across the re-attachments.
    let mut numbers: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for line in &lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let ["ticker", "|", "tick", _, start, n] = words[..] {
            numbers
                .entry(start)
                .or_default()
                .push(n.parse().expect("a number"));
        }
    }
    for (start, seen) in &numbers {
        let expected: Vec<u32> = (1..=seen.len() as u32).collect();
        assert_eq!(
            seen, &expected,
            "run {start} has gaps or repeats:\n{lines:#?}"
        );
    }
}
