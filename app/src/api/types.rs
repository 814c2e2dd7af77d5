//! Data sent over the wire between the server and the pages.

use serde::{Deserialize, Serialize};

/// An event as listed publicly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSummary {
    pub slug: String,
    pub name: String,
    pub organization: String,
    /// Start and end in the event's own time zone, already formatted for people.
    pub when: String,
    pub venue: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeView {
    pub events: Vec<EventSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    pub event: EventSummary,
    pub time_zone: String,
    /// Hours within which the safety team acknowledges a report.
    pub ack_hours: u32,
}

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedEvent {
    pub slug: String,
    pub name: String,
    pub organization: String,
    pub when: String,
    pub registrations: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedOrganization {
    pub slug: String,
    pub name: String,
}

/// The organizer's start page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManageHome {
    pub events: Vec<ManagedEvent>,
    /// Organizations where the caller may create events.
    pub organizations: Vec<ManagedOrganization>,
}

/// An event's settings, with times as wall-clock inputs in the event's zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSettings {
    pub organization: String,
    pub slug: String,
    pub name: String,
    pub venue: String,
    pub time_zone: String,
    pub starts_at: String,
    pub ends_at: String,
    pub ack_hours: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationRow {
    pub id: uuid::Uuid,
    pub name: String,
    pub email: String,
    pub ticket_ref: Option<String>,
    pub role: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationPage {
    pub event_name: String,
    pub query: String,
    pub page: u32,
    pub pages: u32,
    pub total: u64,
    pub rows: Vec<RegistrationRow>,
}

/// What an import did. An import that finds a bad row changes nothing and answers
/// `AppError::Invalid` listing every bad row by line number instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ImportReport {
    pub created: u32,
    pub unchanged: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    pub role_id: uuid::Uuid,
    pub name: String,
    pub email: Option<String>,
    pub role: crate::domain::Role,
    pub scope: crate::domain::RoleScope,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingInvitation {
    pub email: String,
    pub role: crate::domain::Role,
    pub scope: crate::domain::RoleScope,
    pub expires: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffView {
    pub event_name: String,
    pub members: Vec<StaffMember>,
    pub invitations: Vec<PendingInvitation>,
    /// The caller is an administrator of the organization: they may grant organization-wide
    /// roles and the roles only administrators grant (`Role::granted_by_admins_only`).
    pub can_invite_organization: bool,
}

/// What an invitation link offers, shown to its addressee or to a signed-out holder of the link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub role: crate::domain::Role,
    pub scope: String,
    pub organization: String,
    pub email: String,
}

// ----- Cases -----------------------------------------------------------------------

use crate::domain::{
    CaseKind, CaseStatus, ConcernForm, ContactChannel, DomainError, PersonDescription, SafetyWishes, Witnesses,
};

/// The concern form for an event, with what was typed last time and what to fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConcernFormView {
    pub event_slug: String,
    pub event_name: String,
    /// The caller may file here (registered for the event, or staff of it).
    pub may_file: bool,
    pub form: ConcernForm,
    pub errors: Vec<DomainError>,
    /// A photo chosen last time that was not kept (and why).
    pub photo_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSummary {
    pub reference: String,
    pub event_name: String,
    pub kind: CaseKind,
    pub status: CaseStatus,
    pub filed: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub from_team: bool,
    /// Who wrote it: a name for the team's view; "Safety team" or "You" for the reporter.
    pub author: String,
    pub body: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadView {
    pub name: String,
    pub at: String,
    pub what: String,
}

/// A case as its reporter sees it: no internal notes, no team-only facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReporterCaseView {
    pub reference: String,
    pub event_name: String,
    pub kind: CaseKind,
    pub status: CaseStatus,
    pub filed: String,
    pub person: PersonDescription,
    pub narrative: String,
    pub wishes: SafetyWishes,
    pub contact_channel: ContactChannel,
    /// What the team agreed with the reporter (from the safety plan).
    pub arrangements: Vec<String>,
    /// The reporter's latest answer to the plan.
    pub plan_response: Option<PlanResponseView>,
    pub messages: Vec<MessageView>,
    /// Who on the team has read the case, and when.
    pub readers: Vec<ReadView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRef {
    pub id: uuid::Uuid,
    pub name: String,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChangeView {
    pub from: Option<CaseStatus>,
    pub to: CaseStatus,
    pub by: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteView {
    pub author: String,
    pub body: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessView {
    pub name: String,
    pub contact: String,
    pub statement: String,
    pub added_by: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentView {
    pub id: uuid::Uuid,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub kind: String,
    pub at: String,
}

/// A registration that may belong to the person the case names, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateView {
    pub person_id: uuid::Uuid,
    pub name: String,
    pub email: Option<String>,
    pub events: Vec<String>,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelatedCaseView {
    pub reference: String,
    pub status: CaseStatus,
    /// How it relates, in words.
    pub relation: String,
}

/// A case as the safety team sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamCaseView {
    pub reference: String,
    pub event_slug: String,
    pub event_name: String,
    pub kind: CaseKind,
    pub status: CaseStatus,
    pub next_statuses: Vec<CaseStatus>,
    pub filed: String,
    pub acknowledge_by: String,
    pub overdue: bool,
    pub owner: Option<PersonRef>,
    pub responders: Vec<PersonRef>,
    pub reporter: PersonRef,
    pub contact_channel: ContactChannel,
    pub contact_detail: Option<String>,
    pub person: PersonDescription,
    pub narrative: String,
    pub wishes: SafetyWishes,
    pub witnesses: Witnesses,
    pub witness_details: Option<String>,
    pub history: Vec<StatusChangeView>,
    pub notes: Vec<NoteView>,
    pub messages: Vec<MessageView>,
    pub witness_entries: Vec<WitnessView>,
    pub attachments: Vec<AttachmentView>,
    /// People confirmed as the one the case names.
    pub linked: Vec<PersonRef>,
    /// Registrations that may be that person (not yet confirmed).
    pub candidates: Vec<CandidateView>,
    /// Other cases (visible to the caller) naming the same person.
    pub same_person: Vec<RelatedCaseView>,
    /// Cases this one is related to, and cases related to this one.
    pub related: Vec<RelatedCaseView>,
    pub reads: Vec<ReadView>,
    pub plan: PlanView,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "view", rename_all = "snake_case")]
pub enum CaseView {
    Reporter(Box<ReporterCaseView>),
    Team(Box<TeamCaseView>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueRow {
    pub reference: String,
    pub kind: CaseKind,
    pub status: CaseStatus,
    pub person: String,
    pub filed: String,
    pub acknowledge_by: String,
    pub overdue: bool,
    pub owner: Option<String>,
    /// Set when the case is linked to another as retaliation or false information.
    pub flag: Option<String>,
    /// How many other visible cases name the same person.
    pub same_person: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueView {
    pub event_slug: String,
    pub event_name: String,
    /// What the rows were filtered by (empty: every case).
    pub query: String,
    pub rows: Vec<QueueRow>,
}

/// Events where the caller is on the safety team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RespondHome {
    pub events: Vec<RespondEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RespondEvent {
    pub slug: String,
    pub name: String,
    pub open_cases: u32,
    pub overdue: u32,
}

// ----- Safety plans ------------------------------------------------------------------

use crate::domain::PrecautionKind;

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

// ----- Badges and the door ---------------------------------------------------------

/// A badge of the signed-in person (its image is at `/badges/<registration>.svg`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyBadge {
    pub registration: uuid::Uuid,
    pub event_slug: String,
    pub event_name: String,
    pub name: String,
}

/// What the door page needs to start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorView {
    pub event_id: uuid::Uuid,
    pub event_slug: String,
    pub event_name: String,
}

/// A registration found by name at the door.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorPerson {
    pub registration: uuid::Uuid,
    pub name: String,
    pub ticket_ref: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourCount {
    pub hour: String,
    pub admitted: u32,
    pub denied: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateScan {
    pub at: String,
    pub result: crate::domain::badge::ScanResult,
    pub name: Option<String>,
    /// Recorded more than 7 days after it happened.
    pub late: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateView {
    pub gate: String,
    pub latest: Vec<GateScan>,
}

/// Who checks people in by name at the door (door staff or a device), and how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameCheckInCount {
    /// The door person's name, or the device's.
    pub by: String,
    pub device: bool,
    pub count: u32,
}

/// One check-in by name: who checked in whom, when and at which gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameCheckIn {
    pub at: String,
    pub by: String,
    pub device: bool,
    /// The person checked in (none when the registration was unknown).
    pub name: Option<String>,
    pub gate: String,
}

/// A scan recorded more than 7 days after it happened (a device offline that long): when
/// it happened, when it reached the server, where, by whom, and the answer recorded (judged
/// when it arrived).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LateScan {
    pub at: String,
    pub received: String,
    pub gate: String,
    /// The door person's name, or the device's.
    pub by: String,
    pub device: bool,
    pub result: crate::domain::badge::ScanResult,
    pub name: Option<String>,
}

/// Arrivals so far: per hour (event time), the latest scans at each gate, the check-ins
/// by name (per door person and device, and the latest ones), and scans uploaded late.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArrivalsView {
    pub event_name: String,
    pub admitted: u32,
    pub per_hour: Vec<HourCount>,
    pub gates: Vec<GateView>,
    pub by_name: Vec<NameCheckInCount>,
    pub latest_by_name: Vec<NameCheckIn>,
    /// How many scans were recorded late in all, and the latest 20 received.
    pub late_count: u32,
    pub late: Vec<LateScan>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceView {
    pub id: uuid::Uuid,
    pub name: String,
    pub added: String,
    pub revoked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadgeSheet {
    pub event_name: String,
    pub badges: Vec<BadgeCard>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadgeCard {
    pub registration: uuid::Uuid,
    pub name: String,
    pub role: Option<String>,
}

/// A decision as staff see it (the team of its case, and deciders).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionView {
    pub id: uuid::Uuid,
    pub person: String,
    pub event_name: String,
    pub kind: crate::domain::DecisionKind,
    /// "Temporary ban", with the period or role and so on, in words.
    pub summary: String,
    pub decided_by: String,
    pub decided: String,
    pub reasons: String,
    /// The cases it rests on (references; only for those who may see them).
    pub cases: Vec<String>,
    /// Replaced by a correction or an appeal's outcome.
    pub superseded: bool,
    /// Made by deciding an appeal: final.
    pub from_appeal: bool,
    pub appeal: Option<AppealView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealView {
    pub id: uuid::Uuid,
    pub filed: String,
    pub text: String,
    /// "The decision stands" and so on; `None` while open.
    pub outcome: Option<String>,
}

/// A responder's proposal, waiting for a decider (or already settled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalView {
    pub id: uuid::Uuid,
    pub case: String,
    pub event_name: String,
    pub person: String,
    pub person_id: uuid::Uuid,
    pub summary: String,
    pub proposed_by: String,
    pub proposed: String,
    /// The proposal's form, to start the decider's form from.
    pub input: crate::domain::DecisionInput,
    /// `open`, `recorded` or `declined`.
    pub status: String,
    /// The event's time zone (the form's times are in it).
    pub time_zone: String,
    /// Open, and nobody uninvolved may decide it (everyone who could is a party to it):
    /// the team is told an administrator must be added.
    pub no_decider: bool,
}

/// The decisions panel of a case, for its team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseDecisions {
    /// Whom a decision may be about: the people linked to the case.
    pub people: Vec<PersonRef>,
    pub proposals: Vec<ProposalView>,
    pub decisions: Vec<DecisionView>,
    pub time_zone: String,
}

/// What waits for a decider: proposals, appeals, and recent decisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecideHome {
    pub proposals: Vec<ProposalView>,
    pub appeals: Vec<AppealToDecide>,
    pub recent: Vec<DecisionView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealToDecide {
    pub appeal: AppealView,
    pub decision: DecisionView,
    /// Why this decider may not decide it (they took part), if so.
    pub not_you: Option<String>,
    pub time_zone: String,
    /// Set when the appeal is by someone a confirmed ban-evasion flag brought under the
    /// decision (their name): it asks to lift that coverage, not the decision itself.
    pub covered: Option<String>,
}

/// A decision as the person it is about sees it: never who reported, never a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyDecision {
    pub id: uuid::Uuid,
    pub organization: String,
    pub event_name: String,
    pub summary: String,
    pub decided: String,
    /// Until when an appeal is accepted, in words; `None` when it cannot be appealed.
    pub appeal_until: Option<String>,
    pub can_appeal: bool,
    pub appeal: Option<AppealView>,
    /// The outcome of an appeal: no further appeal.
    pub is_final: bool,
    pub superseded: bool,
}

/// Who is expelled from an event or banned by its organization, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomesView {
    pub event_name: String,
    pub rows: Vec<OutcomeRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRow {
    pub name: String,
    pub email: Option<String>,
    pub measure: String,
    pub since: String,
}

/// A registration that may be a banned person under another name or address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvasionFlagView {
    pub id: uuid::Uuid,
    pub event_name: String,
    pub registrant: PersonRef,
    pub banned: PersonRef,
    pub ban: String,
    pub why: Vec<String>,
    pub flagged: String,
}

/// The organization's transparency report for a period: counts only, small ones hidden.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransparencyReport {
    pub organization: String,
    /// The calendar quarter reported on (`2027-Q2`), its first and last day.
    pub quarter: String,
    pub from: String,
    pub to: String,
    /// The quarters that may be chosen: those that have ended, newest first.
    pub quarters: Vec<String>,
    pub sections: Vec<ReportSection>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSection {
    pub title: String,
    pub rows: Vec<(String, String)>,
}

/// An appeal page reached by the link in a notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealLinkView {
    pub decision: MyDecision,
}
