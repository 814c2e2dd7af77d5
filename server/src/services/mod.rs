//! Use cases. The ONLY place that decides who may do what: every server function and REST
//! route reaches the data through here, with the [`Actor`] the HTTP layer resolved.
//!
//! The rule for hidden things: a service loads the caller's grants before it looks for the
//! object, and answers `NotFound` both when the object is missing and when the caller may
//! not see it, so the two cannot be told apart by answer or by work done.

pub mod account;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod cases;
pub mod door;
pub mod enforcement;
pub mod events;
pub mod involvement;
pub mod manage;
pub mod oidc;
pub mod plans;
pub mod ratelimit;
pub mod registrations;
pub mod staff;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::db::Store;
use haven_app::api::*;
use haven_app::domain::DecisionInput;
use sea_orm::DbErr;
use std::sync::Arc;
use tokio::sync::Notify;

/// Shared state of the use cases.
pub struct Services {
    pub store: Store,
    pub clock: SharedClock,
    pub settings: Arc<Settings>,
    /// The resolved public URL (links in e-mail, OIDC redirects).
    pub public_url: String,
    pub oidc: oidc::Providers,
    /// Wakes the outbox worker after a commit that queued mail.
    pub mail_wake: Arc<Notify>,
    /// Told of changes other instances made (PostgreSQL `LISTEN`); `signals.mail` is
    /// `mail_wake`.
    pub signals: Arc<crate::db::signals::Listeners>,
    /// Wakes the sign-in dispatcher after a sign-in request.
    pub signin_wake: Arc<Notify>,
    /// Key for turning client addresses into opaque rate-limit keys.
    client_key_secret: String,
    /// Field encryption for case text.
    pub keys: Arc<crate::crypto::fields::KeyStore>,
    /// Announces the person a new in-app notification is for (live streams listen).
    pub live: tokio::sync::broadcast::Sender<uuid::Uuid>,
    /// Badge signing and verifying keys, opened once.
    pub badge_keys: std::sync::RwLock<door::KeyCache>,
    /// What the door knows about each event.
    pub door: door::DoorCache,
    /// Scans being answered, by their client id (a repeat waits for the first).
    pub scans_inflight: door::InflightScans,
    pub scan_writer: door::ScanWriter,
    /// Checks badge signatures, in batches when many scans come at once.
    pub signatures: door::SignatureChecker,
    /// Set once the door pictures of today's events are loaded (`/readyz` waits for it).
    pub door_warm: std::sync::atomic::AtomicBool,
    /// A handle on these services themselves, for work that outlives a request (an
    /// arrival alert started by a scan).
    me: std::sync::Weak<Services>,
}

impl Services {
    /// Queues a message in the outbox as part of `tx`, sealed with the field keys.
    pub(crate) async fn enqueue(
        &self,
        tx: &crate::db::WriteTx,
        now: chrono::DateTime<chrono::Utc>,
        mail: crate::mail::Mail,
    ) -> Result<(), sea_orm::DbErr> {
        crate::mail::enqueue(&self.keys, tx, now, mail).await
    }

    pub fn new(
        store: Store,
        clock: SharedClock,
        settings: Arc<Settings>,
        public_url: String,
        client_key_secret: String,
        keys: Arc<crate::crypto::fields::KeyStore>,
    ) -> Arc<Self> {
        let mail_wake: Arc<Notify> = Arc::default();
        let signals = Arc::new(crate::db::signals::Listeners { mail: mail_wake.clone(), ..Default::default() });
        Arc::new_cyclic(|me| Self {
            me: me.clone(),
            keys,
            live: tokio::sync::broadcast::channel(1024).0,
            badge_keys: Default::default(),
            door: Default::default(),
            scans_inflight: Default::default(),
            scan_writer: door::ScanWriter::start(store.clone()),
            signatures: door::SignatureChecker::start(),
            door_warm: std::sync::atomic::AtomicBool::new(false),
            oidc: oidc::Providers::new(settings.oidc.clone()),
            store,
            clock,
            settings,
            public_url,
            mail_wake,
            signals,
            signin_wake: Arc::default(),
            client_key_secret,
        })
    }

    /// An opaque key for a client address: the same address gives the same key, and the
    /// key does not give the address back.
    pub fn client_key(&self, ip: std::net::IpAddr) -> String {
        use hmac::Mac as _;
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(self.client_key_secret.as_bytes()).expect("any key length");
        mac.update(ip.to_string().as_bytes());
        crate::crypto::hex(&mac.finalize().into_bytes()[..16])
    }
}

/// A failure below the services becomes an opaque `Internal`; its cause is logged here,
/// once, without any personal data (database errors carry statements, not values).
pub(crate) fn internal(err: DbErr) -> AppError {
    tracing::error!(error = %err, "database error");
    AppError::Internal
}

