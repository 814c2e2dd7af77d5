//! URL slugs for organizations and events.

use super::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A lowercase identifier used in URLs: 2–64 characters of `a-z`, `0-9` and inner `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub const MAX_LEN: usize = 64;

    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        let s = raw.trim();
        if s.len() < 2 || s.len() > Self::MAX_LEN {
            return Err(DomainError::new(field, format!("must be 2 to {} characters long", Self::MAX_LEN)));
        }
        let ok_chars = s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok_chars || s.starts_with('-') || s.ends_with('-') || s.contains("--") {
            return Err(DomainError::new(field, "may contain only lowercase letters, digits and single inner hyphens"));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse("slug", &value)
    }
}

impl From<Slug> for String {
    fn from(value: Slug) -> Self {
        value.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_lowercase_words_joined_by_hyphens() {
        assert_eq!(Slug::parse("s", "rustconf-2027").unwrap().as_str(), "rustconf-2027");
    }

    #[test]
    fn rejects_uppercase_spaces_edges_and_doubled_hyphens() {
        for bad in ["A", "Rust", "rust conf", "-rust", "rust-", "ru--st", "", "x", "é-t"] {
            assert!(Slug::parse("s", bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn rejects_overlong_slugs() {
        assert!(Slug::parse("s", &"a".repeat(65)).is_err());
        assert!(Slug::parse("s", &"a".repeat(64)).is_ok());
    }
}
