//! The durable outbox under a failing mail server: nothing is lost, temporary failures are
//! tried again and delivered once the server recovers, what it refuses for good is marked
//! failed and listed for the operators, sign-in links are tried only while they work, and
//! mail waiting at a restart is sent after it.

use chrono::Duration as Span;
use haven_server::clock::{Clock, ManualClock};
use haven_server::db::entities::outbox;
use haven_tests::{MailSink, Options, TestServer, backends, call_fn};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::time::Duration;

const ADA: &str = "ada.lovelace@example.org";
const GRACE: &str = "grace.moreau@example.org";
const RESPONDER: &str = "responder@example.org";

async fn waiting(server: &TestServer) -> Vec<outbox::Model> {
    outbox::Entity::find()
        .filter(outbox::Column::SentAt.is_null())
        .filter(outbox::Column::FailedAt.is_null())
        .all(&server.db)
        .await
        .unwrap()
}

/// Waits (10 s at most) until `done` holds for the outbox's rows.
async fn until(server: &TestServer, what: &str, done: impl Fn(&[outbox::Model]) -> bool) -> Vec<outbox::Model> {
    for _ in 0..100 {
        let rows = outbox::Entity::find().all(&server.db).await.unwrap();
        if done(&rows) {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the outbox did not get to: {what}");
}

/// Ada files a concern: one mail to her, one to each responder of the team.
async fn file_concern(server: &TestServer) {
    let ada = server.client_as(ADA).await;
    let form = reqwest::multipart::Form::new()
        .text("person_name", "Ken Okafor")
        .text("narrative", "He followed me to the hotel.");
    let res = ada.post(server.url("/events/havenconf/concern")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 303);
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_waits_out_an_outage_and_what_is_refused_for_good_is_listed_for_the_operators() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let clock = ManualClock::new(chrono::Utc::now());
        let server = TestServer::start_with(&backend, Options::default().mail(&sink).clock(clock.clone())).await;
        server.seed_demo().await;
        server.outbox_drained().await;
        let before = sink.all().await.len();

        // The mail server is down: connections are closed before any greeting.
        sink.close_connections(true);
        file_concern(&server).await;
        let queued = waiting(&server).await;
        assert!(queued.len() >= 3, "{backend}: the reporter and the team: {}", queued.len());
        let tried =
            |n: i32| move |rows: &[outbox::Model]| rows.iter().filter(|r| r.sent_at.is_none()).all(|r| r.attempts >= n);
        until(&server, "every message tried once", tried(1)).await;

        // Then it greets with 421, then answers 451: each time, tried again later.
        sink.close_connections(false);
        sink.greet_with(Some("421 4.3.2 service shutting down"));
        clock.advance(Span::minutes(10));
        let rows = until(&server, "every message tried twice", tried(2)).await;
        assert!(
            rows.iter().filter(|r| r.sent_at.is_none()).all(|r| r.last_error.as_deref().unwrap_or("").contains("421"))
        );
        sink.greet_with(None);
        sink.set_accepting(false);
        clock.advance(Span::minutes(10));
        until(&server, "every message tried three times", tried(3)).await;
        assert_eq!(sink.all().await.len(), before, "{backend}: nothing got through the outage");
        assert_eq!(waiting(&server).await.len(), queued.len(), "{backend}: and nothing was lost");

        // It recovers, but refuses one recipient for good.
        sink.set_accepting(true);
        sink.reject_recipients(&[RESPONDER]);
        clock.advance(Span::minutes(10));
        let rows = until(&server, "every message sent or failed", |rows| {
            rows.iter().all(|r| r.sent_at.is_some() || r.failed_at.is_some())
        })
        .await;
        let failed: Vec<&outbox::Model> = rows.iter().filter(|r| r.failed_at.is_some()).collect();
        assert_eq!(failed.len(), 1, "{backend}: only the refused recipient's message failed");
        assert_eq!(failed[0].to_address, RESPONDER);
        assert!(failed[0].last_error.as_deref().unwrap_or("").contains("550"), "{:?}", failed[0].last_error);
        assert!(failed[0].body_enc.is_empty(), "{backend}: a failed message keeps no content");
        let delivered: Vec<&outbox::Model> = rows.iter().filter(|r| r.sent_at.is_some()).collect();
        for q in queued.iter().filter(|q| q.to_address != RESPONDER) {
            assert!(delivered.iter().any(|d| d.id == q.id), "{backend}: {} was delivered", q.kind);
        }
        assert_eq!(sink.all().await.len(), before + queued.len() - 1, "{backend}: each once");
        // Not tried again, however long one waits.
        clock.advance(Span::hours(3));
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let again = outbox::Entity::find_by_id(failed[0].id).one(&server.db).await.unwrap().unwrap();
        assert_eq!(again.attempts, failed[0].attempts, "{backend}");

        // The operators' list: when, what kind, whose; no address, no content. (The hours
        // waited brought the team more mail, refused for Rae as well.)
        let list = haven_server::admin::failed_mail(&server.db).await.unwrap();
        let all_failed = outbox::Entity::find().filter(outbox::Column::FailedAt.is_not_null()).all(&server.db).await;
        assert_eq!(list.len(), all_failed.unwrap().len(), "{backend}");
        assert!(list.iter().any(|m| m.kind == "team_new_case"), "{backend}: {list:?}");
        let rae = server.person_id(RESPONDER).await;
        assert!(list.iter().all(|m| m.person == Some(rae)), "{backend}: {list:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sign_in_link_is_tried_again_within_its_life_and_given_up_after() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let clock = ManualClock::new(chrono::Utc::now());
        let server = TestServer::start_with(&backend, Options::default().mail(&sink).clock(clock.clone())).await;
        server.seed_demo().await;
        server.outbox_drained().await;
        sink.close_connections(true);
        let anonymous = server.client();
        assert_eq!(call_fn(&anonymous, &server, "request_signin_link", &[("email", ADA)]).await.0, 200);
        let link = |rows: &[outbox::Model], to: &str| {
            rows.iter().find(|r| r.kind == "signin_link" && r.to_address == to).cloned()
        };
        let first = until(&server, "Ada's link tried", |rows| link(rows, ADA).is_some_and(|r| r.attempts >= 1)).await;
        let first = link(&first, ADA).unwrap();
        // Five minutes into the outage it is still tried, at most half a minute apart.
        for _ in 0..3 {
            clock.advance(Span::minutes(2));
            let rows =
                until(&server, "tried again", |rows| link(rows, ADA).is_some_and(|r| r.attempts > first.attempts))
                    .await;
            let r = link(&rows, ADA).unwrap();
            assert!(
                r.next_attempt_at - clock.now() <= Span::seconds(30),
                "{backend}: {:?}",
                r.next_attempt_at - clock.now()
            );
        }
        // The server recovers within the link's life: it is delivered.
        sink.close_connections(false);
        clock.advance(Span::seconds(31));
        let mail =
            sink.wait_for(Duration::from_secs(10), |m| m.to[0] == ADA && m.subject.contains("sign-in link")).await;
        assert!(mail.text.contains("/auth/link/"), "{backend}");

        // Grace's link meets an outage longer than its life: given up, never sent late.
        sink.close_connections(true);
        assert_eq!(call_fn(&anonymous, &server, "request_signin_link", &[("email", GRACE)]).await.0, 200);
        until(&server, "Grace's link tried", |rows| link(rows, GRACE).is_some_and(|r| r.attempts >= 1)).await;
        clock.advance(Span::minutes(16));
        let rows =
            until(&server, "Grace's link failed", |rows| link(rows, GRACE).is_some_and(|r| r.failed_at.is_some()))
                .await;
        assert!(link(&rows, GRACE).unwrap().last_error.unwrap().contains("expired"), "{backend}");
        sink.close_connections(false);
        clock.advance(Span::minutes(1));
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert!(
            sink.to(GRACE).await.iter().all(|m| !m.subject.contains("sign-in link")),
            "{backend}: an expired link is never delivered"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_waiting_at_a_restart_is_sent_after_it() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let clock = ManualClock::new(chrono::Utc::now());
        let mut first = TestServer::start_with(&backend, Options::default().mail(&sink).clock(clock.clone())).await;
        first.seed_demo().await;
        first.outbox_drained().await;
        sink.close_connections(true);
        file_concern(&first).await;
        let queued = waiting(&first).await;
        assert!(queued.len() >= 3, "{backend}");
        let mut sent_before = Vec::new();
        for q in &queued {
            sent_before.push(sink.to(&q.to_address).await.iter().filter(|m| m.subject == q.subject).count());
        }
        first.stop().await;

        sink.close_connections(false);
        let second =
            TestServer::start_with(&backend, Options::default().share(&first).mail(&sink).clock(clock.clone())).await;
        clock.advance(Span::minutes(10));
        second.outbox_drained().await;
        for (q, before) in queued.iter().zip(sent_before) {
            assert_eq!(
                sink.to(&q.to_address).await.iter().filter(|m| m.subject == q.subject).count(),
                before + 1,
                "{backend}: {} was sent once after the restart",
                q.kind
            );
        }
    }
}
