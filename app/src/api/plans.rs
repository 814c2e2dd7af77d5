//! Safety plans on a case (the team), the reporter's answer, escorts' assignments and
//! calendar feed, and in-app notifications.

use super::{AppError, MyAssignments, NotificationView};
use leptos::prelude::*;

/// The fields of the escort form: up to three time windows (wall-clock, event time
/// zone), the escorts (`input[escorts][0]`, `input[escorts][1]`, …: person ids), a meeting
/// point, how to reach the person escorted, and notes for the escort.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(default)]
pub struct EscortInput {
    pub escorts: Vec<String>,
    pub start_1: String,
    pub end_1: String,
    pub start_2: String,
    pub end_2: String,
    pub start_3: String,
    pub end_3: String,
    pub meeting_point: String,
    pub contact: String,
    pub notes: String,
}

#[server(prefix = "/fn", endpoint = "add_escort")]
pub async fn add_escort(reference: String, input: EscortInput) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.add_escort(&actor, reference, input).await)
}

/// Adds an arrival alert: who is told (`recipients[0]`, …) when a person linked to the
/// case has their badge scanned at this event.
#[server(prefix = "/fn", endpoint = "add_arrival_alert")]
pub async fn add_arrival_alert(
    reference: String,
    recipients: Option<Vec<String>>,
    instruction: Option<String>,
) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(
        backend
            .add_arrival_alert(&actor, reference, recipients.unwrap_or_default(), instruction.unwrap_or_default())
            .await,
    )
}

/// Adds what door staff see when a linked person arrives (e.g. "admit, and call the
/// safety lead").
#[server(prefix = "/fn", endpoint = "add_door_instruction")]
pub async fn add_door_instruction(reference: String, instruction: String) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.add_door_instruction(&actor, reference, instruction).await)
}

/// Adds an arrangement agreed with the reporter, in words shared with them.
#[server(prefix = "/fn", endpoint = "add_arrangement")]
pub async fn add_arrangement(reference: String, text: String) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.add_arrangement(&actor, reference, text).await)
}

#[server(prefix = "/fn", endpoint = "remove_precaution")]
pub async fn remove_precaution(reference: String, precaution: String) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.remove_precaution(&actor, reference, precaution).await)
}

/// The reporter accepts the plan or asks for changes.
#[server(prefix = "/fn", endpoint = "respond_to_plan")]
pub async fn respond_to_plan(reference: String, answer: String, comment: Option<String>) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.respond_to_plan(&actor, reference, answer, comment.unwrap_or_default()).await)
}

#[server(name = MyAssignmentsCall, prefix = "/fn", endpoint = "my_assignments")]
pub async fn my_assignments() -> Result<MyAssignments, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.my_assignments(&actor).await)
}

#[server(prefix = "/fn", endpoint = "acknowledge_assignment")]
pub async fn acknowledge_assignment(assignment: String) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.acknowledge_assignment(&actor, assignment).await)
}

/// Makes a new private calendar feed address (the old one stops working) and returns it.
#[server(prefix = "/fn", endpoint = "renew_calendar_feed")]
pub async fn renew_calendar_feed() -> Result<String, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.renew_calendar_feed(&actor).await)
}

#[server(prefix = "/fn", endpoint = "revoke_calendar_feed")]
pub async fn revoke_calendar_feed() -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.revoke_calendar_feed(&actor).await)
}

#[server(prefix = "/fn", endpoint = "notifications")]
pub async fn notifications() -> Result<Vec<NotificationView>, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.notifications(&actor).await)
}

#[server(prefix = "/fn", endpoint = "mark_notifications_read")]
pub async fn mark_notifications_read() -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.mark_notifications_read(&actor).await)
}
