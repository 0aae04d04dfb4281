//! Which variables are secret, and masking them for anything gorae prints.
//!
//! A variable is secret when a template lists it (postgres: `POSTGRES_PASSWORD`) or its
//! name says so: it contains `PASSWORD`, `SECRET` or `TOKEN`, or ends in `_KEY`. Values
//! derived from secrets, such as `DATABASE_URL`, carry the password in a URL; every
//! value printed has a URL's password replaced, whatever the variable is called.

use std::collections::BTreeMap;

use super::model::Project;

/// What a masked value shows instead of the secret.
pub const MASK: &str = "********";

/// Whether a variable's name marks it as secret.
pub fn is_secret_name(name: &str) -> bool {
    // Compared without making an uppercase copy: this runs for every variable of
    // every service, twice.
    let name = name.as_bytes();
    let has = |word: &str| {
        name.windows(word.len())
            .any(|window| window.eq_ignore_ascii_case(word.as_bytes()))
    };
    has("PASSWORD")
        || has("SECRET")
        || has("TOKEN")
        || name.len() >= 4 && name[name.len() - 4..].eq_ignore_ascii_case(b"_KEY")
}

/// A value as it may be printed: fully masked when the variable is secret (listed in
/// `secret_env` or secret by name), otherwise with the password of any URL masked.
pub fn mask_value(name: &str, value: &str, secret_env: &[String]) -> String {
    if secret_env.iter().any(|secret| secret == name) || is_secret_name(name) {
        MASK.to_string()
    } else {
        mask_url_passwords(value)
    }
}

/// All variables of a map, masked as by [`mask_value`].
pub fn mask_env(env: &BTreeMap<String, String>, secret_env: &[String]) -> BTreeMap<String, String> {
    env.iter()
        .map(|(name, value)| (name.clone(), mask_value(name, value, secret_env)))
        .collect()
}

/// `postgres://app:pw@db:5432/x` -> `postgres://app:********@db:5432/x`, for every URL
/// in the text.
pub fn mask_url_passwords(text: &str) -> String {
    // A secret `env` value not read yet (see `env_secret`) is masked wherever it went.
    let text = super::env_secret::hide(text);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(scheme_end) = rest.find("://") {
        let authority_start = scheme_end + 3;
        out.push_str(&rest[..authority_start]);
        rest = &rest[authority_start..];
        let authority_end = rest.find(['/', '?', '#', ' ']).unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.split_once(':') {
                    Some((user, _password)) => {
                        out.push_str(user);
                        out.push(':');
                        out.push_str(MASK);
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &rest[authority_end..];
    }
    out.push_str(rest);
    out
}

/// A copy of the project safe to print: secret variables and URL passwords masked in
/// every service's `env` and `exports`.
pub fn mask_secrets(project: &Project) -> Project {
    let mut masked = project.clone();
    for service in masked.services.values_mut() {
        service.env = mask_env(&service.env, &service.secret_env);
        service.exports = mask_env(&service.exports, &service.secret_env);
    }
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_say_secret_are_secret() {
        for name in [
            "POSTGRES_PASSWORD",
            "API_TOKEN",
            "client_secret",
            "AWS_ACCESS_KEY",
            "GITHUB_TOKEN",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "POSTGRES_USER",
            "KEYBOARD",
            "PORT",
            "DATABASE_URL",
            "MONKEY",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn url_passwords_are_masked_wherever_they_are() {
        assert_eq!(
            mask_url_passwords("postgres://app:s3cret@db:5432/x"),
            "postgres://app:********@db:5432/x"
        );
        assert_eq!(
            mask_url_passwords("a=redis://:pw@{host}:{port} b=http://u@h/ c=http://h/p@x"),
            "a=redis://:********@{host}:{port} b=http://u@h/ c=http://h/p@x"
        );
        assert_eq!(mask_url_passwords("no url here"), "no url here");
    }

    #[test]
    fn listed_secrets_are_masked_whole() {
        let secrets = vec!["DB_PASS".to_string()];
        assert_eq!(mask_value("DB_PASS", "hunter2", &secrets), MASK);
        assert_eq!(mask_value("PGPASSWORD", "hunter2", &[]), MASK);
        assert_eq!(mask_value("USER", "hunter2", &[]), "hunter2");
    }
}
