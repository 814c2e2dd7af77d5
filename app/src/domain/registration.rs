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
            (Some(name), Some(email), true) => Ok(NewRegistration { name, email, ticket_ref, role }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
