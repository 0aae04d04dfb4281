//! Checks across services: dependencies that exist, no cycles, and no two
//! dependencies handing a service the same variable.

use std::collections::{BTreeMap, HashMap};

use super::fields::{Checker, suggest};
use super::service::Draft;
use super::source::Span;

/// Reports unknown, repeated and self dependencies, then cycles among the rest.
pub fn check_dependencies(check: &mut Checker, drafts: &BTreeMap<String, Draft>) {
    let names: Vec<&str> = drafts.keys().map(String::as_str).collect();
    for (name, draft) in drafts {
        let mut listed: HashMap<&str, Span> = HashMap::new();
        for (dep, span) in &draft.depends_on {
            if dep == name {
                check.error(
                    *span,
                    format!("service `{name}` depends on itself"),
                    format!("remove `{name}` from its own depends_on"),
                );
            } else if !drafts.contains_key(dep) {
                if check.is_full() {
                    check.dropped += 1;
                    continue;
                }
                let others = names.iter().copied().filter(|other| other != name);
                let help = match suggest(dep, others) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!(
                        "depend on a service of this file: {}",
                        some_names(
                            names.iter().copied().filter(|other| other != name),
                            names.len() - 1
                        )
                    ),
                };
                check.error(
                    *span,
                    format!("service `{name}` depends on unknown service `{dep}`"),
                    help,
                );
            } else if let Some(first) = listed.get(dep.as_str()) {
                let diagnostic = check
                    .source
                    .error(
                        *span,
                        format!("service `{name}` lists `{dep}` twice in depends_on"),
                        "remove one of them",
                    )
                    .with_note("first listed here", Some(check.source.locate(*first)));
                check.push(diagnostic);
            } else {
                listed.insert(dep, *span);
            }
        }
    }
    for cycle in find_cycles(drafts) {
        let cycle = start_at_first_declared(drafts, cycle);
        let path: Vec<&str> = cycle.iter().map(|(name, _)| name.as_str()).collect();
        let Some(&(_, first_edge)) = cycle.get(1) else {
            continue;
        };
        check.error(
            first_edge,
            format!("dependency cycle: {}", path.join(" -> ")),
            "services start after their dependencies are ready, so a cycle can never start; remove one of these dependencies",
        );
    }
}

/// Up to ten of `total` names, then how many more, for a help line that stays short
/// (and costs the same with ten services or forty thousand).
fn some_names<'a>(names: impl Iterator<Item = &'a str>, total: usize) -> String {
    const SHOWN: usize = 10;
    let shown: Vec<&str> = names.take(SHOWN).collect();
    let mut text = shown.join(", ");
    if total > shown.len() {
        text.push_str(&format!(" and {} more", total - shown.len()));
    }
    text
}

/// A cycle longer than this is reported with its middle left out: the message could
/// not show it anyway, and ten copies of a 20,000-service path would cost memory.
const MAX_CYCLE_SHOWN: usize = 40;

/// The steps of a cycle, or its first and last [`MAX_CYCLE_SHOWN`] / 2 with a
/// "… N more …" step between them.
fn shortened<T>(steps: &[T], entry: impl Fn(&T) -> (String, Span)) -> Vec<(String, Span)> {
    if steps.len() <= MAX_CYCLE_SHOWN {
        return steps.iter().map(entry).collect();
    }
    let half = MAX_CYCLE_SHOWN / 2;
    let mut cycle: Vec<(String, Span)> = steps[..half].iter().map(&entry).collect();
    let (_, span) = entry(&steps[half]);
    cycle.push((format!("… {} more …", steps.len() - 2 * half), span));
    cycle.extend(steps[steps.len() - half..].iter().map(&entry));
    cycle
}

/// At most this many cycles are reported; each one found needs a dependency removed,
/// and after fixing these, the next run shows any that remain.
const MAX_CYCLES: usize = 10;

/// Rotates a cycle (`a -> b -> c -> a`, each with the span of the edge into it) to start
/// at the service written first in the file, so the report reads in file order.
fn start_at_first_declared(
    drafts: &BTreeMap<String, Draft>,
    cycle: Vec<(String, Span)>,
) -> Vec<(String, Span)> {
    // Without the repeated last element, entry i is (service, span of the edge into it),
    // except entry 0, whose edge is the closing one stored in the last element.
    let Some((_, closing)) = cycle.last().cloned() else {
        return cycle;
    };
    let mut ring: Vec<(String, Span)> = cycle[..cycle.len() - 1].to_vec();
    if let Some(first) = ring.first_mut() {
        first.1 = closing;
    }
    let declared = |name: &str| drafts.get(name).map(|draft| draft.name_span);
    // A shortened cycle's "… more …" step is no service; it never starts the report.
    let Some(start) = (0..ring.len())
        .min_by_key(|&index| declared(&ring[index].0).map_or((1, Span::default()), |s| (0, s)))
    else {
        return cycle;
    };
    ring.rotate_left(start);
    if let Some(first) = ring.first().cloned() {
        ring.push(first);
    }
    ring
}

