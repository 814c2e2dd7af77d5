//! The demo: an organization, an upcoming event and a few dozen registrants, so every
//! flow can be tried by hand. Seeding is idempotent: rows are found by their natural keys
//! (slugs, normalized e-mail) and only created when missing.

use crate::clock::Clock;
use crate::db::Store;
use crate::db::entities::{badge, case, decision, event, organization, person, registration, staff_role};
use crate::services::Services;
use crate::services::enforcement::NewDecision;
use chrono::{Duration, NaiveTime, TimeZone};
use chrono_tz::Tz;
use haven_app::api::{Actor, ActorSession};
use haven_app::api::{CasesApi, PlansApi};
use haven_app::domain::{CaseStatus, ConcernForm, Slug};
use haven_app::domain::{DecisionKind, Terms};
use haven_app::domain::{EmailAddress, Role};
use sea_orm::{ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, Set};
use std::fmt;
use uuid::Uuid;

pub const ORG_SLUG: &str = "demo";
pub const EVENT_SLUG: &str = "havenconf";
const EVENT_TZ: &str = "Europe/Berlin";

const FIRST: [&str; 12] =
    ["Ada", "Grace", "Alan", "Katherine", "Edsger", "Barbara", "Donald", "Frances", "Tim", "Radia", "Ken", "Margaret"];
const LAST: [&str; 3] = ["Lovelace", "Okafor", "Moreau"];

/// Demo staff: (name, e-mail, role, organization-wide). Sign in with an e-mail link; with no
/// SMTP server configured the links land in `data/mail/`.
pub const STAFF: &[(&str, &str, Role, bool)] = &[
    ("Avery Admin", "admin@example.org", Role::Admin, true),
    ("Olu Organizer", "organizer@example.org", Role::Organizer, false),
    ("Rae Responder", "responder@example.org", Role::Responder, false),
    ("Sam Responder", "responder2@example.org", Role::Responder, false),
    ("Eli Escort", "escort@example.org", Role::Escort, false),
    ("Dana Door", "door@example.org", Role::Door, false),
];

/// What `haven demo` prints after seeding: who to sign in as, and how.
pub fn how_to_sign_in(settings: &crate::config::Settings) -> String {
    let mut out = String::from("\nSign in as any of these on /signin (an e-mail link):\n");
    for (name, email, role, _) in STAFF {
        out.push_str(&format!("  {email:<28} {name} ({role})\n"));
    }
    out.push_str("  ada.lovelace@example.org     a registrant (and 35 more first.last@example.org)\n");
    if settings.mail.smtp_url.is_none() {
        out.push_str(&format!(
            "No SMTP server is configured: sign-in e-mails are written to {}/.\n\
             Or print a link directly: haven signin-link --email organizer@example.org\n",
            settings.data_dir.join("mail").display()
        ));
    }
    out
}

/// What seeding did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub skipped: bool,
    pub created_organizations: u32,
    pub created_events: u32,
    pub created_people: u32,
    pub created_registrations: u32,
    pub granted_roles: u32,
    pub created_cases: u32,
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.skipped {
            return write!(f, "demo: the database already holds data; nothing seeded");
        }
        write!(
            f,
            "demo: created {} organization(s), {} event(s), {} people, {} registration(s), {} staff role(s), {} case(s)",
            self.created_organizations,
            self.created_events,
            self.created_people,
            self.created_registrations,
            self.granted_roles,
            self.created_cases
        )
    }
}

/// The demo registrants: (display name, e-mail).
pub fn registrants() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for last in LAST {
        for first in FIRST {
            out.push((
                format!("{first} {last}"),
                format!("{}.{}@example.org", first.to_lowercase(), last.to_lowercase()),
            ));
        }
    }
    out
}

