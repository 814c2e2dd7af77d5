//! Enforcement and appeals: decisions reach the door at once and offline doors at their
//! next sync; expulsions forfeit the refund and reach the ticketing export; bans cover the
//! organization during their period; the person is told in writing and may appeal for 30
//! calendar days; an uninvolved decider decides, finally; ban evasion is flagged to
//! responders only; the transparency report hides small counts.

use chrono::{DateTime, Duration, Utc};
use haven_server::clock::ManualClock;
use haven_tests::{MailSink, Options, TestServer, backends, call_fn};
use serde_json::Value;
use std::time::Duration as StdDuration;

const RESPONDER: &str = "responder@example.org";
const ORGANIZER: &str = "organizer@example.org";
const ADMIN: &str = "admin@example.org";
const KEN: &str = "ken.okafor@example.org";
const ADA: &str = "ada.lovelace@example.org";

/// The demo case whose named person (Ken) is linked.
async fn ken_case(server: &TestServer) -> String {
    use haven_server::db::entities::{case, case_person};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let ken = server.person_id(KEN).await;
    let link = case_person::Entity::find()
        .filter(case_person::Column::PersonId.eq(ken))
        .one(&server.db)
        .await
        .unwrap()
        .expect("the demo links Ken to Ada's case");
    case::Entity::find_by_id(link.case_id).one(&server.db).await.unwrap().unwrap().reference
}

fn field(name: &str) -> String {
    format!("input[{name}]")
}

/// Ken's ticket reference at HavenConf.
async fn ken_ticket(server: &TestServer) -> String {
    use haven_server::db::entities::registration;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let ken = server.person_id(KEN).await;
    let r = registration::Entity::find().filter(registration::Column::PersonId.eq(ken)).one(&server.db).await.unwrap();
    r.unwrap().ticket_ref.unwrap()
}

/// Proposes (as the responder) and returns the proposal's id, read from the deciders' page.
async fn propose(server: &TestServer, reference: &str, about: &str, fields: &[(&str, &str)]) -> String {
    let rae = server.client_as(RESPONDER).await;
    let person = server.person_id(about).await.to_string();
    let mut form: Vec<(String, String)> = vec![
        ("reference".into(), reference.into()),
        (field("person"), person),
        (field("reasons"), "Per the report.".into()),
    ];
    form.extend(fields.iter().map(|(k, v)| (field(k), (*v).to_owned())));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, body) = call_fn(&rae, server, "propose_decision", &form).await;
    assert_eq!(status, 200, "{body}");
    let admin = server.client_as(ADMIN).await;
    let (_, home) = call_fn(&admin, server, "decide_home", &[]).await;
    home["proposals"].as_array().unwrap().last().expect("the proposal waits")["id"].as_str().unwrap().to_owned()
}

async fn record(server: &TestServer, who: &str, proposal: &str, fields: &[(&str, &str)]) -> (u16, Value) {
    let client = server.client_as(who).await;
    let mut form: Vec<(String, String)> =
        vec![("proposal".into(), proposal.into()), (field("reasons"), "Recorded as proposed.".into())];
    form.extend(fields.iter().map(|(k, v)| (field(k), (*v).to_owned())));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    call_fn(&client, server, "record_decision", &form).await
}

async fn door_sync(server: &TestServer, device: &str, since: Option<i64>) -> Value {
    let url = match since {
        Some(c) => server.url(&format!("/api/v1/events/havenconf/door-sync?since={c}")),
        None => server.url("/api/v1/events/havenconf/door-sync"),
    };
    reqwest::Client::new().get(url).bearer_auth(device).send().await.unwrap().json().await.unwrap()
}

fn denial_of<'a>(sync: &'a Value, badge: &str) -> Option<&'a Value> {
    sync["denied"].as_array().unwrap().iter().find(|d| d["badge"] == badge)
}

/// The badge id inside a token (bytes 16..32 of the payload).
fn badge_of(token: &str) -> String {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&token[5..]).unwrap();
    uuid::Uuid::from_slice(&bytes[16..32]).unwrap().to_string()
}

