//! JSON Schema of gorae.yaml for editors (yaml-language-server, VS Code), generated
//! with schemars from types that mirror the file format. The loader stays the authority
//! (it also checks paths, dependencies and ports); tests keep the schema's keys equal
//! to the keys the loader accepts.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::Value;

/// The JSON Schema of gorae.yaml (draft-07, which editors support most widely), as
/// pretty-printed JSON.
pub fn json_schema() -> String {
    let schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<ProjectFile>();
    let mut value = schema.to_value();
    forbid_null(&mut value);
    name_builtin_templates(&mut value);
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// Lists the built-in templates as examples of `template:`, which editors offer as
/// completions; any other name (a project template) stays valid.
fn name_builtin_templates(value: &mut Value) {
    let names = super::template::builtin_names();
    for defs in ["/definitions", "/$defs"] {
        if let Some(Value::Object(map)) =
            value.pointer_mut(&format!("{defs}/ServiceFile/properties/template"))
        {
            map.insert("examples".into(), serde_json::json!(names));
        }
    }
}

/// schemars lets every optional key be `null`; in gorae.yaml an empty value is an
/// error (except a service's, which the `Defaults` variant allows), so editors should
/// flag it too.
fn forbid_null(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if let [single] = types.as_slice() {
                    let single = single.clone();
                    map.insert("type".into(), single);
                }
            }
            if let Some(Value::Array(options)) = map.get_mut("anyOf") {
                options.retain(|option| *option != serde_json::json!({ "type": "null" }));
            }
            map.values_mut().for_each(forbid_null);
        }
        Value::Array(items) => items.iter_mut().for_each(forbid_null),
        _ => {}
    }
}

/// gorae.yaml: a project's development environment in one file.
#[derive(JsonSchema)]
#[schemars(title = "gorae.yaml", deny_unknown_fields, extend("patternProperties" = { "^x-": {} }))]
#[allow(dead_code)]
struct ProjectFile {
    /// Project name; default: the directory's name. Labels every container, network and volume.
    #[schemars(pattern(r"^[a-z0-9][a-z0-9_-]*$"), length(max = 63))]
    name: Option<String>,
    /// Put before unqualified image names (redis:7 -> mirror.corp/redis:7). The
    /// environment variable GORAE_IMAGE_PREFIX overrides it.
    image_prefix: Option<String>,
    /// The services, by name. A name becomes the service's host name on the project network.
    services: BTreeMap<String, ServiceEntry>,
}

/// A service: `NAME: "VERSION"` for a template named like the service, or the full form.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum ServiceEntry {
    /// Shorthand: the version of the template named like the service (`redis: "7"`). Quote it.
    Version(#[schemars(pattern(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$"))] String),
    Full(Box<ServiceFile>),
    /// `redis:` alone: the template's defaults.
    Defaults(()),
}

