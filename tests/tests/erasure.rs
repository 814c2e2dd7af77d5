//! Keeping less, for less long: a case's text is sealed with its own data key; when its
//! retention runs out the daily erasure run destroys that key (a tombstone stays), re-wraps
//! the surviving keys under a new wrapping key, and destroys the old wrapping key once its
//! days are past, after which not even a copy of the database taken before can open the
//! erased text. The owner is warned 72 hours before, once; a responder may extend once; a
//! reporter may withdraw an open concern unless a decision rests on it.

use chrono::Duration;
use haven_server::clock::{Clock, ManualClock};
use haven_server::crypto::data_keys::open_from_copy;
use haven_server::crypto::fields::Keyring;
use haven_server::crypto::sealed;
use haven_server::db::entities::{
    audit_log, case, concern_draft, data_key, erasure_run, notification, organization, outbox, scan,
};
use haven_tests::{MailSink, Options, TestServer, backends, call_fn};
use reqwest::multipart::Form;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::Value;
use std::time::Duration as StdDuration;
use uuid::Uuid;

const REPORTER: &str = "barbara.moreau@example.org";
const RESPONDER: &str = "responder@example.org";
const ADMIN: &str = "admin@example.org";
const ORGANIZER: &str = "organizer@example.org";
const KEN: &str = "ken.okafor@example.org";

