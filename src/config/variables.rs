//! The project's variables for `${VAR}`, layered: `.env`, then `.env.local`, then
//! `.env.<profile>` for each active profile (in the order given), then the process
//! environment; each layer overrides the ones before it. A file's value may refer to
//! other variables (`URL=http://${HOST}:8080`, resolved by the same rule); single
//! quotes keep it literal. Where every value came from is kept for
//! `gorae env --explain`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;

use super::diagnostic::Diagnostic;
use super::interpolate::{DotenvEntry, Vars, interpolate, parse_dotenv_entries};
use super::source::{Source, Span};

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The environment gorae runs in.
    Process,
    /// A line of a file: `.env.local:3`, `web.env:2`, `gorae.yaml:12`.
    Line { file: String, line: usize },
    /// The default of a template (`postgres`).
    Template(String),
    /// Handed over by a dependency (`db`).
    Wired(String),
    /// Read when the container is created, from a file or a command.
    Secret(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Process => write!(f, "process env"),
            Origin::Line { file, line } => write!(f, "{file}:{line}"),
            Origin::Template(name) => write!(f, "template `{name}` default"),
            Origin::Wired(service) => write!(f, "wired from `{service}`"),
            Origin::Secret(from) => write!(f, "{from}, read at `up`"),
        }
    }
}

/// One value a variable was given in one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Given {
    pub value: String,
    pub origin: Origin,
}

/// The project variables set in files or the process environment, each with every
/// place that set it, lowest precedence first: the last one is the value used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variables {
    pub trails: BTreeMap<String, Vec<Given>>,
}

/// How deep one file value may refer to another that refers to another...; deeper is
/// certainly a mistake, and the bound keeps a hostile file from exhausting the stack.
const MAX_DEPTH: usize = 64;

/// Reads the layers (lowest first) and resolves the value of every variable they set.
/// Returns the values for `${VAR}` (those the process environment does not set; it
/// is asked first) and the trail of each. Problems, with their position in their file,
/// go to `diagnostics`.
pub fn layer(
    files: &[Source],
    env: &dyn Fn(&str) -> Option<String>,
    diagnostics: &mut Vec<Diagnostic>,
) -> (BTreeMap<String, String>, Variables) {
    let mut definitions: BTreeMap<String, Vec<(usize, DotenvEntry)>> = BTreeMap::new();
    for (index, file) in files.iter().enumerate() {
        let (entries, errors) = parse_dotenv_entries(&file.text);
        diagnostics.extend(
            errors
                .into_iter()
                .map(|e| file.error(e.span, e.message, e.help)),
        );
        for entry in entries {
            definitions
                .entry(entry.key.clone())
                .or_default()
                .push((index, entry));
        }
    }
    let resolver = Resolver {
        env,
        files,
        definitions: &definitions,
        done: RefCell::new(BTreeMap::new()),
        stack: RefCell::new(Vec::new()),
        diagnostics: RefCell::new(Vec::new()),
    };
    let mut values = BTreeMap::new();
    let mut variables = Variables::default();
    for (name, defined) in &definitions {
        let from_env = env(name);
        let mut trail: Vec<Given> = defined
            .iter()
            .map(|(index, entry)| Given {
                value: entry.value.clone(),
                origin: Origin::Line {
                    file: files[*index].display.clone(),
                    line: entry.span.line,
                },
            })
            .collect();
        match from_env {
            Some(value) => trail.push(Given {
                value,
                origin: Origin::Process,
            }),
            None => {
                let value = resolver.file_value(name).unwrap_or_default();
                if let Some(last) = trail.last_mut() {
                    last.value.clone_from(&value);
                }
                values.insert(name.clone(), value);
            }
        }
        variables.trails.insert(name.clone(), trail);
    }
    diagnostics.extend(resolver.diagnostics.into_inner());
    (values, variables)
}

/// Resolves file values on demand, each once, following references between them.
struct Resolver<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    files: &'a [Source],
    definitions: &'a BTreeMap<String, Vec<(usize, DotenvEntry)>>,
    done: RefCell<BTreeMap<String, String>>,
    /// The variables being resolved, outermost first: a name found here again is a cycle.
    stack: RefCell<Vec<String>>,
    diagnostics: RefCell<Vec<Diagnostic>>,
}

