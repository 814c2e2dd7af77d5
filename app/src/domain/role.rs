//! Staff roles and what each may grant.

use super::{DomainError, EmailAddress};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A staff role, held for one event or for a whole organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The safety (code-of-conduct) team.
    Responder,
    /// Staff who accompany people.
    Escort,
    /// Staff who scan badges.
    Door,
    /// Runs an event.
    Organizer,
    /// Runs the organization.
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Responder, Role::Escort, Role::Door, Role::Organizer, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Responder => "responder",
            Role::Escort => "escort",
            Role::Door => "door",
            Role::Organizer => "organizer",
            Role::Admin => "admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Responder => "Safety team (responder)",
            Role::Escort => "Escort",
            Role::Door => "Door staff",
            Role::Organizer => "Organizer",
            Role::Admin => "Administrator",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Role, DomainError> {
        let s = raw.trim().to_ascii_lowercase();
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| DomainError::new(field, "must be one of responder, escort, door, organizer, admin"))
    }

    /// Whether the role can be held for a single event (admin is organization-wide only).
    pub fn event_scoped_allowed(self) -> bool {
        self != Role::Admin
    }

    /// Whether only an administrator of the organization may grant the role: the safety
    /// team reads every report made at an event, so an event's organizers (who may be
    /// the people reported) do not choose it.
    pub fn granted_by_admins_only(self) -> bool {
        matches!(self, Role::Responder | Role::Admin)
    }

    /// Whether using the role needs a second factor where the organization requires one:
    /// the roles that read reports or decide about people. Escorts and door staff see only
    /// their assignments and the door list.
    pub fn needs_second_factor(self) -> bool {
        matches!(self, Role::Responder | Role::Organizer | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a role applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleScope {
    Event,
    Organization,
}

impl RoleScope {
    pub fn parse(field: &str, raw: &str) -> Result<RoleScope, DomainError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "" | "event" => Ok(RoleScope::Event),
            "organization" | "org" => Ok(RoleScope::Organization),
            _ => Err(DomainError::new(field, "must be event or organization")),
        }
    }
}

/// Who is invited to which role, and where: the staff invitation form, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitee {
    pub email: EmailAddress,
    pub role: Role,
    pub scope: RoleScope,
}

impl Invitee {
    /// Reads the form's three fields, naming every one that is wrong.
    pub fn parse(email: &str, role: &str, scope: &str) -> Result<Invitee, Vec<DomainError>> {
        let mut errors = Vec::new();
        let email = EmailAddress::parse("email", email).map_err(|e| errors.push(e)).ok();
        let role = Role::parse("role", role).map_err(|e| errors.push(e)).ok();
        let scope = RoleScope::parse("scope", scope).map_err(|e| errors.push(e)).ok();
        match (email, role, scope) {
            (Some(email), Some(role), Some(scope)) => Ok(Invitee { email, role, scope }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invitation_form_names_every_wrong_field() {
        let ok = Invitee::parse("a@example.org", "door", "").unwrap();
        assert_eq!((ok.role, ok.scope), (Role::Door, RoleScope::Event));
        let fields: Vec<String> =
            Invitee::parse("nope", "king", "galaxy").unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["email", "role", "scope"]);
    }

    #[test]
    fn roles_parse_case_insensitively_and_reject_the_unknown() {
        assert_eq!(Role::parse("r", " Door ").unwrap(), Role::Door);
        assert!(Role::parse("r", "superuser").is_err());
        assert!(Role::parse("r", "").is_err());
    }

    #[test]
    fn admin_is_organization_wide_only() {
        assert!(!Role::Admin.event_scoped_allowed());
        assert!(Role::Escort.event_scoped_allowed());
    }

    #[test]
    fn only_administrators_grant_the_safety_team_and_administrators() {
        let admins_only: Vec<Role> = Role::ALL.into_iter().filter(|r| r.granted_by_admins_only()).collect();
        assert_eq!(admins_only, [Role::Responder, Role::Admin]);
    }
}
