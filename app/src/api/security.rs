//! A second factor for staff: setting up an authenticator app, confirming a sign-in with
//! it (or a recovery code), an administrator's reset, and an organization's policy.

use super::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use {super::Actor, super::plumbing, crate::domain::Slug, uuid::Uuid};

/// Where the signed-in person stands with their second factor.
#[server(name = SecondFactorCall, prefix = "/fn", endpoint = "second_factor")]
pub async fn second_factor() -> Result<SecondFactorStatus, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.second_factor(&actor).await)
}

/// Starts setting up an authenticator app: a new secret, not yet in force.
#[server(prefix = "/fn", endpoint = "begin_totp")]
pub async fn begin_totp() -> Result<TotpEnrollment, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.begin_totp(&actor).await)
}

/// Puts the new secret in force with a first code from the app; this session counts as
/// having passed the second factor. Returns the recovery codes, shown this once.
#[server(prefix = "/fn", endpoint = "confirm_totp")]
pub async fn confirm_totp(code: String) -> Result<Vec<String>, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.confirm_totp(&actor, &code).await)
}

/// Confirms this sign-in with a code from the app or a recovery code, then goes on to
/// `return_to` (a path on this site).
#[server(prefix = "/fn", endpoint = "verify_second_factor")]
pub async fn verify_second_factor(code: String, return_to: Option<String>) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    let next = plumbing::answer(backend.verify_second_factor(&actor, &code, return_to.as_deref()).await)?;
    leptos_axum::redirect(&next);
    Ok(())
}

/// An administrator removes the second factor of the person holding a role in their
/// organization (they lost their phone): both are told by mail.
#[server(prefix = "/fn", endpoint = "reset_second_factor")]
pub async fn reset_second_factor(role_id: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.reset_second_factor(&actor, plumbing::id(&actor, &role_id)?).await)
}

/// An administrator sets whether the organization's responders, organizers and
/// administrators need a second factor, and whether a sign-in provider's own multi-factor
/// claim counts as one.
#[server(prefix = "/fn", endpoint = "set_organization_security")]
pub async fn set_organization_security(
    organization: String,
    required: Option<String>,
    accept_provider_mfa: Option<String>,
) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    let on = |v: Option<String>| v.is_some_and(|v| !v.is_empty() && v != "false");
    let policy =
        OrganizationSecurity { second_factor_required: on(required), accept_provider_mfa: on(accept_provider_mfa) };
    plumbing::answer(backend.set_organization_security(&actor, &plumbing::slug(&organization)?, policy).await)
}

/// The second factor: a person's own, an administrator's reset, an organization's policy.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait SecurityApi: Send + Sync {
    async fn second_factor(&self, actor: &Actor) -> Result<SecondFactorStatus, AppError>;

    /// Refused while a second factor is in force and this session has not passed it.
    async fn begin_totp(&self, actor: &Actor) -> Result<TotpEnrollment, AppError>;

    async fn confirm_totp(&self, actor: &Actor, code: &str) -> Result<Vec<String>, AppError>;

    /// Returns where to go next.
    async fn verify_second_factor(
        &self,
        actor: &Actor,
        code: &str,
        return_to: Option<&str>,
    ) -> Result<String, AppError>;

    async fn reset_second_factor(&self, actor: &Actor, role_id: Uuid) -> Result<(), AppError>;

    async fn set_organization_security(
        &self,
        actor: &Actor,
        organization: &Slug,
        policy: OrganizationSecurity,
    ) -> Result<(), AppError>;
}

// ----- Wire types ----------------------------------------------------------------

/// The signed-in person's second factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactorStatus {
    /// An authenticator app is set up and in force.
    pub set_up: bool,
    /// This session has passed the second factor.
    pub passed: bool,
    /// Roles this session may not use until it passes the second factor.
    pub held_back: Vec<super::MyRole>,
    /// Recovery codes not used yet.
    pub recovery_codes_left: u32,
}

/// A new authenticator secret, to scan or type into the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpEnrollment {
    /// Base32, as apps ask for it when typed.
    pub secret: String,
    /// The `otpauth://` address the QR code holds.
    pub uri: String,
    /// The QR code, as an SVG image.
    pub qr_svg: String,
}

/// What an organization asks of its staff's sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationSecurity {
    pub second_factor_required: bool,
    pub accept_provider_mfa: bool,
}