/// Seeds everything (see the module documentation) through the services, so demo cases
/// are sealed and audited like real ones.
pub async fn seed(services: &Services, if_empty: bool) -> Result<SeedReport, DbErr> {
    let mut report = seed_base(&services.store, services.clock.as_ref(), if_empty).await?;
    if !report.skipped {
        if let Some(e) =
            event::Entity::find().filter(event::Column::Slug.eq(EVENT_SLUG)).one(&services.store.db).await?
        {
            services
                .badges()
                .issue_missing_badges(&e)
                .await
                .map_err(|_| DbErr::Custom("the demo could not issue badges".into()))?;
        }
        report.created_cases = seed_cases(services).await?;
        seed_door(services).await?;
    }
    Ok(report)
}

/// Who gives which door answer in the demo (see [`door_examples`]).
const LOST_BADGE: &str = "margaret.moreau@example.org";
const ALERTED: &str = "ken.okafor@example.org";
const ADMITTED: &str = "ada.lovelace@example.org";

const EXPELLED: &str = "tim.moreau@example.org";
const BANNED: &str = "donald.moreau@example.org";

/// Margaret lost her badge: it was replaced, so her first one is revoked. Tim was expelled
/// from HavenConf; Donald is banned by the organization for a year. Each once.
async fn seed_door(services: &Services) -> Result<(), DbErr> {
    seed_decision(services, EXPELLED, DecisionKind::Expulsion, "Demo: harassment at the welcome evening.").await?;
    seed_decision(services, BANNED, DecisionKind::TemporaryBan, "Demo: repeated violations at earlier events.").await?;
    let Some((e, registration)) = demo_registration(services, LOST_BADGE).await? else { return Ok(()) };
    let replaced = badge::Entity::find()
        .filter(badge::Column::RegistrationId.eq(registration))
        .filter(badge::Column::RevokedAt.is_not_null())
        .count(&services.store.db)
        .await?;
    if replaced == 0 {
        services
            .replace_badge_of(None, &e, registration)
            .await
            .map_err(|_| DbErr::Custom("the demo could not replace a badge".into()))?;
    }
    Ok(())
}

async fn seed_decision(services: &Services, email: &str, kind: DecisionKind, reasons: &str) -> Result<(), DbErr> {
    let Some((e, _)) = demo_registration(services, email).await? else { return Ok(()) };
    let person = person_with(services, email).await?;
    let exists =
        decision::Entity::find().filter(decision::Column::PersonId.eq(person)).count(&services.store.db).await?;
    if exists > 0 {
        return Ok(());
    }
    let admin = person_with(services, "admin@example.org").await?;
    let now = services.clock.now();
    let terms = Terms {
        kind,
        starts_at: kind.is_ban().then_some(now),
        ends_at: (kind == DecisionKind::TemporaryBan).then(|| now + Duration::days(365)),
        role: None,
        details: Default::default(),
        reasons: reasons.to_owned(),
    };
    let fail = |_| DbErr::Custom("the demo could not record a decision".into());
    let tx = services.begin().await?;
    services
        .insert_decision(
            &tx,
            now,
            NewDecision {
                event: &e,
                person,
                terms: &terms,
                decided_by: admin,
                proposal: None,
                cases: Vec::new(),
                supersedes: None,
                appeal: None,
            },
        )
        .await
        .map_err(fail)?;
    tx.door_changed();
    tx.commit().await?;
    Ok(())
}

async fn demo_registration(services: &Services, email: &str) -> Result<Option<(event::Model, Uuid)>, DbErr> {
    let Some(e) = event::Entity::find().filter(event::Column::Slug.eq(EVENT_SLUG)).one(&services.store.db).await?
    else {
        return Ok(None);
    };
    let person = person_with(services, email).await?;
    let r = registration::Entity::find()
        .filter(registration::Column::EventId.eq(e.id))
        .filter(registration::Column::PersonId.eq(person))
        .one(&services.store.db)
        .await?;
    Ok(r.map(|r| (e, r.id)))
}