/// A write the database refused because another one got there first (a unique or foreign
/// key constraint) becomes `Conflict` with what the person should know; any other failure
/// is [`internal`].
pub(crate) fn conflict_or_internal(err: DbErr, message: &str) -> AppError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_) | sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => {
            AppError::Conflict(message.to_owned())
        }
        _ => internal(err),
    }
}

#[async_trait::async_trait]
impl Backend for Services {
    async fn home(&self, actor: &Actor) -> Result<HomeView, AppError> {
        events::home(self, actor).await
    }

    async fn event(&self, actor: &Actor, slug: String) -> Result<EventView, AppError> {
        events::event(self, actor, slug).await
    }

    async fn session_info(&self, actor: &Actor) -> Result<SessionInfo, AppError> {
        Services::session_info(self, actor).await
    }

    async fn signin_options(&self, _actor: &Actor) -> Result<SigninOptions, AppError> {
        Ok(Services::signin_options(self))
    }

    async fn request_signin_link(
        &self,
        actor: &Actor,
        email: String,
        return_to: Option<String>,
    ) -> Result<(), AppError> {
        Services::request_signin_link(self, actor, email, return_to).await
    }

    async fn redeem_signin_link(&self, actor: &Actor, token: String) -> Result<(SetCookie, String), AppError> {
        Services::redeem_signin_link(self, actor, token).await
    }

    async fn sign_out(&self, actor: &Actor, everywhere: bool) -> Result<SetCookie, AppError> {
        Services::sign_out(self, actor, everywhere).await
    }

    async fn my_page(&self, actor: &Actor) -> Result<MyPage, AppError> {
        Services::my_page(self, actor).await
    }

    async fn add_email(&self, actor: &Actor, email: String) -> Result<(), AppError> {
        Services::add_email(self, actor, email).await
    }

    async fn confirm_email(&self, _actor: &Actor, token: String) -> Result<String, AppError> {
        Services::confirm_email(self, token).await
    }

    async fn remove_email(&self, actor: &Actor, email: String) -> Result<(), AppError> {
        Services::remove_email(self, actor, email).await
    }

    async fn invitation(&self, actor: &Actor, token: String) -> Result<InvitationView, AppError> {
        Services::invitation(self, actor, &token).await
    }

    async fn accept_invitation(&self, actor: &Actor, token: String) -> Result<Option<SetCookie>, AppError> {
        Services::accept_invitation(self, actor, &token).await
    }

    async fn manage_home(&self, actor: &Actor) -> Result<ManageHome, AppError> {
        Services::manage_home(self, actor).await
    }

    async fn create_event(&self, actor: &Actor, organization: String, input: EventInput) -> Result<String, AppError> {
        Services::create_event(self, actor, &organization, &input).await
    }

    async fn event_settings(&self, actor: &Actor, slug: String) -> Result<EventSettings, AppError> {
        Services::event_settings(self, actor, &slug).await
    }

    async fn update_event(&self, actor: &Actor, slug: String, input: EventInput) -> Result<String, AppError> {
        Services::update_event(self, actor, &slug, &input).await
    }

    async fn registrations(
        &self,
        actor: &Actor,
        slug: String,
        query: String,
        page: u32,
    ) -> Result<RegistrationPage, AppError> {
        Services::registrations(self, actor, &slug, &query, page).await
    }

    async fn add_registration(
        &self,
        actor: &Actor,
        slug: String,
        name: String,
        email: String,
        ticket_ref: String,
        role: String,
    ) -> Result<(), AppError> {
        Services::add_registration(self, actor, &slug, [&name, &email, &ticket_ref, &role]).await
    }

    async fn import_registrations(&self, actor: &Actor, slug: String, csv: String) -> Result<ImportReport, AppError> {
        Services::import_registrations(self, actor, &slug, &csv).await
    }

    async fn staff(&self, actor: &Actor, slug: String) -> Result<StaffView, AppError> {
        Services::staff(self, actor, &slug).await
    }

    async fn invite_staff(
        &self,
        actor: &Actor,
        slug: String,
        email: String,
        role: String,
        scope: String,
    ) -> Result<(), AppError> {
        Services::invite_staff(self, actor, &slug, &email, &role, &scope).await
    }

    async fn revoke_role(&self, actor: &Actor, slug: String, role_id: String) -> Result<(), AppError> {
        Services::revoke_role(self, actor, &slug, &role_id).await
    }

    async fn concern_form(
        &self,
        actor: &Actor,
        slug: String,
        draft: Option<String>,
    ) -> Result<ConcernFormView, AppError> {
        Services::concern_form(self, actor, &slug, draft.as_deref()).await
    }

