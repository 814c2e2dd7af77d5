//! The second factor: an organization that requires it gives its responders, organizers and
//! administrators no staff access from a sign-in that has not passed it; an authenticator
//! app is set up with a first code; codes work once, recovery codes once each; attempts
//! are limited; an administrator (or the operator) can remove a lost factor.

use chrono::Duration;
use haven_app::api::OrganizationSecurity;
use haven_server::clock::{Clock, ManualClock};
use haven_server::db::entities::{audit_log, organization};
use haven_tests::{MailSink, Options, TestServer, backends, call_fn};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

const RESPONDER: &str = "responder@example.org";
const ADMIN: &str = "admin@example.org";

async fn demo_org(server: &TestServer) -> uuid::Uuid {
    organization::Entity::find()
        .filter(organization::Column::Slug.eq("demo"))
        .one(&server.db)
        .await
        .unwrap()
        .expect("the demo is seeded")
        .id
}

/// The demo, with its organization requiring a second factor.
async fn strict_demo(backend: &haven_tests::Backend) -> (TestServer, ManualClock, MailSink) {
    let sink = MailSink::start().await;
    let clock = ManualClock::new(chrono::Utc::now());
    let server = TestServer::start_with(backend, Options::default().mail(&sink).clock(clock.clone())).await;
    server.seed_demo().await;
    let policy = OrganizationSecurity { second_factor_required: true, accept_provider_mfa: false };
    server.services.set_security(None, demo_org(&server).await, policy).await.unwrap();
    (server, clock, sink)
}

/// The code an authenticator app with this (base32) secret shows at the server's time.
fn code(secret: &str, clock: &ManualClock) -> String {
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).expect("a base32 secret"))
        .build()
        .unwrap();
    totp.generate(clock.now().timestamp() as u64).to_string()
}

/// The events the client's session works on as the safety team (`None`: none): those its
/// start page lists; the demo event's queue opens exactly when it is among them.
async fn team_events(server: &TestServer, client: &reqwest::Client) -> Option<Vec<String>> {
    let (status, body) = call_fn(client, server, "respond_home", &[]).await;
    assert_eq!(status, 200, "{body}");
    let events: Vec<String> =
        body["events"].as_array().unwrap().iter().map(|e| e["slug"].as_str().unwrap().to_owned()).collect();
    let (queue, _) = call_fn(client, server, "case_queue", &[("slug", "havenconf")]).await;
    assert_eq!(queue == 200, events.contains(&"havenconf".to_owned()), "the queue opens exactly for the team");
    (!events.is_empty()).then_some(events)
}

/// Sets up an authenticator app for the client's person: the secret and the recovery codes.
async fn set_up_app(server: &TestServer, client: &reqwest::Client, clock: &ManualClock) -> (String, Vec<String>) {
    let (status, enrollment) = call_fn(client, server, "begin_totp", &[]).await;
    assert_eq!(status, 200, "{enrollment}");
    let secret = enrollment["secret"].as_str().unwrap().to_owned();
    assert!(enrollment["uri"].as_str().unwrap().starts_with("otpauth://totp/Haven:"), "{enrollment}");
    assert!(enrollment["qr_svg"].as_str().unwrap().starts_with("<svg"), "{enrollment}");
    let (status, codes) = call_fn(client, server, "confirm_totp", &[("code", &code(&secret, clock))]).await;
    assert_eq!(status, 200, "{codes}");
    let codes: Vec<String> = codes.as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    (secret, codes)
}

