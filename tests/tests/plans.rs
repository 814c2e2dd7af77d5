//! Safety plans: escorts with checked windows, what escorts see and acknowledge,
//! escalation, the reporter's answer, calendar entries and feeds, arrival alerts.

use haven_server::clock::ManualClock;
use haven_tests::browser::parse_ics;
use haven_tests::{MailSink, Options, TestServer, backends, call_fn};
use serde_json::Value;
use std::time::Duration;

const REPORTER: &str = "barbara.moreau@example.org";
const RESPONDER: &str = "responder@example.org";
const ESCORT: &str = "escort@example.org";
const SECOND_ESCORT: &str = "alan.okafor@example.org";

async fn new_case(server: &TestServer) -> String {
    let reporter = server.client_as(REPORTER).await;
    let form =
        reqwest::multipart::Form::new().text("person_name", "Someone").text("narrative", "Please help me feel safe.");
    let res = reporter.post(server.url("/events/havenconf/concern")).multipart(form).send().await.unwrap();
    res.headers()["location"].to_str().unwrap().split('/').nth(2).unwrap().split('?').next().unwrap().to_owned()
}

/// The first day of the demo event, as `YYYY-MM-DD` in its time zone.
async fn first_day(server: &TestServer) -> String {
    let (_, settings) =
        call_fn(&server.client_as("organizer@example.org").await, server, "event_settings", &[("slug", "havenconf")])
            .await;
    settings["starts_at"].as_str().unwrap()[..10].to_owned()
}

async fn escort_form(server: &TestServer, reference: &str, start: &str, end: &str) -> Vec<(String, String)> {
    let escort_id = server.person_id(ESCORT).await.to_string();
    vec![
        ("reference".into(), reference.into()),
        ("input[escorts][0]".into(), escort_id),
        ("input[start_1]".into(), start.into()),
        ("input[end_1]".into(), end.into()),
        ("input[meeting_point]".into(), "Main entrance".into()),
        ("input[contact]".into(), "+49 30 111".into()),
        ("input[notes]".into(), "Walk to the tram".into()),
    ]
}

async fn post(server: &TestServer, client: &reqwest::Client, name: &str, form: &[(String, String)]) -> (u16, Value) {
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    call_fn(client, server, name, &form).await
}