/// Files a concern as a browser form would; returns where the browser was sent.
async fn file(server: &TestServer, who: &str, fields: &[(&str, &str)]) -> String {
    let client = server.client_as(who).await;
    let form = fields.iter().fold(Form::new(), |f, (k, v)| f.text(k.to_string(), v.to_string()));
    let res = client.post(server.url("/events/havenconf/concern")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    res.headers()["location"].to_str().unwrap().to_owned()
}

async fn file_ok(server: &TestServer, fields: &[(&str, &str)]) -> String {
    let to = file(server, REPORTER, fields).await;
    to.strip_prefix("/cases/").and_then(|r| r.split('?').next()).unwrap_or_else(|| panic!("{to}")).to_owned()
}

async fn case_row(server: &TestServer, reference: &str) -> case::Model {
    case::Entity::find().filter(case::Column::Reference.eq(reference)).one(&server.db).await.unwrap().unwrap()
}

async fn ok(server: &TestServer, who: &str, name: &str, args: &[(&str, &str)]) -> Value {
    let (status, body) = call_fn(&server.client_as(who).await, server, name, args).await;
    assert_eq!(status, 200, "{name}: {body}");
    body
}

/// Waits until the erasure run of the server clock's day has finished; returns its row.
async fn run_of_today(server: &TestServer, clock: &ManualClock) -> erasure_run::Model {
    let day = clock.now().date_naive().to_string();
    for _ in 0..150 {
        if let Some(run) = erasure_run::Entity::find_by_id(day.clone()).one(&server.db).await.unwrap()
            && run.finished_at.is_some()
        {
            return run;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    panic!("no erasure run finished for {day}");
}

/// How many times the audit log says the case was erased.
async fn erasures_of(server: &TestServer, case: Uuid) -> usize {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("case.erased"))
        .filter(audit_log::Column::SubjectId.eq(case))
        .all(&server.db)
        .await
        .unwrap()
        .len()
}

fn keyring(server: &TestServer) -> Keyring {
    Keyring::parse(&std::fs::read_to_string(server.database.dir.join("keys").join("field.keys")).unwrap()).unwrap()
}

/// A value as a copy of the database holds it: where it lives, the sealed value, and the
/// data key that sealed it as the copy holds that.
struct Copied {
    what: &'static str,
    column: sealed::Column,
    row: Uuid,
    sealed: String,
    key: Uuid,
    key_enc: String,
}

impl Copied {
    /// The value (or, for a scan's instruction, its part) sealed with `key`.
    async fn take(
        server: &TestServer,
        what: &'static str,
        column: sealed::Column,
        row: Uuid,
        value: &str,
        key: Uuid,
    ) -> Copied {
        let sealed = value
            .lines()
            .find(|part| haven_server::crypto::data_keys::key_of(part) == Some(key))
            .unwrap_or_else(|| panic!("{what} is sealed with its own key"))
            .to_owned();
        let key_row = data_key::Entity::find_by_id(key).one(&server.db).await.unwrap().unwrap();
        Copied { what, column, row, sealed, key, key_enc: key_row.key_enc.expect("not erased yet") }
    }

    fn open(&self, ring: &Keyring) -> Option<String> {
        open_from_copy(ring, self.key, &self.key_enc, self.column, self.row, &self.sealed)
            .ok()
            .map(|b| String::from_utf8(b).unwrap())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_case_is_erased_and_once_the_old_wrapping_key_is_gone_no_copy_of_the_database_opens_it() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let clock = ManualClock::new(chrono::Utc::now());
        let server = TestServer::start_with(&backend, Options::default().mail(&sink).clock(clock.clone())).await;
        server.seed_demo().await;
        let reference = file_ok(
            &server,
            &[("person_name", "Ken Okafor"), ("narrative", "NARRATIVE-SECRET: he waited outside my room.")],
        )
        .await;
        let c = case_row(&server, &reference).await;
        let ken = server.person_id(KEN).await.to_string();
        ok(&server, RESPONDER, "confirm_match", &[("reference", &reference), ("person", &ken)]).await;
        ok(&server, RESPONDER, "add_door_instruction", &[("reference", &reference), ("instruction", "DOOR-SECRET")])
            .await;
        let rae = server.person_id(RESPONDER).await.to_string();
        ok(
            &server,
            RESPONDER,
            "add_arrival_alert",
            &[("reference", &reference), ("recipients[0]", &rae), ("instruction", "ALERT-SECRET")],
        )
        .await;
        // The door shows the instruction, and the scan keeps a sealed copy of it; the
        // arrival alert it sets off waits in the outbox while the mail server refuses.
        sink.set_accepting(false);
        let device = server.device_token("havenconf").await;
        let answer = server.scan(&device, &server.badge_token("havenconf", KEN).await).await;
        assert!(answer["instruction"].as_str().unwrap().contains("DOOR-SECRET"), "{answer}");
        let kept = scan::Entity::find().order_by_desc(scan::Column::ScannedAt).one(&server.db).await.unwrap().unwrap();
        let mut waiting = None;
        for _ in 0..100 {
            waiting = outbox::Entity::find().filter(outbox::Column::AboutId.eq(c.id)).one(&server.db).await.unwrap();
            if waiting.is_some() {
                break;
            }
            tokio::time::sleep(StdDuration::from_millis(100)).await;
        }
        let waiting = waiting.expect("the alert's mail waits, sealed with the case's key");
        // A refused form keeps a draft of what was typed, for two hours.
        let to = file(&server, REPORTER, &[("person_name", "DRAFT-SECRET"), ("narrative", "")]).await;
        assert!(to.contains("draft="), "{to}");
        let draft = concern_draft::Entity::find().one(&server.db).await.unwrap().expect("a draft");

        ok(&server, RESPONDER, "change_status", &[("reference", &reference), ("status", "resolved")]).await;
        let c_resolved = case_row(&server, &reference).await;
        let until = c_resolved.retain_until.expect("resolved, it is kept until a date");
        // (PostgreSQL keeps microseconds: the stored date may be a hair earlier.)
        assert_eq!((until - clock.now() + Duration::seconds(1)).num_days(), 365, "the default period");

        let mut copy = vec![
            Copied::take(&server, "narrative", sealed::CASE_NARRATIVE, c.id, &c.narrative_enc, c.id).await,
            Copied::take(
                &server,
                "scan",
                sealed::SCAN_INSTRUCTION,
                kept.id,
                kept.instruction_enc.as_deref().unwrap(),
                c.id,
            )
            .await,
            Copied::take(&server, "draft", sealed::DRAFT_DATA, draft.id, &draft.data_enc, draft.id).await,
            Copied::take(&server, "waiting mail", sealed::OUTBOX_BODY, waiting.id, &waiting.body_enc, c.id).await,
        ];
        sink.set_accepting(true);

        // 71 hours before: the team is told, once, by mail and on their page.
        // (The demo resolved a case of its own just before: it is told of too.)
        clock.set(until - Duration::hours(73));
        server.services.warn_expiring().await.unwrap();
        assert!(case_row(&server, &reference).await.retention_warned_at.is_none(), "not yet");
        clock.set(until - Duration::hours(71));
        assert!(server.services.warn_expiring().await.unwrap() >= 1);
        assert!(case_row(&server, &reference).await.retention_warned_at.is_some());
        assert_eq!(server.services.warn_expiring().await.unwrap(), 0, "told once");
        sink.wait_for(StdDuration::from_secs(10), |m| {
            m.to.iter().any(|t| t == RESPONDER) && m.subject.contains("about to be erased")
        })
        .await;
        let told = notification::Entity::find()
            .filter(notification::Column::Kind.eq("retention"))
            .filter(notification::Column::Link.contains(&reference))
            .one(&server.db)
            .await
            .unwrap()
            .expect("a notification");
        copy.push(
            Copied::take(&server, "notification", sealed::NOTIFICATION_BODY, told.id, &told.body_enc, c.id).await,
        );
        // A new draft sweeps the expired one, and its key with it.
        file(&server, REPORTER, &[("person_name", "Another"), ("narrative", "")]).await;
        assert!(concern_draft::Entity::find_by_id(draft.id).one(&server.db).await.unwrap().is_none());

        // The copy opens with today's key file: every check below can succeed.
        let ring = keyring(&server);
        let first_key = ring.current_id().to_owned();
        let opened: Vec<Option<String>> = copy.iter().map(|v| v.open(&ring)).collect();
        assert!(opened[0].as_deref().unwrap().contains("NARRATIVE-SECRET"));
        assert!(opened[1].as_deref().unwrap().contains("DOOR-SECRET"));
        assert!(opened[2].as_deref().unwrap().contains("DRAFT-SECRET"));
        assert!(opened[3].as_deref().unwrap().contains("ALERT-SECRET"));
        assert!(opened[4].is_some());

        // The day after its date, the run erases it: a tombstone stays.
        clock.set(until + Duration::days(1));
        let run = run_of_today(&server, &clock).await;
        assert!(run.erased >= 1, "{backend:?}");
        let gone = case_row(&server, &reference).await;
        assert!(gone.erased_at.is_some());
        assert_eq!((gone.reference.as_str(), gone.status.as_str()), (reference.as_str(), "resolved"));
        assert!(data_key::Entity::find_by_id(c.id).one(&server.db).await.unwrap().unwrap().key_enc.is_none());
        for who in [REPORTER, RESPONDER] {
            let body = ok(&server, who, "case", &[("reference", &reference)]).await;
            assert_eq!(body["view"], "erased", "{who}: {body}");
            assert!(!body.to_string().contains("SECRET"), "{body}");
        }
        let queue = ok(&server, RESPONDER, "case_queue", &[("slug", "havenconf")]).await;
        let row = queue["rows"].as_array().unwrap().iter().find(|r| r["reference"] == reference.as_str()).cloned();
        assert_eq!(row.expect("the tombstone is listed")["person"], "(erased)");
        let notes = ok(&server, RESPONDER, "notifications", &[]).await;
        let note = notes.as_array().unwrap().iter().find(|n| n["link"].as_str().unwrap().contains(&reference)).cloned();
        let note = note.expect("the warning is still listed");
        assert_eq!(note["title"], "Erased", "{note}");
        // The wrapping key was replaced; the old one is kept for a restore, for 7 days.
        let ring = keyring(&server);
        assert_ne!(ring.current_id(), first_key);
        assert!(ring.ids().any(|k| k == first_key));
        assert!(copy[0].open(&ring).is_some(), "a copy taken before still opens with the kept key");
        assert_eq!(erasures_of(&server, c.id).await, 1);

        // Seven days on, a run keeps it; eight days on, the old wrapping key is destroyed.
        clock.set(until + Duration::days(8) - Duration::minutes(1));
        run_of_today(&server, &clock).await;
        assert!(keyring(&server).ids().any(|k| k == first_key), "kept 7 days");
        clock.set(until + Duration::days(9));
        run_of_today(&server, &clock).await;
        let ring = keyring(&server);
        assert!(!ring.ids().any(|k| k == first_key), "{:?}", ring.ids().collect::<Vec<_>>());
        for v in &copy {
            assert_eq!(v.open(&ring), None, "{backend:?}: the copy's {} still opens", v.what);
        }
        // What was not erased still opens: the demo's cases, under re-wrapped keys.
        let demo = ok(&server, RESPONDER, "case_queue", &[("slug", "havenconf")]).await;
        let other = demo["rows"].as_array().unwrap().iter().find(|r| r["reference"] != reference.as_str()).cloned();
        let other = other.expect("the demo has other cases")["reference"].as_str().unwrap().to_owned();
        let body = ok(&server, RESPONDER, "case", &[("reference", &other)]).await;
        assert_eq!(body["view"], "team", "{body}");
        use haven_server::services::audit::{Verification, verify};
        assert!(matches!(verify(&server.db).await.unwrap(), Verification::Intact { .. }), "the audit chain holds");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_decision_resting_on_an_erased_case_keeps_its_reasons_and_the_tombstone_names_it() {
    for backend in backends() {
        let clock = ManualClock::new(chrono::Utc::now());
        let server = TestServer::start_with(&backend, Options::default().clock(clock.clone())).await;
        server.seed_demo().await;
        let reference = file_ok(&server, &[("person_name", "Ken Okafor"), ("narrative", "He grabbed my arm.")]).await;
        let ken = server.person_id(KEN).await.to_string();
        ok(&server, RESPONDER, "confirm_match", &[("reference", &reference), ("person", &ken)]).await;
        ok(
            &server,
            RESPONDER,
            "propose_decision",
            &[
                ("reference", &reference),
                ("input[person]", &ken),
                ("input[kind]", "warning"),
                ("input[reasons]", "Grabbed someone's arm."),
            ],
        )
        .await;
        let home = ok(&server, ADMIN, "decide_home", &[]).await;
        let proposal = home["proposals"].as_array().unwrap().last().unwrap()["id"].as_str().unwrap().to_owned();
        ok(
            &server,
            ADMIN,
            "record_decision",
            &[("proposal", &proposal), ("input[kind]", "warning"), ("input[reasons]", "REASONS-KEPT")],
        )
        .await;
        // It rests on the case: its reporter cannot withdraw it, and is told why.
        let (status, body) =
            call_fn(&server.client_as(REPORTER).await, &server, "withdraw_case", &[("reference", &reference)]).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains("a decision rests on this report"), "{body}");
        assert!(case_row(&server, &reference).await.erased_at.is_none());

        ok(&server, RESPONDER, "change_status", &[("reference", &reference), ("status", "closed")]).await;
        clock.advance(Duration::days(366));
        run_of_today(&server, &clock).await;
        assert!(case_row(&server, &reference).await.erased_at.is_some(), "{backend:?}");
        let tomb = ok(&server, RESPONDER, "case", &[("reference", &reference)]).await;
        assert_eq!(tomb["view"], "erased");
        assert_eq!(tomb["decisions"].as_array().unwrap().len(), 1, "{tomb}");
        assert!(tomb["decisions"][0].as_str().unwrap().starts_with("Warning"), "{tomb}");
        // The decision has no end: it stays in force, and its reasons with it.
        let decisions = ok(&server, ORGANIZER, "decide_home", &[]).await;
        assert!(decisions.to_string().contains("REASONS-KEPT"), "{decisions}");
        // Ken still cannot see the case that named him (the link outlives the text).
        let (status, _) = call_fn(&server.client_as(KEN).await, &server, "case", &[("reference", &reference)]).await;
        assert_eq!(status, 404);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_responder_extends_the_keeping_once_by_at_most_the_period_with_a_reason() {
    for backend in backends() {
        let clock = ManualClock::new(chrono::Utc::now());
        let server = TestServer::start_with(&backend, Options::default().clock(clock.clone())).await;
        server.seed_demo().await;
        let reference = file_ok(&server, &[("person_name", "Someone"), ("narrative", "Keep this a while.")]).await;
        let extend = |days: &'static str, reason: &'static str| {
            let (server, reference) = (&server, reference.clone());
            async move {
                let client = server.client_as(RESPONDER).await;
                call_fn(
                    &client,
                    server,
                    "extend_retention",
                    &[("reference", &reference), ("days", days), ("reason", reason)],
                )
                .await
            }
        };
        // Open, it is kept while it is open: nothing to extend.
        let (status, body) = extend("30", "Still needed.").await;
        assert_eq!(status, 422, "{body}");
        ok(&server, RESPONDER, "change_status", &[("reference", &reference), ("status", "resolved")]).await;
        let until = case_row(&server, &reference).await.retain_until.unwrap();
        for (days, reason, field) in [("366", "Too long.", "days"), ("0", "None.", "days"), ("30", "", "reason")] {
            let (status, body) = extend(days, reason).await;
            assert_eq!(status, 422, "{days} {reason:?}: {body}");
            assert!(body.to_string().contains(field), "{body}");
            assert_eq!(case_row(&server, &reference).await.retain_until, Some(until), "a refusal changes nothing");
        }
        // At the limit (the organization's 365 days) it is taken, once.
        let (status, body) = extend("365", "A ban rests on the same facts.").await;
        assert_eq!(status, 200, "{body}");
        let moved = case_row(&server, &reference).await;
        assert_eq!(moved.retain_until, Some(until + Duration::days(365)));
        assert!(moved.retention_reason_enc.as_deref().is_some_and(|r| r.starts_with("v2:")), "the reason is sealed");
        let (status, body) = extend("1", "Once more.").await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains("already extended"), "{body}");
        let view = ok(&server, RESPONDER, "case", &[("reference", &reference)]).await;
        assert_eq!(view["retention"]["extended"], true, "{view}");
        // The first date passes: kept. The new one passes: erased.
        clock.set(until + Duration::days(1));
        run_of_today(&server, &clock).await;
        assert!(case_row(&server, &reference).await.erased_at.is_none(), "{backend:?}");
        clock.set(until + Duration::days(366));
        run_of_today(&server, &clock).await;
        assert!(case_row(&server, &reference).await.erased_at.is_some());
        let logged = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("case.retention_extended"))
            .all(&server.db)
            .await
            .unwrap();
        assert_eq!(logged.len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reporter_withdraws_an_open_concern_and_its_text_is_erased_at_once() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reference = file_ok(&server, &[("person_name", "Someone"), ("narrative", "WITHDRAWN-SECRET")]).await;
        let before = ok(&server, REPORTER, "case", &[("reference", &reference)]).await;
        assert_eq!(before["may_withdraw"], true, "{before}");
        // Nobody else may withdraw it: not the team, not another registrant.
        for who in [RESPONDER, KEN] {
            let (status, _) =
                call_fn(&server.client_as(who).await, &server, "withdraw_case", &[("reference", &reference)]).await;
            assert_eq!(status, 404, "{who}");
        }
        ok(&server, REPORTER, "withdraw_case", &[("reference", &reference)]).await;
        let c = case_row(&server, &reference).await;
        assert!(c.erased_at.is_some());
        assert_eq!(c.status, "closed");
        let after = ok(&server, REPORTER, "case", &[("reference", &reference)]).await;
        assert_eq!(after["view"], "erased", "{after}");
        assert!(!after.to_string().contains("WITHDRAWN-SECRET"));
        // Twice: the second is told there is nothing left to withdraw.
        let (status, _) =
            call_fn(&server.client_as(REPORTER).await, &server, "withdraw_case", &[("reference", &reference)]).await;
        assert_eq!(status, 422);
        assert_eq!(erasures_of(&server, c.id).await, 1, "{backend:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_administrator_sets_the_retention_period_within_its_limits() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let days = || async {
            organization::Entity::find()
                .filter(organization::Column::Slug.eq("demo"))
                .one(&server.db)
                .await
                .unwrap()
                .unwrap()
                .retention_days
        };
        assert_eq!(days().await, 365);
        let admin = server.client_as(ADMIN).await;
        for bad in ["29", "3651", "a year"] {
            let (status, body) =
                call_fn(&admin, &server, "set_retention", &[("organization", "demo"), ("days", bad)]).await;
            assert_eq!(status, 422, "{bad}: {body}");
            assert_eq!(days().await, 365, "{bad} changed nothing");
        }
        for good in ["30", "3650"] {
            ok(&server, ADMIN, "set_retention", &[("organization", "demo"), ("days", good)]).await;
            assert_eq!(days().await.to_string(), good, "{backend:?}");
        }
        // Not an administrator of it: it does not exist for them.
        let (status, _) = call_fn(
            &server.client_as(ORGANIZER).await,
            &server,
            "set_retention",
            &[("organization", "demo"), ("days", "100")],
        )
        .await;
        assert_eq!(status, 404);
        let home = ok(&server, ADMIN, "manage_home", &[]).await;
        assert_eq!(home["organizations"][0]["retention_days"], 3650, "{home}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn text_sealed_before_data_keys_moves_under_its_cases_key_at_the_next_start() {
    use haven_server::config::EncryptionSettings;
    use haven_server::crypto::fields::KeyStore;
    use haven_server::db::entities::{case_message, decision};
    use sea_orm::ActiveValue::Set;
    for backend in backends() {
        let mut first = TestServer::start(&backend).await;
        first.seed_demo().await;
        let reference = file_ok(&first, &[("person_name", "Someone"), ("narrative", "placeholder")]).await;
        ok(&first, REPORTER, "send_message", &[("reference", &reference), ("body", "placeholder")]).await;
        let c = case_row(&first, &reference).await;
        let message = case_message::Entity::find()
            .filter(case_message::Column::CaseId.eq(c.id))
            .one(&first.db)
            .await
            .unwrap()
            .unwrap();
        let d = decision::Entity::find().one(&first.db).await.unwrap().expect("the demo decided");
        first.stop().await;
        // As an older version left them: the case's text sealed by the wrapping key, and
        // no data key for it; a decision's reasons likewise (its key stays).
        let keys =
            KeyStore::load(&EncryptionSettings::File(first.database.dir.join("keys").join("field.keys"))).unwrap();
        let ring = keyring(&first);
        let key_enc = data_key::Entity::find_by_id(c.id).one(&first.db).await.unwrap().unwrap().key_enc.unwrap();
        let old = |column: sealed::Column, row: Uuid, value: &str, text: Option<&str>| {
            let plain = match text {
                Some(t) => t.to_owned(),
                None => String::from_utf8(open_from_copy(&ring, c.id, &key_enc, column, row, value).unwrap()).unwrap(),
            };
            keys.seal_in(column, row, &plain)
        };
        case::Entity::update(case::ActiveModel {
            id: Set(c.id),
            subject_enc: Set(old(sealed::CASE_SUBJECT, c.id, &c.subject_enc, None)),
            narrative_enc: Set(old(sealed::CASE_NARRATIVE, c.id, &c.narrative_enc, Some("OLD-NARRATIVE"))),
            wishes_enc: Set(old(sealed::CASE_WISHES, c.id, &c.wishes_enc, None)),
            contact_enc: Set(old(sealed::CASE_CONTACT, c.id, &c.contact_enc, None)),
            ..Default::default()
        })
        .exec(&first.db)
        .await
        .unwrap();
        case_message::Entity::update(case_message::ActiveModel {
            id: Set(message.id),
            body_enc: Set(old(sealed::MESSAGE_BODY, message.id, &message.body_enc, Some("OLD-MESSAGE"))),
            ..Default::default()
        })
        .exec(&first.db)
        .await
        .unwrap();
        decision::Entity::update(decision::ActiveModel {
            id: Set(d.id),
            reasons_enc: Set(keys.seal_in(sealed::DECISION_REASONS, d.id, "OLD-REASONS")),
            ..Default::default()
        })
        .exec(&first.db)
        .await
        .unwrap();
        data_key::Entity::delete_by_id(c.id).exec(&first.db).await.unwrap();

        // The next start moves them, and everyone reads them as before.
        let second = TestServer::start_with(&backend, Options::default().share(&first)).await;
        let moved = case_row(&second, &reference).await;
        assert_eq!(haven_server::crypto::data_keys::key_of(&moved.narrative_enc), Some(c.id), "{backend:?}");
        let body = ok(&second, REPORTER, "case", &[("reference", &reference)]).await;
        assert_eq!(body["narrative"], "OLD-NARRATIVE", "{body}");
        assert!(body.to_string().contains("OLD-MESSAGE"), "{body}");
        let reasons = decision::Entity::find_by_id(d.id).one(&second.db).await.unwrap().unwrap().reasons_enc;
        assert_eq!(haven_server::crypto::data_keys::key_of(&reasons), Some(d.root_id));
        let home = ok(&second, ADMIN, "decide_home", &[]).await;
        assert!(home.to_string().contains("OLD-REASONS"), "{home}");
        // The case has a key again, and nothing of its text is left under the wrapping key.
        assert!(data_key::Entity::find_by_id(c.id).one(&second.db).await.unwrap().is_some());
        for value in [&moved.subject_enc, &moved.wishes_enc, &moved.contact_enc] {
            assert_eq!(haven_server::crypto::data_keys::key_of(value), Some(c.id));
        }
        drop(second);
        drop(first);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn erasing_a_case_deletes_the_mail_files_written_about_it() {
    for backend in backends() {
        // No SMTP: mail is written to DATA_DIR/mail as .eml files.
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reference = file_ok(&server, &[("person_name", "Ken Okafor"), ("narrative", "He follows me.")]).await;
        let ken = server.person_id(KEN).await.to_string();
        let rae = server.person_id(RESPONDER).await.to_string();
        ok(&server, RESPONDER, "confirm_match", &[("reference", &reference), ("person", &ken)]).await;
        ok(
            &server,
            RESPONDER,
            "add_arrival_alert",
            &[("reference", &reference), ("recipients[0]", &rae), ("instruction", "ALERT-SECRET")],
        )
        .await;
        let device = server.device_token("havenconf").await;
        server.scan(&device, &server.badge_token("havenconf", KEN).await).await;
        let dir = server.database.dir.join("mail");
        let with_alert = || {
            std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|f| std::fs::read_to_string(f.path()).unwrap_or_default().contains("ALERT-SECRET"))
                .count()
        };
        // The alert is sent off the scan's path, then delivered.
        for _ in 0..100 {
            if with_alert() > 0 {
                break;
            }
            tokio::time::sleep(StdDuration::from_millis(100)).await;
        }
        assert!(with_alert() >= 1, "the alert was written to the mail folder");
        let files_before = std::fs::read_dir(&dir).unwrap().count();
        ok(&server, REPORTER, "withdraw_case", &[("reference", &reference)]).await;
        assert_eq!(with_alert(), 0, "{backend:?}: the alert's copy went with the case");
        assert!(std::fs::read_dir(&dir).unwrap().count() > 0, "other mail stays ({files_before} before)");
    }
}