    async fn case(&self, actor: &Actor, reference: String) -> Result<CaseView, AppError> {
        Services::case_view(self, actor, &reference).await
    }

    async fn send_message(&self, actor: &Actor, reference: String, body: String) -> Result<(), AppError> {
        Services::send_message(self, actor, &reference, &body).await
    }

    async fn respond_home(&self, actor: &Actor) -> Result<RespondHome, AppError> {
        Services::respond_home(self, actor).await
    }

    async fn case_queue(&self, actor: &Actor, slug: String, query: Option<String>) -> Result<QueueView, AppError> {
        Services::case_queue(self, actor, &slug, query.as_deref().unwrap_or_default()).await
    }

    async fn change_status(&self, actor: &Actor, reference: String, status: String) -> Result<(), AppError> {
        Services::change_status(self, actor, &reference, &status).await
    }

    async fn assign_owner(&self, actor: &Actor, reference: String, person: String) -> Result<(), AppError> {
        Services::assign_owner(self, actor, &reference, &person).await
    }

    async fn add_note(&self, actor: &Actor, reference: String, body: String) -> Result<(), AppError> {
        Services::add_note(self, actor, &reference, &body).await
    }

    async fn add_witness(
        &self,
        actor: &Actor,
        reference: String,
        name: String,
        contact: String,
        statement: String,
    ) -> Result<(), AppError> {
        Services::add_witness(self, actor, &reference, [&name, &contact, &statement]).await
    }

    async fn confirm_match(&self, actor: &Actor, reference: String, person: String) -> Result<(), AppError> {
        Services::confirm_match(self, actor, &reference, &person).await
    }

    async fn declare_conflict(&self, actor: &Actor, reference: String) -> Result<(), AppError> {
        Services::declare_conflict(self, actor, &reference).await
    }

    async fn relate_case(
        &self,
        actor: &Actor,
        reference: String,
        earlier: String,
        relation: String,
    ) -> Result<(), AppError> {
        Services::relate_case(self, actor, &reference, &earlier, &relation).await
    }

    async fn add_escort(&self, actor: &Actor, reference: String, input: EscortInput) -> Result<(), AppError> {
        Services::add_escort(self, actor, &reference, &input).await
    }

    async fn add_arrival_alert(
        &self,
        actor: &Actor,
        reference: String,
        recipients: Vec<String>,
        instruction: String,
    ) -> Result<(), AppError> {
        Services::add_arrival_alert(self, actor, &reference, &recipients, &instruction).await
    }

    async fn add_door_instruction(
        &self,
        actor: &Actor,
        reference: String,
        instruction: String,
    ) -> Result<(), AppError> {
        self.add_text_precaution(actor, &reference, haven_app::domain::PrecautionKind::DoorInstruction, &instruction)
            .await
    }

    async fn add_arrangement(&self, actor: &Actor, reference: String, text: String) -> Result<(), AppError> {
        self.add_text_precaution(actor, &reference, haven_app::domain::PrecautionKind::Arrangement, &text).await
    }

    async fn remove_precaution(&self, actor: &Actor, reference: String, precaution: String) -> Result<(), AppError> {
        Services::remove_precaution(self, actor, &reference, &precaution).await
    }

    async fn respond_to_plan(
        &self,
        actor: &Actor,
        reference: String,
        answer: String,
        comment: String,
    ) -> Result<(), AppError> {
        Services::respond_to_plan(self, actor, &reference, &answer, &comment).await
    }

    async fn my_assignments(&self, actor: &Actor) -> Result<MyAssignments, AppError> {
        Services::my_assignments(self, actor).await
    }

    async fn acknowledge_assignment(&self, actor: &Actor, assignment: String) -> Result<(), AppError> {
        Services::acknowledge_assignment(self, actor, &assignment).await
    }

    async fn renew_calendar_feed(&self, actor: &Actor) -> Result<String, AppError> {
        Services::renew_calendar_feed(self, actor).await
    }

    async fn revoke_calendar_feed(&self, actor: &Actor) -> Result<(), AppError> {
        Services::revoke_calendar_feed(self, actor).await
    }

    async fn notifications(&self, actor: &Actor) -> Result<Vec<NotificationView>, AppError> {
        Services::notifications(self, actor).await
    }

    async fn mark_notifications_read(&self, actor: &Actor) -> Result<(), AppError> {
        Services::mark_notifications_read(self, actor).await
    }

    async fn my_badges(&self, actor: &Actor) -> Result<Vec<MyBadge>, AppError> {
        Services::my_badges(self, actor).await
    }

