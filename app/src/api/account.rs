//! Signing in and out, and a person's own page.

use super::AppError;
use super::CaseSummary;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use {
    super::plumbing,
    super::{Actor, SetCookie},
};

/// Who is signed in, for the page header.
#[server(name = SessionInfoCall, prefix = "/fn", endpoint = "session_info")]
pub async fn session_info() -> Result<SessionInfo, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.session_info(&actor).await)
}

/// The sign-in choices: configured providers (e-mail links always work).
#[server(name = SigninOptionsCall, prefix = "/fn", endpoint = "signin_options")]
pub async fn signin_options() -> Result<SigninOptions, AppError> {
    let (backend, _) = plumbing::context()?;
    plumbing::answer(backend.signin_options().await)
}

/// Sends a one-time sign-in link if the address belongs to someone Haven knows. The answer
/// is the same either way.
/// `return_to` is where the link leads after signing in (a path on this site).
#[server(prefix = "/fn", endpoint = "request_signin_link")]
pub async fn request_signin_link(email: String, return_to: Option<String>) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.request_signin_link(&actor, email, return_to).await)?;
    leptos_axum::redirect("/signin?sent=1");
    Ok(())
}

/// Uses a sign-in link: starts a session and goes to the person's page.
#[server(prefix = "/fn", endpoint = "redeem_signin_link")]
pub async fn redeem_signin_link(token: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    let (cookie, next) = plumbing::answer(backend.redeem_signin_link(&actor, token).await)?;
    plumbing::set_cookie(&cookie);
    leptos_axum::redirect(&next);
    Ok(())
}

/// Ends this session, or with `everywhere` every session of the person.
#[server(prefix = "/fn", endpoint = "sign_out")]
pub async fn sign_out(everywhere: Option<String>) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    let everywhere = everywhere.is_some_and(|v| !v.is_empty() && v != "false");
    let cookie = plumbing::answer(backend.sign_out(&actor, everywhere).await)?;
    plumbing::set_cookie(&cookie);
    leptos_axum::redirect("/");
    Ok(())
}

/// The signed-in person's registrations and roles.
#[server(name = MyPageCall, prefix = "/fn", endpoint = "my_page")]
pub async fn my_page() -> Result<MyPage, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.my_page(&actor).await)
}

/// Everything Haven holds about the signed-in person as themselves, to download (also at
/// `GET /me/data.json`).
#[server(name = MyDataCall, prefix = "/fn", endpoint = "my_data")]
pub async fn my_data() -> Result<MyData, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.my_data(&actor).await)
}

/// Adds a further sign-in address: a link to confirm it is mailed there.
#[server(prefix = "/fn", endpoint = "add_email")]
pub async fn add_email(email: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.add_email(&actor, email).await)
}

/// Uses the link that confirms a further address (whoever holds it: it went to that
/// address). Returns the address.
#[server(prefix = "/fn", endpoint = "confirm_email")]
pub async fn confirm_email(token: String) -> Result<String, AppError> {
    let (backend, _) = plumbing::context()?;
    plumbing::answer(backend.confirm_email(token).await)
}

/// Stops a further address from signing in as this person.
#[server(prefix = "/fn", endpoint = "remove_email")]
pub async fn remove_email(email: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.remove_email(&actor, email).await)
}

/// What a staff invitation offers: to whoever holds its link while signed out, and to its
/// addressee (a signed-in person who does not hold its address is refused).
#[server(prefix = "/fn", endpoint = "invitation")]
pub async fn invitation(token: String) -> Result<InvitationView, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.invitation(&actor, &token).await)
}

/// Accepts a staff invitation: grants the role to its addressee (signing them in if
/// needed); a signed-in person who does not hold its address is refused.
#[server(prefix = "/fn", endpoint = "accept_invitation")]
pub async fn accept_invitation(token: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    let cookie = plumbing::answer(backend.accept_invitation(&actor, &token).await)?;
    if let Some(cookie) = cookie {
        plumbing::set_cookie(&cookie);
    }
    leptos_axum::redirect("/me");
    Ok(())
}

