//! The port between the server functions and the services (server only).
//!
//! Every question the UI can ask is a method here, and `haven-server`'s services are its
//! one implementation, so every request passes the one place that decides who may do what.

use super::*;
use std::sync::Arc;
use uuid::Uuid;

/// A signed-in caller's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorSession {
    pub person_id: Uuid,
    pub session_id: Uuid,
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
}

/// A `Set-Cookie` header value the server function must send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie(pub String);

#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    // Public.
    async fn home(&self, actor: &Actor) -> Result<HomeView, AppError>;
    async fn event(&self, actor: &Actor, slug: String) -> Result<EventView, AppError>;

    // Account.
    async fn session_info(&self, actor: &Actor) -> Result<SessionInfo, AppError>;
    async fn signin_options(&self, actor: &Actor) -> Result<SigninOptions, AppError>;
    async fn request_signin_link(
        &self,
        actor: &Actor,
        email: String,
        return_to: Option<String>,
    ) -> Result<(), AppError>;
    /// The session cookie and where to go next.
    async fn redeem_signin_link(&self, actor: &Actor, token: String) -> Result<(SetCookie, String), AppError>;
    async fn sign_out(&self, actor: &Actor, everywhere: bool) -> Result<SetCookie, AppError>;
    async fn my_page(&self, actor: &Actor) -> Result<MyPage, AppError>;
    async fn add_email(&self, actor: &Actor, email: String) -> Result<(), AppError>;
    /// Returns the address confirmed.
    async fn confirm_email(&self, actor: &Actor, token: String) -> Result<String, AppError>;
    async fn remove_email(&self, actor: &Actor, email: String) -> Result<(), AppError>;
    async fn invitation(&self, actor: &Actor, token: String) -> Result<InvitationView, AppError>;
    async fn accept_invitation(&self, actor: &Actor, token: String) -> Result<Option<SetCookie>, AppError>;

    // Organizers and admins.
    async fn manage_home(&self, actor: &Actor) -> Result<ManageHome, AppError>;
    async fn create_event(&self, actor: &Actor, organization: String, input: EventInput) -> Result<String, AppError>;
    async fn event_settings(&self, actor: &Actor, slug: String) -> Result<EventSettings, AppError>;
    async fn update_event(&self, actor: &Actor, slug: String, input: EventInput) -> Result<String, AppError>;
    async fn registrations(
        &self,
        actor: &Actor,
        slug: String,
        query: String,
        page: u32,
    ) -> Result<RegistrationPage, AppError>;
    async fn add_registration(
        &self,
        actor: &Actor,
        slug: String,
        name: String,
        email: String,
        ticket_ref: String,
        role: String,
    ) -> Result<(), AppError>;
    async fn import_registrations(&self, actor: &Actor, slug: String, csv: String) -> Result<ImportReport, AppError>;
    async fn staff(&self, actor: &Actor, slug: String) -> Result<StaffView, AppError>;
    async fn invite_staff(
        &self,
        actor: &Actor,
        slug: String,
        email: String,
        role: String,
        scope: String,
    ) -> Result<(), AppError>;
    async fn revoke_role(&self, actor: &Actor, slug: String, role_id: String) -> Result<(), AppError>;

    // Cases.
    async fn concern_form(
        &self,
        actor: &Actor,
        slug: String,
        draft: Option<String>,
    ) -> Result<ConcernFormView, AppError>;
    async fn case(&self, actor: &Actor, reference: String) -> Result<CaseView, AppError>;
    async fn send_message(&self, actor: &Actor, reference: String, body: String) -> Result<(), AppError>;
    async fn respond_home(&self, actor: &Actor) -> Result<RespondHome, AppError>;
    async fn case_queue(&self, actor: &Actor, slug: String, query: Option<String>) -> Result<QueueView, AppError>;
    async fn change_status(&self, actor: &Actor, reference: String, status: String) -> Result<(), AppError>;
    async fn assign_owner(&self, actor: &Actor, reference: String, person: String) -> Result<(), AppError>;
    async fn add_note(&self, actor: &Actor, reference: String, body: String) -> Result<(), AppError>;
    async fn add_witness(
        &self,
        actor: &Actor,
        reference: String,
        name: String,
        contact: String,
        statement: String,
    ) -> Result<(), AppError>;
    async fn confirm_match(&self, actor: &Actor, reference: String, person: String) -> Result<(), AppError>;
    async fn declare_conflict(&self, actor: &Actor, reference: String) -> Result<(), AppError>;
    async fn relate_case(
        &self,
        actor: &Actor,
        reference: String,
        earlier: String,
        relation: String,
    ) -> Result<(), AppError>;

    // Safety plans.
    async fn add_escort(&self, actor: &Actor, reference: String, input: EscortInput) -> Result<(), AppError>;
    async fn add_arrival_alert(
        &self,
        actor: &Actor,
        reference: String,
        recipients: Vec<String>,
        instruction: String,
    ) -> Result<(), AppError>;
    async fn add_door_instruction(&self, actor: &Actor, reference: String, instruction: String)
    -> Result<(), AppError>;
    async fn add_arrangement(&self, actor: &Actor, reference: String, text: String) -> Result<(), AppError>;
    async fn remove_precaution(&self, actor: &Actor, reference: String, precaution: String) -> Result<(), AppError>;
    async fn respond_to_plan(
        &self,
        actor: &Actor,
        reference: String,
        answer: String,
        comment: String,
    ) -> Result<(), AppError>;
    async fn my_assignments(&self, actor: &Actor) -> Result<MyAssignments, AppError>;
    async fn acknowledge_assignment(&self, actor: &Actor, assignment: String) -> Result<(), AppError>;
    async fn renew_calendar_feed(&self, actor: &Actor) -> Result<String, AppError>;
    async fn revoke_calendar_feed(&self, actor: &Actor) -> Result<(), AppError>;
    async fn notifications(&self, actor: &Actor) -> Result<Vec<NotificationView>, AppError>;
    async fn mark_notifications_read(&self, actor: &Actor) -> Result<(), AppError>;

    // Badges and the door.
    async fn my_badges(&self, actor: &Actor) -> Result<Vec<MyBadge>, AppError>;
    async fn door_view(&self, actor: &Actor, slug: String) -> Result<DoorView, AppError>;
    async fn door_scan(
        &self,
        actor: &Actor,
        slug: String,
        token: String,
        scan_id: Uuid,
        gate: String,
        scanned_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<crate::domain::badge::ScanAnswer, AppError>;
    async fn door_search(&self, actor: &Actor, slug: String, query: String) -> Result<Vec<DoorPerson>, AppError>;
    async fn arrivals(&self, actor: &Actor, slug: String) -> Result<ArrivalsView, AppError>;
    async fn badge_sheet(&self, actor: &Actor, slug: String, selection: String) -> Result<BadgeSheet, AppError>;
    async fn replace_badge(&self, actor: &Actor, slug: String, registration: String) -> Result<(), AppError>;
    async fn send_badges(&self, actor: &Actor, slug: String) -> Result<u32, AppError>;
    async fn devices(&self, actor: &Actor, slug: String) -> Result<Vec<DeviceView>, AppError>;
    async fn add_device(&self, actor: &Actor, slug: String, name: String) -> Result<String, AppError>;
    async fn revoke_device(&self, actor: &Actor, slug: String, device: String) -> Result<(), AppError>;

    // Enforcement and appeals.
    async fn case_decisions(&self, actor: &Actor, reference: String) -> Result<CaseDecisions, AppError>;
    async fn propose_decision(
        &self,
        actor: &Actor,
        reference: String,
        input: crate::domain::DecisionInput,
    ) -> Result<(), AppError>;
    async fn decide_home(&self, actor: &Actor) -> Result<DecideHome, AppError>;
    async fn record_decision(
        &self,
        actor: &Actor,
        proposal: String,
        input: crate::domain::DecisionInput,
    ) -> Result<(), AppError>;
    async fn decline_proposal(&self, actor: &Actor, proposal: String) -> Result<(), AppError>;
    async fn correct_decision(
        &self,
        actor: &Actor,
        decision: String,
        input: crate::domain::DecisionInput,
    ) -> Result<(), AppError>;
    async fn event_outcomes(&self, actor: &Actor, slug: String) -> Result<OutcomesView, AppError>;
    async fn my_decisions(&self, actor: &Actor) -> Result<Vec<MyDecision>, AppError>;
    async fn appeal_decision(&self, actor: &Actor, decision: String, text: String) -> Result<(), AppError>;
    async fn appeal_link(&self, actor: &Actor, token: String) -> Result<AppealLinkView, AppError>;
    async fn appeal_by_link(&self, actor: &Actor, token: String, text: String) -> Result<(), AppError>;
    async fn decide_appeal(
        &self,
        actor: &Actor,
        appeal: String,
        outcome: String,
        input: crate::domain::DecisionInput,
    ) -> Result<(), AppError>;
    async fn evasion_flags(&self, actor: &Actor) -> Result<Vec<EvasionFlagView>, AppError>;
    async fn resolve_flag(&self, actor: &Actor, flag: String, action: String) -> Result<(), AppError>;
    async fn transparency_report(
        &self,
        actor: &Actor,
        organization: String,
        quarter: String,
    ) -> Result<TransparencyReport, AppError>;
}

pub type SharedBackend = Arc<dyn Backend>;