/// One service or task.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct ServiceFile {
    /// A built-in template (services: redis, postgres, mysql, mariadb, rabbitmq, memcached,
    /// nginx; apps: node, python, go, ruby, php) or one in .gorae/templates/.
    /// Default: the service's name, when a template has that name.
    template: Option<String>,
    /// The template's version, quoted: "16", "3.12".
    #[schemars(pattern(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$"))]
    version: Option<String>,
    /// Any image, used as it is (excludes template, version, build, dockerfile).
    image: Option<String>,
    /// Your own Dockerfile, relative to gorae.yaml (excludes template and image).
    dockerfile: Option<String>,
    /// The build context directory, relative to gorae.yaml, inside the project. Required by
    /// app templates (node, python, go, ruby, php); alone, builds the Dockerfile in it. The
    /// map form adds the stage to build and build arguments.
    build: Option<Build>,
    /// The command, as a list of arguments.
    command: Option<Vec<Scalar>>,
    /// Environment variables: `NAME: value`, or a list of `NAME=value`. A value may
    /// be read only at `up`: `NAME: { secret: { file: PATH } }` or
    /// `NAME: { secret: { command: [pass, show, db] } }`, never printed.
    env: Option<ServiceEnv>,
    /// Files of KEY=VALUE lines (the .env format) whose values go into the container
    /// as written, no ${} interpolation: a path, or a list of paths and
    /// `{ path: PATH, required: false }`. `env:` overrides them; values are masked.
    env_file: Option<EnvFiles>,
    /// The profiles the service belongs to: it starts only with `--profile NAME` or
    /// GORAE_PROFILES=NAME (or when named, or needed by a service that starts).
    profiles: Option<Vec<ProfileName>>,
    /// Published ports: "3000" (127.0.0.1:3000 -> 3000), "8080:3000", "0.0.0.0:3000:3000",
    /// "[::1]:3000:3000", optionally with /udp.
    ports: Option<Vec<Port>>,
    /// Mounts: "./src:/app/src" (a project directory), "cache:/root/.cache" (a named volume),
    /// optionally with :ro.
    volumes: Option<Vec<String>>,
    /// A config file of the project, relative to gorae.yaml, mounted read-only where the
    /// template reads its config (nginx: /etc/nginx/conf.d/default.conf).
    conf: Option<String>,
    /// What the data volume of a stateful service (postgres, mysql, mariadb, redis, rabbitmq) starts with, applied
    /// by the `up` that creates the volume and again by `up --reseed SERVICE`.
    seed: Option<Seed>,
    /// Its data need not survive: the data directory in memory (tmpfs) and the
    /// database's durability off (postgres: fsync, synchronous_commit and
    /// full_page_writes off). For CI and tests; `gorae up --throwaway` does it for all.
    throwaway: Option<bool>,
    /// Services started (and ready, or finished for tasks) before this one.
    depends_on: Option<Vec<String>>,
    /// `service` runs until stopped; `task` runs once and is done when it exits 0.
    kind: Option<Kind>,
    /// How gorae decides the service is ready. Default: the template's probe, else a TCP
    /// connection to the first published container port.
    ready: Option<Ready>,
    /// How long `up` waits for readiness (or a task's end): 500ms, 60s, 2m. Default 60s (tasks 300s).
    #[schemars(pattern(r"^[1-9][0-9]*(ms|s|m|h)$"))]
    timeout: Option<String>,
    /// For a `kind: task` built from your code: the files and directories of its build
    /// context it reads (migrations/, seed.js). `up` runs the task again only when they,
    /// the Dockerfile or the task's configuration change. Default: the files its
    /// command names and the template's dependency manifests.
    inputs: Option<Vec<String>>,
    /// How `gorae up --watch` treats saved changes of a service built from your code.
    /// Default: the template's rules (its dependency manifests and the Dockerfile
    /// rebuild; static files are only synced; other source is synced and the app
    /// restarted).
    watch: Option<Watch>,
    /// Replaces the image's ENTRYPOINT, as a list of arguments.
    entrypoint: Option<Vec<Scalar>>,
    /// The user the process runs as: a name, a number, or "UID:GID". Default: the image's.
    user: Option<String>,
    /// The directory the process starts in, absolute. Default: the image's WORKDIR.
    #[schemars(pattern(r"^/"))]
    working_dir: Option<String>,
    /// The signal that stops the container: SIGINT, SIGQUIT... Default: the image's, else SIGTERM.
    stop_signal: Option<String>,
    /// Extra /etc/hosts entries, HOST:IP; the IP may be host-gateway
    /// (host.docker.internal:host-gateway reaches the host, on Linux too).
    extra_hosts: Option<Vec<String>>,
    /// The platform to run as, OS/ARCH: linux/amd64, linux/arm64.
    #[schemars(pattern(r"^[a-z0-9_]+/[a-z0-9_]+(/[a-z0-9_]+)?$"))]
    platform: Option<String>,
    /// Secrets at /run/secrets/NAME: a file of the project mounted read-only
    /// (`NAME: ./path`), or a value written in before the container starts
    /// (`NAME: { value: "${VAR}" }`). Never in an image, the lock or any output.
    secrets: Option<BTreeMap<String, SecretSource>>,
}

/// A profile's name.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct ProfileName(#[schemars(pattern(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"))] String);

/// `env:` of a service: like `build.args`, plus secrets read at `up`.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum ServiceEnv {
    Map(BTreeMap<String, EnvValue>),
    List(Vec<EnvEntry>),
}

/// A variable's value, or a secret read at `up`.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum EnvValue {
    Plain(Scalar),
    Secret(EnvSecretValue),
}

/// `{ secret: { file: PATH } }` or `{ secret: { command: [...] } }`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct EnvSecretValue {
    secret: EnvSecretFrom,
}

/// Where a secret variable is read from, at `up`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
enum EnvSecretFrom {
    /// A file's content, less a final line break; relative to gorae.yaml.
    #[serde(rename = "file")]
    File(String),
    /// A command's output, less a final line break; run without a shell, for at most
    /// GORAE_SECRET_TIMEOUT seconds (30).
    #[serde(rename = "command")]
    Command(Vec<String>),
}

/// `env_file:`: one path or a list.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum EnvFiles {
    One(String),
    Many(Vec<EnvFileEntry>),
}