/// Every cycle found by a depth-first search, each as the services along it (first
/// repeated at the end) with the span of the `depends_on` entry leading to each.
/// Iterative, so a long chain of services cannot overflow the stack. Services are
/// numbered once (in name order, the order of the search) and the search works on the
/// numbers: looking each name up in the map at every step costs a string comparison
/// per level of the tree, which dominates in a file of many services.
fn find_cycles(drafts: &BTreeMap<String, Draft>) -> Vec<Vec<(String, Span)>> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        /// On the current search path, at this position.
        OnPath(usize),
        Done,
    }
    let services: Vec<(&String, &Draft)> = drafts.iter().collect();
    let number: HashMap<&str, usize> = services
        .iter()
        .enumerate()
        .map(|(index, (name, _))| (name.as_str(), index))
        .collect();
    // The dependencies of each service that are services, itself left out.
    let edges: Vec<Vec<(usize, Span)>> = services
        .iter()
        .enumerate()
        .map(|(index, (_, draft))| {
            draft
                .depends_on
                .iter()
                .filter_map(|(dep, span)| {
                    let to = *number.get(dep.as_str())?;
                    (to != index).then_some((to, *span))
                })
                .collect()
        })
        .collect();
    let mut state = vec![State::New; services.len()];
    /// One service on the current search path.
    struct Step {
        service: usize,
        /// The `depends_on` entry that led here.
        span: Span,
        next: usize,
    }
    let mut cycles = Vec::new();
    for (start, (_, draft)) in services.iter().enumerate() {
        if state[start] != State::New {
            continue;
        }
        let mut path = vec![Step {
            service: start,
            span: draft.name_span,
            next: 0,
        }];
        state[start] = State::OnPath(0);
        while let Some(step) = path.last_mut() {
            let Some(&(dep, span)) = edges[step.service].get(step.next) else {
                if let Some(done) = path.pop() {
                    state[done.service] = State::Done;
                }
                continue;
            };
            step.next += 1;
            match state[dep] {
                State::New => {
                    state[dep] = State::OnPath(path.len());
                    path.push(Step {
                        service: dep,
                        span,
                        next: 0,
                    });
                }
                State::OnPath(from) if cycles.len() < MAX_CYCLES => {
                    let name = |service: usize| services[service].0.clone();
                    let mut cycle =
                        shortened(&path[from..], |step| (name(step.service), step.span));
                    cycle.push((name(dep), span));
                    cycles.push(cycle);
                }
                _ => {}
            }
        }
    }
    cycles
}

/// Reports a service receiving one variable from two dependencies, unless its own
/// `env` sets that variable (an explicit entry wins). One error per pair of
/// dependencies, naming every variable they both export.
pub fn check_exports(check: &mut Checker, drafts: &BTreeMap<String, Draft>) {
    for (name, draft) in drafts {
        // Which earlier dependency (and where it is listed) provides each variable.
        let mut provider: BTreeMap<&str, (&str, Span)> = BTreeMap::new();
        for (dep, span) in &draft.depends_on {
            let Some(dependency) = drafts.get(dep).filter(|_| dep != name) else {
                continue;
            };
            let mut clashes: BTreeMap<(&str, Span), Vec<&str>> = BTreeMap::new();
            for variable in dependency.service.exports.keys() {
                if draft.service.env.contains_key(variable) {
                    continue;
                }
                match provider.get(variable.as_str()) {
                    None => {
                        provider.insert(variable, (dep, *span));
                    }
                    Some(&(other, other_span)) if other != dep => {
                        clashes
                            .entry((other, other_span))
                            .or_default()
                            .push(variable);
                    }
                    Some(_) => {}
                }
            }
            for ((other, other_span), variables) in clashes {
                let listed: Vec<String> = variables.iter().map(|v| format!("`{v}`")).collect();
                let diagnostic = check
                    .source
                    .error(
                        *span,
                        format!("service `{name}` gets {} from both `{other}` and `{dep}`", listed.join(", ")),
                        format!(
                            "set {} in the `env` of `{name}` to choose, or depend on only one of them",
                            variables.join(", ")
                        ),
                    )
                    .with_note(format!("`{other}` is listed here"), Some(check.source.locate(other_span)));
                check.push(diagnostic);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_cycles_keep_their_ends_and_count_the_middle() {
        let steps: Vec<usize> = (0..100).collect();
        let cycle = shortened(&steps, |i| (format!("s{i}"), Span::new(*i + 1, 1, 1)));
        assert_eq!(cycle.len(), MAX_CYCLE_SHOWN + 1);
        assert_eq!(cycle[0].0, "s0");
        assert_eq!(cycle[MAX_CYCLE_SHOWN / 2].0, "… 60 more …");
        assert_eq!(cycle[MAX_CYCLE_SHOWN].0, "s99");
        let short: Vec<usize> = (0..5).collect();
        assert_eq!(
            shortened(&short, |i| (format!("s{i}"), Span::default())).len(),
            5
        );
    }

    #[test]
    fn some_names_lists_ten_and_counts_the_rest() {
        let names: Vec<String> = (0..25).map(|i| format!("s{i}")).collect();
        let text = some_names(names.iter().map(String::as_str), names.len());
        assert!(text.ends_with("s9 and 15 more"), "{text}");
    }
}