async fn plan(server: &TestServer, reference: &str) -> Value {
    let (_, view) = call_fn(&server.client_as(RESPONDER).await, server, "case", &[("reference", reference)]).await;
    view["plan"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_planned_escort_reaches_the_escort_with_a_calendar_entry_and_no_case_details() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        let reference = new_case(&server).await;
        let day = first_day(&server).await;
        let rae = server.client_as(RESPONDER).await;
        server.outbox_drained().await;
        let before = sink.all().await.len();

        let form = escort_form(&server, &reference, &format!("{day}T20:00"), &format!("{day}T21:00")).await;
        let (status, body) = post(&server, &rae, "add_escort", &form).await;
        assert_eq!(status, 200, "{backend}: {body}");

        server.outbox_drained().await;
        let mail = sink.all().await[before..]
            .iter()
            .find(|m| m.to[0] == ESCORT && m.subject.contains("escort assignment"))
            .cloned()
            .expect("the escort is mailed");
        let (name, content_type, ics) =
            mail.attachments.iter().find(|a| a.0 == "escort.ics").expect("a calendar entry").clone();
        assert!(content_type.starts_with("text/calendar"));
        let parsed = parse_ics(&String::from_utf8(ics).unwrap()).await;
        assert_eq!(parsed["version"], "2.0", "{name}");
        let event = &parsed["events"][0];
        assert_eq!(event["summary"], "Escort Barbara Moreau (HavenConf)");
        assert_eq!(event["location"], "Main entrance");
        assert!(event["description"].as_str().unwrap().contains("+49 30 111"));
        assert!(event["start"].as_str().unwrap().ends_with(":00:00.000Z"));
        for secret in ["Someone", "feel safe"] {
            assert!(!mail.text.contains(secret) && !event.to_string().contains(secret), "{secret} reached the escort");
        }

        let escort = server.client_as(ESCORT).await;
        let (_, mine) = call_fn(&escort, &server, "my_assignments", &[]).await;
        let a =
            mine["assignments"].as_array().unwrap().iter().find(|a| a["person"] == "Barbara Moreau").unwrap().clone();
        assert_eq!(a["meeting_point"], "Main entrance");
        assert_eq!(a["acknowledged"], false);
        assert!(!mine.to_string().contains("feel safe") && !mine.to_string().contains("Someone"), "{mine}");
        assert_eq!(
            call_fn(&escort, &server, "case", &[("reference", &reference)]).await.0,
            404,
            "an escort never sees the case"
        );

        assert_eq!(
            call_fn(&escort, &server, "acknowledge_assignment", &[("assignment", a["id"].as_str().unwrap())]).await.0,
            200
        );
        let p = plan(&server, &reference).await;
        assert_eq!(p["precautions"][0]["escorts"][0]["acknowledged"], true);
        let (_, notes) = call_fn(&escort, &server, "notifications", &[]).await;
        assert!(notes.as_array().unwrap().iter().any(|n| n["kind"] == "escort_assignment"), "{notes}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn escort_windows_and_people_are_checked_and_double_booking_is_refused() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let first = new_case(&server).await;
        let second = new_case(&server).await;
        let day = first_day(&server).await;
        let rae = server.client_as(RESPONDER).await;

        let ok = escort_form(&server, &first, &format!("{day}T20:00"), &format!("{day}T21:00")).await;
        assert_eq!(post(&server, &rae, "add_escort", &ok).await.0, 200);

        // (form, expected status, the field named in the refusal)
        type Attempt = (Vec<(String, String)>, u16, &'static str);
        let cases: Vec<Attempt> = vec![
            (
                escort_form(&server, &second, &format!("{day}T21:00"), &format!("{day}T20:00")).await,
                422,
                "window 1 end",
            ),
            (escort_form(&server, &second, "2020-01-01T10:00", "2020-01-01T11:00").await, 422, "window 1"),
            (escort_form(&server, &second, "tomorrow", "later").await, 422, "window 1 start"),
            {
                let mut f = escort_form(&server, &second, &format!("{day}T10:00"), &format!("{day}T11:00")).await;
                f[1].1 = server.person_id("door@example.org").await.to_string();
                (f, 422, "escorts")
            },
            {
                let mut f = escort_form(&server, &second, &format!("{day}T10:00"), &format!("{day}T11:00")).await;
                f[1].1 = uuid::Uuid::new_v4().to_string();
                (f, 422, "escorts")
            },
            (escort_form(&server, &second, &format!("{day}T20:30"), &format!("{day}T21:30")).await, 409, ""),
        ];
        for (form, expected, field) in cases {
            let (status, body) = post(&server, &rae, "add_escort", &form).await;
            assert_eq!(status, expected, "{body}");
            if expected == 422 {
                assert!(body["detail"].as_array().unwrap().iter().any(|e| e["field"] == field), "{field}: {body}");
            } else {
                assert!(body["detail"].as_str().unwrap().contains("Eli Escort is already escorting"), "{body}");
            }
        }
        assert_eq!(plan(&server, &second).await["precautions"], serde_json::json!([]), "nothing was added");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unacknowledged_assignment_is_escalated_to_the_owner_once() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let clock = ManualClock::new(chrono::Utc::now());
        let server = TestServer::start_with(&backend, Options::default().mail(&sink).clock(clock.clone())).await;
        server.seed_demo().await;
        let reference = new_case(&server).await;
        let day = first_day(&server).await;
        let rae = server.client_as(RESPONDER).await;
        call_fn(&rae, &server, "assign_owner", &[("reference", &reference)]).await;
        let form = escort_form(&server, &reference, &format!("{day}T20:00"), &format!("{day}T21:00")).await;
        assert_eq!(post(&server, &rae, "add_escort", &form).await.0, 200);
        // The demo's own escort was made (and not acknowledged) at seeding: acknowledge it so
        // only this one can escalate.
        let escort = server.client_as(ESCORT).await;
        let (_, mine) = call_fn(&escort, &server, "my_assignments", &[]).await;
        for a in mine["assignments"].as_array().unwrap().iter().filter(|a| a["person"] != "Barbara Moreau") {
            call_fn(&escort, &server, "acknowledge_assignment", &[("assignment", a["id"].as_str().unwrap())]).await;
        }

        clock.advance(chrono::Duration::minutes(119));
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(sink.all().await.iter().all(|m| !m.subject.contains("not acknowledged")), "not yet");
        clock.advance(chrono::Duration::minutes(2));
        let mail = sink.wait_for(Duration::from_secs(10), |m| m.subject.contains("not acknowledged")).await;
        assert_eq!(mail.to, [RESPONDER], "the owner is told");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(sink.all().await.iter().filter(|m| m.subject.contains("not acknowledged")).count(), 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_assignment_starting_soon_is_escalated_the_set_time_before_it_starts() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let clock = ManualClock::new(chrono::Utc::now());
        let options = Options::default()
            .mail(&sink)
            .clock(clock.clone())
            .env("HAVEN_ESCORT_ACK_MINUTES", "300")
            .env("HAVEN_ESCORT_ACK_BEFORE_START_MINUTES", "45");
        let server = TestServer::start_with(&backend, options).await;
        server.seed_demo().await;
        let day = first_day(&server).await;
        let (_, settings) = call_fn(
            &server.client_as("organizer@example.org").await,
            &server,
            "event_settings",
            &[("slug", "havenconf")],
        )
        .await;
        let tz: chrono_tz::Tz = settings["time_zone"].as_str().unwrap().parse().unwrap();
        let local = chrono::NaiveDateTime::parse_from_str(&format!("{day}T20:00"), "%Y-%m-%dT%H:%M").unwrap();
        let starts = local.and_local_timezone(tz).single().unwrap().with_timezone(&chrono::Utc);
        // The escort is planned two hours before the walk: five hours to acknowledge would
        // run past its start, so the 45 minutes before it starts decide.
        clock.set(starts - chrono::Duration::hours(2));
        let reference = new_case(&server).await;
        let rae = server.client_as(RESPONDER).await;
        call_fn(&rae, &server, "assign_owner", &[("reference", &reference)]).await;
        let form = escort_form(&server, &reference, &format!("{day}T20:00"), &format!("{day}T21:00")).await;
        assert_eq!(post(&server, &rae, "add_escort", &form).await.0, 200);
        let ours = |m: &haven_tests::mail::Mail| m.subject.contains("not acknowledged") && m.text.contains(&reference);

        clock.advance(chrono::Duration::minutes(74));
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(!sink.all().await.iter().any(ours), "76 minutes before it starts: not yet");
        clock.advance(chrono::Duration::minutes(2));
        let mail = sink.wait_for(Duration::from_secs(10), ours).await;
        assert_eq!(mail.to, [RESPONDER], "the owner is told");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_escort_sees_only_their_own_assignments_and_door_staff_only_the_instruction() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reference = new_case(&server).await;
        let day = first_day(&server).await;
        let rae = server.client_as(RESPONDER).await;
        let form = escort_form(&server, &reference, &format!("{day}T20:00"), &format!("{day}T21:00")).await;
        assert_eq!(post(&server, &rae, "add_escort", &form).await.0, 200);
        // Alan is made an escort of the organization too, with no assignment of his own.
        server.grant_organization_role(SECOND_ESCORT, haven_app::domain::Role::Escort).await;

        let eli = server.client_as(ESCORT).await;
        let (_, mine) = call_fn(&eli, &server, "my_assignments", &[]).await;
        let assignment = mine["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["person"] == "Barbara Moreau")
            .expect("Eli's assignment")
            .clone();
        let id = assignment["id"].as_str().unwrap();

        let alan = server.client_as(SECOND_ESCORT).await;
        let (status, theirs) = call_fn(&alan, &server, "my_assignments", &[]).await;
        assert_eq!(status, 200);
        assert_eq!(theirs["assignments"], serde_json::json!([]), "another escort sees none of Eli's: {theirs}");
        let other = call_fn(&alan, &server, "acknowledge_assignment", &[("assignment", id)]).await;
        let missing =
            call_fn(&alan, &server, "acknowledge_assignment", &[("assignment", &uuid::Uuid::new_v4().to_string())])
                .await;
        assert_eq!(other, missing, "someone else's assignment is as good as missing");
        assert_eq!(other.0, 404);
        let page = alan.get(server.url("/escort")).send().await.unwrap().text().await.unwrap();
        assert!(!page.contains("Main entrance") && !page.contains("Barbara"), "{page}");
        assert_eq!(plan(&server, &reference).await["precautions"][0]["escorts"][0]["acknowledged"], false);

        // Door staff: the instruction for Ken at the door, and nothing of the case behind it.
        let dana = server.client_as("door@example.org").await;
        let token = server.badge_token("havenconf", "ken.okafor@example.org").await;
        let scan_id = uuid::Uuid::new_v4().to_string();
        let (status, answer) = call_fn(
            &dana,
            &server,
            "door_scan",
            &[("slug", "havenconf"), ("token", &token), ("scan_id", &scan_id), ("gate", "North")],
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["instruction"], "Admit, and call the safety lead on the radio.");
        let (_, dana_mine) = call_fn(&dana, &server, "my_assignments", &[]).await;
        assert_eq!(dana_mine["assignments"], serde_json::json!([]));
        for secret in ["following", "Ada", "Lovelace", "escort", "tram"] {
            assert!(!answer.to_string().contains(secret), "{secret} is not for the door: {answer}");
        }
        assert_eq!(call_fn(&dana, &server, "case", &[("reference", &reference)]).await.0, 404);
        let (_, feed) = call_fn(&dana, &server, "notifications", &[]).await;
        assert!(!feed.to_string().contains("feel safe"), "{feed}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_arrival_alert_with_unknown_staff_or_an_overlong_instruction_changes_nothing() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reference = new_case(&server).await;
        let rae = server.client_as(RESPONDER).await;
        let door = server.person_id("door@example.org").await.to_string();
        let registrant = server.person_id("ada.lovelace@example.org").await.to_string();
        let stranger = uuid::Uuid::new_v4().to_string();
        let long = "x".repeat(301);
        for (recipient, instruction, field) in [
            (stranger.as_str(), "Stay close", "recipients"),
            (registrant.as_str(), "Stay close", "recipients"),
            ("not-an-id", "Stay close", "recipients"),
            (door.as_str(), long.as_str(), "instruction"),
        ] {
            let (status, body) = call_fn(
                &rae,
                &server,
                "add_arrival_alert",
                &[("reference", &reference), ("recipients[0]", recipient), ("instruction", instruction)],
            )
            .await;
            assert_eq!(status, 422, "{recipient} {instruction}: {body}");
            assert!(body["detail"].as_array().unwrap().iter().any(|d| d["field"] == field), "{body}");
        }
        let (status, body) =
            call_fn(&rae, &server, "add_arrival_alert", &[("reference", &reference), ("instruction", "Stay close")])
                .await;
        assert_eq!(status, 422, "no one to tell: {body}");
        assert_eq!(plan(&server, &reference).await["precautions"], serde_json::json!([]), "nothing was added");

        let (status, _) = call_fn(
            &rae,
            &server,
            "add_arrival_alert",
            &[("reference", &reference), ("recipients[0]", &door), ("instruction", "Stay close")],
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(plan(&server, &reference).await["precautions"][0]["kind"], "arrival_alert");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reporter_sees_the_plan_without_door_instructions_and_answers_it() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reference = new_case(&server).await;
        let day = first_day(&server).await;
        let rae = server.client_as(RESPONDER).await;
        let form = escort_form(&server, &reference, &format!("{day}T20:00"), &format!("{day}T21:00")).await;
        post(&server, &rae, "add_escort", &form).await;
        // Both must be stored, or "the reporter never sees it" would prove nothing.
        let (status, body) = call_fn(
            &rae,
            &server,
            "add_door_instruction",
            &[("reference", &reference), ("instruction", "Admit; call Rae")],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = call_fn(
            &rae,
            &server,
            "add_arrangement",
            &[("reference", &reference), ("text", "A reserved seat near the door.")],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (_, team_view) = call_fn(&rae, &server, "case", &[("reference", &reference)]).await;
        assert!(team_view.to_string().contains("call Rae"), "{backend}: the team sees the instruction: {team_view}");
        let reporter = server.client_as(REPORTER).await;

        let (_, view) = call_fn(&reporter, &server, "case", &[("reference", &reference)]).await;
        let lines: Vec<&str> = view["arrangements"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
        assert!(lines[0].starts_with("An escort will meet you at Main entrance: "), "{backend}: {lines:?}");
        assert!(lines.contains(&"A reserved seat near the door."));
        assert!(!view.to_string().contains("call Rae"), "door instructions stay with the staff");
        assert_eq!(view["status"], "precautions_planned");

        let (status, body) = call_fn(
            &reporter,
            &server,
            "respond_to_plan",
            &[("reference", &reference), ("answer", "changes_requested")],
        )
        .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["detail"][0]["field"], "comment");
        let (status, _) = call_fn(
            &reporter,
            &server,
            "respond_to_plan",
            &[("reference", &reference), ("answer", "changes_requested"), ("comment", "Later, please: 21:30.")],
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            call_fn(&rae, &server, "respond_to_plan", &[("reference", &reference), ("answer", "accepted")]).await.0,
            404
        );
        let p = plan(&server, &reference).await;
        assert_eq!(p["response"]["answer"], "changes_requested");
        assert_eq!(p["response"]["comment"], "Later, please: 21:30.");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_escort_calendar_feed_is_valid_private_and_revocable() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let escort = server.client_as(ESCORT).await;

        let (status, url) = call_fn(&escort, &server, "renew_calendar_feed", &[]).await;
        assert_eq!(status, 200);
        let url = url.as_str().unwrap().to_owned();
        assert!(url.starts_with(&format!("{}/calendar/", server.base_url)) && url.ends_with(".ics"), "{url}");
        let feed = reqwest::get(&url).await.unwrap();
        assert_eq!(feed.headers()["content-type"], "text/calendar; charset=utf-8");
        let parsed = parse_ics(&feed.text().await.unwrap()).await;
        assert_eq!(parsed["events"][0]["summary"], "Escort Ada Lovelace (HavenConf)", "the demo's escort: {parsed}");

        let (_, newer) = call_fn(&escort, &server, "renew_calendar_feed", &[]).await;
        assert_eq!(reqwest::get(&url).await.unwrap().status(), 404, "a renewed feed's old address stops working");
        assert_eq!(reqwest::get(newer.as_str().unwrap()).await.unwrap().status(), 200);
        assert_eq!(call_fn(&escort, &server, "revoke_calendar_feed", &[]).await.0, 200);
        assert_eq!(reqwest::get(newer.as_str().unwrap()).await.unwrap().status(), 404);
        assert_eq!(reqwest::get(server.url("/calendar/not-a-token.ics")).await.unwrap().status(), 404);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_arrival_reaches_the_listed_staff_live_and_by_email_with_only_the_instruction() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        // Rae's live stream is open before Ken arrives.
        let rae = server.client_as(RESPONDER).await;
        let mut stream = rae.get(server.url("/live/notifications")).send().await.unwrap();
        assert_eq!(stream.headers()["content-type"], "text/event-stream");

        use haven_server::db::entities::event;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let e =
            event::Entity::find().filter(event::Column::Slug.eq("havenconf")).one(&server.db).await.unwrap().unwrap();
        let ken = server.person_id("ken.okafor@example.org").await;
        let started = std::time::Instant::now();
        let instructions = server.services.arrival(&e, ken, "North gate").await.unwrap();
        assert_eq!(instructions, ["Admit, and call the safety lead on the radio."]);

        let mut seen = String::new();
        while !seen.contains("Arrival at North gate") {
            let chunk = tokio::time::timeout(Duration::from_secs(2), stream.chunk())
                .await
                .expect("within a second or two")
                .unwrap()
                .unwrap();
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        assert!(seen.contains("Find Ada and stay near her."), "{seen}");
        let mail = sink
            .wait_for(Duration::from_secs(10), |m| m.to[0] == RESPONDER && m.subject.contains("Arrival alert"))
            .await;
        assert!(mail.text.contains("North gate") && mail.text.contains("Find Ada"));
        for secret in ["Ken", "Okafor", "following"] {
            assert!(!mail.text.contains(secret) && !seen.contains(secret), "{secret} is not for the alert");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_escort_whose_role_is_removed_loses_the_assignment_and_the_owner_is_told() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        let reference = new_case(&server).await;
        let day = first_day(&server).await;
        let rae = server.client_as(RESPONDER).await;
        call_fn(&rae, &server, "assign_owner", &[("reference", &reference)]).await;
        let form = escort_form(&server, &reference, &format!("{day}T20:00"), &format!("{day}T21:00")).await;
        assert_eq!(post(&server, &rae, "add_escort", &form).await.0, 200);
        let eli = server.client_as(ESCORT).await;
        let (_, mine) = call_fn(&eli, &server, "my_assignments", &[]).await;
        assert!(mine["assignments"].as_array().unwrap().iter().any(|a| a["person"] == "Barbara Moreau"));

        let org = server.client_as("organizer@example.org").await;
        let (_, staff) = call_fn(&org, &server, "staff", &[("slug", "havenconf")]).await;
        let role = staff["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "Eli Escort" && m["role"] == "escort")
            .expect("Eli escorts at HavenConf")["role_id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(call_fn(&org, &server, "revoke_role", &[("slug", "havenconf"), ("role_id", &role)]).await.0, 200);

        let (_, mine) = call_fn(&eli, &server, "my_assignments", &[]).await;
        assert_eq!(mine["assignments"], serde_json::json!([]), "no more who, where and how to reach: {mine}");
        let mail = sink
            .wait_for(Duration::from_secs(10), |m| {
                m.to[0] == RESPONDER && m.subject.contains("has no escort any more") && m.text.contains(&reference)
            })
            .await;
        assert!(!mail.text.contains("Eli") && !mail.text.contains("Barbara"), "{}", mail.text);
        let (_, notes) = call_fn(&rae, &server, "notifications", &[]).await;
        assert!(notes.as_array().unwrap().iter().any(|n| n["kind"] == "escort_gone"), "{notes}");
    }
}