/// A person's own account: who is signed in, their page, invitations.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait AccountApi: Send + Sync {
    async fn session_info(&self, actor: &Actor) -> Result<SessionInfo, AppError>;

    async fn signin_options(&self) -> Result<SigninOptions, AppError>;

    async fn my_page(&self, actor: &Actor) -> Result<MyPage, AppError>;

    /// The person's own data: never anything of a case that names them.
    async fn my_data(&self, actor: &Actor) -> Result<MyData, AppError>;

    async fn invitation(&self, actor: &Actor, token: &str) -> Result<InvitationView, AppError>;

    async fn accept_invitation(&self, actor: &Actor, token: &str) -> Result<Option<SetCookie>, AppError>;
}

/// Signing in and out by e-mail link, and the addresses one signs in with.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait SigninApi: Send + Sync {
    async fn request_signin_link(
        &self,
        actor: &Actor,
        email: String,
        return_to: Option<String>,
    ) -> Result<(), AppError>;

    /// Uses a sign-in link: returns the session cookie and where the person was going.
    async fn redeem_signin_link(&self, actor: &Actor, token: String) -> Result<(SetCookie, String), AppError>;

    async fn sign_out(&self, actor: &Actor, everywhere: bool) -> Result<SetCookie, AppError>;

    /// Starts adding a further sign-in address: a single-use link to confirm it goes to
    /// that address. The answer is the same whether or not the address is someone else's.
    async fn add_email(&self, actor: &Actor, email: String) -> Result<(), AppError>;

    /// Uses a confirmation link: the address becomes a sign-in identity of the person who
    /// asked, unless it meanwhile belongs to someone else.
    async fn confirm_email(&self, token: String) -> Result<String, AppError>;

    /// Removes a further sign-in address (the main one stays).
    async fn remove_email(&self, actor: &Actor, email: String) -> Result<(), AppError>;
}

// ----- Wire types ----------------------------------------------------------------

/// What every page's header needs to know about the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SessionInfo {
    pub signed_in: bool,
    pub name: Option<String>,
    /// Holds an organizer or admin role somewhere (shows the "Manage" link).
    pub manages: bool,
    /// Is on a safety team somewhere (shows the "Safety team" link).
    pub responds: bool,
    /// Is an escort somewhere (shows the "My assignments" link).
    pub escorts: bool,
    /// Holds any staff role (gets live notifications).
    pub staff: bool,
    /// Holds roles this session may use only after confirming the sign-in with a second
    /// factor.
    pub second_factor_needed: bool,
}

/// A configured OpenID Connect provider, as shown on the sign-in page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderLink {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigninOptions {
    pub providers: Vec<ProviderLink>,
    /// Organizations whose staff sign in without a second factor (the demo says so).
    pub without_second_factor: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRegistration {
    pub event_slug: String,
    pub event_name: String,
    pub when: String,
    pub ticket_ref: Option<String>,
    pub role: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRole {
    pub role: crate::domain::Role,
    /// The event's or the organization's name.
    pub scope: String,
    pub event_slug: Option<String>,
}

/// The signed-in person's own page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyPage {
    pub name: String,
    pub email: Option<String>,
    /// Further addresses this person signs in with (normalized), besides `email`.
    pub addresses: Vec<String>,
    pub registrations: Vec<MyRegistration>,
    pub roles: Vec<MyRole>,
    /// The cases this person reported.
    pub cases: Vec<CaseSummary>,
}

/// What an invitation link offers, shown to its addressee or to a signed-out holder of the link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub role: crate::domain::Role,
    pub scope: String,
    pub organization: String,
    pub email: String,
}

/// What Haven holds about a person as themselves: their account, registrations, badges,
/// roles, the decisions about them with their appeals, and the cases they filed with their
/// messages. What others wrote about them in cases is not theirs to read (the rule of
/// involvement), so it is not here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyData {
    pub exported_at: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Further sign-in addresses.
    pub addresses: Vec<String>,
    /// Sign-in providers linked to the account (their name for it is not kept here).
    pub sign_in_providers: Vec<String>,
    pub second_factor_set_up: bool,
    pub registrations: Vec<MyRegistration>,
    pub badges: Vec<super::MyBadge>,
    pub roles: Vec<MyRole>,
    pub decisions: Vec<super::MyDecision>,
    pub cases_filed: Vec<super::ReporterCaseView>,
}
