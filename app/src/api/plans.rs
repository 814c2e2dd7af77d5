//! Safety plans on a case (the team), the reporter's answer, escorts' assignments and
//! calendar feed, and in-app notifications.

use super::AppError;
use super::PersonRef;
use crate::domain::PrecautionKind;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use {super::Actor, super::plumbing, crate::domain::CaseReference, uuid::Uuid};

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
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.add_escort(&actor, &plumbing::reference(&reference)?, &input).await)
}

/// Adds an arrival alert: who is told (`recipients[0]`, …) when a person linked to the
/// case has their badge scanned at this event.
#[server(prefix = "/fn", endpoint = "add_arrival_alert")]
pub async fn add_arrival_alert(
    reference: String,
    recipients: Option<Vec<String>>,
    instruction: Option<String>,
) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    let (reference, instruction) = (plumbing::reference(&reference)?, instruction.unwrap_or_default());
    plumbing::answer(backend.add_arrival_alert(&actor, &reference, &recipients.unwrap_or_default(), &instruction).await)
}

/// Adds what door staff see when a linked person arrives (e.g. "admit, and call the
/// safety lead").
#[server(prefix = "/fn", endpoint = "add_door_instruction")]
pub async fn add_door_instruction(reference: String, instruction: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    let reference = plumbing::reference(&reference)?;
    plumbing::answer(
        backend.add_text_precaution(&actor, &reference, PrecautionKind::DoorInstruction, &instruction).await,
    )
}

/// Adds an arrangement agreed with the reporter, in words shared with them.
#[server(prefix = "/fn", endpoint = "add_arrangement")]
pub async fn add_arrangement(reference: String, text: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    let reference = plumbing::reference(&reference)?;
    plumbing::answer(backend.add_text_precaution(&actor, &reference, PrecautionKind::Arrangement, &text).await)
}

#[server(prefix = "/fn", endpoint = "remove_precaution")]
pub async fn remove_precaution(reference: String, precaution: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    let (reference, precaution) = (plumbing::reference(&reference)?, plumbing::id(&actor, &precaution)?);
    plumbing::answer(backend.remove_precaution(&actor, &reference, precaution).await)
}

/// The reporter accepts the plan or asks for changes.
#[server(prefix = "/fn", endpoint = "respond_to_plan")]
pub async fn respond_to_plan(reference: String, answer: String, comment: Option<String>) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    let (reference, comment) = (plumbing::reference(&reference)?, comment.unwrap_or_default());
    plumbing::answer(backend.respond_to_plan(&actor, &reference, &answer, &comment).await)
}

#[server(name = MyAssignmentsCall, prefix = "/fn", endpoint = "my_assignments")]
pub async fn my_assignments() -> Result<MyAssignments, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.my_assignments(&actor).await)
}

#[server(prefix = "/fn", endpoint = "acknowledge_assignment")]
pub async fn acknowledge_assignment(assignment: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.acknowledge_assignment(&actor, plumbing::id(&actor, &assignment)?).await)
}

/// Makes a new private calendar feed address (the old one stops working) and returns it.
#[server(prefix = "/fn", endpoint = "renew_calendar_feed")]
pub async fn renew_calendar_feed() -> Result<String, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.renew_calendar_feed(&actor).await)
}

#[server(prefix = "/fn", endpoint = "revoke_calendar_feed")]
pub async fn revoke_calendar_feed() -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.revoke_calendar_feed(&actor).await)
}

#[server(prefix = "/fn", endpoint = "notifications")]
pub async fn notifications() -> Result<Vec<NotificationView>, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.notifications(&actor).await)
}

#[server(prefix = "/fn", endpoint = "mark_notifications_read")]
pub async fn mark_notifications_read() -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.mark_notifications_read(&actor).await)
}

/// A case's safety plan: precautions and the reporter's answer.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait PlansApi: Send + Sync {
    async fn add_escort(&self, actor: &Actor, reference: &CaseReference, input: &EscortInput) -> Result<(), AppError>;

    async fn add_arrival_alert(
        &self,
        actor: &Actor,
        reference: &CaseReference,
        recipients: &[String],
        instruction: &str,
    ) -> Result<(), AppError>;

    async fn add_text_precaution(
        &self,
        actor: &Actor,
        reference: &CaseReference,
        kind: PrecautionKind,
        text: &str,
    ) -> Result<(), AppError>;

    async fn remove_precaution(&self, actor: &Actor, reference: &CaseReference, id: Uuid) -> Result<(), AppError>;

    async fn respond_to_plan(
        &self,
        actor: &Actor,
        reference: &CaseReference,
        answer: &str,
        comment: &str,
    ) -> Result<(), AppError>;
}

/// An escort's own assignments.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait EscortsApi: Send + Sync {
    /// An escort's own live assignments.
    async fn my_assignments(&self, actor: &Actor) -> Result<MyAssignments, AppError>;

    async fn acknowledge_assignment(&self, actor: &Actor, id: Uuid) -> Result<(), AppError>;
}

/// A person's calendar feed link.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait CalendarApi: Send + Sync {
    /// Makes a new private calendar feed for the caller (ending any earlier one).
    async fn renew_calendar_feed(&self, actor: &Actor) -> Result<String, AppError>;

    async fn revoke_calendar_feed(&self, actor: &Actor) -> Result<(), AppError>;
}

/// In-app notifications.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait NotificationsApi: Send + Sync {
    /// The caller's notifications, newest first (the latest 50).
    async fn notifications(&self, actor: &Actor) -> Result<Vec<NotificationView>, AppError>;

    async fn mark_notifications_read(&self, actor: &Actor) -> Result<(), AppError>;
}

// ----- Wire types ----------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignedEscort {
    pub name: String,
    pub acknowledged: bool,
}

/// One precaution of a case's plan, as the team sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrecautionView {
    pub id: uuid::Uuid,
    pub kind: PrecautionKind,
    /// Escort: the windows, in the event's time zone.
    pub windows: Vec<String>,
    pub escorts: Vec<AssignedEscort>,
    pub meeting_point: String,
    pub contact: String,
    /// Escort notes, door instruction, or the arrangement's words.
    pub text: String,
    /// Arrival alert: who is told.
    pub recipients: Vec<String>,
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanAnswer {
    Accepted,
    ChangesRequested,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanResponseView {
    pub answer: PlanAnswer,
    pub comment: Option<String>,
    pub at: String,
}

/// The safety plan of a case, for the team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanView {
    pub precautions: Vec<PrecautionView>,
    /// The reporter's latest answer to the plan.
    pub response: Option<PlanResponseView>,
    /// Escort staff of the event (who can be assigned).
    pub escorts: Vec<PersonRef>,
    /// Staff of the event who can be told of an arrival.
    pub staff: Vec<PersonRef>,
}

/// An escort's assignment: who, when, where, how to reach them. Never why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentView {
    pub id: uuid::Uuid,
    pub event_name: String,
    pub person: String,
    pub windows: Vec<String>,
    pub meeting_point: String,
    pub contact: String,
    pub notes: String,
    pub acknowledged: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyAssignments {
    pub assignments: Vec<AssignmentView>,
    /// A private calendar feed exists (its address is shown only when made).
    pub has_feed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationView {
    pub id: uuid::Uuid,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: String,
    pub at: String,
    pub read: bool,
}