async fn audited(server: &TestServer, action: &str) -> usize {
    audit_log::Entity::find().filter(audit_log::Column::Action.eq(action)).all(&server.db).await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_responder_works_as_staff_only_once_the_sign_in_passed_a_second_factor() {
    for backend in backends() {
        let (server, clock, sink) = strict_demo(&backend).await;
        let first = server.client_as(RESPONDER).await;

        // Signed in with the first factor only: no staff access, and told why.
        assert_eq!(team_events(&server, &first).await, None, "{backend}: the queue waits for a second factor");
        let (_, info) = call_fn(&first, &server, "session_info", &[]).await;
        assert_eq!(
            (info["responds"].clone(), info["second_factor_needed"].clone()),
            (Value::Bool(false), Value::Bool(true))
        );
        let (status, s) = call_fn(&first, &server, "second_factor", &[]).await;
        assert_eq!(status, 200);
        assert_eq!((s["set_up"].as_bool(), s["passed"].as_bool()), (Some(false), Some(false)));
        assert_eq!(s["held_back"][0]["role"], "responder", "{s}");

        // Setting up the app: a wrong first code changes nothing.
        let (status, enrollment) = call_fn(&first, &server, "begin_totp", &[]).await;
        assert_eq!(status, 200);
        let secret = enrollment["secret"].as_str().unwrap().to_owned();
        let right = code(&secret, &clock);
        let wrong = if right == "000000" { "111111" } else { "000000" };
        let (status, body) = call_fn(&first, &server, "confirm_totp", &[("code", wrong)]).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(team_events(&server, &first).await, None);
        let (status, codes) = call_fn(&first, &server, "confirm_totp", &[("code", &right)]).await;
        assert_eq!(status, 200, "{codes}");
        let codes: Vec<String> = codes.as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
        assert_eq!(codes.len(), 10);
        assert_eq!(codes.iter().collect::<std::collections::BTreeSet<_>>().len(), 10, "each code is different");
        assert_eq!(team_events(&server, &first).await, Some(vec!["havenconf".to_owned()]), "{backend}");
        assert_eq!(audited(&server, "second_factor.set_up").await, 1);
        let notice = sink
            .wait_for(std::time::Duration::from_secs(20), |m| {
                m.to.iter().any(|t| t == RESPONDER) && m.subject.contains("second factor")
            })
            .await;
        assert!(!notice.text.contains(&secret), "the secret never goes by mail");

        // A new sign-in asks again; the code already used does not pass twice.
        clock.advance(Duration::minutes(16));
        let again = server.client_as(RESPONDER).await;
        assert_eq!(team_events(&server, &again).await, None);
        let used = code(&secret, &clock);
        let res = again
            .post(server.url("/fn/verify_second_factor"))
            .form(&[("code", used.as_str()), ("return_to", "/respond")])
            .send()
            .await
            .unwrap();
        assert!(res.status().is_redirection() || res.status() == 200, "{}", res.status());
        assert_eq!(team_events(&server, &again).await, Some(vec!["havenconf".to_owned()]));
        let replay = server.client_as(RESPONDER).await;
        let (status, body) = call_fn(&replay, &server, "verify_second_factor", &[("code", &used)]).await;
        assert_eq!(status, 422, "a code is accepted once: {body}");
        assert_eq!(team_events(&server, &replay).await, None);

        // A recovery code works once, typed loosely.
        let loose = codes[0].to_uppercase().replace('-', " ");
        let (status, _) = call_fn(&replay, &server, "verify_second_factor", &[("code", &loose)]).await;
        assert!(status < 400, "{status}");
        assert!(team_events(&server, &replay).await.is_some());
        let later = server.client_as(RESPONDER).await;
        let (status, _) = call_fn(&later, &server, "verify_second_factor", &[("code", &codes[0])]).await;
        assert_eq!(status, 422, "a recovery code works once");
        let (_, s) = call_fn(&later, &server, "second_factor", &[]).await;
        assert_eq!(s["recovery_codes_left"], 9);
        assert_eq!(audited(&server, "second_factor.recovery_code_used").await, 1);
        sink.wait_for(std::time::Duration::from_secs(20), |m| {
            m.to.iter().any(|t| t == RESPONDER) && m.subject.contains("recovery code")
        })
        .await;

        // Five tries a quarter of an hour: the fifth is still answered, the sixth is not,
        // even with the right code.
        clock.advance(Duration::minutes(16));
        let guesser = server.client_as(RESPONDER).await;
        for attempt in 1..=5 {
            let (status, body) = call_fn(&guesser, &server, "verify_second_factor", &[("code", wrong)]).await;
            assert_eq!(status, 422, "{backend}: attempt {attempt}: {body}");
        }
        clock.advance(Duration::seconds(30));
        let (status, _) = call_fn(&guesser, &server, "verify_second_factor", &[("code", &code(&secret, &clock))]).await;
        assert_eq!(status, 429, "{backend}: the sixth attempt is refused");
        assert_eq!(team_events(&server, &guesser).await, None);
        clock.advance(Duration::minutes(15));
        let (status, _) = call_fn(&guesser, &server, "verify_second_factor", &[("code", &code(&secret, &clock))]).await;
        assert!(status < 400, "after the window it passes: {status}");
        assert!(team_events(&server, &guesser).await.is_some());

        // Replacing the app needs a sign-in that passed the factor in force.
        let unconfirmed = server.client_as(RESPONDER).await;
        let (status, _) = call_fn(&unconfirmed, &server, "begin_totp", &[]).await;
        assert_eq!(status, 409, "someone with only the mailbox cannot replace the app");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_administrator_removes_a_lost_second_factor_and_both_are_told() {
    for backend in backends() {
        let (server, clock, sink) = strict_demo(&backend).await;
        let responder = server.client_as(RESPONDER).await;
        set_up_app(&server, &responder, &clock).await;
        assert!(team_events(&server, &responder).await.is_some());

        // The administrator needs their own second factor to administer.
        let admin = server.client_as(ADMIN).await;
        let (status, _) = call_fn(&admin, &server, "staff", &[("slug", "havenconf")]).await;
        assert_eq!(status, 404, "{backend}: no management without a second factor");
        set_up_app(&server, &admin, &clock).await;
        let (status, staff) = call_fn(&admin, &server, "staff", &[("slug", "havenconf")]).await;
        assert_eq!(status, 200, "{staff}");
        let members = staff["members"].as_array().unwrap();
        let rae = members.iter().find(|m| m["email"] == RESPONDER).expect("the responder is listed");
        assert_eq!(rae["second_factor"], true, "administrators see who has one");
        let escort = members.iter().find(|m| m["email"] == "escort@example.org").unwrap();
        assert_eq!(escort["second_factor"], false);

        // An organizer (who passed their own) may not remove it: it does not exist for them.
        let organizer = server.client_as("organizer@example.org").await;
        set_up_app(&server, &organizer, &clock).await;
        let role = rae["role_id"].as_str().unwrap();
        let (status, _) = call_fn(&organizer, &server, "reset_second_factor", &[("role_id", role)]).await;
        assert_eq!(status, 404);
        assert!(team_events(&server, &responder).await.is_some(), "nothing changed");

        let (status, body) = call_fn(&admin, &server, "reset_second_factor", &[("role_id", role)]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(team_events(&server, &responder).await, None, "{backend}: the old sign-in passes no more");
        let (_, s) = call_fn(&responder, &server, "second_factor", &[]).await;
        assert_eq!((s["set_up"].as_bool(), s["recovery_codes_left"].as_u64()), (Some(false), Some(0)));
        assert_eq!(audited(&server, "second_factor.reset").await, 1);
        for to in [RESPONDER, ADMIN] {
            sink.wait_for(std::time::Duration::from_secs(20), |m| {
                m.to.iter().any(|t| t == to) && m.subject.contains("was removed")
            })
            .await;
        }
        // The responder sets up a new app and is back.
        set_up_app(&server, &responder, &clock).await;
        assert!(team_events(&server, &responder).await.is_some());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_organization_chooses_and_its_choice_reaches_the_sign_in_page() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let clock = ManualClock::new(chrono::Utc::now());
        let server = TestServer::start_with(&backend, Options::default().mail(&sink).clock(clock.clone())).await;
        server.seed_demo().await;
        let anonymous = server.client();
        let (_, options) = call_fn(&anonymous, &server, "signin_options", &[]).await;
        assert_eq!(options["without_second_factor"], serde_json::json!(["Haven Demo Community"]), "the demo says so");

        // Off, as in the demo: the administrator works without one, and turns it on.
        let admin = server.client_as(ADMIN).await;
        let responder = server.client_as(RESPONDER).await;
        assert!(team_events(&server, &responder).await.is_some());
        let on = [("organization", "demo"), ("required", "true")];
        let (status, body) = call_fn(&admin, &server, "set_organization_security", &on).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(team_events(&server, &responder).await, None, "{backend}: in force at once");
        let (status, _) = call_fn(&admin, &server, "set_organization_security", &on).await;
        assert_eq!(status, 404, "the administrator too now needs the second factor to change it");
        let (_, options) = call_fn(&anonymous, &server, "signin_options", &[]).await;
        assert_eq!(options["without_second_factor"], serde_json::json!([]));
        let changed = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("organization.security_changed"))
            .all(&server.db)
            .await
            .unwrap();
        assert_eq!(changed.len(), 1);

        // Escorts and door staff need none.
        let escort = server.client_as("escort@example.org").await;
        let (status, _) = call_fn(&escort, &server, "my_assignments", &[]).await;
        assert_eq!(status, 200, "{backend}");
        let (_, info) = call_fn(&escort, &server, "session_info", &[]).await;
        assert_eq!((info["escorts"].as_bool(), info["second_factor_needed"].as_bool()), (Some(true), Some(false)));

        // A person who set one up is asked for it even where it is not required.
        set_up_app(&server, &admin, &clock).await;
        let off = [("organization", "demo")];
        let (status, _) = call_fn(&admin, &server, "set_organization_security", &off).await;
        assert_eq!(status, 200);
        assert!(team_events(&server, &responder).await.is_some(), "off again");
        let fresh_admin = server.client_as(ADMIN).await;
        let (status, _) = call_fn(&fresh_admin, &server, "staff", &[("slug", "havenconf")]).await;
        assert_eq!(status, 404, "{backend}: the admin's own factor guards their roles");
    }
}

/// Signs in through the mock provider as a browser would (without one), following the
/// callback: returns where the callback sends the browser.
async fn oidc_sign_in(server: &TestServer, client: &reqwest::Client) -> String {
    let location = |res: &reqwest::Response| res.headers()["location"].to_str().unwrap().to_owned();
    let start = client.get(server.url("/auth/oidc/mock/start?return_to=/respond")).send().await.unwrap();
    assert_eq!(start.status(), 303);
    let provider = client.get(location(&start)).send().await.unwrap();
    assert_eq!(provider.status(), 302);
    let callback = client.get(location(&provider)).send().await.unwrap();
    assert_eq!(callback.status(), 303);
    location(&callback)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_providers_multi_factor_claim_counts_only_where_the_organization_accepts_it() {
    for backend in backends() {
        let mut provider = haven_tests::OidcProvider::start().await;
        let server = TestServer::start_with(&backend, Options::default().oidc(&provider, "mock", "Mock SSO")).await;
        server.seed_demo().await;
        let org = demo_org(&server).await;
        let rae =
            |amr: &[&str]| serde_json::json!({"sub": "rae-1", "email": RESPONDER, "email_verified": true, "amr": amr});
        // Required, and the provider's claim accepted.
        let policy = OrganizationSecurity { second_factor_required: true, accept_provider_mfa: true };
        server.services.set_security(None, org, policy).await.unwrap();
        provider.sign_in_as(rae(&["pwd", "mfa"])).await;
        let client = server.client();
        assert_eq!(oidc_sign_in(&server, &client).await, "/respond", "{backend}: straight on");
        assert_eq!(team_events(&server, &client).await, Some(vec!["havenconf".to_owned()]));

        // A password alone is the first factor only.
        provider.sign_in_as(rae(&["pwd"])).await;
        let client = server.client();
        assert_eq!(oidc_sign_in(&server, &client).await, "/signin/second-factor?return_to=/respond");
        assert_eq!(team_events(&server, &client).await, None);

        // Not accepted: the claim counts for nothing.
        let policy = OrganizationSecurity { second_factor_required: true, accept_provider_mfa: false };
        server.services.set_security(None, org, policy).await.unwrap();
        provider.sign_in_as(rae(&["pwd", "mfa"])).await;
        let client = server.client();
        assert_eq!(oidc_sign_in(&server, &client).await, "/signin/second-factor?return_to=/respond");
        assert_eq!(team_events(&server, &client).await, None, "{backend}");
    }
}
