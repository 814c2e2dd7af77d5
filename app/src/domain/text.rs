//! Bounded free text: names and short texts typed by people.

use super::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A person's display name: 1–200 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        let text = PlainText::parse(field, raw, 1, Self::MAX_CHARS)?;
        if text.as_str().contains('\n') {
            return Err(DomainError::new(field, "must be a single line"));
        }
        // Plain text may hold tabs; a name may not (it lands in lists and CSV exports).
        if text.as_str().contains('\t') {
            return Err(DomainError::new(field, "contains control characters"));
        }
        Ok(Self(text.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DisplayName {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse("name", &value)
    }
}

impl From<DisplayName> for String {
    fn from(value: DisplayName) -> Self {
        value.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Trimmed text between `min` and `max` characters without control characters other
/// than line breaks and tabs. Line endings are normalized to `\n`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PlainText(String);

impl PlainText {
    pub fn parse(field: &str, raw: &str, min: usize, max: usize) -> Result<Self, DomainError> {
        let normalized = raw.replace("\r\n", "\n").replace('\r', "\n");
        let s = normalized.trim();
        let chars = s.chars().count();
        if chars < min {
            return Err(DomainError::new(
                field,
                if min <= 1 { "is required".to_owned() } else { format!("must be at least {min} characters") },
            ));
        }
        if chars > max {
            return Err(DomainError::new(field, format!("must be at most {max} characters (it has {chars})")));
        }
        if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(DomainError::new(field, "contains control characters"));
        }
        Ok(Self(s.to_owned()))
    }

    /// Like [`PlainText::parse`] but an empty value is `None` rather than an error.
    pub fn parse_optional(field: &str, raw: &str, max: usize) -> Result<Option<Self>, DomainError> {
        if raw.trim().is_empty() { Ok(None) } else { Self::parse(field, raw, 1, max).map(Some) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_name_is_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("n", "  Ada Lovelace ").unwrap().as_str(), "Ada Lovelace");
        assert!(DisplayName::parse("n", "   ").is_err());
        assert!(DisplayName::parse("n", &"x".repeat(201)).is_err());
        assert!(DisplayName::parse("n", "two\nlines").is_err());
        assert!(DisplayName::parse("n", "bell\u{7}").is_err());
    }

    /// Found by the registration row property: a tab inside a name was accepted.
    #[test]
    fn a_display_name_holds_no_tab() {
        let e = DisplayName::parse("name", "+\tA").unwrap_err();
        assert_eq!((e.field.as_str(), e.message.as_str()), ("name", "contains control characters"));
        assert!(DisplayName::parse("name", "\tAda Lovelace\t").is_ok(), "blanks around it are trimmed");
    }

    #[test]
    fn plain_text_normalizes_line_endings_and_counts_characters_not_bytes() {
        let t = PlainText::parse("t", "a\r\nb", 1, 10).unwrap();
        assert_eq!(t.as_str(), "a\nb");
        assert!(PlainText::parse("t", &"é".repeat(10), 1, 10).is_ok());
        assert!(PlainText::parse("t", &"é".repeat(11), 1, 10).is_err());
    }

    #[test]
    fn optional_text_treats_blank_as_absent() {
        assert_eq!(PlainText::parse_optional("t", "  ", 5).unwrap(), None);
        assert!(PlainText::parse_optional("t", "toolong", 5).is_err());
    }
}
