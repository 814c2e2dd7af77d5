//! Concerns and cases: filing (with and without mistakes), what each person sees, the
//! team's work, recusal, matching, reminders, confidentiality at rest, reliable mail.

use haven_server::clock::ManualClock;
use haven_tests::{MailSink, Options, TestServer, backends, call_fn, haven_bin};
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use std::time::Duration;

const REPORTER: &str = "barbara.moreau@example.org";
const RESPONDER: &str = "responder@example.org";
const RESPONDER2: &str = "responder2@example.org";

fn concern(fields: &[(&str, &str)]) -> Form {
    fields.iter().fold(Form::new(), |f, (k, v)| f.text(k.to_string(), v.to_string()))
}

/// Files a concern as a browser form would; returns the redirect target.
async fn file(server: &TestServer, client: &reqwest::Client, form: Form) -> String {
    let res = client.post(server.url("/events/havenconf/concern")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    res.headers()["location"].to_str().unwrap().to_owned()
}

fn reference_in(location: &str) -> String {
    location
        .strip_prefix("/cases/")
        .and_then(|r| r.split('?').next())
        .unwrap_or_else(|| panic!("{location}"))
        .to_owned()
}

async fn file_ok(server: &TestServer, who: &str, fields: &[(&str, &str)]) -> String {
    let client = server.client_as(who).await;
    reference_in(&file(server, &client, concern(fields)).await)
}

async fn case(server: &TestServer, client: &reqwest::Client, reference: &str) -> (u16, Value) {
    call_fn(client, server, "case", &[("reference", reference)]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registrant_files_a_concern_sees_it_and_the_team_is_told_without_its_content() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;

        let reference = file_ok(
            &server,
            REPORTER,
            &[
                ("person_name", "Alan Okafor"),
                ("narrative", "He shouted at me during the workshop and later waited outside."),
                ("wish_escort", "on"),
                ("escort_times", "evenings"),
                ("contact_channel", "phone"),
                ("contact_detail", "+49 30 1234567"),
            ],
        )
        .await;

        let reporter = server.client_as(REPORTER).await;
        let (status, view) = case(&server, &reporter, &reference).await;
        assert_eq!(status, 200, "{backend}: {view}");
        assert_eq!(view["view"], "reporter");
        assert_eq!(view["status"], "new");
        assert_eq!(view["narrative"], "He shouted at me during the workshop and later waited outside.");
        assert!(view.get("notes").is_none(), "no team-only fields for the reporter");

        let team = server.client_as(RESPONDER).await;
        let (status, team_view) = case(&server, &team, &reference).await;
        assert_eq!(status, 200);
        assert_eq!(team_view["view"], "team");
        assert_eq!(team_view["contact_detail"], "+49 30 1234567");
        assert_eq!(team_view["wishes"]["escort_times"], "evenings");

        let received =
            sink.wait_for(Duration::from_secs(10), |m| m.to[0] == REPORTER && m.subject.contains(&reference)).await;
        let told =
            sink.wait_for(Duration::from_secs(10), |m| m.to[0] == RESPONDER && m.subject.contains("new report")).await;
        for mail in [&received, &told] {
            for secret in ["shouted", "Alan", "Okafor", "workshop", "+49"] {
                assert!(!mail.text.contains(secret) && !mail.subject.contains(secret), "{secret} leaked by e-mail");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_concern_comes_back_with_what_was_typed_and_what_to_fix() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reporter = server.client_as(REPORTER).await;

        let location = file(
            &server,
            &reporter,
            concern(&[
                ("person_email", "not an address"),
                ("narrative", "Kept typing this very carefully."),
                ("witnesses", "yes"),
            ]),
        )
        .await;
        assert!(location.starts_with("/events/havenconf/concern?draft="), "{location}");
        let draft = location.split("draft=").nth(1).unwrap();

        let (status, view) =
            call_fn(&reporter, &server, "concern_form", &[("slug", "havenconf"), ("draft", draft)]).await;
        assert_eq!(status, 200);
        assert_eq!(view["form"]["narrative"], "Kept typing this very carefully.");
        assert_eq!(view["form"]["witnesses"], "yes");
        assert_eq!(view["errors"][0]["field"], "person_email");
        let page = reporter.get(server.url(&location)).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("Kept typing this very carefully."), "the page shows what was typed");
        assert!(page.contains("is not an e-mail address"), "and what to fix");

        // Someone else holding the draft's address sees an empty form.
        let other = server.client_as("ken.okafor@example.org").await;
        let (_, theirs) = call_fn(&other, &server, "concern_form", &[("slug", "havenconf"), ("draft", draft)]).await;
        assert_eq!(theirs["form"]["narrative"], "");

        let (_, mine) = call_fn(&reporter, &server, "my_page", &[]).await;
        assert_eq!(mine["cases"], serde_json::json!([]), "nothing was filed");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_photo_is_checked_by_its_content_not_its_name() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reporter = server.client_as(REPORTER).await;
        let base = [("person_name", "Someone"), ("narrative", "Something.")];

        let fake = concern(&base).part("photo", Part::bytes(b"%PDF-1.7 not an image".to_vec()).file_name("me.jpg"));
        let location = file(&server, &reporter, fake).await;
        let draft = location.split("draft=").nth(1).expect("refused");
        let (_, view) = call_fn(&reporter, &server, "concern_form", &[("slug", "havenconf"), ("draft", draft)]).await;
        assert_eq!(view["photo_error"], "the photo must be a JPEG, PNG, WebP or GIF image");
        assert_eq!(view["form"]["narrative"], "Something.");

        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        let real = concern(&base).part("photo", Part::bytes(png).file_name("photo.png"));
        let reference = reference_in(&file(&server, &reporter, real).await);
        let (_, team) = case(&server, &server.client_as(RESPONDER).await, &reference).await;
        assert_eq!(team["attachments"][0]["content_type"], "image/png");
        assert_eq!(team["attachments"][0]["kind"], "subject_photo");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_in_from_the_concern_form_leads_back_to_it() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        let browser = server.client();

        let (status, _) = call_fn(&browser, &server, "concern_form", &[("slug", "havenconf")]).await;
        assert_eq!(status, 401);
        call_fn(
            &browser,
            &server,
            "request_signin_link",
            &[("email", REPORTER), ("return_to", "/events/havenconf/concern")],
        )
        .await;
        let mail =
            sink.wait_for(Duration::from_secs(10), |m| m.to[0] == REPORTER && m.subject.contains("sign-in")).await;
        let token = mail
            .text
            .split_whitespace()
            .find(|w| w.contains("/auth/link/"))
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned();
        let res =
            browser.post(server.url("/fn/redeem_signin_link")).form(&[("token", token.as_str())]).send().await.unwrap();
        assert_eq!(res.headers()["location"], "/events/havenconf/concern");
        let (status, view) = call_fn(&browser, &server, "concern_form", &[("slug", "havenconf")]).await;
        assert_eq!(status, 200);
        assert_eq!(view["may_file"], true);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn only_people_registered_for_the_event_may_file_there() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let org = server.client_as("organizer@example.org").await;
        call_fn(&org, &server, "add_registration", &[("slug", "havenconf"), ("name", "X"), ("email", "x@example.net")])
            .await;
        let tx = server.services.begin().await.unwrap();
        let name = haven_app::domain::DisplayName::parse("n", "Stranger").unwrap();
        let email = haven_app::domain::EmailAddress::parse("e", "stranger@example.net").unwrap();
        haven_server::services::auth::person_for_email(&tx, chrono::Utc::now(), None, &name, &email).await.unwrap();
        tx.commit().await.unwrap();
        let stranger = server.client_as("stranger@example.net").await;

        let res = stranger
            .post(server.url("/events/havenconf/concern"))
            .multipart(concern(&[("person_name", "A"), ("narrative", "B")]))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 409);
        assert!(res.text().await.unwrap().contains("only people registered for this event"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_person_named_and_a_recused_responder_find_nothing_anywhere() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        server.outbox_drained().await;
        let told = |to: &'static str| {
            let sink = sink.clone();
            async move { sink.to(to).await.iter().filter(|m| m.subject.contains("new report")).count() }
        };
        let (rae_before, sam_before) = (told(RESPONDER).await, told(RESPONDER2).await);
        // A concern naming responder2 by address: they are recused automatically.
        let about_responder = file_ok(
            &server,
            REPORTER,
            &[
                ("person_name", "Sam"),
                ("person_email", "Responder2@Example.org"),
                ("narrative", "Uncomfortable remarks."),
            ],
        )
        .await;
        // A concern naming Ken, who is registered.
        let about_ken =
            file_ok(&server, REPORTER, &[("person_name", "Ken Okafor"), ("narrative", "He follows me.")]).await;

        // A recused responder is not even told the case exists.
        server.outbox_drained().await;
        assert_eq!(told(RESPONDER).await - rae_before, 2, "{backend}");
        assert_eq!(told(RESPONDER2).await - sam_before, 1, "{backend}: only of the case about Ken");

        let missing = "HVN-0000-0000";
        for (who, reference) in [(RESPONDER2, &about_responder), ("ken.okafor@example.org", &about_ken)] {
            let client = server.client_as(who).await;
            let seen = case(&server, &client, reference).await;
            let never = case(&server, &client, missing).await;
            assert_eq!(seen, never, "{backend}: {who} must find nothing");
            assert_eq!(seen.0, 404);
            for name in ["send_message", "add_note", "declare_conflict"] {
                let a = call_fn(&client, &server, name, &[("reference", reference), ("body", "x")]).await;
                let b = call_fn(&client, &server, name, &[("reference", missing), ("body", "x")]).await;
                assert_eq!(a, b, "{who} {name}");
            }
        }
        let queue =
            call_fn(&server.client_as(RESPONDER2).await, &server, "case_queue", &[("slug", "havenconf")]).await.1;
        let refs: Vec<&str> =
            queue["rows"].as_array().unwrap().iter().map(|r| r["reference"].as_str().unwrap()).collect();
        assert!(!refs.contains(&about_responder.as_str()), "{refs:?}");
        assert!(refs.contains(&about_ken.as_str()));

        // Declaring a conflict makes a case vanish for that responder.
        let rae = server.client_as(RESPONDER).await;
        assert_eq!(call_fn(&rae, &server, "declare_conflict", &[("reference", &about_ken)]).await.0, 200);
        assert_eq!(case(&server, &rae, &about_ken).await.0, 404);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_team_handles_a_case_and_the_reporter_sees_status_messages_and_who_read_it() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        let reference =
            file_ok(&server, REPORTER, &[("person_name", "Alan Okafor"), ("narrative", "It happened.")]).await;
        let rae = server.client_as(RESPONDER).await;
        let reporter = server.client_as(REPORTER).await;
        let act = |name: &'static str, fields: Vec<(&'static str, String)>| {
            let rae = rae.clone();
            let server = &server;
            let reference = reference.clone();
            async move {
                let mut form: Vec<(&str, String)> = vec![("reference", reference)];
                form.extend(fields);
                let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                call_fn(&rae, server, name, &form).await
            }
        };

        assert_eq!(act("change_status", vec![("status", "acknowledged".into())]).await.0, 200);
        let (status, body) = act("change_status", vec![("status", "new".into())]).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(act("assign_owner", vec![]).await.0, 200);
        assert_eq!(act("add_note", vec![("body", "Internal: check the badge logs.".into())]).await.0, 200);
        assert_eq!(act("send_message", vec![("body", "We are on it.".into())]).await.0, 200);
        assert_eq!(act("add_witness", vec![("name", "Radia".into()), ("statement", "Saw it.".into())]).await.0, 200);
        assert_eq!(act("add_witness", vec![("name", "".into())]).await.0, 422);
        assert_eq!(act("change_status", vec![("status", "investigating".into())]).await.0, 200);
        assert_eq!(
            call_fn(&reporter, &server, "send_message", &[("reference", &reference), ("body", "Thank you.")]).await.0,
            200
        );
        let (_, team) = case(&server, &rae, &reference).await;

        let (_, mine) = case(&server, &reporter, &reference).await;
        assert_eq!(mine["status"], "investigating");
        let messages: Vec<(&str, &str)> = mine["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["author"].as_str().unwrap(), m["body"].as_str().unwrap()))
            .collect();
        assert_eq!(messages, [("Safety team", "We are on it."), ("You", "Thank you.")]);
        assert!(!mine.to_string().contains("badge logs"), "notes stay with the team");
        assert!(mine["readers"].as_array().unwrap().iter().any(|r| r["name"] == "Rae Responder"), "{mine}");

        assert_eq!(team["owner"]["name"], "Rae Responder");
        let history: Vec<&str> =
            team["history"].as_array().unwrap().iter().map(|h| h["to"].as_str().unwrap()).collect();
        assert_eq!(history, ["new", "acknowledged", "investigating"]);
        assert_eq!(team["notes"][0]["body"], "Internal: check the badge logs.");
        assert_eq!(team["witness_entries"][0]["name"], "Radia");

        // The owner hears that the reporter wrote; the reporter hears there is news.
        sink.wait_for(Duration::from_secs(10), |m| m.to[0] == RESPONDER && m.subject.contains("Activity")).await;
        let news = sink.wait_for(Duration::from_secs(10), |m| m.to[0] == REPORTER && m.subject.contains("News")).await;
        assert!(!news.text.contains("on it"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn matching_offers_registrations_with_reasons_and_a_later_registration_alerts_the_owner() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        let reference = file_ok(
            &server,
            REPORTER,
            &[("person_name", "Okafor Ken"), ("person_handle", "@newcomer_x"), ("narrative", "Watch out.")],
        )
        .await;
        let rae = server.client_as(RESPONDER).await;
        call_fn(&rae, &server, "assign_owner", &[("reference", &reference)]).await;

        let (_, view) = case(&server, &rae, &reference).await;
        let ken =
            view["candidates"].as_array().unwrap().iter().find(|c| c["name"] == "Ken Okafor").expect("Ken matches");
        assert_eq!(ken["reasons"][0], "same name");
        let ken_id = ken["person_id"].as_str().unwrap().to_owned();
        assert_eq!(
            call_fn(&rae, &server, "confirm_match", &[("reference", &reference), ("person", &ken_id)]).await.0,
            200
        );
        let (_, view) = case(&server, &rae, &reference).await;
        assert_eq!(view["linked"][0]["name"], "Ken Okafor");
        assert!(
            view["same_person"].as_array().unwrap().iter().any(|c| c["relation"] == "names the same person"),
            "the demo's case about Ken is shown together: {}",
            view["same_person"]
        );
        let stranger = uuid::Uuid::new_v4().to_string();
        assert_eq!(
            call_fn(&rae, &server, "confirm_match", &[("reference", &reference), ("person", &stranger)]).await.0,
            422
        );

        // Someone whose e-mail name is the handle registers later: the owner is told.
        let org = server.client_as("organizer@example.org").await;
        call_fn(
            &org,
            &server,
            "add_registration",
            &[("slug", "havenconf"), ("name", "N. X."), ("email", "newcomer_x@example.net")],
        )
        .await;
        let mail = sink
            .wait_for(Duration::from_secs(10), |m| m.to[0] == RESPONDER && m.subject.contains("may concern a report"))
            .await;
        assert!(!mail.text.contains("newcomer"), "the e-mail names no one");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unacknowledged_case_is_flagged_overdue_and_the_team_reminded_once() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let clock = ManualClock::new(chrono::Utc::now());
        let server = TestServer::start_with(&backend, Options::default().mail(&sink).clock(clock.clone())).await;
        server.seed_demo().await;
        let reference = file_ok(&server, REPORTER, &[("person_name", "Someone"), ("narrative", "Please help.")]).await;
        let rae = server.client_as(RESPONDER).await;
        let row = |q: &Value| {
            q["rows"].as_array().unwrap().iter().find(|r| r["reference"] == reference.as_str()).unwrap().clone()
        };

        let (_, queue) = call_fn(&rae, &server, "case_queue", &[("slug", "havenconf")]).await;
        assert_eq!(row(&queue)["overdue"], false);
        clock.advance(chrono::Duration::hours(24) + chrono::Duration::minutes(1));
        let rae = server.client_as(RESPONDER).await;
        let (_, queue) = call_fn(&rae, &server, "case_queue", &[("slug", "havenconf")]).await;
        assert_eq!(row(&queue)["overdue"], true);
        assert_eq!(queue["rows"][0]["overdue"], true, "overdue cases come first");

        let reminder =
            sink.wait_for(Duration::from_secs(10), |m| m.to[0] == RESPONDER && m.subject.contains("waiting")).await;
        assert!(reminder.text.contains("/respond/havenconf"));
        tokio::time::sleep(Duration::from_secs(2)).await;
        let reminders = sink.to(RESPONDER).await.into_iter().filter(|m| m.subject.contains("waiting")).count();
        assert_eq!(reminders, 2, "one per unacknowledged case: this one and the demo's case that is still new");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recused_responder_is_never_counted_reminded_or_mailed_about_the_case() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let clock = ManualClock::new(chrono::Utc::now());
        let server = TestServer::start_with(&backend, Options::default().mail(&sink).clock(clock.clone())).await;
        server.seed_demo().await;
        let open_cases = |who: &'static str| {
            let server = &server;
            async move {
                let (_, home) = call_fn(&server.client_as(who).await, server, "respond_home", &[]).await;
                let e = home["events"].as_array().unwrap().iter().find(|e| e["slug"] == "havenconf").unwrap().clone();
                (e["open_cases"].as_u64().unwrap(), e["overdue"].as_u64().unwrap())
            }
        };
        let (rae_before, sam_before) = (open_cases(RESPONDER).await, open_cases(RESPONDER2).await);
        let about_sam = file_ok(
            &server,
            REPORTER,
            &[("person_name", "Sam R."), ("person_email", "responder2@example.org"), ("narrative", "About Sam.")],
        )
        .await;
        assert_eq!(open_cases(RESPONDER).await.0, rae_before.0 + 1);
        assert_eq!(open_cases(RESPONDER2).await.0, sam_before.0, "the case about Sam is not in Sam's count");
        let search = |who: &'static str, query: String| {
            let server = &server;
            async move {
                let client = server.client_as(who).await;
                let (status, q) =
                    call_fn(&client, server, "case_queue", &[("slug", "havenconf"), ("query", &query)]).await;
                assert_eq!(status, 200, "{q}");
                assert_eq!(q["query"], query.trim());
                q["rows"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["reference"].as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            }
        };
        for query in [about_sam.clone(), about_sam.to_lowercase(), " Sam R. ".to_owned()] {
            assert_eq!(
                search(RESPONDER, query.clone()).await,
                std::slice::from_ref(&about_sam),
                "Rae finds it by {query:?}"
            );
            assert!(search(RESPONDER2, query.clone()).await.is_empty(), "Sam finds nothing by {query:?}");
        }
        assert!(!search(RESPONDER, "Ken Okafor".to_owned()).await.is_empty(), "the demo's case about Ken");
        assert!(search(RESPONDER, "no such words".to_owned()).await.is_empty());

        // A day later it is overdue: Rae is reminded of it, Sam of none that concerns him.
        clock.advance(chrono::Duration::hours(24) + chrono::Duration::minutes(1));
        let overdue_rows = |who: &'static str| {
            let server = &server;
            async move {
                let (_, q) =
                    call_fn(&server.client_as(who).await, server, "case_queue", &[("slug", "havenconf")]).await;
                q["rows"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|r| r["overdue"] == true)
                    .map(|r| r["reference"].as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            }
        };
        let (rae_overdue, sam_overdue) = (overdue_rows(RESPONDER).await, overdue_rows(RESPONDER2).await);
        assert!(rae_overdue.contains(&about_sam) && !sam_overdue.contains(&about_sam));
        assert_eq!(open_cases(RESPONDER2).await.1 as usize, sam_overdue.len(), "Sam's overdue count leaves it out too");
        let reminders = |to: &'static str| {
            let sink = sink.clone();
            async move { sink.to(to).await.iter().filter(|m| m.subject.contains("waiting")).count() }
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while reminders(RESPONDER).await < rae_overdue.len() && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(reminders(RESPONDER).await, rae_overdue.len(), "one reminder per overdue case Rae may see");
        assert_eq!(reminders(RESPONDER2).await, sam_overdue.len(), "none for the case about Sam");

        // Sam owns a case, then declares a conflict: he is no longer its owner, and news of
        // it goes to the rest of the team, not to him.
        let other = file_ok(&server, REPORTER, &[("person_name", "Someone else"), ("narrative", "Later.")]).await;
        let sam = server.client_as(RESPONDER2).await;
        assert_eq!(call_fn(&sam, &server, "assign_owner", &[("reference", &other)]).await.0, 200);
        assert_eq!(call_fn(&sam, &server, "declare_conflict", &[("reference", &other)]).await.0, 200);
        server.outbox_drained().await;
        let activity = |to: &'static str| {
            let sink = sink.clone();
            async move { sink.to(to).await.iter().filter(|m| m.subject.contains("Activity")).count() }
        };
        let (rae_activity, sam_activity) = (activity(RESPONDER).await, activity(RESPONDER2).await);
        let reporter = server.client_as(REPORTER).await;
        assert_eq!(
            call_fn(&reporter, &server, "send_message", &[("reference", &other), ("body", "One more thing.")]).await.0,
            200
        );
        server.outbox_drained().await;
        assert_eq!(activity(RESPONDER).await, rae_activity + 1, "the team hears of it");
        assert_eq!(activity(RESPONDER2).await, sam_activity, "the recused former owner does not");
        let (_, view) = case(&server, &server.client_as(RESPONDER).await, &other).await;
        assert_eq!(view["owner"], Value::Null);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn matching_looks_at_the_organizations_other_events_but_not_other_organizations() {
    for backend in backends() {
        use haven_server::db::entities::{event, organization, person, registration};
        use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let now = chrono::Utc::now();
        let demo =
            event::Entity::find().filter(event::Column::Slug.eq("havenconf")).one(&server.db).await.unwrap().unwrap();
        let other_org = uuid::Uuid::new_v4();
        organization::Entity::insert(organization::ActiveModel {
            id: Set(other_org),
            slug: Set("elsewhere".into()),
            name: Set("Elsewhere".into()),
            created_at: Set(now),
            second_factor_required: Set(false),
            accept_provider_mfa: Set(false),
            retention_days: Set(365),
        })
        .exec(&server.db)
        .await
        .unwrap();
        // Quentin is registered only at last year's meetup of the same organization; Quincy
        // only at another organization's event.
        for (slug, name, org, who, email) in [
            ("meetup-2026", "Meetup 2026", demo.organization_id, "Quentin Zephyr", "qz@example.net"),
            ("their-fest", "Their Fest", other_org, "Quincy Zephyr", "quincy@example.net"),
        ] {
            let ev = uuid::Uuid::new_v4();
            event::Entity::insert(event::ActiveModel {
                id: Set(ev),
                organization_id: Set(org),
                slug: Set(slug.into()),
                name: Set(name.into()),
                venue: Set("Hall".into()),
                time_zone: Set("UTC".into()),
                starts_at: Set(now - chrono::Duration::days(300)),
                ends_at: Set(now - chrono::Duration::days(299)),
                ack_hours: Set(24),
                created_at: Set(now),
            })
            .exec(&server.db)
            .await
            .unwrap();
            let p = uuid::Uuid::new_v4();
            person::Entity::insert(person::ActiveModel {
                id: Set(p),
                display_name: Set(who.into()),
                email: Set(Some(email.into())),
                email_normalized: Set(Some(email.into())),
                created_at: Set(now),
                ..Default::default()
            })
            .exec(&server.db)
            .await
            .unwrap();
            registration::Entity::insert(registration::ActiveModel {
                id: Set(uuid::Uuid::new_v4()),
                event_id: Set(ev),
                person_id: Set(p),
                status: Set("active".into()),
                created_at: Set(now),
                ..Default::default()
            })
            .exec(&server.db)
            .await
            .unwrap();
        }
        let reference = file_ok(
            &server,
            REPORTER,
            &[("person_name", "Quentin Zephyr"), ("person_email", "QZ@example.net"), ("narrative", "From last year.")],
        )
        .await;
        let (_, view) = case(&server, &server.client_as(RESPONDER).await, &reference).await;
        let candidates = view["candidates"].as_array().unwrap();
        let quentin = candidates.iter().find(|c| c["name"] == "Quentin Zephyr").expect("matched at the other event");
        assert_eq!(quentin["events"], serde_json::json!(["Meetup 2026"]), "{quentin}");
        assert!(quentin["reasons"].as_array().unwrap().iter().any(|r| r == "same e-mail address"), "{quentin}");
        assert!(!view.to_string().contains("Quincy"), "another organization's registrants are never offered: {view}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_read_of_a_narrative_is_in_the_access_log_and_the_audit_chain() {
    for backend in backends() {
        use haven_server::db::entities::{audit_log, case as case_entity};
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reference = file_ok(&server, REPORTER, &[("person_name", "Someone"), ("narrative", "Read me.")]).await;
        let c = case_entity::Entity::find()
            .filter(case_entity::Column::Reference.eq(&reference))
            .one(&server.db)
            .await
            .unwrap()
            .unwrap();
        let reads = || async {
            audit_log::Entity::find()
                .filter(audit_log::Column::Action.eq("case.read"))
                .filter(audit_log::Column::SubjectId.eq(c.id))
                .all(&server.db)
                .await
                .unwrap()
        };
        assert!(reads().await.is_empty());
        let rae = server.client_as(RESPONDER).await;
        assert_eq!(case(&server, &rae, &reference).await.0, 200);
        let logged = reads().await;
        assert_eq!(logged.len(), 1, "one entry for Rae's read");
        assert_eq!(logged[0].actor_id, Some(server.person_id(RESPONDER).await));
        // Reading it is what the reporter sees in "who has read it".
        let (_, mine) = case(&server, &server.client_as(REPORTER).await, &reference).await;
        assert!(mine["readers"].as_array().unwrap().iter().any(|r| r["name"] == "Rae Responder"), "{mine}");
        let out = std::process::Command::new(haven_bin())
            .args(["audit", "verify"])
            .env_clear()
            .env("HAVEN_DATABASE_URL", &server.database.url)
            .env("HAVEN_DATA_DIR", &server.database.dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "the chain holds the reads: {}", String::from_utf8_lossy(&out.stdout));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_linked_as_retaliation_is_flagged_to_the_team() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let first = file_ok(&server, REPORTER, &[("person_name", "Alan Okafor"), ("narrative", "First.")]).await;
        let second = file_ok(
            &server,
            "alan.okafor@example.org",
            &[("person_name", "Barbara Moreau"), ("narrative", "Counter-claim.")],
        )
        .await;
        let rae = server.client_as(RESPONDER).await;

        let (status, _) = call_fn(
            &rae,
            &server,
            "relate_case",
            &[("reference", &second), ("earlier", &first), ("relation", "retaliation_against_reporter")],
        )
        .await;
        assert_eq!(status, 200);
        let (status, _) = call_fn(
            &rae,
            &server,
            "relate_case",
            &[("reference", &first), ("earlier", &second), ("relation", "false_information")],
        )
        .await;
        assert_eq!(status, 422, "only an earlier case");

        let (_, queue) = call_fn(&rae, &server, "case_queue", &[("slug", "havenconf")]).await;
        let flagged = queue["rows"].as_array().unwrap().iter().find(|r| r["reference"] == second.as_str()).unwrap();
        assert_eq!(flagged["flag"], "possible retaliation against the reporter of");
        let (_, earlier) = case(&server, &rae, &first).await;
        assert!(earlier["related"][0]["relation"].as_str().unwrap().contains("retaliation"), "{}", earlier["related"]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_case_text_is_in_a_copy_of_the_database() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reference = file_ok(
            &server,
            REPORTER,
            &[
                ("person_name", "Quentin Zebedee"),
                ("person_handle", "@quentinzz"),
                ("narrative", "Xylophone incident near the marmalade stand."),
                ("contact_channel", "phone"),
                ("contact_detail", "+31 6 98765432"),
                ("witness_details", "Ophelia Wintergreen"),
            ],
        )
        .await;
        let rae = server.client_as(RESPONDER).await;
        // Each must be stored, or the "not readable" checks below would pass for nothing.
        let (status, body) =
            call_fn(&rae, &server, "add_note", &[("reference", &reference), ("body", "Quixotic note about parsnips.")])
                .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) =
            call_fn(&rae, &server, "send_message", &[("reference", &reference), ("body", "Marzipan reply.")]).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = call_fn(
            &rae,
            &server,
            "add_witness",
            &[("reference", &reference), ("name", "Ferdinand Holloway"), ("statement", "Saw zeppelins.")],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let attach =
            Form::new().part("file", Part::bytes(b"Evidence about kumquats".to_vec()).file_name("kumquats.txt"));
        let res =
            rae.post(server.url(&format!("/cases/{reference}/attachments"))).multipart(attach).send().await.unwrap();
        assert_eq!(res.status(), 303);
        let (_, view) = case(&server, &rae, &reference).await;
        let id = view["attachments"][0]["id"].as_str().unwrap();
        let download = rae.get(server.url(&format!("/cases/{reference}/attachments/{id}"))).send().await.unwrap();
        assert_eq!(download.headers()["content-disposition"], "attachment; filename=\"kumquats.txt\"");
        assert_eq!(download.text().await.unwrap(), "Evidence about kumquats");

        // Copy the database (SQLite: the main file and write-ahead log; PostgreSQL: a dump
        // with pg_dump) and search the copy.
        let mut bytes = Vec::new();
        match server.database.sqlite_dir() {
            Some(dir) => {
                for entry in std::fs::read_dir(dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path.file_name().unwrap().to_string_lossy().starts_with("haven.db") {
                        bytes.extend(std::fs::read(&path).unwrap());
                    }
                }
            }
            None => {
                let dump = std::process::Command::new("pg_dump").arg(&server.database.url).output().unwrap();
                assert!(dump.status.success(), "{}", String::from_utf8_lossy(&dump.stderr));
                bytes = dump.stdout;
            }
        }
        assert!(bytes.len() > 10_000);
        let haystack = String::from_utf8_lossy(&bytes).to_lowercase();
        for secret in [
            "quentin",
            "zebedee",
            "quentinzz",
            "xylophone",
            "marmalade",
            "98765432",
            "ophelia",
            "quixotic",
            "parsnips",
            "marzipan",
            "ferdinand",
            "zeppelins",
            "kumquats",
        ] {
            assert!(!haystack.contains(secret), "{secret:?} is readable in the database files");
        }
        assert!(haystack.contains("barbara moreau"), "the search itself works: registrations are plain");
    }
}

/// Every sealed column in the schema, with the key of each value in it.
/// What `sealed_values` says of a value sealed with a case's or decision's data key.
const DATA_KEY: &str = "(data key)";

async fn sealed_values(db: &sea_orm::DatabaseConnection) -> Vec<(String, String, String)> {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = db.get_database_backend();
    let columns_sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
             WHERE table_schema = 'public' AND column_name LIKE '%\\_enc' ESCAPE '\\' ORDER BY 1, 2"
        }
        _ => {
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND p.name LIKE '%\\_enc' ESCAPE '\\' ORDER BY 1, 2"
        }
    };
    let columns = db.query_all_raw(Statement::from_string(backend, columns_sql)).await.unwrap();
    let mut out = Vec::new();
    for row in columns {
        let (t, c): (String, String) = (row.try_get("", "t").unwrap(), row.try_get("", "c").unwrap());
        let sql = format!("SELECT {c} AS v FROM {t} WHERE {c} IS NOT NULL");
        for value in db.query_all_raw(Statement::from_string(backend, sql)).await.unwrap() {
            let sealed: String = value.try_get("", "v").unwrap();
            if sealed.is_empty() {
                continue; // a delivered mail's blanked body
            }
            let key = match haven_server::crypto::data_keys::key_of(sealed.lines().next().unwrap_or_default()) {
                Some(_) => DATA_KEY.to_owned(),
                None => haven_server::crypto::fields::Keyring::key_of(&sealed).unwrap_or("(none)").to_owned(),
            };
            out.push((t.clone(), c.clone(), key));
        }
        out.push((t, c, String::new()));
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn haven_keys_rotate_rewraps_every_data_key_and_everything_stays_readable() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reference = file_ok(&server, REPORTER, &[("person_name", "Someone"), ("narrative", "Rotate me.")]).await;
        // A scan of Ken stores the door instruction it showed (sealed) and uses a badge key.
        let device = server.device_token("havenconf").await;
        let ken_badge = server.badge_token("havenconf", "ken.okafor@example.org").await;
        assert_eq!(server.scan(&device, &ken_badge).await["result"], "alert");
        // The arrival alert it starts seals notifications of its own: let them land first,
        // and let waiting mail go out (sending blanks it), so the count below is stable.
        server.outbox_drained().await;
        let mut before = sealed_values(&server.db).await;
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let again = sealed_values(&server.db).await;
            if again.len() == before.len() {
                break;
            }
            before = again;
        }
        let schema: std::collections::BTreeSet<(String, String)> =
            before.iter().map(|(t, c, _)| (t.clone(), c.clone())).collect();
        let listed: std::collections::BTreeSet<(String, String)> =
            haven_server::crypto::sealed::ALL.iter().map(|c| (c.table.to_string(), c.column.to_string())).collect();
        assert_eq!(schema, listed, "every sealed column of the schema is rotated, and only those");
        let wrapped = |k: &str| !k.is_empty() && k != DATA_KEY;
        let old_key = before.iter().find(|(_, _, k)| wrapped(k)).unwrap().2.clone();
        // Case text is under its case's (or decision's) data key; the data keys, badge keys
        // and what belongs to no case under the wrapping key.
        for table in ["cases", "scans", "decisions", "precautions", "notifications"] {
            assert!(before.iter().any(|(t, _, k)| t == table && k == DATA_KEY), "the demo has sealed {table}");
        }
        for table in ["data_keys", "badge_keys"] {
            assert!(before.iter().any(|(t, _, k)| t == table && *k == old_key), "the demo has sealed {table}");
        }

        let out = std::process::Command::new(haven_bin())
            .args(["keys", "rotate"])
            .env_clear()
            .env("HAVEN_DATABASE_URL", &server.database.url)
            .env("HAVEN_DATA_DIR", &server.database.dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.starts_with("re-encrypted "), "{said}");

        let after = sealed_values(&server.db).await;
        let new_key = after.iter().find(|(_, _, k)| wrapped(k)).unwrap().2.clone();
        assert_ne!(new_key, old_key);
        for (t, c, k) in after.iter().filter(|(_, _, k)| wrapped(k)) {
            assert_eq!(*k, new_key, "{t}.{c} is still sealed under the old key");
        }
        let count = |v: &[(String, String, String)]| v.iter().filter(|(_, _, k)| wrapped(k)).count();
        let under_data_keys = |v: &[(String, String, String)]| v.iter().filter(|(_, _, k)| k == DATA_KEY).count();
        assert_eq!(count(&after), count(&before));
        assert_eq!(under_data_keys(&after), under_data_keys(&before), "case text is not re-encrypted");
        assert!(said.contains(&format!("re-encrypted {} value(s)", count(&before))), "{said}");
        assert!(said.contains(new_key.as_str()) && said.contains(&old_key), "both keys stay configured: {said}");

        // The running server reads what is now sealed under the new key.
        let (status, view) = case(&server, &server.client_as(REPORTER).await, &reference).await;
        assert_eq!(status, 200);
        assert_eq!(view["narrative"], "Rotate me.");
        let (status, home) = call_fn(&server.client_as("admin@example.org").await, &server, "decide_home", &[]).await;
        assert_eq!(status, 200, "{home}");
        let recent = home["recent"].as_array().unwrap();
        assert!(!recent.is_empty() && recent.iter().all(|d| !d["reasons"].as_str().unwrap().is_empty()), "{home}");
        let ada_badge = server.badge_token("havenconf", "ada.lovelace@example.org").await;
        assert_eq!(server.scan(&device, &ada_badge).await["result"], "admit", "new badges are still signed");
        assert_eq!(
            server.scan(&device, &ken_badge).await["instruction"],
            "Admit, and call the safety lead on the radio."
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_waits_out_an_smtp_outage_and_two_instances_deliver_each_message_once() {
    let backend = backends().pop().unwrap();
    let sink = MailSink::start().await;
    let first = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
    let second = TestServer::start_with(&backend, Options::default().mail(&sink).share(&first)).await;
    first.seed_demo().await;
    first.outbox_drained().await;
    let before = sink.all().await.len();

    sink.set_accepting(false);
    let mut references = Vec::new();
    for (i, server) in [&first, &second, &first].into_iter().enumerate() {
        references.push(
            file_ok(server, REPORTER, &[("person_name", "Someone"), ("narrative", &format!("Outage case {i}"))]).await,
        );
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sink.all().await.len(), before, "nothing gets through while the server refuses");

    sink.set_accepting(true);
    for r in &references {
        sink.wait_for(Duration::from_secs(40), |m| m.subject.contains(r.as_str())).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let all = sink.all().await;
    let mut seen = std::collections::HashMap::new();
    for m in &all[before..] {
        *seen.entry((m.to.clone(), m.subject.clone())).or_insert(0) += 1;
    }
    // Each filing mails the reporter once and each of the two responders once.
    assert_eq!(all.len() - before, 3 * 3, "{seen:?}");
    assert!(seen.values().all(|n| *n == 1 || *n == 3), "{seen:?}");
    for r in &references {
        let received = all[before..].iter().filter(|m| m.subject.contains(r.as_str())).count();
        assert_eq!(received, 1, "the reporter's receipt for {r} arrives exactly once");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_waiting_in_the_outbox_is_sealed_and_still_arrives_in_clear() {
    use haven_server::db::entities::outbox;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        server.outbox_drained().await;
        sink.set_accepting(false);
        // A sign-in link (a secret) waits while the mail server refuses.
        call_fn(&server.client(), &server, "request_signin_link", &[("email", REPORTER)]).await;
        let waiting = loop {
            let rows = outbox::Entity::find()
                .filter(outbox::Column::Kind.eq("signin_link"))
                .filter(outbox::Column::SentAt.is_null())
                .all(&server.db)
                .await
                .unwrap();
            if let Some(row) = rows.into_iter().next() {
                break row;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert!(!waiting.body_enc.contains("/auth/link/"), "{backend}: the link is not readable at rest");
        assert!(haven_server::crypto::fields::Keyring::key_of(&waiting.body_enc).is_some(), "{backend}");

        sink.set_accepting(true);
        let mail =
            sink.wait_for(Duration::from_secs(40), |m| m.to[0] == REPORTER && m.text.contains("/auth/link/")).await;
        assert!(mail.text.contains("within 15 minutes"), "{}", mail.text);
        server.outbox_drained().await;
        let sent = outbox::Entity::find_by_id(waiting.id).one(&server.db).await.unwrap().unwrap();
        assert_eq!(sent.body_enc, "", "{backend}: blanked once delivered");
    }
}

const MB: usize = 1024 * 1024;

/// Posts a file to a case's attachments as the browser's form does.
async fn attach(server: &TestServer, client: &reqwest::Client, reference: &str, data: Vec<u8>) -> reqwest::Response {
    let form = Form::new().part("file", Part::bytes(data).file_name("notes.txt"));
    client.post(server.url(&format!("/cases/{reference}/attachments"))).multipart(form).send().await.unwrap()
}

/// A multipart body that breaks off in the middle of its file (no closing boundary).
async fn attach_half(server: &TestServer, client: &reqwest::Client, reference: &str) -> reqwest::Response {
    let mut body = b"--halfway\r\nContent-Disposition: form-data; name=\"file\"; filename=\"half.txt\"\r\n\
                     Content-Type: text/plain\r\n\r\n"
        .to_vec();
    body.extend(std::iter::repeat_n(b'h', MB));
    client
        .post(server.url(&format!("/cases/{reference}/attachments")))
        .header("content-type", "multipart/form-data; boundary=halfway")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn evidence_up_to_the_promised_10_mb_is_kept_and_one_byte_more_is_refused_naming_the_limit() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reference = file_ok(&server, REPORTER, &[("person_name", "Someone"), ("narrative", "Big files.")]).await;
        let rae = server.client_as(RESPONDER).await;

        // A 4 MB text file (refused as "the form could not be read" while axum's 2 MB
        // default applied), and one of exactly 10 MB.
        for size in [4 * MB, 10 * MB] {
            let res = attach(&server, &rae, &reference, vec![b'e'; size]).await;
            assert_eq!(res.status(), 303, "{backend} {size}: {}", res.text().await.unwrap());
        }
        let (_, view) = case(&server, &rae, &reference).await;
        let files = view["attachments"].as_array().unwrap().clone();
        assert_eq!(files.len(), 2, "{view}");
        for (file, size) in files.iter().zip([4 * MB, 10 * MB]) {
            let id = file["id"].as_str().unwrap();
            let download = rae.get(server.url(&format!("/cases/{reference}/attachments/{id}"))).send().await.unwrap();
            let bytes = download.bytes().await.unwrap();
            assert!(bytes.len() == size && bytes.iter().all(|b| *b == b'e'), "{backend}: the whole file comes back");
        }

        // One byte over, and well over: refused with the field and the limit; nothing kept.
        for size in [10 * MB + 1, 20 * MB] {
            let res = attach(&server, &rae, &reference, vec![b'e'; size]).await;
            assert_eq!(res.status(), 422, "{backend} {size}");
            let page = res.text().await.unwrap();
            assert!(page.contains("file: a file may be at most 10 MB"), "{backend} {size}: {page}");
        }

        // A body that breaks off half-way: the form could not be read; nothing kept.
        let res = attach_half(&server, &rae, &reference).await;
        assert_eq!(res.status(), 422, "{backend}");
        assert!(res.text().await.unwrap().contains("the form could not be read"));
        let (_, view) = case(&server, &rae, &reference).await;
        assert_eq!(view["attachments"].as_array().unwrap().len(), 2, "{backend}: nothing more was kept");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_team_gets_an_attachment_read_and_everyone_else_is_told_not_found_first() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reference = file_ok(&server, REPORTER, &[("person_name", "Someone"), ("narrative", "Who reads?")]).await;

        // A broken body shows whether the form was read: the team is told it could not be.
        let rae = server.client_as(RESPONDER).await;
        assert_eq!(attach_half(&server, &rae, &reference).await.status(), 422);
        // Anyone else is answered before their body is read, exactly as for no such case.
        let stranger = server.client_as("ada.lovelace@example.org").await;
        let theirs = attach_half(&server, &stranger, &reference).await;
        let missing = attach_half(&server, &stranger, "HVN-0000-0000").await;
        assert_eq!(theirs.status(), 404);
        assert_eq!(missing.status(), 404);
        let (theirs, missing) = (theirs.text().await.unwrap(), missing.text().await.unwrap());
        assert!(theirs.contains("There is nothing here"), "{theirs}");
        assert_eq!(theirs, missing);
        let recused = server.client_as(RESPONDER2).await;
        call_fn(&recused, &server, "declare_conflict", &[("reference", &reference)]).await;
        let big = attach(&server, &recused, &reference, vec![b'x'; 3 * MB]).await;
        assert_eq!(big.status(), 404, "a recused responder cannot add files either");
        let (_, view) = case(&server, &rae, &reference).await;
        assert_eq!(view["attachments"], serde_json::json!([]));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_photo_of_exactly_5_mb_is_filed_and_one_byte_more_returns_the_form_naming_the_limit() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reporter = server.client_as(REPORTER).await;
        let base = [("person_name", "Someone"), ("narrative", "With a photo.")];
        let png = |size: usize| {
            let mut data = b"\x89PNG\r\n\x1a\n".to_vec();
            data.resize(size, 0);
            data
        };

        let at_limit = concern(&base).part("photo", Part::bytes(png(5 * MB)).file_name("photo.png"));
        let reference = reference_in(&file(&server, &reporter, at_limit).await);
        let (_, team) = case(&server, &server.client_as(RESPONDER).await, &reference).await;
        assert_eq!(team["attachments"][0]["kind"], "subject_photo", "{backend}: {team}");

        let over = concern(&base).part("photo", Part::bytes(png(5 * MB + 1)).file_name("photo.png"));
        let location = file(&server, &reporter, over).await;
        let draft = location.split("draft=").nth(1).unwrap_or_else(|| panic!("{backend}: refused: {location}"));
        let (_, view) = call_fn(&reporter, &server, "concern_form", &[("slug", "havenconf"), ("draft", draft)]).await;
        assert_eq!(view["photo_error"], "a photo may be at most 5 MB", "{backend}");
        assert_eq!(view["form"]["narrative"], "With a photo.", "what was typed comes back");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_too_long_to_read_is_answered_at_once_naming_the_field_and_limit() {
    for backend in backends() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reference = file_ok(&server, REPORTER, &[("person_name", "Someone"), ("narrative", "Huge.")]).await;
        let cookie = server.session_cookie(RESPONDER).await;
        let reporter_cookie = server.session_cookie(REPORTER).await;
        // Only the headers of a 30 MB upload are sent: the answer must not wait for the rest.
        for (path, cookie, want) in [
            (format!("/cases/{reference}/attachments"), &cookie, "file: a file may be at most 10 MB"),
            ("/events/havenconf/concern".to_owned(), &reporter_cookie, "photo: a photo may be at most 5 MB"),
        ] {
            let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\nOrigin: {}\r\n\
                 Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {}\r\n\r\n",
                server.addr,
                server.base_url,
                30 * MB
            );
            stream.write_all(head.as_bytes()).await.unwrap();
            let mut answer = Vec::new();
            let mut buf = [0u8; 4096];
            let read = tokio::time::timeout(Duration::from_secs(10), async {
                while !String::from_utf8_lossy(&answer).contains("</html>") {
                    let n = stream.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    answer.extend_from_slice(&buf[..n]);
                }
            })
            .await;
            assert!(read.is_ok(), "{path}: answered without the body");
            let answer = String::from_utf8_lossy(&answer);
            assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
            assert!(answer.contains(want), "{path}: {answer}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_non_ascii_smtp_error_does_not_stop_the_mail() {
    use haven_server::db::entities::outbox;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        server.outbox_drained().await;
        // A mail server answering in German, at length: the error kept is cut at 480 bytes,
        // which once fell inside a "ü" and killed the worker (no mail at all until a restart).
        // (The reply is quoted after "transient error (451): "; with this text, byte 480
        // falls inside a "ü".)
        let words = format!("4.3.0 Zustellung vorübergehend verzögert: {}", "ü".repeat(300));
        let quoted = format!("transient error (451): {words}");
        assert!(!quoted.is_char_boundary(480));
        sink.refuse_with(Some(&format!("451 {words}")));
        call_fn(&server.client(), &server, "request_signin_link", &[("email", REPORTER)]).await;
        let mut refused = None;
        for _ in 0..150 {
            let rows = outbox::Entity::find()
                .filter(outbox::Column::Kind.eq("signin_link"))
                .filter(outbox::Column::SentAt.is_null())
                .all(&server.db)
                .await
                .unwrap();
            refused = rows.into_iter().find(|r| r.last_error.is_some());
            if refused.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let refused = refused.unwrap_or_else(|| panic!("{backend}: the refusal was never recorded"));
        let error = refused.last_error.unwrap();
        assert!(error.len() <= 480 && error.len() > 470, "{backend}: {} bytes", error.len());
        assert!(quoted.starts_with(&error), "{backend}: {error}");

        // The worker lives on: once the server accepts again, the link arrives, and mail
        // queued after the refusal too.
        sink.refuse_with(None);
        let link = sink.wait_for(Duration::from_secs(40), |m| m.to[0] == REPORTER && m.text.contains("/auth/link/"));
        link.await;
        call_fn(&server.client(), &server, "request_signin_link", &[("email", RESPONDER)]).await;
        sink.wait_for(Duration::from_secs(20), |m| m.to[0] == RESPONDER && m.text.contains("/auth/link/")).await;
    }
}

/// `haven keys …` run by an operator against the server's database and key file.
fn haven_keys(server: &TestServer, args: &[&str]) -> std::process::Output {
    std::process::Command::new(haven_bin())
        .arg("keys")
        .args(args)
        .env_clear()
        .env("HAVEN_DATABASE_URL", &server.database.url)
        .env("HAVEN_DATA_DIR", &server.database.dir)
        .output()
        .unwrap()
}

fn key_file(server: &TestServer) -> std::path::PathBuf {
    server.database.dir.join("keys").join("field.keys")
}

/// The ids in the key file, in its order (the last one seals).
fn key_ids(server: &TestServer) -> Vec<String> {
    let text = std::fs::read_to_string(key_file(server)).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect()
}

/// Makes the key file look changed `seconds` ago, as if the operator waited that long.
fn age_key_file(server: &TestServer, seconds: u64) {
    let file = std::fs::File::options().write(true).open(key_file(server)).unwrap();
    file.set_modified(std::time::SystemTime::now() - Duration::from_secs(seconds)).unwrap();
}

/// The wrapping key a case's narrative is under: its narrative is sealed with the case's
/// own data key, and that key with the wrapping key.
async fn narrative_key(server: &TestServer, reference: &str) -> String {
    use haven_server::db::entities::{case, data_key};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let row = case::Entity::find()
        .filter(case::Column::Reference.eq(reference))
        .one(&server.db)
        .await
        .unwrap()
        .expect("the case is stored");
    let key = haven_server::crypto::data_keys::key_of(&row.narrative_enc).expect("the narrative is sealed");
    assert_eq!(key, row.id, "with the case's own key");
    let wrapped = data_key::Entity::find_by_id(key).one(&server.db).await.unwrap().unwrap().key_enc.unwrap();
    haven_server::crypto::fields::Keyring::key_of(&wrapped).expect("the data key is wrapped").to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_server_seals_with_the_newest_key_within_seconds_of_a_rotation() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let before = file_ok(&server, REPORTER, &[("person_name", "Someone"), ("narrative", "Before.")]).await;
        let old = narrative_key(&server, &before).await;
        assert_eq!(key_ids(&server), vec![old.clone()]);

        let out = haven_keys(&server, &["rotate"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let ids = key_ids(&server);
        let new = ids.last().unwrap().clone();
        assert_eq!(ids.len(), 2, "{ids:?}");
        assert_ne!(new, old);

        // The promise is five seconds; the server looks every two.
        tokio::time::sleep(haven_server::crypto::fields::RELOAD_EVERY + Duration::from_millis(500)).await;
        let after = file_ok(&server, REPORTER, &[("person_name", "Someone"), ("narrative", "After.")]).await;
        assert_eq!(narrative_key(&server, &after).await, new, "{backend:?}: a value sealed after the rotation");
        for (reference, text) in [(&before, "Before."), (&after, "After.")] {
            let (status, view) = case(&server, &server.client_as(REPORTER).await, reference).await;
            assert_eq!((status, view["narrative"].as_str()), (200, Some(text)), "{backend:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_old_field_key_is_retired_only_once_no_value_uses_it() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reference = file_ok(&server, REPORTER, &[("person_name", "Someone"), ("narrative", "Keep me.")]).await;
        let first = narrative_key(&server, &reference).await;

        // The key that seals new values cannot go; nor one that is not there.
        let out = haven_keys(&server, &["retire-field-key", &first]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("seals new values"), "{out:?}");
        let out = haven_keys(&server, &["retire-field-key", "k-nothing"]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("no field key \"k-nothing\""), "{out:?}");

        // An operator adds a key by hand: every value is still sealed with the first.
        let text = std::fs::read_to_string(key_file(&server)).unwrap();
        std::fs::write(key_file(&server), format!("{text}k-added {}\n", "A".repeat(43))).unwrap();
        age_key_file(&server, 60);
        // Mail still waiting is sealed too, and sending it erases it: count once it is out.
        server.outbox_drained().await;
        let in_use = {
            use sea_orm::{ConnectionTrait, Statement};
            let mut n = 0i64;
            for haven_server::crypto::sealed::Column { table, column } in haven_server::crypto::sealed::ALL {
                let sql = format!("SELECT {column} AS v FROM {table}");
                for row in server
                    .db
                    .query_all_raw(Statement::from_string(server.db.get_database_backend(), sql))
                    .await
                    .unwrap()
                {
                    let v: Option<String> = row.try_get("", "v").unwrap();
                    n += v.is_some_and(|v| v.starts_with(&format!("v1:{first}:"))) as i64;
                }
            }
            n
        };
        // The data keys of the demo's cases and decisions and of this case, and the badge key.
        assert!(in_use > 5, "the demo and the case are sealed with {first}: {in_use}");
        let out = haven_keys(&server, &["retire-field-key", &first]);
        assert!(!out.status.success());
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            said.contains(&format!("{in_use} value(s) are still sealed with {first}")),
            "{backend:?}: the test counted {in_use}: {said}"
        );
        assert!(said.contains("data_keys.key_enc") && said.contains("haven keys rotate"), "{said}");
        assert!(key_ids(&server).contains(&first), "the refusal changed nothing");

        // After a rotation nothing uses it; the file is too fresh for a moment, then it goes.
        let out = haven_keys(&server, &["rotate"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let out = haven_keys(&server, &["retire-field-key", &first]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("try again in"), "{out:?}");
        age_key_file(&server, 60);
        let out = haven_keys(&server, &["retire-field-key", &first]);
        assert!(out.status.success(), "{backend:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).starts_with(&format!("retired field key {first}")), "{out:?}");
        let ids = key_ids(&server);
        assert_eq!(ids.len(), 2, "{ids:?}");
        assert!(!ids.contains(&first) && ids[0] == "k-added", "{ids:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(key_file(&server)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "the rewritten key file stays private");
        }

        // Everything still opens, in the running server too.
        let (status, view) = case(&server, &server.client_as(REPORTER).await, &reference).await;
        assert_eq!((status, view["narrative"].as_str()), (200, Some("Keep me.")), "{backend:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_written_to_files_is_readable_by_haven_alone() {
    for backend in backends() {
        use std::os::unix::fs::PermissionsExt as _;
        // No SMTP server: mail goes to files in the data directory.
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let dir = server.database.dir.join("mail");
        // An older version left the folder open: the next mail closes it.
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        file_ok(&server, REPORTER, &[("person_name", "Someone"), ("narrative", "Private.")]).await;
        server.outbox_drained().await;
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        assert!(files.len() > 1, "the demo's and the concern's mail: {files:?}");
        for path in &files {
            let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", path.display());
        }
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);

        // Files from before the fix (world-readable) are behind a closed folder after a restart.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let again = TestServer::start_with(&backend, Options::default().share(&server)).await;
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        drop(again);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_downloads_their_own_data_and_nothing_of_a_case_that_names_them() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        const NAMED: &str = "ken.okafor@example.org";
        let reference = file_ok(
            &server,
            REPORTER,
            &[
                ("person_name", "Ken Okafor"),
                ("person_email", NAMED),
                ("narrative", "Kept following me around the Zanzibarwing stand."),
            ],
        )
        .await;
        let reporter = server.client_as(REPORTER).await;
        let (status, _) =
            call_fn(&reporter, &server, "send_message", &[("reference", &reference), ("body", "Any news, please?")])
                .await;
        assert_eq!(status, 200);

        // The reporter's download: their account, registration, badge and the case with
        // their message; as a file, and the same from the server function.
        let res = reporter.get(server.url("/me/data.json")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
        let file: Value = res.json().await.unwrap();
        let (status, data) = call_fn(&reporter, &server, "my_data", &[]).await;
        assert_eq!(status, 200);
        assert_eq!(
            (file["name"].clone(), file["cases_filed"].clone()),
            (data["name"].clone(), data["cases_filed"].clone())
        );
        assert_eq!(data["email"], REPORTER, "{backend}");
        assert!(data["registrations"].as_array().unwrap().iter().any(|r| r["event_slug"] == "havenconf"));
        assert_eq!(data["badges"].as_array().unwrap().len(), 1);
        let case = &data["cases_filed"][0];
        assert_eq!(case["reference"], reference.as_str());
        assert!(case.to_string().contains("Zanzibarwing") && case.to_string().contains("Any news, please?"));

        // The person it names gets their own data, and not a word of the case.
        let named = server.client_as(NAMED).await;
        let res = named.get(server.url("/me/data.json")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let text = res.text().await.unwrap();
        let data: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(data["email"], NAMED);
        assert!(!data["registrations"].as_array().unwrap().is_empty());
        for hidden in [reference.as_str(), "Zanzibarwing", "Any news", "Barbara"] {
            assert!(!text.contains(hidden), "{backend}: the named person's data shows {hidden:?}");
        }

        // Signed out there is nothing to download.
        let res = server.client().get(server.url("/me/data.json")).send().await.unwrap();
        assert_eq!(res.status(), 401);
    }
}
