//! Signing in and out, and a person's own page.

use super::{AppError, InvitationView, MyPage, SessionInfo, SigninOptions};
use leptos::prelude::*;

/// Who is signed in, for the page header.
#[server(name = SessionInfoCall, prefix = "/fn", endpoint = "session_info")]
pub async fn session_info() -> Result<SessionInfo, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.session_info(&actor).await)
}

/// The sign-in choices: configured providers (e-mail links always work).
#[server(name = SigninOptionsCall, prefix = "/fn", endpoint = "signin_options")]
pub async fn signin_options() -> Result<SigninOptions, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.signin_options(&actor).await)
}

/// Sends a one-time sign-in link if the address belongs to someone Haven knows. The answer
/// is the same either way.
/// `return_to` is where the link leads after signing in (a path on this site).
#[server(prefix = "/fn", endpoint = "request_signin_link")]
pub async fn request_signin_link(email: String, return_to: Option<String>) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.request_signin_link(&actor, email, return_to).await)?;
    leptos_axum::redirect("/signin?sent=1");
    Ok(())
}

/// Uses a sign-in link: starts a session and goes to the person's page.
#[server(prefix = "/fn", endpoint = "redeem_signin_link")]
pub async fn redeem_signin_link(token: String) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    let (cookie, next) = super::plumbing::answer(backend.redeem_signin_link(&actor, token).await)?;
    super::plumbing::set_cookie(&cookie);
    leptos_axum::redirect(&next);
    Ok(())
}

/// Ends this session, or with `everywhere` every session of the person.
#[server(prefix = "/fn", endpoint = "sign_out")]
pub async fn sign_out(everywhere: Option<String>) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    let everywhere = everywhere.is_some_and(|v| !v.is_empty() && v != "false");
    let cookie = super::plumbing::answer(backend.sign_out(&actor, everywhere).await)?;
    super::plumbing::set_cookie(&cookie);
    leptos_axum::redirect("/");
    Ok(())
}

/// The signed-in person's registrations and roles.
#[server(name = MyPageCall, prefix = "/fn", endpoint = "my_page")]
pub async fn my_page() -> Result<MyPage, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.my_page(&actor).await)
}

/// Adds a further sign-in address: a link to confirm it is mailed there.
#[server(prefix = "/fn", endpoint = "add_email")]
pub async fn add_email(email: String) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.add_email(&actor, email).await)
}

/// Uses the link that confirms a further address (whoever holds it: it went to that
/// address). Returns the address.
#[server(prefix = "/fn", endpoint = "confirm_email")]
pub async fn confirm_email(token: String) -> Result<String, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.confirm_email(&actor, token).await)
}

/// Stops a further address from signing in as this person.
#[server(prefix = "/fn", endpoint = "remove_email")]
pub async fn remove_email(email: String) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.remove_email(&actor, email).await)
}

/// What a staff invitation offers: to whoever holds its link while signed out, and to its
/// addressee (a signed-in person who does not hold its address is refused).
#[server(prefix = "/fn", endpoint = "invitation")]
pub async fn invitation(token: String) -> Result<InvitationView, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.invitation(&actor, token).await)
}

/// Accepts a staff invitation: grants the role to its addressee (signing them in if
/// needed); a signed-in person who does not hold its address is refused.
#[server(prefix = "/fn", endpoint = "accept_invitation")]
pub async fn accept_invitation(token: String) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    let cookie = super::plumbing::answer(backend.accept_invitation(&actor, token).await)?;
    if let Some(cookie) = cookie {
        super::plumbing::set_cookie(&cookie);
    }
    leptos_axum::redirect("/me");
    Ok(())
}
