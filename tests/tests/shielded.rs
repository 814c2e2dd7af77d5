//! A shielded reporter: only the case's owner knows who filed it; every other responder
//! sees a code name everywhere the reporter would show (the case page, its messages and
//! history, the queue, mail and notifications, an escort's assignment and calendar),
//! until they ask to know with a written reason, which the reporter then sees.

use haven_server::db::entities::{audit_log, case};
use haven_tests::{MailSink, Options, TestServer, backends, call_fn};
use reqwest::multipart::Form;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use std::time::Duration;

const REPORTER: &str = "barbara.moreau@example.org";
const REPORTER_NAME: &str = "Barbara Moreau";
const RESPONDER: &str = "responder@example.org";
const ADMIN: &str = "admin@example.org";
const ESCORT: &str = "escort@example.org";
const KEN: &str = "ken.okafor@example.org";

async fn ok(server: &TestServer, who: &str, name: &str, args: &[(&str, &str)]) -> Value {
    let (status, body) = call_fn(&server.client_as(who).await, server, name, args).await;
    assert_eq!(status, 200, "{name} as {who}: {body}");
    body
}

/// What the reporter would be recognised by: their name and address.
fn names_the_reporter(text: &str) -> bool {
    text.contains(REPORTER_NAME) || text.contains(REPORTER) || text.contains("+49 30 555")
}