/// Scans until the answer changes from `before`, for at most a second; the answer.
async fn scan_within_a_second(server: &TestServer, device: &str, token: &str, before: &str) -> Value {
    let start = std::time::Instant::now();
    loop {
        let answer = server.scan(device, token).await;
        if answer["result"] != before || start.elapsed() > StdDuration::from_secs(1) {
            return answer;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expulsion_denies_the_person_at_once_forfeits_the_refund_and_tells_them_in_writing() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        let reference = ken_case(&server).await;
        let device = server.device_token("havenconf").await;
        let token = server.badge_token("havenconf", KEN).await;
        let before = door_sync(&server, &device, None).await;
        assert_eq!(server.scan(&device, &token).await["result"], "alert", "Ken's case asks the door to alert");

        let proposal = propose(&server, &reference, KEN, &[("kind", "expulsion")]).await;
        let (status, body) = record(&server, ORGANIZER, &proposal, &[("kind", "expulsion")]).await;
        assert_eq!(status, 200, "{body}");

        let answer = scan_within_a_second(&server, &device, &token, "alert").await;
        assert_eq!(
            (answer["result"].as_str(), answer["reason"].as_str()),
            (Some("deny"), Some("expelled")),
            "{backend}"
        );
        let sync = door_sync(&server, &device, before["cursor"].as_i64()).await;
        assert_eq!(sync["full"], false);
        let entry = denial_of(&sync, &badge_of(&token)).expect("the next sync carries the expulsion");
        assert_eq!(entry["reason"], "expelled");

        // The ticketing export: Ken's registration, his ticket, today, no refund.
        let org = server.client_as(ORGANIZER).await;
        let csv = org.get(server.url("/manage/events/havenconf/expulsions.csv")).send().await.unwrap();
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        let csv = csv.text().await.unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "registration,ticket_ref,decision_date,refund");
        let ticket = ken_ticket(&server).await;
        let ken_line = lines.iter().find(|l| l.contains(&ticket)).expect("Ken's ticket");
        let today =
            server.services.clock.now().with_timezone(&chrono_tz::Europe::Berlin).format("%Y-%m-%d").to_string();
        assert!(ken_line.ends_with(&format!(",{ticket},{today},none")), "{ken_line}");
        // The organizer sees the outcome, not the case.
        let (_, outcomes) = call_fn(&org, &server, "event_outcomes", &[("slug", "havenconf")]).await;
        let rows = outcomes["rows"].as_array().unwrap();
        assert!(
            rows.iter().any(|r| r["name"] == "Ken Okafor" && r["measure"].as_str().unwrap().starts_with("Expelled"))
        );
        let (status, _) = call_fn(&org, &server, "case", &[("reference", &reference)]).await;
        assert_eq!(status, 404, "organizers do not read case narratives");

        // Ken is told in writing, with how to appeal, and nothing about who reported.
        let notice =
            sink.wait_for(StdDuration::from_secs(20), |m| m.to[0] == KEN && m.subject.contains("decision")).await;
        assert!(notice.text.contains("Expulsion from the event without refund"), "{}", notice.text);
        assert!(notice.text.contains("/appeal/") && notice.text.contains("until"), "{}", notice.text);
        for secret in ["Ada", "Lovelace", &reference, "following me", "Rae"] {
            assert!(!notice.text.contains(secret), "the notice must not reveal {secret:?}: {}", notice.text);
        }
        let ken = server.client_as(KEN).await;
        let (_, mine) = call_fn(&ken, &server, "my_decisions", &[]).await;
        assert_eq!(mine[0]["can_appeal"], true);
        let page = serde_json::to_string(&mine).unwrap();
        for secret in ["Ada", &reference, "Per the report", "Recorded as proposed"] {
            assert!(!page.contains(secret), "Ken's page must not show {secret:?}: {page}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ban_covers_every_event_of_the_organization_during_its_period_only() {
    for backend in backends() {
        let clock = ManualClock::new(Utc::now());
        let server = TestServer::start_with(&backend, Options::default().clock(clock.clone())).await;
        server.seed_demo().await;
        // A second event of the organization, where Ken is registered too.
        let admin = server.client_as(ADMIN).await;
        let (status, body) = call_fn(
            &admin,
            &server,
            "create_event",
            &[
                ("organization", "demo"),
                ("input[name]", "HavenCamp"),
                ("input[slug]", "havencamp"),
                ("input[venue]", "Lakeside"),
                ("input[time_zone]", "Europe/Berlin"),
                ("input[starts_at]", &(Utc::now() + Duration::days(60)).format("%Y-%m-%dT09:00").to_string()),
                ("input[ends_at]", &(Utc::now() + Duration::days(61)).format("%Y-%m-%dT18:00").to_string()),
                ("input[ack_hours]", "24"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = call_fn(
            &admin,
            &server,
            "import_registrations",
            &[("slug", "havencamp"), ("csv", "name,email\nKen Okafor,ken.okafor@example.org\n")],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let conf = (server.device_token("havenconf").await, server.badge_token("havenconf", KEN).await);
        let camp = (server.device_token("havencamp").await, server.badge_token("havencamp", KEN).await);

        let tz = haven_app::domain::EventTimeZone::parse("tz", "Europe/Berlin").unwrap();
        let local = |t: DateTime<Utc>| tz.utc_to_local_input(t);
        let (from, until) = (clock_now(&server) + Duration::days(1), clock_now(&server) + Duration::days(10));
        let reference = ken_case(&server).await;
        let terms = [("kind", "temporary_ban"), ("starts", &local(from)[..]), ("ends", &local(until)[..])];
        let proposal = propose(&server, &reference, KEN, &terms).await;
        // An event's own organizer may not ban from the whole organization.
        let (status, body) = record(&server, ORGANIZER, &proposal, &terms).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains("organization-wide"), "{body}");
        let (status, body) = record(&server, ADMIN, &proposal, &terms).await;
        assert_eq!(status, 200, "{body}");

        assert_ne!(server.scan(&camp.0, &camp.1).await["result"], "deny", "the ban has not begun");
        clock.set(from + Duration::minutes(1));
        server.services.door_changed();
        for (device, token) in [&conf, &camp] {
            let a = server.scan(device, token).await;
            assert_eq!((a["result"].as_str(), a["reason"].as_str()), (Some("deny"), Some("banned")), "{a}");
        }
        let sync = door_sync(&server, &conf.0, None).await;
        let entry = denial_of(&sync, &badge_of(&conf.1)).expect("listed for offline doors");
        assert_eq!(entry["reason"], "banned");
        assert!(entry["until"].as_str().is_some(), "offline doors know when it ends: {entry}");
        clock.set(until + Duration::minutes(1));
        assert_ne!(server.scan(&camp.0, &camp.1).await["result"], "deny", "the ban has ended");
    }
}

fn clock_now(server: &TestServer) -> DateTime<Utc> {
    server.services.clock.now()
}

/// Records an expulsion of Ken (proposed by Rae, decided by the organizer) at the clock's
/// time; the appeal token from the notice.
async fn expel_ken(server: &TestServer, sink: &MailSink) -> String {
    let reference = ken_case(server).await;
    let proposal = propose(server, &reference, KEN, &[("kind", "expulsion")]).await;
    let (status, body) = record(server, ORGANIZER, &proposal, &[("kind", "expulsion")]).await;
    assert_eq!(status, 200, "{body}");
    let notice = sink.wait_for(StdDuration::from_secs(20), |m| m.to[0] == KEN && m.subject.contains("decision")).await;
    let link = notice.text.lines().find(|l| l.contains("/appeal/")).expect("the appeal link").trim().to_owned();
    link.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn appeals_are_accepted_for_30_calendar_days_across_a_clock_change() {
    for backend in backends() {
        let sink = MailSink::start().await;
        // Noticed at 12:00 summer time in Berlin; the clocks go back on 25 October.
        let noticed: DateTime<Utc> = "2026-10-10T10:00:00Z".parse().unwrap();
        let clock = ManualClock::new(noticed);
        let server = TestServer::start_with(&backend, Options::default().mail(&sink).clock(clock.clone())).await;
        server.seed_demo().await;
        let token = expel_ken(&server, &sink).await;
        let anyone = server.client();

        // The deadline is 12:00 winter time on 9 November (11:00 UTC), not 30 × 24 hours.
        clock.set("2026-11-09T11:01:00Z".parse().unwrap());
        let (status, body) =
            call_fn(&anyone, &server, "appeal_by_link", &[("token", &token), ("text", "I was not there.")]).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains("the time to appeal ended on Mon 9 Nov 2026, 12:00"), "{body}");
        let (_, view) = call_fn(&anyone, &server, "appeal_link", &[("token", &token)]).await;
        assert_eq!(view["decision"]["can_appeal"], false);
        assert!(view["decision"]["appeal"].is_null(), "nothing was recorded");

        clock.set("2026-11-09T10:59:00Z".parse().unwrap());
        let (status, body) =
            call_fn(&anyone, &server, "appeal_by_link", &[("token", &token), ("text", "I was not there.")]).await;
        assert_eq!(status, 200, "{body}");
        let (_, view) = call_fn(&anyone, &server, "appeal_link", &[("token", &token)]).await;
        assert_eq!(view["decision"]["appeal"]["text"], "I was not there.");
        // The same appeal sent twice is refused the second time.
        let (status, body) =
            call_fn(&anyone, &server, "appeal_by_link", &[("token", &token), ("text", "I was not there.")]).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains("already been appealed"), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn only_someone_uninvolved_decides_an_appeal_and_their_decision_is_final() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        let device = server.device_token("havenconf").await;
        let token = server.badge_token("havenconf", KEN).await;
        let _ = expel_ken(&server, &sink).await;
        let ken = server.client_as(KEN).await;
        let (_, mine) = call_fn(&ken, &server, "my_decisions", &[]).await;
        let decision = mine[0]["id"].as_str().unwrap().to_owned();

        // Someone else cannot appeal Ken's decision: for them it does not exist.
        let ada = server.client_as(ADA).await;
        let (status, _) = call_fn(&ada, &server, "appeal_decision", &[("decision", &decision), ("text", "x")]).await;
        assert_eq!(status, 404);
        let (status, body) =
            call_fn(&ken, &server, "appeal_decision", &[("decision", &decision), ("text", "Please reconsider.")]).await;
        assert_eq!(status, 200, "{body}");

        // The organizer decided it: refused. The admin took no part: decides, and lifts.
        let org = server.client_as(ORGANIZER).await;
        let (_, home) = call_fn(&org, &server, "decide_home", &[]).await;
        let appeal = home["appeals"][0]["appeal"]["id"].as_str().unwrap().to_owned();
        assert!(home["appeals"][0]["not_you"].as_str().unwrap().contains("took part"));
        let lift = [("appeal", appeal.as_str()), ("outcome", "lift"), ("input[reasons]", "New evidence.")];
        let (status, body) = call_fn(&org, &server, "decide_appeal", &lift).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains("took part"), "{body}");
        let rae = server.client_as(RESPONDER).await;
        assert_eq!(call_fn(&rae, &server, "decide_appeal", &lift).await.0, 404, "responders do not decide");
        assert_eq!(server.scan(&device, &token).await["reason"], "expelled");
        let admin = server.client_as(ADMIN).await;
        let (status, body) = call_fn(&admin, &server, "decide_appeal", &lift).await;
        assert_eq!(status, 200, "{body}");

        // Lifting restores the door at once, and the refund.
        let answer = scan_within_a_second(&server, &device, &token, "deny").await;
        assert_eq!(answer["result"], "alert", "{backend}: {answer}");
        let csv =
            org.get(server.url("/manage/events/havenconf/expulsions.csv")).send().await.unwrap().text().await.unwrap();
        assert!(!csv.contains(&ken_ticket(&server).await), "no longer forfeited: {csv}");

        // Final: no second appeal, no correction, no second decision on the appeal.
        let (_, mine) = call_fn(&ken, &server, "my_decisions", &[]).await;
        let latest = &mine[0];
        assert_eq!((latest["is_final"].as_bool(), latest["can_appeal"].as_bool()), (Some(true), Some(false)), "{mine}");
        let latest_id = latest["id"].as_str().unwrap();
        let (status, body) =
            call_fn(&ken, &server, "appeal_decision", &[("decision", latest_id), ("text", "Again.")]).await;
        assert_eq!(status, 422);
        assert!(body.to_string().contains("final"), "{body}");
        let (status, body) =
            call_fn(&ken, &server, "appeal_decision", &[("decision", &decision), ("text", "Again.")]).await;
        assert_eq!(status, 422, "{body}");
        let (status, _) = call_fn(&admin, &server, "decide_appeal", &lift).await;
        assert_eq!(status, 422);
        let correction = [("decision", latest_id), ("input[kind]", "warning"), ("input[reasons]", "Second thoughts.")];
        let (status, body) = call_fn(&admin, &server, "correct_decision", &correction).await;
        assert_eq!(status, 422);
        assert!(body.to_string().contains("final"), "{body}");
        let outcome = sink
            .wait_for(StdDuration::from_secs(20), |m| m.to[0] == KEN && m.text.contains("your appeal has been decided"))
            .await;
        assert!(outcome.text.contains("No measure (lifted)") && outcome.text.contains("final"), "{}", outcome.text);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_decisions_and_appeals_are_refused_and_change_nothing() {
    for backend in backends() {
        use haven_server::db::entities::{decision, decision_proposal};
        use sea_orm::{EntityTrait, PaginatorTrait};
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reference = ken_case(&server).await;
        let rae = server.client_as(RESPONDER).await;
        let count = || async {
            (
                decision::Entity::find().count(&server.db).await.unwrap(),
                decision_proposal::Entity::find().count(&server.db).await.unwrap(),
            )
        };
        let before = count().await;
        let ken = server.person_id(KEN).await.to_string();
        let ada = server.person_id(ADA).await.to_string();
        let tz = haven_app::domain::EventTimeZone::parse("tz", "Europe/Berlin").unwrap();
        let local = |d: i64| tz.utc_to_local_input(Utc::now() + Duration::days(d));
        // (fields that differ from a valid proposal, the field named, what the error says)
        type Refused<'a> = (Vec<(&'a str, String)>, &'a str, &'a str);
        let cases: Vec<Refused> = vec![
            (
                vec![("kind", "temporary_ban".into()), ("starts", local(10)), ("ends", local(5))],
                "ends",
                "must be after the start",
            ),
            (
                vec![("kind", "temporary_ban".into()), ("starts", local(-3)), ("ends", local(5))],
                "starts",
                "must not be in the past",
            ),
            (vec![("kind", "permanent_ban".into()), ("ends", local(5))], "ends", "a permanent ban has no end"),
            (vec![("kind", "warning".into()), ("starts", "yesterday".into())], "starts", "only a ban has a period"),
            (vec![("kind", "banish".into())], "kind", "must be one of"),
            (vec![("kind", "role_removal".into())], "role", "is required"),
            (vec![("kind", "warning".into()), ("reasons", String::new())], "reasons", "is required"),
        ];
        for (fields, field_name, message) in cases {
            let mut form: Vec<(String, String)> = vec![
                ("reference".into(), reference.clone()),
                ("input[person]".into(), ken.clone()),
                ("input[reasons]".into(), "Why.".into()),
            ];
            for (k, v) in fields {
                form.retain(|(f, _)| f != &format!("input[{k}]"));
                form.push((format!("input[{k}]"), v));
            }
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let (status, body) = call_fn(&rae, &server, "propose_decision", &form).await;
            assert_eq!(status, 422, "{form:?}: {body}");
            let text = body.to_string();
            assert!(text.contains(field_name) && text.contains(message), "{form:?}: {text}");
        }
        // About someone the case does not link: refused.
        let form = [
            ("reference", reference.as_str()),
            ("input[person]", ada.as_str()),
            ("input[kind]", "warning"),
            ("input[reasons]", "Why."),
        ];
        let (status, body) = call_fn(&rae, &server, "propose_decision", &form).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(count().await, before, "nothing was saved");

        // A proposal sent twice (a double click) waits once; the second is refused, saying why.
        let proposal = propose(&server, &reference, KEN, &[("kind", "warning")]).await;
        let ken_id = ken.to_string();
        let again = [
            ("reference", reference.as_str()),
            ("input[person]", ken_id.as_str()),
            ("input[kind]", "warning"),
            ("input[reasons]", "Why."),
        ];
        let waiting = count().await;
        let (status, body) = call_fn(&rae, &server, "propose_decision", &again).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains("already waiting"), "{body}");
        assert_eq!(count().await, waiting, "still one proposal");
        // A proposal recorded twice (two deciders at once, or a double click): once.
        let (first, second) = tokio::join!(
            record(&server, ORGANIZER, &proposal, &[("kind", "warning")]),
            record(&server, ADMIN, &proposal, &[("kind", "warning")])
        );
        let statuses = [first.0, second.0];
        assert!(statuses.contains(&200) && statuses.contains(&422), "{first:?} {second:?}");
        assert_eq!(count().await.0, before.0 + 1, "one decision");
        // Garbage ids are "not found", never a server error.
        let org = server.client_as(ORGANIZER).await;
        for (name, form) in [
            ("record_decision", vec![("proposal", "not-a-uuid"), ("input[kind]", "warning"), ("input[reasons]", "x")]),
            ("decline_proposal", vec![("proposal", "00000000-0000-0000-0000-000000000000")]),
            ("resolve_flag", vec![("flag", "'; drop table people; --"), ("action", "confirm")]),
            ("appeal_by_link", vec![("token", &"x".repeat(5000)), ("text", "hello")]),
        ] {
            let (status, _) = call_fn(&org, &server, name, &form).await;
            assert_eq!(status, 404, "{name}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn likely_ban_evasion_is_flagged_to_responders_only_and_dismissals_are_remembered() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        // Donald Moreau is banned in the demo. He once signed in with another address.
        {
            let tx = server.services.begin().await.unwrap();
            let donald = server.person_id("donald.moreau@example.org").await;
            haven_server::services::auth::link_identity(&tx, Utc::now(), donald, "email", "don.moreau@gmail.com")
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let org = server.client_as(ORGANIZER).await;
        let csv = "name,email,phone\n\
                   Dana Hidden,D.On.Moreau+conf@gmail.com,\n\
                   Donald Moreau,donald.m@proton.me,\n\
                   Donnald Moreau,dm@example.net,\n\
                   Someone Else,else@example.net,+49 30 1234567\n\
                   Unrelated Person,unrelated@example.net,\n";
        let (status, body) =
            call_fn(&org, &server, "import_registrations", &[("slug", "havenconf"), ("csv", csv)]).await;
        assert_eq!(status, 200, "{body}");

        let rae = server.client_as(RESPONDER).await;
        let (status, flags) = call_fn(&rae, &server, "evasion_flags", &[]).await;
        assert_eq!(status, 200, "{flags}");
        let flags = flags.as_array().unwrap();
        let why = |email: &str| {
            flags.iter().find(|f| f["registrant"]["email"].as_str().unwrap().eq_ignore_ascii_case(email)).map(|f| {
                f["why"].as_array().unwrap().iter().map(|w| w.as_str().unwrap().to_owned()).collect::<Vec<_>>()
            })
        };
        assert_eq!(
            why("D.On.Moreau+conf@gmail.com"),
            Some(vec!["same e-mail address".to_owned()]),
            "{backend}: {flags:?}"
        );
        assert_eq!(why("donald.m@proton.me"), Some(vec!["same name".to_owned()]));
        assert!(why("dm@example.net").unwrap()[0].starts_with("similar name"));
        assert_eq!(why("unrelated@example.net"), None);
        assert_eq!(why("else@example.net"), None, "no banned person has that number");
        assert!(flags.iter().all(|f| f["banned"]["name"] == "Donald Moreau"));

        // Not for the registrant, not for the door, not for the organizer.
        let hidden_token = server.badge_token("havenconf", "d.on.moreau+conf@gmail.com").await;
        let device = server.device_token("havenconf").await;
        assert_eq!(server.scan(&device, &hidden_token).await["result"], "admit", "a flag alone is no denial");
        let hidden = server.client_as("d.on.moreau+conf@gmail.com").await;
        let (_, page) = call_fn(&hidden, &server, "my_page", &[]).await;
        assert!(!page.to_string().contains("Donald"), "{page}");
        assert_eq!(call_fn(&org, &server, "evasion_flags", &[]).await.0, 404);
        let door = server.client_as("door@example.org").await;
        assert_eq!(call_fn(&door, &server, "evasion_flags", &[]).await.0, 404);

        // Confirm one: the ban now covers them at the door. Dismiss another: remembered.
        let id_of = |email: &str| {
            flags.iter().find(|f| f["registrant"]["email"].as_str().unwrap().eq_ignore_ascii_case(email)).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let confirm = id_of("D.On.Moreau+conf@gmail.com");
        let (status, body) = call_fn(&rae, &server, "resolve_flag", &[("flag", &confirm), ("action", "confirm")]).await;
        assert_eq!(status, 200, "{body}");
        let a = scan_within_a_second(&server, &device, &hidden_token, "admit").await;
        assert_eq!((a["result"].as_str(), a["reason"].as_str()), (Some("deny"), Some("banned")), "{a}");
        let dismiss = id_of("donald.m@proton.me");
        let (status, _) = call_fn(&rae, &server, "resolve_flag", &[("flag", &dismiss), ("action", "dismiss")]).await;
        assert_eq!(status, 200);
        let (status, body) = call_fn(&rae, &server, "resolve_flag", &[("flag", &dismiss), ("action", "confirm")]).await;
        assert_eq!(status, 422, "{body}");
        // The same people registering for another event are not flagged again.
        let admin = server.client_as(ADMIN).await;
        let again = "name,email\nDonald Moreau,donald.m@proton.me\n";
        let (status, body) = call_fn(
            &admin,
            &server,
            "create_event",
            &[
                ("organization", "demo"),
                ("input[name]", "HavenCamp"),
                ("input[slug]", "havencamp"),
                ("input[venue]", "Lakeside"),
                ("input[time_zone]", "UTC"),
                ("input[starts_at]", "2030-06-01T09:00"),
                ("input[ends_at]", "2030-06-02T18:00"),
                ("input[ack_hours]", "24"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, _) =
            call_fn(&admin, &server, "import_registrations", &[("slug", "havencamp"), ("csv", again)]).await;
        assert_eq!(status, 200);
        let (_, flags) = call_fn(&rae, &server, "evasion_flags", &[]).await;
        assert!(!flags.as_array().unwrap().iter().any(|f| f["registrant"]["email"] == "donald.m@proton.me"), "{flags}");
    }
}

/// The transparency report's rows, by label.
async fn report_rows(server: &TestServer, form: &[(&str, &str)]) -> (u16, Value, Vec<(String, String)>) {
    let admin = server.client_as(ADMIN).await;
    let (status, report) = call_fn(&admin, server, "transparency_report", form).await;
    let rows = report["sections"]
        .as_array()
        .map(|sections| {
            sections
                .iter()
                .flat_map(|s| {
                    s["rows"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| (r[0].as_str().unwrap().to_owned(), r[1].as_str().unwrap().to_owned()))
                })
                .collect()
        })
        .unwrap_or_default();
    (status, report, rows)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_transparency_report_counts_ended_quarters_without_names_and_hides_what_would_reveal_small_numbers() {
    for backend in backends() {
        // The demo is seeded in the first quarter of 2027; seven concerns follow in the second.
        let start: DateTime<Utc> = "2027-03-01T10:00:00Z".parse().unwrap();
        let clock = ManualClock::new(start);
        let server = TestServer::start_with(&backend, Options::default().clock(clock.clone())).await;
        server.seed_demo().await;
        clock.set("2027-05-10T10:00:00Z".parse().unwrap());
        let reporters = [
            "grace.okafor@example.org",
            "alan.okafor@example.org",
            "tim.lovelace@example.org",
            "radia.okafor@example.org",
            "frances.moreau@example.org",
            "edsger.lovelace@example.org",
            "katherine.okafor@example.org",
        ];
        let mut references = Vec::new();
        for (i, reporter) in reporters.iter().enumerate() {
            let actor = haven_app::api::Actor {
                session: Some(haven_app::api::ActorSession {
                    person_id: server.person_id(reporter).await,
                    session_id: uuid::Uuid::nil(),
                    second_factor: None,
                }),
                client: "test".into(),
            };
            let form = haven_app::domain::ConcernForm {
                person_name: format!("Person {i}"),
                narrative: "Worried.".into(),
                ..Default::default()
            };
            match server.services.file_concern(&actor, &havenconf(), form, None).await {
                Ok(haven_server::services::cases::Filed::Case(r)) => references.push(r.to_string()),
                _ => panic!("{backend}: concern {i} is filed"),
            }
        }
        // Five resolved, one closed, one still open: all = 7, resolved = 5.
        let rae = server.client_as(RESPONDER).await;
        for (i, reference) in references.iter().enumerate() {
            let to = match i {
                0..5 => "resolved",
                5 => "closed",
                _ => continue,
            };
            let (status, body) =
                call_fn(&rae, &server, "change_status", &[("reference", reference), ("status", to)]).await;
            assert_eq!(status, 200, "{backend}: {body}");
        }
        clock.set("2027-07-02T10:00:00Z".parse().unwrap());

        let (status, report, rows) = report_rows(&server, &[("organization", "demo"), ("quarter", "2027-Q2")]).await;
        assert_eq!(status, 200, "{backend}: {report}");
        assert_eq!((report["from"].as_str(), report["to"].as_str()), (Some("2027-04-01"), Some("2027-06-30")));
        assert_eq!(report["quarters"], serde_json::json!(["2027-Q2", "2027-Q1"]), "{backend}: ended quarters only");
        let get = |k: &str| rows.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap();
        // "all" minus "resolved" would give "closed" plus "still open": "all" is not shown.
        assert_eq!(get("Pre-event concerns, resolved"), "5", "{backend}");
        assert_eq!(get("Pre-event concerns, closed"), "fewer than 5");
        assert_eq!(get("Pre-event concerns, still open"), "fewer than 5");
        assert!(get("Pre-event concerns, all").starts_with("not shown"), "{backend}: {report}");
        assert_eq!(get("Incident reports, all"), "fewer than 5", "zero is hidden too");
        assert_eq!(get("Appeals filed"), "fewer than 5");
        assert_eq!(get("Median time to acknowledge"), "0 min", "six acknowledged at once");
        // The demo's decisions fell in the first quarter.
        assert_eq!(get("Expulsion from the event without refund"), "fewer than 5");
        let text = report.to_string();
        for name in ["Ada", "Ken", "Tim", "Donald", "Okafor", "@", "HVN-"] {
            assert!(!text.contains(name), "no names in the report: {name}");
        }

        // A month cannot be set against its quarter: only quarters, only ended ones.
        for bad in ["2027-05", "2027-04-01", "2027-Q3", "2027-Q5", "May"] {
            let (status, body, _) = report_rows(&server, &[("organization", "demo"), ("quarter", bad)]).await;
            assert_eq!(status, 422, "{backend}: {bad}: {body}");
            assert_eq!(body["detail"][0]["field"], "quarter", "{body}");
        }
        let (status, default, _) =
            report_rows(&server, &[("organization", "demo"), ("from", "2027-04-01"), ("to", "2027-04-30")]).await;
        assert_eq!(status, 200);
        assert_eq!(default, report, "{backend}: a day range is no period of its own: the last ended quarter");

        // Other organizations' staff and event organizers see nothing.
        let org = server.client_as(ORGANIZER).await;
        assert_eq!(call_fn(&org, &server, "transparency_report", &[("organization", "demo")]).await.0, 404);
    }
}

/// A case Ada files about Eli (the demo's escort), linked to him by Rae.
async fn case_about_eli(server: &TestServer) -> String {
    let ada = server.client_as(ADA).await;
    let form = reqwest::multipart::Form::new()
        .text("person_name", "Eli Escort")
        .text("person_email", "escort@example.org")
        .text("narrative", "He shouted at me during the walk.");
    let res = ada.post(server.url("/events/havenconf/concern")).multipart(form).send().await.unwrap();
    let reference = res.headers()["location"].to_str().unwrap().split('/').nth(2).unwrap().split('?').next().unwrap();
    let rae = server.client_as(RESPONDER).await;
    let eli = server.person_id(ESCORT).await.to_string();
    let (status, body) = call_fn(&rae, server, "confirm_match", &[("reference", reference), ("person", &eli)]).await;
    assert_eq!(status, 200, "{body}");
    reference.to_owned()
}

const ESCORT: &str = "escort@example.org";

/// The staff's view of the decisions on a case, newest first as the panel lists them.
async fn staff_summaries(server: &TestServer, reference: &str) -> Vec<String> {
    let rae = server.client_as(RESPONDER).await;
    let (status, view) = call_fn(&rae, server, "case_decisions", &[("reference", reference)]).await;
    assert_eq!(status, 200, "{view}");
    view["decisions"].as_array().unwrap().iter().map(|d| d["summary"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_removal_takes_the_role_away_at_once_and_an_event_cannot_remove_an_organization_role() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        let reference = case_about_eli(&server).await;
        let eli = server.client_as(ESCORT).await;
        let (_, before) = call_fn(&eli, &server, "my_page", &[]).await;
        assert!(before["roles"].as_array().unwrap().iter().any(|r| r["role"] == "escort"), "{before}");
        let (_, mine) = call_fn(&eli, &server, "my_assignments", &[]).await;
        let assignments: Vec<String> =
            mine["assignments"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_owned()).collect();
        assert!(!assignments.is_empty(), "the demo's escort for Ada: {mine}");

        let terms = [("kind", "role_removal"), ("role", "escort"), ("role_scope", "event")];
        let proposal = propose(&server, &reference, ESCORT, &terms).await;
        let (status, body) = record(&server, ORGANIZER, &proposal, &terms).await;
        assert_eq!(status, 200, "{body}");

        let (_, after) = call_fn(&eli, &server, "my_page", &[]).await;
        assert!(after["roles"].as_array().unwrap().iter().all(|r| r["role"] != "escort"), "the role is gone: {after}");
        let (_, staff) = call_fn(&server.client_as(ORGANIZER).await, &server, "staff", &[("slug", "havenconf")]).await;
        assert!(staff["members"].as_array().unwrap().iter().all(|m| m["name"] != "Eli Escort"), "{staff}");
        // His assignment ends: he no longer sees whom he was to escort, and the case's owner
        // is told to plan another escort.
        let (_, mine) = call_fn(&eli, &server, "my_assignments", &[]).await;
        assert_eq!(mine["assignments"], serde_json::json!([]), "{mine}");
        let (status, _) = call_fn(&eli, &server, "acknowledge_assignment", &[("assignment", &assignments[0])]).await;
        assert_eq!(status, 404, "no longer an escort, he cannot act as one");
        sink.wait_for(StdDuration::from_secs(20), |m| {
            m.to[0] == RESPONDER && m.subject.contains("has no escort any more")
        })
        .await;
        assert_eq!(staff_summaries(&server, &reference).await[0], "Removal from a role: escort at HavenConf");
        let notice =
            sink.wait_for(StdDuration::from_secs(20), |m| m.to[0] == ESCORT && m.subject.contains("decision")).await;
        assert!(notice.text.contains("Removal from a role: escort at HavenConf"), "{}", notice.text);
        assert!(!notice.text.contains("shouted") && !notice.text.contains("Ada"), "{}", notice.text);

        // Eli escorts for the whole organization too: removing the role at one event only
        // would leave him an escort there, so it is refused and changes nothing.
        use haven_server::db::entities::staff_role;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        server.grant_organization_role(ESCORT, haven_app::domain::Role::Escort).await;
        let proposal = propose(&server, &reference, ESCORT, &terms).await;
        let (status, body) = record(&server, ADMIN, &proposal, &terms).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["detail"][0]["field"], "role_scope", "{body}");
        let live = staff_role::Entity::find()
            .filter(staff_role::Column::PersonId.eq(server.person_id(ESCORT).await))
            .filter(staff_role::Column::RevokedAt.is_null())
            .all(&server.db)
            .await
            .unwrap();
        assert_eq!(live.len(), 1, "nothing changed: the organization-wide role stays");
        let organization_wide = [("kind", "role_removal"), ("role", "escort"), ("role_scope", "organization")];
        let (status, body) = record(&server, ADMIN, &proposal, &organization_wide).await;
        assert_eq!(status, 200, "{body}");
        let (_, after) = call_fn(&eli, &server, "my_page", &[]).await;
        assert!(after["roles"].as_array().unwrap().is_empty(), "{after}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_report_to_the_authorities_and_another_measure_are_kept_for_staff_with_their_details() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        let reference = ken_case(&server).await;
        let tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
        let (_, settings) =
            call_fn(&server.client_as(ORGANIZER).await, &server, "event_settings", &[("slug", "havenconf")]).await;
        assert_eq!(settings["time_zone"], "Europe/Berlin");
        let yesterday =
            (clock_now(&server) - Duration::days(1)).with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string();
        let tomorrow = (clock_now(&server) + Duration::days(1)).with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string();

        // When they were told may not be in the future.
        let report = |at: String| {
            vec![
                ("kind", "authority_report".to_owned()),
                ("authority", "Berlin police, Section 5".to_owned()),
                ("authority_at", at),
                ("authority_reference", "K-2027-114".to_owned()),
            ]
        };
        let as_pairs = |v: &Vec<(&'static str, String)>| v.iter().map(|(k, x)| (*k, x.clone())).collect::<Vec<_>>();
        let rae = server.client_as(RESPONDER).await;
        let person = server.person_id(KEN).await.to_string();
        let mut form = vec![
            ("reference".to_owned(), reference.clone()),
            (field("person"), person.clone()),
            (field("reasons"), "Assault.".to_owned()),
        ];
        form.extend(as_pairs(&report(tomorrow)).into_iter().map(|(k, v)| (field(k), v)));
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (status, body) = call_fn(&rae, &server, "propose_decision", &pairs).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["detail"][0]["field"], "authority_at", "{body}");

        let good = report(yesterday.clone());
        let terms: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let proposal = propose(&server, &reference, KEN, &terms).await;
        let (status, body) = record(&server, ORGANIZER, &proposal, &terms).await;
        assert_eq!(status, 200, "{body}");
        let summary = &staff_summaries(&server, &reference).await[0];
        assert!(summary.starts_with("Report to the authorities: Berlin police, Section 5 told on "), "{summary}");
        assert!(summary.ends_with(", their reference K-2027-114"), "{summary}");
        let notice =
            sink.wait_for(StdDuration::from_secs(20), |m| m.to[0] == KEN && m.subject.contains("decision")).await;
        assert!(notice.text.contains("Report to the authorities"), "{}", notice.text);
        assert!(!notice.text.contains("K-2027-114"), "the police reference stays with staff: {}", notice.text);

        let other = [("kind", "other"), ("measure", "May attend only the talks, not the social evening")];
        let proposal = propose(&server, &reference, KEN, &other).await;
        assert_eq!(record(&server, ORGANIZER, &proposal, &other).await.0, 200);
        assert_eq!(
            staff_summaries(&server, &reference).await[0],
            "Another measure: May attend only the talks, not the social evening"
        );
        let (_, mine) = call_fn(&server.client_as(KEN).await, &server, "my_decisions", &[]).await;
        assert!(
            mine.as_array()
                .unwrap()
                .iter()
                .any(|d| d["summary"] == "Another measure: May attend only the talks, not the social evening"),
            "{mine}"
        );
        // Neither measure keeps Ken from the door.
        let device = server.device_token("havenconf").await;
        assert_ne!(server.scan(&device, &server.badge_token("havenconf", KEN).await).await["result"], "deny");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_correction_replaces_a_warning_with_a_ban_and_an_appeal_can_modify_it_to_a_warning() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        let reference = ken_case(&server).await;
        let device = server.device_token("havenconf").await;
        let ken_badge = server.badge_token("havenconf", KEN).await;
        let proposal = propose(&server, &reference, KEN, &[("kind", "warning")]).await;
        assert_eq!(record(&server, ORGANIZER, &proposal, &[("kind", "warning")]).await.0, 200);
        assert_eq!(server.scan(&device, &ken_badge).await["result"], "alert", "a warning does not stop him");

        // The admin corrects it into a permanent ban: a new record, the door denies at once.
        let admin = server.client_as(ADMIN).await;
        let (_, home) = call_fn(&admin, &server, "decide_home", &[]).await;
        let warning = home["recent"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["kind"] == "warning" && d["person"] == "Ken Okafor")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let correction =
            [("decision", warning.as_str()), ("input[kind]", "permanent_ban"), ("input[reasons]", "It was worse.")];
        let (status, body) = call_fn(&admin, &server, "correct_decision", &correction).await;
        assert_eq!(status, 200, "{body}");
        let answer = scan_within_a_second(&server, &device, &ken_badge, "alert").await;
        assert_eq!((answer["result"].as_str(), answer["reason"].as_str()), (Some("deny"), Some("banned")), "{answer}");
        let summaries = staff_summaries(&server, &reference).await;
        assert!(summaries.iter().any(|s| s.starts_with("Permanent ban")), "{summaries:?}");
        let (_, view) =
            call_fn(&server.client_as(RESPONDER).await, &server, "case_decisions", &[("reference", &reference)]).await;
        let superseded: Vec<bool> =
            view["decisions"].as_array().unwrap().iter().map(|d| d["superseded"].as_bool().unwrap()).collect();
        assert_eq!(superseded.iter().filter(|s| !**s).count(), 1, "one live record: {view}");
        assert!(superseded.contains(&true), "the warning is kept, superseded: {view}");
        let corrected = sink
            .wait_for(StdDuration::from_secs(20), |m| m.to[0] == KEN && m.text.contains("corrected a decision"))
            .await;
        assert!(corrected.text.contains("Permanent ban") && corrected.text.contains("/appeal/"), "{}", corrected.text);

        // Ken appeals; an uninvolved decider (Sam is not one: give the appeal to the
        // organization's other administrator) modifies the ban into a warning.
        let ken = server.client_as(KEN).await;
        let (_, mine) = call_fn(&ken, &server, "my_decisions", &[]).await;
        let live = mine.as_array().unwrap().iter().find(|d| d["superseded"] == false).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (status, body) =
            call_fn(&ken, &server, "appeal_decision", &[("decision", &live), ("text", "A ban is too much.")]).await;
        assert_eq!(status, 200, "{body}");
        let other_admin = second_admin(&server).await;
        let reviewer = server.client_as(other_admin).await;
        let (_, home) = call_fn(&reviewer, &server, "decide_home", &[]).await;
        let appeal = home["appeals"][0]["appeal"]["id"].as_str().unwrap().to_owned();
        assert!(home["appeals"][0]["not_you"].is_null(), "{home}");
        let modify = [
            ("appeal", appeal.as_str()),
            ("outcome", "modify"),
            ("input[kind]", "warning"),
            ("input[reasons]", "A warning fits what happened."),
        ];
        let (status, body) = call_fn(&reviewer, &server, "decide_appeal", &modify).await;
        assert_eq!(status, 200, "{body}");
        let answer = scan_within_a_second(&server, &device, &ken_badge, "deny").await;
        assert_eq!(answer["result"], "alert", "the door admits him again: {answer}");
        let (_, mine) = call_fn(&ken, &server, "my_decisions", &[]).await;
        let latest = mine.as_array().unwrap().iter().find(|d| d["superseded"] == false).unwrap();
        assert_eq!((latest["summary"].as_str(), latest["is_final"].as_bool()), (Some("Warning"), Some(true)), "{mine}");
        let outcome = sink
            .wait_for(StdDuration::from_secs(20), |m| m.to[0] == KEN && m.text.contains("your appeal has been decided"))
            .await;
        assert!(outcome.text.contains("The decision now is: Warning."), "{}", outcome.text);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_registration_added_by_hand_is_checked_for_ban_evasion_too() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        // The demo bans Donald Moreau; someone registers by hand with his name reversed and
        // another address.
        let org = server.client_as(ORGANIZER).await;
        let (status, body) = call_fn(
            &org,
            &server,
            "add_registration",
            &[("slug", "havenconf"), ("name", "Moreau Donald"), ("email", "dm@elsewhere.example")],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let rae = server.client_as(RESPONDER).await;
        let (_, flags) = call_fn(&rae, &server, "evasion_flags", &[]).await;
        let flag = flags
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f.to_string().contains("dm@elsewhere.example"))
            .unwrap_or_else(|| panic!("the hand-made registration is flagged: {flags}"));
        assert!(flag.to_string().contains("same name"), "{flag}");
        assert_eq!(
            call_fn(&org, &server, "evasion_flags", &[]).await.0,
            404,
            "organizers who are not responders see none"
        );
        let (_, registrant) = call_fn(&server.client_as("dm@elsewhere.example").await, &server, "my_page", &[]).await;
        assert!(!registrant.to_string().to_lowercase().contains("ban"), "never shown to the registrant: {registrant}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_decision_rests_on_every_case_its_proposer_names_about_the_person() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let first = ken_case(&server).await;
        // A second report about Ken, linked to him.
        let grace = server.client_as("grace.okafor@example.org").await;
        let form = reqwest::multipart::Form::new()
            .text("person_name", "Ken Okafor")
            .text("narrative", "He followed me to the tram too.");
        let res = grace.post(server.url("/events/havenconf/concern")).multipart(form).send().await.unwrap();
        let second = res.headers()["location"]
            .to_str()
            .unwrap()
            .split('/')
            .nth(2)
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let rae = server.client_as(RESPONDER).await;
        let ken = server.person_id(KEN).await.to_string();
        assert_eq!(call_fn(&rae, &server, "confirm_match", &[("reference", &second), ("person", &ken)]).await.0, 200);
        // A third case that does not name Ken.
        let ada = server.client_as(ADA).await;
        let form = reqwest::multipart::Form::new().text("person_name", "Someone else").text("narrative", "Other.");
        let res = ada.post(server.url("/events/havenconf/concern")).multipart(form).send().await.unwrap();
        let unrelated = res.headers()["location"]
            .to_str()
            .unwrap()
            .split('/')
            .nth(2)
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .to_owned();

        let propose_with = |cases: String| {
            let rae = rae.clone();
            let server = &server;
            let (first, ken) = (first.clone(), ken.clone());
            async move {
                let form = [
                    ("reference", first.as_str()),
                    ("input[person]", ken.as_str()),
                    ("input[kind]", "warning"),
                    ("input[reasons]", "Two reports."),
                    ("input[cases]", cases.as_str()),
                ];
                call_fn(&rae, server, "propose_decision", &form).await
            }
        };
        for bad in [unrelated.clone(), "HVN-0000-0000".to_owned(), "not-a-reference".to_owned()] {
            let (status, body) = propose_with(bad.clone()).await;
            assert_eq!(status, 422, "{bad}: {body}");
            assert_eq!(body["detail"][0]["field"], "cases", "{body}");
        }
        let admin = server.client_as(ADMIN).await;
        let (_, home) = call_fn(&admin, &server, "decide_home", &[]).await;
        assert!(home["proposals"].as_array().unwrap().is_empty(), "nothing was proposed: {home}");

        let (status, body) = propose_with(format!("{}, {first}", second.to_lowercase())).await;
        assert_eq!(status, 200, "{body}");
        let (_, home) = call_fn(&admin, &server, "decide_home", &[]).await;
        let proposal = home["proposals"][0]["id"].as_str().unwrap().to_owned();
        // What a decider sends as cases is not theirs to choose: ignored.
        let (status, body) = record(&server, ORGANIZER, &proposal, &[("kind", "warning"), ("cases", &unrelated)]).await;
        assert_eq!(status, 200, "{body}");

        for reference in [&first, &second] {
            let (_, view) = call_fn(&rae, &server, "case_decisions", &[("reference", reference)]).await;
            let d = &view["decisions"][0];
            let mut cases: Vec<&str> = d["cases"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
            cases.sort();
            let mut want = vec![first.as_str(), second.as_str()];
            want.sort();
            assert_eq!(cases, want, "{reference}: the decision rests on both reports: {view}");
        }
        let (_, view) = call_fn(&rae, &server, "case_decisions", &[("reference", &unrelated)]).await;
        assert_eq!(view["decisions"], serde_json::json!([]), "{view}");
    }
}

/// A second administrator of the demo organization, who took part in nothing.
async fn second_admin(server: &TestServer) -> &'static str {
    const SECOND: &str = "second.admin@example.org";
    server.grant_organization_role(SECOND, haven_app::domain::Role::Admin).await;
    SECOND
}

#[tokio::test(flavor = "multi_thread")]
async fn someone_a_confirmed_match_brings_under_a_ban_is_told_may_appeal_and_can_have_it_lifted() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        const COVERED: &str = "dm@elsewhere.example";
        let org = server.client_as(ORGANIZER).await;
        let form = [("slug", "havenconf"), ("name", "Moreau Donald"), ("email", COVERED)];
        assert_eq!(call_fn(&org, &server, "add_registration", &form).await.0, 200);
        let rae = server.client_as(RESPONDER).await;
        let (_, flags) = call_fn(&rae, &server, "evasion_flags", &[]).await;
        let flag = flags.as_array().unwrap().iter().find(|f| f["registrant"]["email"] == COVERED).expect("flagged");
        let flag = flag["id"].as_str().unwrap().to_owned();
        assert_eq!(call_fn(&rae, &server, "resolve_flag", &[("flag", &flag), ("action", "confirm")]).await.0, 200);

        // Told in writing, with a link to appeal; the door refuses them.
        let notice = sink
            .wait_for(StdDuration::from_secs(20), |m| {
                m.to[0] == COVERED && m.subject.contains("A decision applied to you")
            })
            .await;
        assert!(notice.text.contains("Temporary ban") && notice.text.contains("/appeal/"), "{}", notice.text);
        for secret in ["donald.moreau@example.org", "repeated violations", "Rae"] {
            assert!(!notice.text.contains(secret), "the notice must not reveal {secret:?}: {}", notice.text);
        }
        let token =
            notice.text.lines().find(|l| l.contains("/appeal/")).unwrap().trim().rsplit('/').next().unwrap().to_owned();
        let device = server.device_token("havenconf").await;
        let badge = server.badge_token("havenconf", COVERED).await;
        assert_eq!(server.scan(&device, &badge).await["reason"], "banned");
        let covered = server.client_as(COVERED).await;
        let (_, mine) = call_fn(&covered, &server, "my_decisions", &[]).await;
        assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
        assert_eq!(mine[0]["can_appeal"], true, "{mine}");
        assert!(mine[0]["appeal_until"].is_string(), "{mine}");

        // They appeal through the link, once.
        let anyone = server.client();
        let (_, view) = call_fn(&anyone, &server, "appeal_link", &[("token", &token)]).await;
        assert_eq!(view["decision"]["can_appeal"], true, "{view}");
        let appeal = [("token", token.as_str()), ("text", "I am not the person you banned.")];
        let (status, body) = call_fn(&anyone, &server, "appeal_by_link", &appeal).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = call_fn(&anyone, &server, "appeal_by_link", &appeal).await;
        assert_eq!(status, 422, "once: {body}");
        let (_, mine) = call_fn(&covered, &server, "my_decisions", &[]).await;
        assert_eq!(mine[0]["appeal"]["text"], "I am not the person you banned.");
        assert_eq!(mine[0]["can_appeal"], false);

        // Only someone uninvolved decides: upheld or lifted, never modified.
        let reviewer = server.client_as(second_admin(&server).await).await;
        let (_, home) = call_fn(&reviewer, &server, "decide_home", &[]).await;
        let waiting =
            home["appeals"].as_array().unwrap().iter().find(|a| a["covered"] == "Moreau Donald").expect("waits");
        assert!(waiting["not_you"].is_null(), "{waiting}");
        assert_eq!(waiting["appeal"]["text"], "I am not the person you banned.");
        let id = waiting["appeal"]["id"].as_str().unwrap().to_owned();
        let modify =
            [("appeal", id.as_str()), ("outcome", "modify"), ("input[kind]", "warning"), ("input[reasons]", "x")];
        let (status, body) = call_fn(&reviewer, &server, "decide_appeal", &modify).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["detail"][0]["field"], "outcome", "{body}");
        let lift =
            [("appeal", id.as_str()), ("outcome", "lift"), ("input[reasons]", "Different person; checked the ID.")];
        let (status, body) = call_fn(&reviewer, &server, "decide_appeal", &lift).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(call_fn(&reviewer, &server, "decide_appeal", &lift).await.0, 422, "final");

        // Lifted for them at once; the ban itself stands for Donald.
        let answer = scan_within_a_second(&server, &device, &badge, "deny").await;
        assert_ne!(answer["result"], "deny", "{answer}");
        let donald = server.badge_token("havenconf", "donald.moreau@example.org").await;
        assert_eq!(server.scan(&device, &donald).await["reason"], "banned");
        let (_, mine) = call_fn(&covered, &server, "my_decisions", &[]).await;
        assert_eq!(mine[0]["is_final"], true, "{mine}");
        assert!(mine[0]["summary"].as_str().unwrap().contains("no longer applies to you"), "{mine}");
        assert!(mine[0]["appeal"]["outcome"].as_str().unwrap().starts_with("Lifted"), "{mine}");
        let outcome = sink
            .wait_for(StdDuration::from_secs(20), |m| m.to[0] == COVERED && m.subject == "Your appeal has been decided")
            .await;
        assert!(outcome.text.contains("final"), "{}", outcome.text);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_deciders_correcting_one_decision_at_once_make_one_correction() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reference = ken_case(&server).await;
        let proposal = propose(&server, &reference, KEN, &[("kind", "warning")]).await;
        assert_eq!(record(&server, ORGANIZER, &proposal, &[("kind", "warning")]).await.0, 200);
        let admin = server.client_as(ADMIN).await;
        let (_, home) = call_fn(&admin, &server, "decide_home", &[]).await;
        let warning = home["recent"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["kind"] == "warning" && d["person"] == "Ken Okafor")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();

        // The administrator and the organizer correct the same record at the same moment.
        let organizer = server.client_as(ORGANIZER).await;
        let ban = [("decision", warning.as_str()), ("input[kind]", "permanent_ban"), ("input[reasons]", "Worse.")];
        let expel = [("decision", warning.as_str()), ("input[kind]", "expulsion"), ("input[reasons]", "Much worse.")];
        let (first, second) = tokio::join!(
            call_fn(&admin, &server, "correct_decision", &ban),
            call_fn(&organizer, &server, "correct_decision", &expel),
        );
        let mut statuses = [first.0, second.0];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{backend}: one succeeds: {} / {}", first.1, second.1);
        let refused = if first.0 == 409 { &first.1 } else { &second.1 };
        assert!(refused.to_string().contains("already been corrected"), "{backend}: {refused}");

        // One correction in the record: the warning, superseded, and one live record.
        let (_, view) =
            call_fn(&server.client_as(RESPONDER).await, &server, "case_decisions", &[("reference", &reference)]).await;
        let records = view["decisions"].as_array().unwrap();
        assert_eq!(records.len(), 2, "{backend}: {view}");
        assert_eq!(records.iter().filter(|d| d["superseded"] == false).count(), 1, "{backend}: {view}");
    }
}

fn havenconf() -> haven_app::domain::Slug {
    haven_app::domain::Slug::parse("slug", "havenconf").unwrap()
}
