//! Who is asking, and the union of the area ports (server only).
//!
//! Every question the UI can ask is a method of one area's trait (`api/<area>.rs`), and `haven-server`'s services are its
//! one implementation, so every request passes the one place that decides who may do what.

use super::*;
use std::sync::Arc;
use uuid::Uuid;

/// A signed-in caller's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorSession {
    pub person_id: Uuid,
    pub session_id: Uuid,
    /// How this session passed a second factor, if it did.
    pub second_factor: Option<SecondFactorProof>,
}

/// How a session passed a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactorProof {
    /// A code from the person's authenticator app, or one of their recovery codes.
    Code,
    /// The sign-in provider said it checked several factors (`amr` holds `mfa`); it counts
    /// only where the organization accepts that.
    Provider,
}

impl SecondFactorProof {
    pub fn as_str(self) -> &'static str {
        match self {
            SecondFactorProof::Code => "code",
            SecondFactorProof::Provider => "provider",
        }
    }

    pub fn parse(raw: &str) -> Option<SecondFactorProof> {
        [SecondFactorProof::Code, SecondFactorProof::Provider].into_iter().find(|p| p.as_str() == raw)
    }
}

/// Who is asking. Resolved by the HTTP layer from the session cookie, checked by the
/// services. `client` is an opaque key for the caller's network address (for rate limits),
/// never the address itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    pub session: Option<ActorSession>,
    pub client: String,
}

impl Actor {
    pub fn person_id(&self) -> Option<Uuid> {
        self.session.as_ref().map(|s| s.person_id)
    }

    /// The signed-in person, or `Unauthenticated`.
    pub fn signed_in(&self) -> Result<Uuid, super::AppError> {
        self.person_id().ok_or(super::AppError::Unauthenticated)
    }

    /// The signed-in session (the person and how far its sign-in got), or `Unauthenticated`.
    pub fn signed_in_session(&self) -> Result<&ActorSession, super::AppError> {
        self.session.as_ref().ok_or(super::AppError::Unauthenticated)
    }
}

/// A `Set-Cookie` header value the server function must send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie(pub String);

/// Every area's port: what the UI can ask, and so what one implementation (the server's
/// services) must answer. Each area's trait lives beside its server functions.
pub trait Backend:
    PublicApi
    + AccountApi
    + SigninApi
    + ManageApi
    + RegistrationsApi
    + StaffApi
    + FilingApi
    + CaseViewApi
    + QueueApi
    + CasesApi
    + PlansApi
    + EscortsApi
    + CalendarApi
    + NotificationsApi
    + DoorApi
    + ProposalsApi
    + DecisionsApi
    + DecisionViewsApi
    + OutcomesApi
    + AppealsApi
    + EvasionApi
    + ReportApi
    + SecurityApi
    + RetentionApi
    + 'static
{
}

pub type SharedBackend = Arc<dyn Backend>;
