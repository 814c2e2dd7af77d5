//! A registration row as typed by an organizer or read from a CSV import.

use super::{DisplayName, DomainError, EmailAddress, PlainText};

/// A ticket reference from the ticketing side: 1–100 printable characters, no spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TicketRef(String);

impl TicketRef {
    pub fn parse(field: &str, raw: &str) -> Result<TicketRef, DomainError> {
        let s = raw.trim();
        if s.is_empty() || s.chars().count() > 100 {
            return Err(DomainError::new(field, "must be 1 to 100 characters"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(DomainError::new(field, "must not contain spaces or control characters"));
        }
        Ok(TicketRef(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One valid registration: who, and optionally their ticket and attendee role
/// (speaker, volunteer, … — free text, not a staff role).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRegistration {
    pub name: DisplayName,
    pub email: EmailAddress,
    pub ticket_ref: Option<TicketRef>,
    pub role: Option<String>,
    /// Compared with banned people's numbers (ban evasion); never shown to door staff.
    pub phone: Option<PhoneNumber>,
}

/// A phone number reduced to its digits (with a leading `+` when written with one), so
/// that `+49 30 1234-567` and `+4930 1234567` compare equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(field: &str, raw: &str) -> Result<PhoneNumber, DomainError> {
        let raw = raw.trim();
        let allowed = |c: char| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.' | '/');
        let (plus, rest) = match raw.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
        if !rest.chars().all(allowed) || !(6..=15).contains(&digits.len()) {
            return Err(DomainError::new(
                field,
                "must be a phone number: 6 to 15 digits, optionally starting with + (spaces and dashes are fine)",
            ));
        }
        Ok(PhoneNumber(if plus { format!("+{digits}") } else { digits }))
    }

    pub fn parse_optional(field: &str, raw: &str) -> Result<Option<PhoneNumber>, DomainError> {
        if raw.trim().is_empty() { Ok(None) } else { PhoneNumber::parse(field, raw).map(Some) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number without its country prefix guesswork: the last nine digits, which is how
    /// two writings of one number (with and without `+49`, or a leading 0) still meet.
    pub fn key(&self) -> String {
        let digits: String = self.0.chars().filter(char::is_ascii_digit).collect();
        digits[digits.len().saturating_sub(9)..].to_owned()
    }
}

impl NewRegistration {
    /// Checks every field and reports every problem, not just the first.
    pub fn parse(name: &str, email: &str, ticket_ref: &str, role: &str) -> Result<NewRegistration, Vec<DomainError>> {
        let mut errors = Vec::new();
        let name = DisplayName::parse("name", name).map_err(|e| errors.push(e)).ok();
        let email = EmailAddress::parse("email", email).map_err(|e| errors.push(e)).ok();
        let ticket_ref = if ticket_ref.trim().is_empty() {
            None
        } else {
            TicketRef::parse("ticket_ref", ticket_ref).map_err(|e| errors.push(e)).ok()
        };
        let role = PlainText::parse_optional("role", role, 50)
            .map_err(|e| errors.push(e))
            .ok()
            .flatten()
            .map(PlainText::into_string);
        if role.as_deref().is_some_and(|r| r.contains('\n')) {
            errors.push(DomainError::new("role", "must be a single line"));
        }
        match (name, email, errors.is_empty()) {
            (Some(name), Some(email), true) => Ok(NewRegistration { name, email, ticket_ref, role, phone: None }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_compare_by_their_digits() {
        let a = PhoneNumber::parse("phone", "+49 30 1234-5678").unwrap();
        let b = PhoneNumber::parse("phone", "030 12345678").unwrap();
        assert_eq!(a.as_str(), "+493012345678");
        assert_eq!(a.key(), b.key());
        for bad in ["12", "call me", "+49 30 1234 5678 9999 9", "49#30"] {
            assert!(PhoneNumber::parse("phone", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_row_with_every_field_wrong_reports_every_field() {
        let errs = NewRegistration::parse("", "nope", "has space", &"r".repeat(51)).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "email", "ticket_ref", "role"]);
    }

    #[test]
    fn optional_fields_may_be_blank() {
        let r = NewRegistration::parse("Ada", "ada@example.org", " ", "").unwrap();
        assert_eq!(r.ticket_ref, None);
        assert_eq!(r.role, None);
    }
}

/// Properties of a registration row's parser (the CSV import and the form use it).
#[cfg(test)]
mod properties {
    use super::*;
    use crate::domain::{proptest_config, typed_text};
    use proptest::prelude::*;

    fn email() -> impl Strategy<Value = String> {
        prop_oneof![
            typed_text(254),
            "[ ]{0,2}[a-zA-Z0-9.+_é-]{0,70}@[a-z0-9.-]{0,20}(\\.[a-z]{2,4}|)[ ]{0,2}",
            "[a-z]{1,5}@@[a-z]{1,5}\\.org|@example\\.org|ada@|ada@example|\\.ada@example\\.org|ada\\.\\.b@example\\.org",
        ]
    }

    fn ticket() -> impl Strategy<Value = String> {
        prop_oneof![typed_text(100), "[A-Z0-9-]{0,101}", "T[ \t\n\u{0}]T"]
    }

    fn phone() -> impl Strategy<Value = String> {
        prop_oneof![typed_text(20), "[ ]?\\+?[0-9 ()./-]{0,25}", "\\+?[0-9]{4,17}", "\\+\\+[0-9]{8}|[0-9]{8}\\+"]
    }

    proptest! {
        #![proptest_config(proptest_config(4096))]

        /// Every row is either a registration that keeps every rule, or refused with every
        /// problem named by its field.
        #[test]
        fn a_row_is_valid_or_every_problem_is_named(
            name in typed_text(200),
            email in email(),
            ticket in ticket(),
            role in typed_text(50),
        ) {
            match NewRegistration::parse(&name, &email, &ticket, &role) {
                Ok(r) => {
                    let n = r.name.as_str();
                    prop_assert!(!n.is_empty() && n.chars().count() <= 200 && n == n.trim());
                    prop_assert!(!n.chars().any(char::is_control));
                    prop_assert_eq!(EmailAddress::parse("email", r.email.as_str()), Ok(r.email.clone()));
                    if let Some(t) = &r.ticket_ref {
                        prop_assert!((1..=100).contains(&t.as_str().chars().count()));
                        prop_assert!(!t.as_str().chars().any(|c| c.is_whitespace() || c.is_control()));
                    }
                    if let Some(role) = &r.role {
                        prop_assert!(role.chars().count() <= 50 && !role.contains('\n'));
                        prop_assert!(!role.chars().any(|c| c.is_control() && c != '\t'));
                    }
                }
                Err(errors) => {
                    prop_assert!(!errors.is_empty());
                    for e in &errors {
                        prop_assert!(["name", "email", "ticket_ref", "role"].contains(&e.field.as_str()), "{e}");
                        prop_assert!(!e.message.is_empty());
                    }
                }
            }
        }

        /// A phone number is refused or reduced to its digits, and reads the same again.
        #[test]
        fn a_phone_number_is_refused_or_reduced_to_its_digits(raw in phone()) {
            match PhoneNumber::parse("phone", &raw) {
                Ok(p) => {
                    let digits = p.as_str().trim_start_matches('+');
                    prop_assert!((6..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()));
                    prop_assert!(digits.ends_with(&p.key()) && p.key().len() <= 9);
                    prop_assert_eq!(PhoneNumber::parse("phone", p.as_str()), Ok(p));
                }
                Err(e) => prop_assert_eq!(e.field, "phone"),
            }
        }
    }
}
