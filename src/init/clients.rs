//! Which backing service an app needs, judged from the client libraries in its
//! manifest and the connection variables its source reads.

use super::hints::mentions_variable;
use crate::config::template::Templates;

/// npm packages that talk to a service gorae has a built-in template for.
const NPM: [(&str, &str); 12] = [
    ("redis", "redis"),
    ("mysql", "mysql"),
    ("mysql2", "mysql"),
    ("mariadb", "mariadb"),
    ("amqplib", "rabbitmq"),
    ("memjs", "memcached"),
    ("memcached", "memcached"),
    ("ioredis", "redis"),
    ("pg", "postgres"),
    ("postgres", "postgres"),
    ("pg-promise", "postgres"),
    ("@vercel/postgres", "postgres"),
];

/// Python distributions (normalised: lowercase, `-` for `_` and `.`) likewise.
const PYTHON: [(&str, &str); 17] = [
    ("redis", "redis"),
    ("pymysql", "mysql"),
    ("mysqlclient", "mysql"),
    ("mysql-connector-python", "mysql"),
    ("aiomysql", "mysql"),
    ("pika", "rabbitmq"),
    ("aio-pika", "rabbitmq"),
    ("pymemcache", "memcached"),
    ("python-memcached", "memcached"),
    ("django-redis", "redis"),
    ("psycopg", "postgres"),
    ("psycopg-binary", "postgres"),
    ("psycopg2", "postgres"),
    ("psycopg2-binary", "postgres"),
    ("asyncpg", "postgres"),
    ("pg8000", "postgres"),
    ("aiopg", "postgres"),
];

/// Go module paths likewise.
const GO: [(&str, &str); 9] = [
    ("github.com/go-sql-driver/mysql", "mysql"),
    ("github.com/lib/pq", "postgres"),
    ("github.com/jackc/pgx", "postgres"),
    ("github.com/redis/go-redis", "redis"),
    ("github.com/go-redis/redis", "redis"),
    ("github.com/gomodule/redigo", "redis"),
    ("github.com/rabbitmq/amqp091-go", "rabbitmq"),
    ("github.com/streadway/amqp", "rabbitmq"),
    ("github.com/bradfitz/gomemcache", "memcached"),
];

/// Ruby gems likewise.
const GEMS: [(&str, &str); 7] = [
    ("mysql2", "mysql"),
    ("trilogy", "mysql"),
    ("pg", "postgres"),
    ("redis", "redis"),
    ("bunny", "rabbitmq"),
    ("sneakers", "rabbitmq"),
    ("dalli", "memcached"),
];

/// Composer packages likewise.
const COMPOSER: [(&str, &str); 3] = [
    ("php-amqplib/php-amqplib", "rabbitmq"),
    ("predis/predis", "redis"),
    ("enqueue/amqp-lib", "rabbitmq"),
];

/// The client modules a go.mod requires: `(module path, template)`. A major-version
/// suffix (`/v9`) still names the module.
pub fn go_modules(go_mod: &str) -> Vec<(String, &'static str)> {
    let words = go_mod.split_whitespace();
    let mut found = Vec::new();
    for word in words {
        if let Some((module, template)) = GO.iter().find(|(module, _)| {
            word == *module
                || word
                    .strip_prefix(module)
                    .is_some_and(|rest| rest.starts_with("/v"))
        }) && !found.iter().any(|(m, _)| m == module)
        {
            found.push((module.to_string(), *template));
        }
    }
    found
}

/// The client gems a Gemfile names (`gem "mysql2", "~> 0.5"`).
pub fn gems(gemfile: &str) -> Vec<(String, &'static str)> {
    gemfile
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("gem")?.trim_start();
            let name = rest.trim_start_matches(['"', '\'', ':']);
            let name = &name[..name.find(['"', '\'', ',', ' ']).unwrap_or(name.len())];
            lookup(&GEMS, name).map(|template| (name.to_string(), template))
        })
        .collect()
}

/// The client packages composer.json requires, and PHP extensions that are clients
/// (`ext-mysqli`, `ext-pdo_mysql`, `ext-memcached`, `ext-amqp`).
pub fn composer_packages(composer_json: &str) -> Vec<(String, &'static str)> {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(composer_json) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for key in ["require", "require-dev"] {
        let Some(packages) = json.get(key).and_then(|p| p.as_object()) else {
            continue;
        };
        for name in packages.keys() {
            let template = lookup(&COMPOSER, name).or(match name.as_str() {
                "ext-mysqli" | "ext-pdo_mysql" => Some("mysql"),
                "ext-pgsql" | "ext-pdo_pgsql" => Some("postgres"),
                "ext-memcached" | "ext-memcache" => Some("memcached"),
                "ext-amqp" => Some("rabbitmq"),
                "ext-redis" => Some("redis"),
                _ => None,
            });
            if let Some(template) = template {
                found.push((name.clone(), template));
            }
        }
    }
    found
}

/// The template a client library stands for, if gorae knows it.
pub fn npm_template(package: &str) -> Option<&'static str> {
    lookup(&NPM, package)
}

/// Like [`npm_template`], for a Python distribution name as written in a requirement.
pub fn python_template(distribution: &str) -> Option<&'static str> {
    lookup(&PYTHON, &normalize_python_name(distribution))
}