/// A path, or a path that may be missing.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum EnvFileEntry {
    Path(String),
    Full(EnvFileFull),
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct EnvFileFull {
    path: String,
    /// `false`: read the file only when it is there.
    required: Option<bool>,
}

/// One secret: a project file, or a value.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum SecretSource {
    File(String),
    Value(SecretValue),
}

/// A secret's value, usually `${VAR}` from the environment or .env.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct SecretValue {
    value: String,
}

/// `build:`: a directory, or a map with the stage and arguments.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Build {
    Dir(String),
    Full(BuildFile),
}

/// `build:` as a map.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct BuildFile {
    /// The build context directory, relative to gorae.yaml. Default: `.`.
    context: Option<String>,
    /// The stage of a multi-stage Dockerfile to build (`FROM ... AS dev`). Default: the last.
    target: Option<String>,
    /// Build arguments (`ARG` values): `NAME: value`. Part of the image's content hash.
    args: Option<Env>,
}

/// `watch:` of a built service.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct Watch {
    /// `false` for an app that reloads itself (a dev server): changes are only synced.
    restart: Option<bool>,
    /// Paths in the build context whose change rebuilds the image and re-creates the
    /// service. Default: the template's dependency manifests (package.json, requirements.txt, ...).
    rebuild: Option<Vec<String>>,
    /// Glob patterns in the build context that are only synced, never restarted for.
    sync: Option<Vec<String>>,
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Scalar {
    String(String),
    Number(f64),
    Bool(bool),
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Env {
    Map(BTreeMap<String, Scalar>),
    List(Vec<EnvEntry>),
}

/// `NAME=value`.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct EnvEntry(#[schemars(pattern(r"^[A-Za-z_][A-Za-z0-9_]*="))] String);

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Port {
    Number(#[schemars(range(min = 1, max = 65535))] u16),
    Text(String),
}

#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum Kind {
    Service,
    Task,
}

/// Exactly one of `command`, `tcp`, `http`, `running`, `mysql`, `amqp`, `memcached`.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
#[allow(dead_code)]
enum Ready {
    /// Ready when this command, run in the container, exits 0.
    Command(Vec<Scalar>),
    /// Ready when this container port accepts TCP connections.
    Tcp(#[schemars(range(min = 1, max = 65535))] u16),
    /// Ready when GET answers 2xx/3xx: a path on the service's port, or { port, path }.
    Http(HttpProbe),
    /// Ready when it has kept running this long since it started, such as 1s.
    Running(String),
    /// Ready when this container port sends the MySQL/MariaDB server greeting.
    Mysql(#[schemars(range(min = 1, max = 65535))] u16),
    /// Ready when this container port answers the AMQP 0-9-1 header with Connection.Start.
    Amqp(#[schemars(range(min = 1, max = 65535))] u16),
    /// Ready when this container port answers memcached's `version` command.
    Memcached(#[schemars(range(min = 1, max = 65535))] u16),
}

#[derive(JsonSchema)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
#[allow(dead_code)]
enum Seed {
    /// A SQL file of the project, relative to gorae.yaml, run once the service is ready.
    Sql(String),
    /// A snapshot of .gorae/snapshots/ (`gorae snapshot save NAME`), unpacked before it starts.
    Snapshot(String),
    /// A `kind: task` service, run once the service is ready.
    Task(String),
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum HttpProbe {
    Path(String),
    Full {
        #[schemars(range(min = 1, max = 65535))]
        port: Option<u16>,
        path: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Value {
        serde_json::from_str(&json_schema()).unwrap()
    }

    fn keys(object: &Value) -> Vec<String> {
        let mut keys: Vec<String> = object["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    fn sorted(keys: &[&str]) -> Vec<String> {
        let mut keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        keys.sort();
        keys
    }

    #[test]
    fn schema_is_pinned() {
        insta::assert_snapshot!("json_schema", json_schema());
    }

    #[test]
    fn optional_keys_may_not_be_null() {
        let text = json_schema();
        let nulls = text.matches("\"null\"").count();
        assert_eq!(nulls, 1, "only a service may be empty: {text}");
        let schema = schema();
        assert_eq!(schema["properties"]["name"]["type"], "string");
    }

    #[test]
    fn schema_top_level_keys_match_the_loader() {
        assert_eq!(keys(&schema()), sorted(&super::super::validate::KEYS));
    }

    #[test]
    fn schema_service_keys_match_the_loader() {
        let schema = schema();
        let service = &schema["definitions"]["ServiceFile"];
        assert_eq!(keys(service), sorted(&super::super::service::KEYS));
        assert_eq!(service["additionalProperties"], Value::Bool(false));
    }
}