async fn file_shielded(server: &TestServer) -> String {
    let client = server.client_as(REPORTER).await;
    let form = [
        ("person_name", "Ken Okafor"),
        ("narrative", "He keeps following me between talks."),
        ("contact_channel", "phone"),
        ("contact_detail", "+49 30 555 0101"),
        ("wish_escort", "on"),
        ("shield_identity", "on"),
    ]
    .iter()
    .fold(Form::new(), |f, (k, v)| f.text(k.to_string(), v.to_string()));
    let res = client.post(server.url("/events/havenconf/concern")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    to.strip_prefix("/cases/").and_then(|r| r.split('?').next()).unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_responder_who_is_not_the_owner_sees_a_code_name_until_they_ask_and_say_why() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        let reference = file_shielded(&server).await;
        let row = case::Entity::find().filter(case::Column::Reference.eq(&reference)).one(&server.db).await.unwrap();
        let code = row.unwrap().reporter_code.expect("a code name");
        assert!(code.starts_with("Reporter ") && code.len() == 11, "{code}");
        // The reporter writes; the team answers.
        ok(&server, REPORTER, "send_message", &[("reference", &reference), ("body", "I am scared.")]).await;
        ok(&server, RESPONDER, "send_message", &[("reference", &reference), ("body", "We are here.")]).await;

        // A responder (not the owner): the code name everywhere the reporter shows.
        let view = ok(&server, RESPONDER, "case", &[("reference", &reference)]).await;
        assert_eq!(view["view"], "team");
        assert_eq!(view["reporter"]["name"], code.as_str(), "{view}");
        assert_eq!(view["contact_detail"], Value::Null, "the phone number would name them");
        assert_eq!(view["shield"]["known"], false);
        assert!(!names_the_reporter(&view.to_string()), "{backend:?}: {view}");
        let messages = view["messages"].as_array().unwrap();
        assert!(messages.iter().any(|m| m["author"] == code.as_str()), "{view}");
        let history = view["history"].as_array().unwrap();
        assert!(history.iter().any(|h| h["by"] == code.as_str()), "{view}");
        let queue = ok(&server, RESPONDER, "case_queue", &[("slug", "havenconf"), ("query", "Barbara")]).await;
        assert!(queue["rows"].as_array().unwrap().is_empty(), "the reporter's name finds nothing: {queue}");

        // An escort assigned to them sees the code name, in the page and the calendar mail.
        let escort = server.person_id(ESCORT).await.to_string();
        let day = chrono::Utc::now().date_naive() + chrono::Duration::days(30);
        ok(
            &server,
            RESPONDER,
            "add_escort",
            &[
                ("reference", &reference),
                ("input[escorts][0]", &escort),
                ("input[start_1]", &format!("{day}T20:00")),
                ("input[end_1]", &format!("{day}T21:00")),
                ("input[meeting_point]", "Main entrance"),
            ],
        )
        .await;
        let assignments = ok(&server, ESCORT, "my_assignments", &[]).await;
        let people: Vec<&str> =
            assignments["assignments"].as_array().unwrap().iter().map(|a| a["person"].as_str().unwrap()).collect();
        assert!(people.contains(&code.as_str()), "{assignments}");
        assert!(!names_the_reporter(&assignments.to_string()), "{assignments}");
        let calendar = sink
            .wait_for(Duration::from_secs(10), |m| {
                m.to.iter().any(|t| t == ESCORT)
                    && m.attachments.iter().any(|a| String::from_utf8_lossy(&a.2).contains("SUMMARY:Escort Reporter"))
            })
            .await;
        let ics = calendar.attachments.iter().find(|a| a.0 == "escort.ics").unwrap();
        let ics = String::from_utf8_lossy(&ics.2).replace("\r\n ", "");
        assert!(ics.contains(&format!("Escort {code}")), "{ics}");
        assert!(!names_the_reporter(&ics), "{ics}");
        // Nothing the team was mailed or told names them.
        server.outbox_drained().await;
        for mail in sink.all().await.iter().filter(|m| !m.to.iter().any(|t| t == REPORTER)) {
            let raw = String::from_utf8_lossy(&mail.raw);
            assert!(!names_the_reporter(&raw), "{backend:?}: a mail to {:?} names the reporter", mail.to);
        }
        let bell = ok(&server, RESPONDER, "notifications", &[]).await;
        assert!(!names_the_reporter(&bell.to_string()), "{bell}");
        // Deciders never see a reporter.
        let ken = server.person_id(KEN).await.to_string();
        ok(&server, RESPONDER, "confirm_match", &[("reference", &reference), ("person", &ken)]).await;
        ok(
            &server,
            RESPONDER,
            "propose_decision",
            &[("reference", &reference), ("input[person]", &ken), ("input[kind]", "warning"), ("input[reasons]", "R")],
        )
        .await;
        let decide = ok(&server, ADMIN, "decide_home", &[]).await;
        assert!(!names_the_reporter(&decide.to_string()), "{decide}");

        // Asking needs a reason; with one, the responder knows, and the reporter sees it.
        let (status, body) = call_fn(
            &server.client_as(RESPONDER).await,
            &server,
            "reveal_reporter",
            &[("reference", &reference), ("reason", " ")],
        )
        .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(ok(&server, RESPONDER, "case", &[("reference", &reference)]).await["shield"]["known"], false);
        ok(
            &server,
            RESPONDER,
            "reveal_reporter",
            &[("reference", &reference), ("reason", "We must call them about tonight's escort.")],
        )
        .await;
        let view = ok(&server, RESPONDER, "case", &[("reference", &reference)]).await;
        assert_eq!(view["reporter"]["name"], REPORTER_NAME, "{view}");
        assert_eq!(view["contact_detail"], "+49 30 555 0101");
        let mine = ok(&server, REPORTER, "case", &[("reference", &reference)]).await;
        assert_eq!(mine["shielded"], true);
        let reveals = mine["reveals"].as_array().unwrap();
        assert_eq!(reveals.len(), 1, "{mine}");
        assert_eq!(reveals[0]["reason"], "We must call them about tonight's escort.");
        assert!(reveals[0]["by"].as_str().unwrap().contains("Rae"), "{mine}");
        // Asking again is refused; the log holds one reveal.
        let (status, _) = call_fn(
            &server.client_as(RESPONDER).await,
            &server,
            "reveal_reporter",
            &[("reference", &reference), ("reason", "Again.")],
        )
        .await;
        assert_eq!(status, 422);
        let logged = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("case.reporter_revealed"))
            .all(&server.db)
            .await
            .unwrap();
        assert_eq!(logged.len(), 1, "{backend:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_owner_knows_and_the_reporter_sees_that_they_do() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reference = file_shielded(&server).await;
        let other = "noor@example.org";
        server.grant_organization_role(other, haven_app::domain::Role::Responder).await;
        // Rae takes the case: she is its owner, so she knows; Noor does not.
        ok(&server, RESPONDER, "assign_owner", &[("reference", &reference)]).await;
        let rae = ok(&server, RESPONDER, "case", &[("reference", &reference)]).await;
        assert_eq!(rae["reporter"]["name"], REPORTER_NAME, "{rae}");
        assert_eq!(rae["shield"]["known"], true);
        let noor = ok(&server, other, "case", &[("reference", &reference)]).await;
        assert_ne!(noor["reporter"]["name"], REPORTER_NAME, "{backend:?}: {noor}");
        assert!(!names_the_reporter(&noor.to_string()));
        let mine = ok(&server, REPORTER, "case", &[("reference", &reference)]).await;
        assert_eq!(mine["reveals"][0]["reason"], "Became the case's owner.", "{mine}");
        // A report filed without the wish names its reporter to the whole team.
        let client = server.client_as(REPORTER).await;
        let form = Form::new().text("person_name", "Someone").text("narrative", "Open to the team.");
        let res = client.post(server.url("/events/havenconf/concern")).multipart(form).send().await.unwrap();
        let to = res.headers()["location"].to_str().unwrap().to_owned();
        let plain = to.trim_start_matches("/cases/").split('?').next().unwrap().to_owned();
        let view = ok(&server, other, "case", &[("reference", &plain)]).await;
        assert_eq!(view["reporter"]["name"], REPORTER_NAME, "{view}");
        assert_eq!(view["shield"], Value::Null);
    }
}