fn lookup(table: &[(&str, &'static str)], name: &str) -> Option<&'static str> {
    table
        .iter()
        .find(|(library, _)| *library == name)
        .map(|(_, template)| *template)
}

/// PEP 503 normalisation: `Psycopg2_Binary` and `psycopg2-binary` are one project.
pub fn normalize_python_name(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace(['_', '.'], "-")
}

/// The distribution a PEP 508 requirement names:
/// `psycopg[binary]>=3.1 ; python_version > "3"` -> `psycopg`.
pub fn requirement_name(requirement: &str) -> Option<&str> {
    let end = requirement
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(requirement.len());
    let name = &requirement[..end];
    (!name.is_empty()).then_some(name)
}

/// Databases other than Postgres that a `DATABASE_URL` may point at; a source that
/// names one of them keeps `DATABASE_URL` from meaning Postgres.
const OTHER_DATABASES: [&str; 5] = ["sqlite", "mysql", "mariadb", "mongodb", "sqlserver"];

/// Templates whose connection variables `source` reads, with the variable:
/// `process.env.REDIS_URL`, `os.environ["DATABASE_URL"]` or `os.getenv("DATABASE_URL")`
/// means the app expects a redis or a postgres. Only variables exported by a single
/// non-app template count, and `DATABASE_URL` (a name every database uses) not when
/// the source names another database (`sqlite`, `mysql`, ...).
pub fn templates_read_by(source: &str, templates: &Templates) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for name in templates.names() {
        let Some(template) = templates.get(name) else {
            continue;
        };
        if template.is_app() {
            continue;
        }
        for variable in template.exports.keys() {
            let shared = templates
                .names()
                .filter(|other| *other != name)
                .any(|other| {
                    templates
                        .get(other)
                        .is_some_and(|t| t.exports.contains_key(variable))
                });
            let generic = variable == "DATABASE_URL" && {
                let lower = source.to_ascii_lowercase();
                OTHER_DATABASES.iter().any(|db| lower.contains(db))
            };
            // A variable several templates export counts for the one it usually
            // means: DATABASE_URL for postgres, MYSQL_* for mysql (not mariadb).
            let preferred = match variable.as_str() {
                "DATABASE_URL" => name == "postgres",
                v if v.starts_with("MYSQL_") => name == "mysql",
                _ => false,
            };
            if (!shared || preferred) && !generic && mentions_variable(source, variable) {
                found.push((name.to_string(), variable.clone()));
                break;
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_libraries_map_to_templates() {
        assert_eq!(npm_template("ioredis"), Some("redis"));
        assert_eq!(npm_template("pg"), Some("postgres"));
        assert_eq!(npm_template("express"), None);
        assert_eq!(npm_template("mysql2"), Some("mysql"));
        assert_eq!(python_template("PyMySQL"), Some("mysql"));
        assert_eq!(python_template("pika"), Some("rabbitmq"));
        assert_eq!(
            go_modules(
                "module x\n\nrequire (\n\tgithub.com/go-sql-driver/mysql v1.8.1\n\tgithub.com/redis/go-redis/v9 v9.5.1\n)\n"
            ),
            [
                ("github.com/go-sql-driver/mysql".to_string(), "mysql"),
                ("github.com/redis/go-redis".to_string(), "redis")
            ]
        );
        assert_eq!(
            gems(
                "source \"https://rubygems.org\"\ngem \"bunny\", \"~> 2.22\"\ngem 'dalli'\ngem \"rails\"\n"
            ),
            [
                ("bunny".to_string(), "rabbitmq"),
                ("dalli".to_string(), "memcached")
            ]
        );
        assert_eq!(
            composer_packages(
                r#"{"require": {"php": ">=8.2", "php-amqplib/php-amqplib": "^3", "ext-pdo_mysql": "*"}}"#
            ),
            [
                ("ext-pdo_mysql".to_string(), "mysql"),
                ("php-amqplib/php-amqplib".to_string(), "rabbitmq")
            ]
        );
        assert_eq!(python_template("Psycopg2_Binary"), Some("postgres"));
        assert_eq!(python_template("redis"), Some("redis"));
        assert_eq!(python_template("sqlalchemy"), None);
    }

    #[test]
    fn requirement_names_drop_extras_versions_and_markers() {
        for (requirement, expected) in [
            ("psycopg[binary]>=3.1", Some("psycopg")),
            ("redis==5.0.1 ; python_version > '3'", Some("redis")),
            ("Django", Some("Django")),
            ("zope.interface~=6.0", Some("zope.interface")),
            ("", None),
        ] {
            assert_eq!(requirement_name(requirement), expected, "{requirement:?}");
        }
    }

    #[test]
    fn connection_variables_name_their_template() {
        let (templates, _) = Templates::load(std::path::Path::new("/nonexistent"), "".as_ref());
        let read = |source: &str| templates_read_by(source, &templates);
        assert_eq!(
            read("const url = process.env.REDIS_URL;"),
            [("redis".to_string(), "REDIS_URL".to_string())]
        );
        assert_eq!(
            read("host = os.environ['PGHOST']"),
            [("postgres".to_string(), "PGHOST".to_string())]
        );
        assert!(read("db = os.environ['DATABASE_URL']  # sqlite").is_empty());
        assert_eq!(
            read("DATABASE_URL = 'postgres://localhost/app'")[0].0,
            "postgres"
        );
        assert!(read("console.log('hello')").is_empty());
        for reads in [
            "const db = new Pool({ connectionString: process.env.DATABASE_URL });",
            "url = os.environ[\"DATABASE_URL\"]",
            "url = os.getenv('DATABASE_URL', '')",
        ] {
            assert_eq!(
                read(reads),
                [("postgres".to_string(), "DATABASE_URL".to_string())],
                "{reads}"
            );
        }
        assert!(read("DATABASE_URL = os.getenv('DATABASE_URL') or 'mysql://x'").is_empty());
    }
}