impl Resolver<'_> {
    /// A variable's value as `${NAME}` sees it: the process environment, else the last
    /// file line setting it.
    fn get(&self, name: &str) -> Option<String> {
        (self.env)(name).or_else(|| self.file_value(name))
    }

    /// The value the last file line setting `name` gives it, its references resolved.
    /// A fault is reported once, and the value then counts as empty so it is not
    /// reported again as unset wherever it is used.
    fn file_value(&self, name: &str) -> Option<String> {
        let (index, entry) = self.definitions.get(name)?.last()?;
        if entry.literal || !entry.value.contains('$') {
            return Some(entry.value.clone());
        }
        if let Some(value) = self.done.borrow().get(name) {
            return Some(value.clone());
        }
        let file = &self.files[*index];
        let position = self.stack.borrow().iter().position(|n| n == name);
        if let Some(start) = position {
            self.report_cycle(&self.stack.borrow()[start..], name);
            return Some(String::new());
        }
        if self.stack.borrow().len() >= MAX_DEPTH {
            self.diagnostics.borrow_mut().push(file.error(
                entry.value_span,
                format!("variables refer to each other more than {MAX_DEPTH} deep"),
                "give some of them values that refer to no other variable",
            ));
            return Some(String::new());
        }
        self.stack.borrow_mut().push(name.to_string());
        let lookup = |other: &str| self.get(other);
        let vars = Vars {
            env: &lookup,
            dotenv: BTreeMap::new(),
        };
        let result = interpolate(&entry.value, &vars);
        self.stack.borrow_mut().pop();
        let value = match result {
            Ok(value) => value,
            Err(error) => {
                // The value's characters start after an opening double quote.
                let quote = usize::from(file.line(entry.span.line).contains("=\""));
                let span = Span::new(
                    entry.value_span.line,
                    entry.value_span.col + quote + error.offset,
                    error.len,
                );
                let help = error.help.replace(
                    "in .env",
                    "in .env (or .env.local), or write it in single quotes for a literal value",
                );
                self.diagnostics
                    .borrow_mut()
                    .push(file.error(span, error.message, help));
                String::new()
            }
        };
        self.done
            .borrow_mut()
            .insert(name.to_string(), value.clone());
        Some(value)
    }

    /// `cycle` refers on to `back`, its first name: one error at the first name's
    /// line naming the whole cycle, with a note at each other name's line.
    fn report_cycle(&self, cycle: &[String], back: &str) {
        let at = |name: &str| {
            self.definitions
                .get(name)
                .and_then(|d| d.last())
                .map(|(index, entry)| (&self.files[*index], entry))
        };
        let Some((file, entry)) = at(back) else {
            return;
        };
        let path: Vec<&str> = cycle.iter().map(String::as_str).chain([back]).collect();
        let mut diagnostic = file.error(
            entry.span,
            format!(
                "variables refer to each other in a cycle: {}",
                path.join(" -> ")
            ),
            format!(
                "give one of {} a value that does not refer back",
                cycle.join(", ")
            ),
        );
        for name in &cycle[1..] {
            if let Some((file, entry)) = at(name) {
                diagnostic = diagnostic
                    .with_note(format!("{name} is set here"), Some(file.locate(entry.span)));
            }
        }
        self.diagnostics.borrow_mut().push(diagnostic);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(
        files: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> (BTreeMap<String, String>, Variables, Vec<Diagnostic>) {
        let sources: Vec<Source> = files
            .iter()
            .map(|(name, text)| Source::new(*name, *text))
            .collect();
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = |name: &str| env.get(name).cloned();
        let mut diagnostics = Vec::new();
        let (values, variables) = layer(&sources, &lookup, &mut diagnostics);
        (values, variables, diagnostics)
    }

    #[test]
    fn a_later_layer_wins_and_the_trail_lists_every_place() {
        let (values, variables, errors) = resolve(
            &[(".env", "A=base\nB=base\n"), (".env.local", "\nA=local\n")],
            &[("B", "process")],
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(values["A"], "local");
        // The process environment is asked first; the files' B is not needed.
        assert!(!values.contains_key("B"));
        let origins: Vec<String> = variables.trails["A"]
            .iter()
            .map(|g| g.origin.to_string())
            .collect();
        assert_eq!(origins, [".env:1", ".env.local:2"]);
        assert_eq!(
            variables.trails["B"].last().unwrap().origin,
            Origin::Process
        );
    }

    #[test]
    fn file_values_refer_to_other_variables_and_single_quotes_stay_literal() {
        let (values, _, errors) = resolve(
            &[
                (
                    ".env",
                    "HOST=db\nURL=postgres://${HOST}:${PORT:-5432}\nRAW='${HOST}'\n",
                ),
                (".env.local", "HOST=${USER}-db\n"),
            ],
            &[("USER", "ann")],
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(values["URL"], "postgres://ann-db:5432");
        assert_eq!(values["HOST"], "ann-db");
        assert_eq!(values["RAW"], "${HOST}");
    }

    #[test]
    fn a_cycle_is_one_error_naming_the_whole_cycle() {
        let (_, _, errors) = resolve(&[(".env", "A=${B}\nB=x${C}\nC=${A}\n")], &[]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        let rendered = errors[0].render();
        assert!(
            rendered.contains("variables refer to each other in a cycle: A -> B -> C -> A"),
            "{rendered}"
        );
        assert!(rendered.contains(".env:1:1"), "{rendered}");
        assert!(rendered.contains("C is set here"), "{rendered}");
    }

    #[test]
    fn a_self_reference_is_a_cycle_but_the_process_env_breaks_it() {
        let (_, _, errors) = resolve(&[(".env", "PATH=${PATH}:/x\n")], &[]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        let (values, _, errors) = resolve(&[(".env", "P=${PATH}:/x\n")], &[("PATH", "/bin")]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(values["P"], "/bin:/x");
    }

    #[test]
    fn an_unset_reference_is_reported_at_its_column() {
        let (_, _, errors) = resolve(&[(".env", "A=\"x ${NOPE}\"\n")], &[]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        let location = errors[0].location.as_ref().unwrap();
        assert_eq!((location.line, location.col), (1, 6));
        assert!(errors[0].message.contains("`NOPE` is not set"));
    }

    #[test]
    fn a_long_chain_is_refused_not_overflowing_the_stack() {
        let text: String = (0..5000)
            .map(|i| format!("V{i}=${{V{}}}\n", i + 1))
            .collect();
        let (_, _, errors) = resolve(&[(".env", &text)], &[("V5000", "end")]);
        assert!(
            errors
                .iter()
                .any(|e| e.message.contains("more than 64 deep")),
            "{errors:?}"
        );
    }
}
