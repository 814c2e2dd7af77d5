//! The one error type of the API layer: what a server function or REST route may answer.
//!
//! Variants say what the caller can do about it and nothing more. In particular
//! [`AppError::NotFound`] is also the answer when the caller may not see the thing, and an
//! internal failure says nothing about its cause (that is logged once, at the edge).

use crate::domain::DomainError;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error", content = "detail", rename_all = "snake_case")]
pub enum AppError {
    /// The thing does not exist, or the caller may not see it: the two are one answer.
    #[error("not found")]
    NotFound,
    /// The page or action needs a signed-in person.
    #[error("please sign in first")]
    Unauthenticated,
    /// The input breaks a rule; each entry names a field and what to fix.
    #[error("{}", display_invalid(.0))]
    Invalid(Vec<DomainError>),
    /// The request conflicts with the current state (already done, double-booked, …).
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts in a short time.
    #[error("too many attempts; please wait a few minutes and try again")]
    RateLimited,
    /// A failure on the server; its cause is in the server log, not here.
    #[error("something went wrong on our side; please try again")]
    Internal,
    /// The request could not be carried (network down, malformed arguments).
    #[error("the request could not be completed: {0}")]
    Transport(String),
}

fn display_invalid(errors: &[DomainError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

impl AppError {
    /// One invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![DomainError::new(field, message)])
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound => 404,
            Self::Unauthenticated => 401,
            Self::Invalid(_) => 422,
            Self::Conflict(_) => 409,
            Self::RateLimited => 429,
            Self::Internal => 500,
            Self::Transport(_) => 400,
        }
    }

    /// The message for a given field, if the error is about that field.
    pub fn field_message(&self, field: &str) -> Option<String> {
        match self {
            Self::Invalid(errors) => errors.iter().find(|e| e.field == field).map(|e| e.message.clone()),
            _ => None,
        }
    }
}

impl From<DomainError> for AppError {
    fn from(value: DomainError) -> Self {
        Self::Invalid(vec![value])
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Transport(value.to_string())
    }
}

/// The services answer the ports with `?` on database calls; this is the one place a
/// database failure becomes an answer. A write the database refused because another got
/// there first (a unique or foreign-key constraint) is `Conflict`: the person can reload and
/// see what is there now. Anything else is `Internal`, its cause logged once here without
/// personal data (database errors carry statements and constraint names, not values).
///
/// It lives here, behind `ssr`, because Rust lets only the crate that owns `AppError` or
/// `DbErr` write it, and the ports (which return `AppError`) are implemented by the services
/// directly, with no layer in between that could convert.
#[cfg(feature = "ssr")]
impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        use sea_orm::SqlErr;
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_) | SqlErr::ForeignKeyConstraintViolation(_)) => {
                Self::Conflict(CHANGED_MEANWHILE.to_owned())
            }
            _ => {
                tracing::error!(error = %err, "database error");
                Self::Internal
            }
        }
    }
}

/// What a person is told when their write collided with another one.
pub const CHANGED_MEANWHILE: &str =
    "someone else changed this at the same moment; reload the page to see it as it is now";
