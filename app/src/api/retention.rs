//! Keeping case text no longer than needed: a reporter withdraws an open concern, a
//! responder extends a case's keeping once, an administrator sets how long the
//! organization keeps resolved and closed cases.

use super::AppError;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    super::Actor,
    super::plumbing,
    crate::domain::{CaseReference, Slug},
};

/// The reporter withdraws their open concern: its text is erased at once, unless a
/// decision rests on it (then they are told why it stays).
#[server(prefix = "/fn", endpoint = "withdraw_case")]
pub async fn withdraw_case(reference: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.withdraw_case(&actor, &plumbing::reference(&reference)?).await)
}

/// A responder of the case's team keeps its text longer, once, by up to the
/// organization's period, with a reason that is logged.
#[server(prefix = "/fn", endpoint = "extend_retention")]
pub async fn extend_retention(reference: String, days: String, reason: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    let reference = plumbing::reference(&reference)?;
    let days =
        plumbing::answer(days.trim().parse::<u32>().map_err(|_| AppError::invalid("days", "give a number of days")))?;
    plumbing::answer(backend.extend_retention(&actor, &reference, days, &reason).await)
}

/// An administrator sets how many days the organization keeps a resolved or closed
/// case's text.
#[server(prefix = "/fn", endpoint = "set_retention")]
pub async fn set_retention(organization: String, days: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    let organization = plumbing::slug(&organization)?;
    let days =
        plumbing::answer(days.trim().parse::<u32>().map_err(|_| AppError::invalid("days", "give a number of days")))?;
    plumbing::answer(backend.set_retention(&actor, &organization, days).await)
}

/// Withdrawing, extending, and the organization's period.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait RetentionApi: Send + Sync {
    async fn withdraw_case(&self, actor: &Actor, reference: &CaseReference) -> Result<(), AppError>;

    async fn extend_retention(
        &self,
        actor: &Actor,
        reference: &CaseReference,
        days: u32,
        reason: &str,
    ) -> Result<(), AppError>;

    async fn set_retention(&self, actor: &Actor, organization: &Slug, days: u32) -> Result<(), AppError>;
}
