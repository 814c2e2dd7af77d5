//! What organizers do: events, registrations (one by one, CSV, CLI), staff invitations,
//! and the audit log that records it all.

use haven_server::db::entities::invitation;
use haven_server::services::audit::{self, Verification};
use haven_tests::server::TestDatabase;
use haven_tests::{MailSink, Options, TestServer, backends, call_fn, haven_bin};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::time::Duration;

const ORGANIZER: &str = "organizer@example.org";
const ADMIN: &str = "admin@example.org";

async fn registrations(server: &TestServer, client: &reqwest::Client, query: &str, page: &str) -> serde_json::Value {
    let (status, body) =
        call_fn(client, server, "registrations", &[("slug", "havenconf"), ("query", query), ("page", page)]).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn an_organizer_adds_a_registration_and_a_second_one_for_the_same_person_is_refused() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let org = server.client_as(ORGANIZER).await;

        let add = |email: &'static str, ticket: &'static str| {
            let org = org.clone();
            let server = &server;
            async move {
                call_fn(
                    &org,
                    server,
                    "add_registration",
                    &[
                        ("slug", "havenconf"),
                        ("name", "Grace Hopper"),
                        ("email", email),
                        ("ticket_ref", ticket),
                        ("role", "speaker"),
                    ],
                )
                .await
            }
        };
        assert_eq!(add("grace@navy.example", "HC-9001").await.0, 200, "{backend}");
        let before = registrations(&server, &org, "", "1").await["total"].clone();
        let (status, body) = add("Grace@Navy.example", "").await;
        assert_eq!(status, 422);
        assert_eq!(body["detail"][0]["field"], "email", "{body}");
        let (status, body) = add("other@example.org", "HC-9001").await;
        assert_eq!(status, 422);
        assert_eq!(body["detail"][0]["field"], "ticket_ref", "{body}");
        assert_eq!(registrations(&server, &org, "", "1").await["total"], before, "no registration was created");
        assert_eq!(registrations(&server, &org, "other@example.org", "1").await["total"], 0);
        let (status, body) = add("not-an-address", "").await;
        assert_eq!(status, 422);
        assert_eq!(body["detail"][0]["field"], "email");

        let found = registrations(&server, &org, "navy", "1").await;
        assert_eq!(found["total"], 1);
        assert_eq!(found["rows"][0]["ticket_ref"], "HC-9001");
        assert_eq!(found["rows"][0]["role"], "speaker");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn registrations_are_searchable_and_paged_fifty_at_a_time() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let org = server.client_as(ORGANIZER).await;
        let mut csv = String::from("name,email\n");
        for i in 0..80 {
            csv.push_str(&format!("Person {i:03},person{i}@example.net\n"));
        }
        assert_eq!(
            call_fn(&org, &server, "import_registrations", &[("slug", "havenconf"), ("csv", &csv)]).await.0,
            200
        );

        let first = registrations(&server, &org, "", "1").await;
        assert_eq!(first["total"], 116);
        assert_eq!(first["pages"], 3);
        assert_eq!(first["rows"].as_array().unwrap().len(), 50);
        let last = registrations(&server, &org, "", "3").await;
        assert_eq!(last["rows"].as_array().unwrap().len(), 16);
        let beyond = registrations(&server, &org, "", "99").await;
        assert_eq!(beyond["page"], 3, "a page past the end shows the last one");

        let search = registrations(&server, &org, "PERSON 07", "1").await;
        assert_eq!(search["total"], 10, "Person 070..079, case-insensitively");
        let wildcard = registrations(&server, &org, "%", "1").await;
        assert_eq!(wildcard["total"], 0, "a % is a character to find, not a wildcard");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_csv_import_applies_every_row_or_reports_every_bad_row_and_changes_nothing() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let org = server.client_as(ORGANIZER).await;
        let import = |csv: &'static str| {
            let org = org.clone();
            let server = &server;
            async move { call_fn(&org, server, "import_registrations", &[("slug", "havenconf"), ("csv", csv)]).await }
        };

        let bad = "name,email,ticket_ref\nAlan Kay,alan@example.net,T-1\n,broken,T-2\nBarbara Liskov,barbara@example.net,T-1\n";
        let (status, body) = import(bad).await;
        assert_eq!(status, 422, "{backend}");
        let fields: Vec<&str> =
            body["detail"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["line 3 name", "line 3 email", "line 4 ticket_ref"]);
        assert_eq!(registrations(&server, &org, "alan@example.net", "1").await["total"], 0, "nothing was imported");

        let good = "name,email,ticket_ref,role\nAlan Kay,alan@example.net,T-1,speaker\nBarbara Liskov,barbara@example.net,T-2,\nAda Lovelace,ada.lovelace@example.org,HC-0001,\n";
        let (status, body) = import(good).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, serde_json::json!({"created": 2, "unchanged": 1}));
        let (status, body) = import(good).await;
        assert_eq!(status, 200);
        assert_eq!(body, serde_json::json!({"created": 0, "unchanged": 3}), "re-importing changes nothing");

        // A ticket already held by someone else is a conflict, not an overwrite.
        let before = registrations(&server, &org, "", "1").await["total"].clone();
        let (status, body) = import("name,email,ticket_ref\nEve,eve@example.net,T-1\n").await;
        assert_eq!(status, 422);
        assert_eq!(body["detail"][0]["field"], "line 2 ticket_ref");
        assert_eq!(registrations(&server, &org, "", "1").await["total"], before, "no registration was created");
        assert_eq!(registrations(&server, &org, "eve@example.net", "1").await["total"], 0);
        let alan = registrations(&server, &org, "alan@example.net", "1").await;
        assert_eq!(alan["rows"][0]["ticket_ref"], "T-1", "the ticket stays with its holder: {alan}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_import_command_does_the_same_from_a_file() {
    for backend in backends() {
        let database = TestDatabase::create(&backend).await;
        let data_dir = database.dir.display().to_string();
        let env = [("HAVEN_DATABASE_URL", database.url.as_str()), ("HAVEN_DATA_DIR", data_dir.as_str())];
        let haven = |args: &[&str]| {
            let mut cmd = std::process::Command::new(haven_bin());
            cmd.args(args).env_clear().envs(env);
            cmd.output().unwrap()
        };
        assert!(haven(&["demo"]).status.success());
        let dir = &database.dir;
        let good = dir.join("good.csv");
        std::fs::write(
            &good,
            "name,email,ticket_ref\nAlan Kay,alan@example.net,T-1\nBarbara Liskov,barbara@example.net,T-2\n",
        )
        .unwrap();
        let bad = dir.join("bad.csv");
        std::fs::write(&bad, "name,email\nAlan Kay,alan@example\n").unwrap();

        let out = haven(&["import", "registrations", "--event", "havenconf", good.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "imported 2 registration(s); 0 already registered");
        let again = haven(&["import", "registrations", "--event", "havenconf", good.to_str().unwrap()]);
        assert_eq!(String::from_utf8_lossy(&again.stdout).trim(), "imported 0 registration(s); 2 already registered");

        let out = haven(&["import", "registrations", "--event", "havenconf", bad.to_str().unwrap()]);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("line 2 email: is not an e-mail address"), "{stderr}");
        assert!(stderr.contains("nothing was changed"), "{stderr}");
        let missing = haven(&["import", "registrations", "--event", "nope", good.to_str().unwrap()]);
        assert!(String::from_utf8_lossy(&missing.stderr).contains("no event with the slug \"nope\""));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invitation_by_email_grants_the_role_once() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        let org = server.client_as(ORGANIZER).await;

        let (status, body) = call_fn(
            &org,
            &server,
            "invite_staff",
            &[("slug", "havenconf"), ("email", "new.escort@example.net"), ("role", "escort")],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let mail = sink.wait_for_to("new.escort@example.net", Duration::from_secs(10)).await;
        assert!(mail.subject.contains("HavenConf"), "{}", mail.subject);
        let link = mail.text.split_whitespace().find(|w| w.contains("/invitations/")).unwrap().to_owned();
        let token = link.rsplit('/').next().unwrap().to_owned();

        // Whoever holds the link sees the offer; accepting signs the invitee in.
        let invitee = server.client();
        let (status, view) = call_fn(&invitee, &server, "invitation", &[("token", &token)]).await;
        assert_eq!(status, 200);
        assert_eq!(view["role"], "escort");
        assert_eq!(call_fn(&invitee, &server, "accept_invitation", &[("token", &token)]).await.0, 200);
        let (_, me) = call_fn(&invitee, &server, "my_page", &[]).await;
        assert_eq!(me["roles"][0]["role"], "escort", "{me}");
        assert_eq!(me["roles"][0]["scope"], "HavenConf");

        // The link is spent.
        assert_eq!(call_fn(&server.client(), &server, "accept_invitation", &[("token", &token)]).await.0, 404);
        assert_eq!(call_fn(&server.client(), &server, "invitation", &[("token", &token)]).await.0, 404);

        // Organization-wide roles are for administrators to grant.
        let (status, body) = call_fn(
            &org,
            &server,
            "invite_staff",
            &[("slug", "havenconf"), ("email", "x@example.net"), ("role", "responder"), ("scope", "organization")],
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(body["detail"][0]["field"], "scope");
        assert_eq!(body["detail"][1]["field"], "role", "{body}");
        let admin = server.client_as(ADMIN).await;
        let (status, _) = call_fn(
            &admin,
            &server,
            "invite_staff",
            &[("slug", "havenconf"), ("email", "x@example.net"), ("role", "responder"), ("scope", "organization")],
        )
        .await;
        assert_eq!(status, 200);
        let (_, staff) = call_fn(&org, &server, "staff", &[("slug", "havenconf")]).await;
        assert!(
            staff["members"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["role"] == "escort" && m["email"] == "new.escort@example.net")
        );
        assert_eq!(staff["invitations"][0]["email"], "x@example.net");
    }
}

async fn invite(
    server: &TestServer,
    client: &reqwest::Client,
    email: &str,
    role: &str,
    scope: &str,
) -> (u16, serde_json::Value) {
    call_fn(
        client,
        server,
        "invite_staff",
        &[("slug", "havenconf"), ("email", email), ("role", role), ("scope", scope)],
    )
    .await
}

/// Invitations to this address (normalized), used or not.
async fn invitations_to(server: &TestServer, email: &str) -> Vec<invitation::Model> {
    invitation::Entity::find().filter(invitation::Column::EmailNormalized.eq(email)).all(&server.db).await.unwrap()
}

/// The token of the (first) invitation mailed to `to`.
async fn invitation_token(sink: &MailSink, to: &str) -> String {
    let mail = sink
        .wait_for(Duration::from_secs(10), |m| {
            m.to.iter().any(|t| t.eq_ignore_ascii_case(to)) && m.text.contains("/invitations/")
        })
        .await;
    let link = mail.text.split_whitespace().find(|w| w.contains("/invitations/")).unwrap();
    link.rsplit('/').next().unwrap().to_owned()
}

/// The roles on a person's own page, as (role, scope) pairs.
async fn my_roles(server: &TestServer, client: &reqwest::Client) -> Vec<(String, String)> {
    let (status, me) = call_fn(client, server, "my_page", &[]).await;
    assert_eq!(status, 200, "{me}");
    me["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["role"].as_str().unwrap().to_owned(), r["scope"].as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn only_an_administrator_invites_the_safety_team() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let org = server.client_as(ORGANIZER).await;
        let admin = server.client_as(ADMIN).await;

        // An organizer may not choose who reads the event's reports.
        let (status, body) = invite(&server, &org, "rae.new@example.net", "responder", "event").await;
        assert_eq!(status, 422, "{backend}: {body}");
        assert_eq!(body["detail"][0]["field"], "role", "{body}");
        let message = body["detail"][0]["message"].as_str().unwrap();
        assert!(message.contains("only an administrator"), "{message}");
        assert!(invitations_to(&server, "rae.new@example.net").await.is_empty(), "no invitation was made");
        let (_, staff) = call_fn(&org, &server, "staff", &[("slug", "havenconf")]).await;
        assert_eq!(staff["invitations"], serde_json::json!([]), "{staff}");

        // Their staff page offers the roles they may grant, and says who invites the team.
        let page = org.get(server.url("/manage/events/havenconf/staff")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        assert!(page.contains(r#"<option value="door">"#), "{page}");
        assert!(!page.contains(r#"value="responder""#) && !page.contains(r#"value="admin""#), "{page}");
        assert!(page.contains("The safety team is invited by an administrator of the organization."));
        let page = admin.get(server.url("/manage/events/havenconf/staff")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains(r#"<option value="responder">"#), "{page}");
        assert!(!page.contains("The safety team is invited by an administrator"));

        // Organizers still invite the rest of their event's staff.
        let (status, body) = invite(&server, &org, "dana.new@example.net", "door", "event").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(invitations_to(&server, "dana.new@example.net").await[0].role, "door");

        // An administrator invites the safety team, for the event or the organization.
        let (status, body) = invite(&server, &admin, "rae.new@example.net", "responder", "event").await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = invite(&server, &admin, "sam.new@example.net", "responder", "organization").await;
        assert_eq!(status, 200, "{body}");
        let (_, staff) = call_fn(&org, &server, "staff", &[("slug", "havenconf")]).await;
        let pending: Vec<(&str, &str, &str)> = staff["invitations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["email"].as_str().unwrap(), i["role"].as_str().unwrap(), i["scope"].as_str().unwrap()))
            .collect();
        assert_eq!(
            pending,
            [
                ("dana.new@example.net", "door", "event"),
                ("rae.new@example.net", "responder", "event"),
                ("sam.new@example.net", "responder", "organization"),
            ]
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invitation_is_accepted_only_by_its_addressee() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        const GRACE: &str = "grace.lovelace@example.org";
        const GRACE_AT_WORK: &str = "grace@work.example";
        let ada = server.client_as("ada.lovelace@example.org").await;
        let grace = server.client_as(GRACE).await;
        let admin = server.client_as(ADMIN).await;

        // Grace confirms a further address, and the safety team is offered to it.
        assert_eq!(call_fn(&grace, &server, "add_email", &[("email", GRACE_AT_WORK)]).await.0, 200, "{backend}");
        let mail = sink.wait_for_to(GRACE_AT_WORK, Duration::from_secs(10)).await;
        let confirm = mail.text.split_whitespace().find(|w| w.contains("/me/addresses/")).unwrap();
        let (status, body) =
            call_fn(&grace, &server, "confirm_email", &[("token", confirm.rsplit('/').next().unwrap())]).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = invite(&server, &admin, GRACE_AT_WORK, "responder", "event").await;
        assert_eq!(status, 200, "{body}");
        let token = invitation_token(&sink, GRACE_AT_WORK).await;

        // Ada holds the link but not the address: she is told so, without the address.
        for name in ["invitation", "accept_invitation"] {
            let (status, body) = call_fn(&ada, &server, name, &[("token", &token)]).await;
            assert_eq!(status, 409, "{name}: {body}");
            let text = body.to_string();
            assert!(text.contains("this invitation was sent to another address"), "{name}: {text}");
            assert!(!text.to_lowercase().contains("grace"), "{name} names the address: {text}");
        }
        let page = ada.get(server.url(&format!("/invitations/{token}"))).send().await.unwrap();
        assert_eq!(page.status(), 409);
        let page = page.text().await.unwrap();
        assert!(page.contains("this invitation was sent to another address"), "{page}");
        assert!(!page.contains(GRACE_AT_WORK), "{page}");
        // Nothing changed: Ada has no role, and the invitation is still there to use.
        assert_eq!(my_roles(&server, &ada).await, []);
        let stored = invitations_to(&server, GRACE_AT_WORK).await;
        assert!(stored[0].accepted_at.is_none() && stored[0].accepted_by.is_none());
        let (status, view) = call_fn(&server.client(), &server, "invitation", &[("token", &token)]).await;
        assert_eq!((status, view["role"].as_str()), (200, Some("responder")), "{view}");

        // Grace, signed in under her main address, holds the further one: she accepts.
        let (status, view) = call_fn(&grace, &server, "invitation", &[("token", &token)]).await;
        assert_eq!((status, view["email"].as_str()), (200, Some(GRACE_AT_WORK)), "{view}");
        let (status, body) = call_fn(&grace, &server, "accept_invitation", &[("token", &token)]).await;
        assert!(status < 400, "{status} {body}");
        assert_eq!(my_roles(&server, &grace).await, [("responder".to_owned(), "HavenConf".to_owned())]);
        assert_eq!(call_fn(&grace, &server, "accept_invitation", &[("token", &token)]).await.0, 404, "spent");

        // An invitation to a main address: Grace is refused, Ada accepts.
        let org = server.client_as(ORGANIZER).await;
        let (status, body) = invite(&server, &org, "Ada.Lovelace@example.org", "door", "event").await;
        assert_eq!(status, 200, "{body}");
        let token = invitation_token(&sink, "Ada.Lovelace@example.org").await;
        assert_eq!(call_fn(&grace, &server, "accept_invitation", &[("token", &token)]).await.0, 409);
        assert_eq!(my_roles(&server, &grace).await, [("responder".to_owned(), "HavenConf".to_owned())]);
        let (status, body) = call_fn(&ada, &server, "accept_invitation", &[("token", &token)]).await;
        assert!(status < 400, "{status} {body}");
        assert_eq!(my_roles(&server, &ada).await, [("door".to_owned(), "HavenConf".to_owned())]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invitation_its_sender_could_not_send_today_grants_nothing() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        let org = server.client_as(ORGANIZER).await;
        let admin = server.client_as(ADMIN).await;

        // An organizer's invitation to the safety team from before only administrators
        // could send one.
        use haven_server::db::entities::event;
        use sea_orm::ActiveValue::Set;
        let havenconf =
            event::Entity::find().filter(event::Column::Slug.eq("havenconf")).one(&server.db).await.unwrap().unwrap();
        let old_token = haven_server::crypto::random_token();
        let now = server.services.clock.now();
        invitation::Entity::insert(invitation::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            token_hash: Set(haven_server::crypto::hash_token(&old_token)),
            organization_id: Set(havenconf.organization_id),
            event_id: Set(Some(havenconf.id)),
            role: Set("responder".into()),
            email: Set("ada.lovelace@example.org".into()),
            email_normalized: Set("ada.lovelace@example.org".into()),
            invited_by: Set(server.person_id(ORGANIZER).await),
            created_at: Set(now),
            expires_at: Set(now + chrono::Duration::days(7)),
            accepted_at: Set(None),
            accepted_by: Set(None),
        })
        .exec(&server.db)
        .await
        .unwrap();
        let ada = server.client_as("ada.lovelace@example.org").await;
        for client in [&server.client(), &ada] {
            assert_eq!(call_fn(client, &server, "invitation", &[("token", &old_token)]).await.0, 404, "{backend}");
            assert_eq!(call_fn(client, &server, "accept_invitation", &[("token", &old_token)]).await.0, 404);
        }
        assert_eq!(my_roles(&server, &ada).await, []);

        // An organizer's invitation, sent while they were one, dies with their role.
        let (status, body) = invite(&server, &org, "dee@example.net", "door", "event").await;
        assert_eq!(status, 200, "{body}");
        let token = invitation_token(&sink, "dee@example.net").await;
        let (_, staff) = call_fn(&admin, &server, "staff", &[("slug", "havenconf")]).await;
        let organizer_role = staff["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["email"] == ORGANIZER && m["role"] == "organizer")
            .unwrap()["role_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (status, body) =
            call_fn(&admin, &server, "revoke_role", &[("slug", "havenconf"), ("role_id", &organizer_role)]).await;
        assert_eq!(status, 200, "{body}");
        let anyone = server.client();
        assert_eq!(call_fn(&anyone, &server, "invitation", &[("token", &token)]).await.0, 404);
        assert_eq!(call_fn(&anyone, &server, "accept_invitation", &[("token", &token)]).await.0, 404);
        assert!(invitations_to(&server, "dee@example.net").await[0].accepted_at.is_none());
        let (_, me) = call_fn(&anyone, &server, "session_info", &[]).await;
        assert_eq!(me["signed_in"], false, "nobody was signed in: {me}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_a_role_takes_effect_at_once() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let org = server.client_as(ORGANIZER).await;
        let escort = server.client_as("escort@example.org").await;
        let (_, staff) = call_fn(&org, &server, "staff", &[("slug", "havenconf")]).await;
        let role_id = staff["members"].as_array().unwrap().iter().find(|m| m["role"] == "escort").unwrap()["role_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (_, before) = call_fn(&escort, &server, "my_page", &[]).await;
        assert_eq!(before["roles"].as_array().unwrap().len(), 1);

        assert_eq!(call_fn(&org, &server, "revoke_role", &[("slug", "havenconf"), ("role_id", &role_id)]).await.0, 200);

        let (_, after) = call_fn(&escort, &server, "my_page", &[]).await;
        assert_eq!(after["roles"], serde_json::json!([]));
        assert_eq!(call_fn(&org, &server, "revoke_role", &[("slug", "havenconf"), ("role_id", &role_id)]).await.0, 404);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn organizers_create_and_edit_events_with_local_times_checked() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let admin = server.client_as(ADMIN).await;
        let form = |slug: &'static str, start: &'static str, end: &'static str| {
            vec![
                ("organization", "demo"),
                ("input[name]", "Haven Meetup"),
                ("input[slug]", slug),
                ("input[venue]", "Library"),
                ("input[time_zone]", "America/New_York"),
                ("input[starts_at]", start),
                ("input[ends_at]", end),
                ("input[ack_hours]", "12"),
            ]
        };
        let (status, body) =
            call_fn(&admin, &server, "create_event", &form("meetup", "2027-03-14T02:30", "2027-03-14T20:00")).await;
        assert_eq!(status, 422, "02:30 does not exist on 14 March 2027 in New York");
        assert_eq!(body["detail"][0]["field"], "starts_at");
        let (status, _) =
            call_fn(&admin, &server, "create_event", &form("havenconf", "2027-03-14T10:00", "2027-03-14T20:00")).await;
        assert_eq!(status, 422, "the slug is taken");
        let (status, body) =
            call_fn(&admin, &server, "create_event", &form("meetup", "2027-03-14T10:00", "2027-03-14T20:00")).await;
        assert_eq!(status, 200, "{body}");

        let (_, settings) = call_fn(&admin, &server, "event_settings", &[("slug", "meetup")]).await;
        assert_eq!(settings["starts_at"], "2027-03-14T10:00");
        assert_eq!(settings["ack_hours"], 12);

        // An event-level organizer of HavenConf may not create events for the organization.
        let org = server.client_as(ORGANIZER).await;
        assert_eq!(
            call_fn(&org, &server, "create_event", &form("other", "2027-03-14T10:00", "2027-03-14T20:00")).await.0,
            404
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_change_is_in_the_audit_chain_without_personal_data_and_tampering_shows() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let org = server.client_as(ORGANIZER).await;
        let (status, body) = call_fn(
            &org,
            &server,
            "add_registration",
            &[("slug", "havenconf"), ("name", "Grace Hopper"), ("email", "grace@navy.example")],
        )
        .await;
        assert_eq!(status, 200, "{backend}: {body}");
        let (status, body) = call_fn(
            &org,
            &server,
            "invite_staff",
            &[("slug", "havenconf"), ("email", "x@example.net"), ("role", "door")],
        )
        .await;
        assert_eq!(status, 200, "{backend}: {body}");

        let Verification::Intact { records } = audit::verify(&server.db).await.unwrap() else {
            panic!("{backend}: the chain must verify");
        };
        assert!(records >= 4, "{records}");
        use haven_server::db::entities::audit_log;
        use sea_orm::{EntityTrait, QueryOrder};
        let rows = audit_log::Entity::find().order_by_asc(audit_log::Column::Seq).all(&server.db).await.unwrap();
        let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
        for expected in ["demo.seeded", "person.created", "registration.created", "invitation.created"] {
            assert!(actions.contains(&expected), "{expected} in {actions:?}");
        }
        for r in &rows {
            let text = format!("{} {}", r.action, r.detail);
            for private in ["Grace", "grace@", "navy", "x@example"] {
                assert!(!text.contains(private), "{private} in the audit log: {text}");
            }
        }

        // Rewriting history (the database refuses it: someone who owns it drops the guard
        // first) breaks the chain at that record.
        haven_tests::drop_append_only_guards(&server.db).await;
        let victim = &rows[1];
        let mut changed: audit_log::ActiveModel = victim.clone().into();
        changed.detail = sea_orm::ActiveValue::Set(r#"{"rewritten":true}"#.into());
        audit_log::Entity::update(changed).exec(&server.db).await.unwrap();
        assert_eq!(
            audit::verify(&server.db).await.unwrap(),
            Verification::Broken { seq: victim.seq, problem: "its content does not match its hash".into() }
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn haven_audit_verify_reports_an_intact_chain_and_a_deleted_record() {
    for backend in backends() {
        let database = TestDatabase::create(&backend).await;
        let run = |args: &[&str]| {
            std::process::Command::new(haven_bin())
                .args(args)
                .env_clear()
                .env("HAVEN_DATABASE_URL", &database.url)
                .env("HAVEN_DATA_DIR", &database.dir)
                .output()
                .unwrap()
        };
        assert!(run(&["demo"]).status.success());
        assert!(run(&["org", "create", "--slug", "acme", "--name", "ACME Events"]).status.success());
        let ok = run(&["audit", "verify"]);
        assert!(ok.status.success());
        let printed = String::from_utf8_lossy(&ok.stdout).to_string();
        let said = printed.lines().next().unwrap_or_default().to_owned();
        let records: u64 = said
            .strip_prefix("the audit log is intact: ")
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{said}"));
        assert!(said.ends_with("record(s), every link verified") && records > 2, "{said}");
        assert!(printed.lines().last().unwrap().starts_with(&format!("head: {records}:")), "{printed}");

        let db = sea_orm::Database::connect(database.url.as_str()).await.unwrap();
        use sea_orm::ConnectionTrait;
        haven_tests::drop_append_only_guards(&db).await;
        db.execute_unprepared(&format!("DELETE FROM audit_log WHERE seq = {records}")).await.unwrap();
        db.close().await.unwrap();
        let broken = run(&["audit", "verify"]);
        assert!(!broken.status.success());
        assert_eq!(
            String::from_utf8_lossy(&broken.stderr).trim(),
            format!(
                "haven: the audit log is broken at record {records}: the chain's head does not match its last record (records removed?)"
            )
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_imports_and_overlong_fields_are_refused_with_nothing_changed() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let org = server.client_as(ORGANIZER).await;

        let long_name = format!("name,email\n{},long@example.net\n", "N".repeat(201));
        let (status, body) =
            call_fn(&org, &server, "import_registrations", &[("slug", "havenconf"), ("csv", &long_name)]).await;
        assert_eq!(status, 422);
        assert_eq!(body["detail"][0]["field"], "line 2 name");
        assert!(body["detail"][0]["message"].as_str().unwrap().contains("at most 200"));

        let huge = "x".repeat(26 * 1024 * 1024);
        let res = org
            .post(server.url("/fn/import_registrations"))
            .form(&[("slug", "havenconf"), ("csv", huge.as_str())])
            .send()
            .await;
        // The server answers 413 from the Content-Length alone and stops reading; the client may
        // see that answer or, still writing, a closed connection.
        match res {
            Ok(res) => assert_eq!(res.status(), 413, "a body over 25 MB is refused before it is read"),
            Err(e) => assert!(e.is_request(), "{e}"),
        }
        assert_eq!(registrations(&server, &org, "", "1").await["total"], 36, "nothing changed");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reordering_audit_records_breaks_the_chain_at_the_first_moved_record() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let org = server.client_as(ORGANIZER).await;
        for email in ["a@example.net", "b@example.net"] {
            call_fn(&org, &server, "add_registration", &[("slug", "havenconf"), ("name", "Someone"), ("email", email)])
                .await;
        }
        use sea_orm::ConnectionTrait;
        haven_tests::drop_append_only_guards(&server.db).await;
        server
            .db
            .execute_unprepared(
                "UPDATE audit_log SET seq = 1000 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; \
                 UPDATE audit_log SET seq = 3 WHERE seq = 1000;",
            )
            .await
            .unwrap();

        assert_eq!(
            audit::verify(&server.db).await.unwrap(),
            Verification::Broken { seq: 2, problem: "does not link to the record before".into() }
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn only_an_administrator_removes_someone_from_the_safety_team() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let org = server.client_as(ORGANIZER).await;
        let responder_role = |staff: &serde_json::Value| {
            staff["members"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["name"] == "Rae Responder" && m["role"] == "responder")
                .map(|m| m["role_id"].as_str().unwrap().to_owned())
        };
        let (status, staff) = call_fn(&org, &server, "staff", &[("slug", "havenconf")]).await;
        assert_eq!(status, 200, "{staff}");
        let role = responder_role(&staff).expect("Rae responds at HavenConf");

        // An organizer (who may be the one a report names) cannot take a responder off.
        let (status, body) = call_fn(&org, &server, "revoke_role", &[("slug", "havenconf"), ("role_id", &role)]).await;
        assert_eq!(status, 422, "{backend}: {body}");
        assert!(body["detail"][0]["message"].as_str().unwrap().contains("only an administrator"), "{body}");
        let (_, staff) = call_fn(&org, &server, "staff", &[("slug", "havenconf")]).await;
        assert_eq!(responder_role(&staff).as_deref(), Some(role.as_str()), "{backend}: Rae still responds");

        // Door staff are still the organizer's to remove; the safety team the administrator's.
        let door = staff["members"].as_array().unwrap().iter().find(|m| m["role"] == "door").unwrap()["role_id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(call_fn(&org, &server, "revoke_role", &[("slug", "havenconf"), ("role_id", &door)]).await.0, 200);
        let admin = server.client_as(ADMIN).await;
        let (status, body) =
            call_fn(&admin, &server, "revoke_role", &[("slug", "havenconf"), ("role_id", &role)]).await;
        assert_eq!(status, 200, "{backend}: {body}");
        let (_, staff) = call_fn(&admin, &server, "staff", &[("slug", "havenconf")]).await;
        assert_eq!(responder_role(&staff), None, "{backend}: {staff}");
    }
}

/// A write the database refuses because another got there first is told as a conflict,
/// not as a failure of the server. On PostgreSQL the other write is still open when this
/// one checks the slug, so only the unique index stops it (409); on SQLite writes take
/// turns, so this one sees the slug taken (422). Either way there is one event.
#[tokio::test(flavor = "multi_thread")]
async fn two_events_created_with_one_slug_at_once_make_one_and_the_other_is_told_why() {
    use haven_server::db::entities::{event, organization};
    use sea_orm::{ActiveValue::Set, ConnectionTrait, DbBackend, Statement};
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let admin = server.client_as(ADMIN).await;
        let org = organization::Entity::find().filter(organization::Column::Slug.eq("demo")).one(&server.db).await;
        let org = org.unwrap().expect("the demo organization");
        let now = chrono::Utc::now();
        let first = server.services.begin().await.unwrap();
        event::Entity::insert(event::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            organization_id: Set(org.id),
            slug: Set("race".into()),
            name: Set("The first".into()),
            venue: Set("Hall".into()),
            time_zone: Set("UTC".into()),
            starts_at: Set(now + chrono::Duration::days(30)),
            ends_at: Set(now + chrono::Duration::days(31)),
            ack_hours: Set(24),
            created_at: Set(now),
        })
        .exec(&*first)
        .await
        .unwrap();
        let second = {
            let (server_url, admin) = (server.url(""), admin.clone());
            let form = [
                ("organization", "demo"),
                ("input[name]", "The second"),
                ("input[slug]", "race"),
                ("input[venue]", "Library"),
                ("input[time_zone]", "UTC"),
                ("input[starts_at]", "2027-03-14T10:00"),
                ("input[ends_at]", "2027-03-14T20:00"),
                ("input[ack_hours]", "12"),
            ];
            tokio::spawn(async move {
                let res = admin.post(format!("{server_url}/fn/create_event")).form(&form).send().await.unwrap();
                (res.status().as_u16(), res.json::<serde_json::Value>().await.unwrap())
            })
        };
        if server.db.get_database_backend() == DbBackend::Postgres {
            // Wait until the second write is stopped at the unique index by the first.
            let waiting = "SELECT count(*) AS n FROM pg_stat_activity \
                           WHERE datname = current_database() AND wait_event_type = 'Lock'";
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            loop {
                let row = server.db.query_one_raw(Statement::from_string(DbBackend::Postgres, waiting)).await;
                if row.unwrap().unwrap().try_get::<i64>("", "n").unwrap() > 0 {
                    break;
                }
                assert!(std::time::Instant::now() < deadline, "the second write never reached the index");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        } else {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        first.commit().await.unwrap();
        let (status, body) = second.await.unwrap();
        if backend.to_string() == "postgres" {
            assert_eq!(status, 409, "{body}");
            assert_eq!(body["error"], "conflict", "{body}");
            assert!(body["detail"].as_str().unwrap().contains("someone else changed this"), "{body}");
        } else {
            assert_eq!(status, 422, "{body}");
            assert_eq!(body["detail"][0]["field"], "slug", "{body}");
        }
        let races = event::Entity::find().filter(event::Column::Slug.eq("race")).all(&server.db).await.unwrap();
        assert_eq!(races.len(), 1, "{backend}: one event");
        assert_eq!(races[0].name, "The first", "{backend}: the first write stands");
    }
}