    async fn door_view(&self, actor: &Actor, slug: String) -> Result<DoorView, AppError> {
        Services::door_view(self, actor, &slug).await
    }

    async fn door_scan(
        &self,
        actor: &Actor,
        slug: String,
        token: String,
        scan_id: uuid::Uuid,
        gate: String,
        scanned_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<haven_app::domain::badge::ScanAnswer, AppError> {
        let me = self.me.upgrade().ok_or(AppError::Internal)?;
        me.door_scan(actor, &slug, door::ScanInput { text: token, scan_id, gate, scanned_at }).await
    }

    async fn door_search(&self, actor: &Actor, slug: String, query: String) -> Result<Vec<DoorPerson>, AppError> {
        Services::door_search(self, actor, &slug, &query).await
    }

    async fn arrivals(&self, actor: &Actor, slug: String) -> Result<ArrivalsView, AppError> {
        Services::arrivals(self, actor, &slug).await
    }

    async fn badge_sheet(&self, actor: &Actor, slug: String, selection: String) -> Result<BadgeSheet, AppError> {
        Services::badge_sheet(self, actor, &slug, &selection).await
    }

    async fn replace_badge(&self, actor: &Actor, slug: String, registration: String) -> Result<(), AppError> {
        Services::replace_badge(self, actor, &slug, &registration).await
    }

    async fn send_badges(&self, actor: &Actor, slug: String) -> Result<u32, AppError> {
        self.send_event_badges(actor, &slug).await
    }

    async fn devices(&self, actor: &Actor, slug: String) -> Result<Vec<DeviceView>, AppError> {
        self.device_list(actor, &slug).await
    }

    async fn add_device(&self, actor: &Actor, slug: String, name: String) -> Result<String, AppError> {
        self.add_event_device(actor, &slug, &name).await
    }

    async fn revoke_device(&self, actor: &Actor, slug: String, device: String) -> Result<(), AppError> {
        self.revoke_event_device(actor, &slug, &device).await
    }

    async fn case_decisions(&self, actor: &Actor, reference: String) -> Result<CaseDecisions, AppError> {
        Services::case_decisions(self, actor, &reference).await
    }
    async fn propose_decision(&self, actor: &Actor, reference: String, input: DecisionInput) -> Result<(), AppError> {
        Services::propose_decision(self, actor, &reference, input).await
    }
    async fn decide_home(&self, actor: &Actor) -> Result<DecideHome, AppError> {
        Services::decide_home(self, actor).await
    }
    async fn record_decision(&self, actor: &Actor, proposal: String, input: DecisionInput) -> Result<(), AppError> {
        Services::record_decision(self, actor, &proposal, input).await
    }
    async fn decline_proposal(&self, actor: &Actor, proposal: String) -> Result<(), AppError> {
        Services::decline_proposal(self, actor, &proposal).await
    }
    async fn correct_decision(&self, actor: &Actor, decision: String, input: DecisionInput) -> Result<(), AppError> {
        Services::correct_decision(self, actor, &decision, input).await
    }
    async fn event_outcomes(&self, actor: &Actor, slug: String) -> Result<OutcomesView, AppError> {
        Services::event_outcomes(self, actor, &slug).await
    }
    async fn my_decisions(&self, actor: &Actor) -> Result<Vec<MyDecision>, AppError> {
        Services::my_decisions(self, actor).await
    }
    async fn appeal_decision(&self, actor: &Actor, decision: String, text: String) -> Result<(), AppError> {
        Services::appeal_decision(self, actor, &decision, &text).await
    }
    async fn appeal_link(&self, actor: &Actor, token: String) -> Result<AppealLinkView, AppError> {
        Services::appeal_link(self, actor, &token).await
    }
    async fn appeal_by_link(&self, actor: &Actor, token: String, text: String) -> Result<(), AppError> {
        Services::appeal_by_link(self, actor, &token, &text).await
    }
    async fn decide_appeal(
        &self,
        actor: &Actor,
        appeal: String,
        outcome: String,
        input: DecisionInput,
    ) -> Result<(), AppError> {
        Services::decide_appeal(self, actor, &appeal, &outcome, input).await
    }
    async fn evasion_flags(&self, actor: &Actor) -> Result<Vec<EvasionFlagView>, AppError> {
        Services::evasion_flags(self, actor).await
    }
    async fn resolve_flag(&self, actor: &Actor, flag: String, action: String) -> Result<(), AppError> {
        Services::resolve_flag(self, actor, &flag, &action).await
    }
    async fn transparency_report(
        &self,
        actor: &Actor,
        organization: String,
        quarter: String,
    ) -> Result<TransparencyReport, AppError> {
        Services::transparency_report(self, actor, &organization, &quarter).await
    }
}
