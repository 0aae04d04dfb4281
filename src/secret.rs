//! A secret value (`secrets: { NAME: { value: "${VAR}" } }`): held only to be written
//! into a container, and shown nowhere. Printing one gives a mask, and serialising
//! one (for the configuration hash) gives its digest, so a change re-creates the
//! container without the value reaching a label, a plan or the lock.

use std::fmt;

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one place that writes it into a container.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `sha256:` and the hex digest of the value.
    pub fn digest(&self) -> String {
        format!(
            "sha256:{}",
            crate::hash::hex(&Sha256::digest(self.0.as_bytes()))
        )
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", crate::config::MASK)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.digest())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_shows_a_mask_and_serialises_as_its_digest() {
        let secret = Secret::new("hunter2");
        assert_eq!(secret.expose(), "hunter2");
        let debug = format!("{secret:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        let json = serde_json::to_string(&secret).expect("json");
        assert!(!json.contains("hunter2"), "{json}");
        assert_eq!(json, format!("\"{}\"", secret.digest()));
        assert_ne!(secret.digest(), Secret::new("hunter3").digest());
        assert_eq!(secret.digest().len(), "sha256:".len() + 64);
    }
}