/// One badge token for each answer the door can give in the demo: (answer, holder, token).
/// The revoked one is Margaret's first badge; the others are current badges.
pub async fn door_examples(services: &Services) -> Result<Vec<(&'static str, String, String)>, DbErr> {
    let mut out = Vec::new();
    for (answer, email, revoked) in [
        ("admit", ADMITTED, false),
        ("alert", ALERTED, false),
        ("deny/expelled", EXPELLED, false),
        ("deny/banned", BANNED, false),
        ("deny/revoked", LOST_BADGE, true),
    ] {
        let Some((e, registration)) = demo_registration(services, email).await? else { continue };
        let found = badge::Entity::find()
            .filter(badge::Column::RegistrationId.eq(registration))
            .filter(if revoked { badge::Column::RevokedAt.is_not_null() } else { badge::Column::RevokedAt.is_null() })
            .one(&services.store.db)
            .await?;
        let Some(b) = found else { continue };
        let token = services
            .badge_token(&b, e.organization_id)
            .await
            .map_err(|_| DbErr::Custom("the demo could not sign a badge".into()))?;
        out.push((answer, email.to_owned(), token));
    }
    Ok(out)
}

async fn seed_base(store: &Store, clock: &dyn Clock, if_empty: bool) -> Result<SeedReport, DbErr> {
    let db = &store.db;
    if if_empty && organization::Entity::find().count(db).await? > 0 {
        return Ok(SeedReport { skipped: true, ..SeedReport::default() });
    }
    let tx = store.write().await?;
    let mut report = SeedReport::default();
    let now = clock.now();

    let org = match organization::Entity::find().filter(organization::Column::Slug.eq(ORG_SLUG)).one(&*tx).await? {
        Some(org) => org,
        None => {
            report.created_organizations += 1;
            organization::ActiveModel {
                id: Set(Uuid::new_v4()),
                slug: Set(ORG_SLUG.to_owned()),
                name: Set("Haven Demo Community".to_owned()),
                created_at: Set(now),
                // The demo lets anyone try every role at once; the sign-in page says so.
                second_factor_required: Set(false),
                accept_provider_mfa: Set(false),
                retention_days: Set(365),
            }
            .insert(&*tx)
            .await?
        }
    };

    let ev = match event::Entity::find().filter(event::Column::Slug.eq(EVENT_SLUG)).one(&*tx).await? {
        Some(ev) => ev,
        None => {
            report.created_events += 1;
            // Thirty days from the first seeding, 09:00 to 18:00 two days later, local time.
            let tz: Tz = EVENT_TZ.parse().expect("a valid zone name");
            let day = (now + Duration::days(30)).with_timezone(&tz).date_naive();
            let local = |d: chrono::NaiveDate, h: u32| {
                tz.from_local_datetime(&d.and_time(NaiveTime::from_hms_opt(h, 0, 0).expect("valid hour")))
                    .earliest()
                    .expect("09:00 and 18:00 exist on every day")
                    .to_utc()
            };
            event::ActiveModel {
                id: Set(Uuid::new_v4()),
                organization_id: Set(org.id),
                slug: Set(EVENT_SLUG.to_owned()),
                name: Set("HavenConf".to_owned()),
                venue: Set("Congress Center, Hall A".to_owned()),
                time_zone: Set(EVENT_TZ.to_owned()),
                starts_at: Set(local(day, 9)),
                ends_at: Set(local(day + Duration::days(2), 18)),
                ack_hours: Set(24),
                created_at: Set(now),
            }
            .insert(&*tx)
            .await?
        }
    };

    for (i, (name, email)) in registrants().into_iter().enumerate() {
        let address = EmailAddress::parse("email", &email).expect("demo addresses are valid");
        let normalized = address.normalized();
        let p = match person::Entity::find().filter(person::Column::EmailNormalized.eq(&normalized)).one(&*tx).await? {
            Some(p) => p,
            None => {
                report.created_people += 1;
                person::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    display_name: Set(name),
                    email: Set(Some(email)),
                    email_normalized: Set(Some(normalized)),
                    created_at: Set(now),
                    phone: Set(None),
                }
                .insert(&*tx)
                .await?
            }
        };
        let exists = registration::Entity::find()
            .filter(registration::Column::EventId.eq(ev.id))
            .filter(registration::Column::PersonId.eq(p.id))
            .count(&*tx)
            .await?
            > 0;
        if !exists {
            report.created_registrations += 1;
            registration::ActiveModel {
                id: Set(Uuid::new_v4()),
                event_id: Set(ev.id),
                person_id: Set(p.id),
                ticket_ref: Set(Some(format!("HC-{:04}", i + 1))),
                role: Set(None),
                status: Set("active".to_owned()),
                created_at: Set(now),
                refund_forfeited_at: Set(None),
                forfeited_by: Set(None),
            }
            .insert(&*tx)
            .await?;
        }
    }
    for (name, email, role, org_wide) in STAFF {
        let address = EmailAddress::parse("email", email).expect("demo addresses are valid");
        let p = match person::Entity::find()
            .filter(person::Column::EmailNormalized.eq(address.normalized()))
            .one(&*tx)
            .await?
        {
            Some(p) => p,
            None => {
                report.created_people += 1;
                person::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    display_name: Set((*name).to_owned()),
                    email: Set(Some((*email).to_owned())),
                    email_normalized: Set(Some(address.normalized())),
                    created_at: Set(now),
                    phone: Set(None),
                }
                .insert(&*tx)
                .await?
            }
        };
        let event_id = (!org_wide).then_some(ev.id);
        let held = staff_role::Entity::find()
            .filter(staff_role::Column::PersonId.eq(p.id))
            .filter(staff_role::Column::Role.eq(role.as_str()))
            .filter(staff_role::Column::OrganizationId.eq(org.id))
            .count(&*tx)
            .await?
            > 0;
        if !held {
            report.granted_roles += 1;
            staff_role::ActiveModel {
                id: Set(Uuid::new_v4()),
                person_id: Set(p.id),
                organization_id: Set(org.id),
                event_id: Set(event_id),
                role: Set(role.as_str().to_owned()),
                granted_by: Set(None),
                created_at: Set(now),
                revoked_at: Set(None),
            }
            .insert(&*tx)
            .await?;
        }
    }
    if report != SeedReport::default() {
        crate::services::audit::append(
            &tx,
            now,
            vec![
                crate::services::audit::Entry::new(None, "demo.seeded", "organization", org.id)
                    .with("people", report.created_people)
                    .with("registrations", report.created_registrations)
                    .with("roles", report.granted_roles),
            ],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(report)
}

fn demo_actor(person_id: Uuid) -> Actor {
    Actor {
        session: Some(ActorSession { person_id, session_id: Uuid::nil(), second_factor: None }),
        client: "demo".into(),
    }
}

async fn person_with(services: &Services, email: &str) -> Result<Uuid, DbErr> {
    let normalized = EmailAddress::parse("email", email).expect("demo addresses are valid").normalized();
    person::Entity::find()
        .filter(person::Column::EmailNormalized.eq(normalized))
        .one(&services.store.db)
        .await?
        .map(|p| p.id)
        .ok_or_else(|| DbErr::Custom(format!("the demo person {email} is missing")))
}

/// A few cases in different states, once: one whose named person is registered (and
/// linked), one naming a responder (who is therefore recused), one under investigation
/// with notes and messages, one resolved.
async fn seed_cases(services: &Services) -> Result<u32, DbErr> {
    use crate::services::cases::Filed;
    let e = event::Entity::find().filter(event::Column::Slug.eq(EVENT_SLUG)).one(&services.store.db).await?;
    let Some(e) = e else { return Ok(0) };
    if case::Entity::find().filter(case::Column::EventId.eq(e.id)).count(&services.store.db).await? > 0 {
        return Ok(0);
    }
    let fail = |what: &str| DbErr::Custom(format!("the demo could not {what}"));
    let responder_id = person_with(services, "responder@example.org").await?;
    let responder = demo_actor(responder_id);
    let file = |reporter: &'static str, form: ConcernForm| async move {
        let actor = demo_actor(person_with(services, reporter).await?);
        let slug = Slug::parse("slug", EVENT_SLUG).map_err(|_| DbErr::Custom("the demo's slug".into()))?;
        match services.file_concern(&actor, &slug, form, None).await {
            Ok(Filed::Case(reference)) => Ok(reference),
            _ => Err(DbErr::Custom("the demo could not file a case".into())),
        }
    };

    let ken = file(
        "ada.lovelace@example.org",
        ConcernForm {
            person_name: "Ken Okafor".into(),
            narrative: "At last year's meetup he kept following me between talks and would not take no for an answer. \
                        I am worried he will do it again."
                .into(),
            wish_escort: true,
            escort_times: "Between the evening talks and the tram stop".into(),
            wish_told_on_arrival: true,
            ..ConcernForm::default()
        },
    )
    .await?;
    services.change_status(&responder, &ken, CaseStatus::Acknowledged).await.map_err(|_| fail("acknowledge"))?;
    services.assign_owner(&responder, &ken, "").await.map_err(|_| fail("assign"))?;
    let ken_id = person_with(services, "ken.okafor@example.org").await?;
    services.confirm_match(&responder, &ken, &ken_id.to_string()).await.map_err(|_| fail("link Ken"))?;
    services
        .send_message(
            &responder,
            &ken,
            "Thank you for telling us. We will arrange an escort and tell you when he arrives.",
        )
        .await
        .map_err(|_| fail("write"))?;
    // Its plan: an escort on the first evening, an arrival alert, a door instruction.
    let tz: Tz = e.time_zone.parse().unwrap_or(Tz::UTC);
    let first_day = e.starts_at.with_timezone(&tz).date_naive();
    let escort_id = person_with(services, "escort@example.org").await?;
    let escort = haven_app::api::EscortInput {
        escorts: vec![escort_id.to_string()],
        start_1: format!("{first_day}T18:00"),
        end_1: format!("{first_day}T19:00"),
        meeting_point: "Main entrance, by the information desk".into(),
        contact: "Ada will carry the event phone: +49 30 0000000".into(),
        notes: "Walk with Ada from the evening talks to the tram stop.".into(),
        ..Default::default()
    };
    services.add_escort(&responder, &ken, &escort).await.map_err(|_| fail("plan an escort"))?;
    services
        .add_arrival_alert(&responder, &ken, &[responder_id.to_string()], "Find Ada and stay near her.")
        .await
        .map_err(|_| fail("plan an arrival alert"))?;
    services
        .add_text_precaution(
            &responder,
            &ken,
            haven_app::domain::PrecautionKind::DoorInstruction,
            "Admit, and call the safety lead on the radio.",
        )
        .await
        .map_err(|_| fail("plan a door instruction"))?;
    services
        .add_text_precaution(
            &responder,
            &ken,
            haven_app::domain::PrecautionKind::Arrangement,
            "We will keep a seat for you near the stage door, away from him, at every keynote.",
        )
        .await
        .map_err(|_| fail("plan an arrangement"))?;

    file(
        "grace.moreau@example.org",
        ConcernForm {
            person_name: "Sam Responder".into(),
            person_email: "responder2@example.org".into(),
            narrative: "He made remarks about my appearance at the volunteers' dinner.".into(),
            wish_staff_aware: true,
            ..ConcernForm::default()
        },
    )
    .await?;

    let handle = file(
        "margaret.okafor@example.org",
        ConcernForm {
            kind: "incident".into(),
            person_handle: "@tim_m".into(),
            person_description: "Tall, red jacket, usually near the coffee stand".into(),
            narrative: "Someone posting as @tim_m kept messaging me after I asked him to stop.".into(),
            witnesses: "yes".into(),
            witness_details: "Radia saw the messages".into(),
            ..ConcernForm::default()
        },
    )
    .await?;
    services.change_status(&responder, &handle, CaseStatus::Investigating).await.map_err(|_| fail("investigate"))?;
    services
        .add_note(&responder, &handle, "Checked the chat logs; the messages are there. Talk to the witness next.")
        .await
        .map_err(|_| fail("note"))?;

    let resolved = file(
        "radia.lovelace@example.org",
        ConcernForm {
            person_description: "A man who photographed attendees without asking".into(),
            narrative: "Someone took photos of me without asking during the lunch break.".into(),
            ..ConcernForm::default()
        },
    )
    .await?;
    services.change_status(&responder, &resolved, CaseStatus::Resolved).await.map_err(|_| fail("resolve"))?;
    Ok(4)
}
