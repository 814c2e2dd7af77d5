//! E-mail addresses and the normalized form that makes one person one person.
//!
//! The normalized form lowercases the whole address. For mail providers known to ignore
//! them, it also drops the `+tag` part of the local part, and for Gmail the dots, and it
//! maps `googlemail.com` to `gmail.com`. Other domains keep their local part as typed
//! (lowercased): many servers treat `+` and `.` as significant.

use super::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Providers that deliver `local+tag@domain` to `local@domain`.
const PLUS_TAG_PROVIDERS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "icloud.com",
    "me.com",
    "fastmail.com",
    "protonmail.com",
    "proton.me",
];

/// Providers that ignore dots in the local part.
const DOTLESS_PROVIDERS: &[&str] = &["gmail.com", "googlemail.com"];

/// A syntactically plausible e-mail address, trimmed, at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    pub const MAX_LEN: usize = 254;

    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(DomainError::new(field, "is required"));
        }
        if s.len() > Self::MAX_LEN {
            return Err(DomainError::new(field, format!("must be at most {} characters", Self::MAX_LEN)));
        }
        let invalid = || DomainError::new(field, "is not an e-mail address (expected name@example.org)");
        let (local, domain) = s.rsplit_once('@').ok_or_else(invalid)?;
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return Err(invalid());
        }
        let local_ok = local.chars().all(|c| {
            c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c) || (!c.is_ascii() && !c.is_control())
        });
        if !local_ok || local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(invalid());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !domain_ok {
            return Err(invalid());
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key under which two addresses of the same mailbox compare equal.
    pub fn normalized(&self) -> String {
        let lower = self.0.to_lowercase();
        let (local, domain) = lower.rsplit_once('@').expect("parsed addresses contain @");
        let domain = if domain == "googlemail.com" { "gmail.com" } else { domain };
        let mut local = local.to_owned();
        if PLUS_TAG_PROVIDERS.contains(&domain)
            && let Some(i) = local.find('+')
        {
            local.truncate(i);
        }
        if DOTLESS_PROVIDERS.contains(&domain) {
            local.retain(|c| c != '.');
        }
        format!("{local}@{domain}")
    }

    /// The domain part, lowercased.
    pub fn domain(&self) -> String {
        self.0.rsplit_once('@').map(|(_, d)| d.to_lowercase()).unwrap_or_default()
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse("email", &value)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        EmailAddress::parse("e", s).unwrap().normalized()
    }

    #[test]
    fn case_never_makes_two_people() {
        assert_eq!(norm("Ada@Example.ORG"), "ada@example.org");
    }

    #[test]
    fn gmail_ignores_dots_tags_and_the_googlemail_alias() {
        assert_eq!(norm("A.da.L+conf@GoogleMail.com"), "adal@gmail.com");
        assert_eq!(norm("adal@gmail.com"), "adal@gmail.com");
    }

    #[test]
    fn plus_tags_are_dropped_only_where_the_provider_ignores_them() {
        assert_eq!(norm("ada+x@outlook.com"), "ada@outlook.com");
        assert_eq!(norm("a.da+x@example.org"), "a.da+x@example.org");
    }

    #[test]
    fn rejects_what_is_not_an_address() {
        for bad in [
            "",
            "   ",
            "ada",
            "ada@",
            "@example.org",
            "ada@localhost",
            "a..b@example.org",
            ".a@example.org",
            "ada@-example.org",
            "ada@exa mple.org",
            "a b@example.org",
        ] {
            assert!(EmailAddress::parse("e", bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(EmailAddress::parse("e", &format!("{}@example.org", "a".repeat(65))).is_err());
    }

    #[test]
    fn error_names_the_field() {
        let err = EmailAddress::parse("reporter email", "nope").unwrap_err();
        assert_eq!(err.field, "reporter email");
    }
}
