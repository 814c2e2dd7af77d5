//! Tests a person would do in a browser, in Debian's headless Chromium.

use haven_tests::{Backend, MailSink, OidcProvider, Options, TestServer, backends, browser};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_event_page_hydrates_and_its_disclosure_opens_in_chromium() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;

        let out = browser::run_script("hydration.mjs", &server.base_url, &[]).await;

        assert!(out.contains("ok: the demo event page hydrates"), "{out}");
        assert!(haven_tests::workspace_root().join("test-output/event-page-hydrated.png").exists());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registrant_signs_in_with_an_emailed_link_in_chromium() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        let link_file = std::env::temp_dir().join(format!("haven-link-{}", uuid::Uuid::new_v4().simple()));

        let script = browser::spawn_script(
            "signin-email.mjs",
            &server.base_url,
            &[
                ("EMAIL", "grace.okafor@example.org".into()),
                ("NAME", "Grace Okafor".into()),
                ("LINK_FILE", link_file.display().to_string()),
            ],
        );
        let mail = sink.wait_for_to("grace.okafor@example.org", Duration::from_secs(30)).await;
        let link = mail.text.split_whitespace().find(|w| w.contains("/auth/link/")).unwrap().to_owned();
        std::fs::write(&link_file, link).unwrap();
        let out = browser::finish("signin-email.mjs", script).await;

        assert!(out.contains("ok: a registrant signs in"), "{out}");
        let _ = std::fs::remove_file(link_file);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registrant_signs_in_with_an_oidc_provider_in_chromium() {
    for backend in backends() {
        let mut provider = OidcProvider::start().await;
        let options = Options::default().oidc(&provider, "mock", "Mock SSO");
        let server = TestServer::start_with(&backend, options).await;
        server.seed_demo().await;
        provider
            .sign_in_as(
                serde_json::json!({"sub": "k-1", "email": "katherine.moreau@example.org", "email_verified": true}),
            )
            .await;

        let out =
            browser::run_script("signin-oidc.mjs", &server.base_url, &[("NAME", "Katherine Moreau".into())]).await;

        assert!(out.contains("ok: a registrant signs in with their SSO account"), "{out}");
    }
}

/// Sign-in links and OIDC sign-ins asked for with `return_to` values that once led off the
/// site (a tab, a backslash, encoded slashes, …): Chromium itself ends on `/me` each time.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_return_to_values_keep_chromium_on_the_site() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let mut provider = OidcProvider::start().await;
        let options = Options::default().mail(&sink).oidc(&provider, "mock", "Mock SSO");
        let server = TestServer::start_with(&backend, options).await;
        server.seed_demo().await;
        provider
            .sign_in_as(
                serde_json::json!({"sub": "k-2", "email": "katherine.moreau@example.org", "email_verified": true}),
            )
            .await;
        let values = [
            "/\t/evil.example",
            "/%09/evil.example",
            "/\\evil.example",
            "//evil.example",
            "/.//evil.example",
            "/%2F%2Fevil.example",
            "https://evil.example/",
        ];
        // One registrant per value: at most 3 links per address in 15 minutes.
        let people: Vec<String> = haven_server::demo::registrants().into_iter().map(|(_, e)| e).skip(20).collect();
        let mut links = Vec::new();
        for (value, email) in values.iter().zip(&people) {
            let (status, body) = haven_tests::call_fn(
                &server.client(),
                &server,
                "request_signin_link",
                &[("email", email), ("return_to", value)],
            )
            .await;
            assert_eq!(status, 200, "{body}");
            // The sign-in mail (the demo may have written to this registrant before).
            let mail = sink
                .wait_for(Duration::from_secs(30), |m| {
                    m.to.iter().any(|t| t.eq_ignore_ascii_case(email)) && m.text.contains("/auth/link/")
                })
                .await;
            let link = mail.text.split_whitespace().find(|w| w.contains("/auth/link/")).unwrap().to_owned();
            links.push(serde_json::json!({"value": value, "link": link}));
        }
        let file = std::env::temp_dir().join(format!("haven-return-to-{}.json", uuid::Uuid::new_v4().simple()));
        std::fs::write(&file, serde_json::Value::Array(links).to_string()).unwrap();

        let out =
            browser::run_script("return-to.mjs", &server.base_url, &[("LINKS_FILE", file.display().to_string())]).await;

        assert!(out.contains("ok: hostile return_to values keep the browser on the site"), "{out}");
        let _ = std::fs::remove_file(file);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_organizer_adds_and_imports_registrations_in_chromium() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let cookie = server.session_cookie("organizer@example.org").await;

        let out = browser::run_script("organizer.mjs", &server.base_url, &[("SESSION_COOKIE", cookie)]).await;

        assert!(out.contains("ok: an organizer adds and imports registrations"), "{out}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_concern_is_filed_without_javascript_and_on_a_phone_in_chromium() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let cookie = server.session_cookie("barbara.moreau@example.org").await;

        let out = browser::run_script("concern.mjs", &server.base_url, &[("SESSION_COOKIE", cookie)]).await;

        assert!(out.contains("ok: a concern is filed without JavaScript"), "{out}");
        assert!(out.contains("ok: a concern is filed on a phone"), "{out}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_responder_works_a_case_and_the_reporter_sees_it_in_chromium() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reporter = server.client_as("barbara.moreau@example.org").await;
        let form = reqwest::multipart::Form::new()
            .text("person_name", "Someone")
            .text("narrative", "The lights went out and someone grabbed my arm.");
        let res = reporter.post(server.url("/events/havenconf/concern")).multipart(form).send().await.unwrap();
        let reference = res.headers()["location"]
            .to_str()
            .unwrap()
            .split('/')
            .nth(2)
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .to_owned();

        let out = browser::run_script(
            "responder.mjs",
            &server.base_url,
            &[
                ("REFERENCE", reference),
                ("RESPONDER_COOKIE", server.session_cookie("responder@example.org").await),
                ("REPORTER_COOKIE", server.session_cookie("barbara.moreau@example.org").await),
            ],
        )
        .await;

        assert!(out.contains("ok: a responder acknowledges a case"), "{out}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_responder_plans_an_escort_and_the_escort_acknowledges_it_in_chromium() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reporter = server.client_as("barbara.moreau@example.org").await;
        let form = reqwest::multipart::Form::new()
            .text("person_name", "Someone")
            .text("narrative", "Someone grabbed my arm; I would like company after dark.");
        let res = reporter.post(server.url("/events/havenconf/concern")).multipart(form).send().await.unwrap();
        let reference = res.headers()["location"]
            .to_str()
            .unwrap()
            .split('/')
            .nth(2)
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let (_, settings) = haven_tests::call_fn(
            &server.client_as("organizer@example.org").await,
            &server,
            "event_settings",
            &[("slug", "havenconf")],
        )
        .await;
        let day = settings["starts_at"].as_str().unwrap()[..10].to_owned();

        let out = browser::run_script(
            "plan-escort.mjs",
            &server.base_url,
            &[
                ("REFERENCE", reference),
                ("WINDOW_START", format!("{day}T21:00")),
                ("WINDOW_END", format!("{day}T22:00")),
                ("RESPONDER_COOKIE", server.session_cookie("responder@example.org").await),
                ("ESCORT_COOKIE", server.session_cookie("escort@example.org").await),
            ],
        )
        .await;

        assert!(out.contains("ok: a responder plans an escort"), "{out}");
    }
}

async fn door_token(server: &TestServer, email: &str) -> String {
    server.badge_token("havenconf", email).await
}

/// Replaces a registration's badge and returns the old (now revoked) token.
async fn revoked_token(server: &TestServer, email: &str) -> String {
    use haven_server::db::entities::{event, registration};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let old = door_token(server, email).await;
    let e = event::Entity::find().filter(event::Column::Slug.eq("havenconf")).one(&server.db).await.unwrap().unwrap();
    let person = server.person_id(email).await;
    let r = registration::Entity::find()
        .filter(registration::Column::EventId.eq(e.id))
        .filter(registration::Column::PersonId.eq(person))
        .one(&server.db)
        .await
        .unwrap()
        .unwrap();
    server.services.replace_badge_of(None, &e, r.id).await.unwrap();
    old
}

#[tokio::test(flavor = "multi_thread")]
async fn the_door_camera_admits_a_valid_badge_and_denies_a_revoked_one_in_chromium() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let cookie = server.session_cookie("door@example.org").await;
        let good = door_token(&server, "ada.lovelace@example.org").await;
        let revoked = revoked_token(&server, "grace.okafor@example.org").await;

        for (token, expect, name) in [(good, "admit", "Ada Lovelace"), (revoked, "deny/revoked", "Grace Okafor")] {
            let video = server.database.dir.join(format!("{}.y4m", expect.replace('/', "-")));
            browser::qr_video(&token, &video);
            let args = serde_json::to_string(&[
                "--use-fake-ui-for-media-stream".to_owned(),
                "--use-fake-device-for-media-stream".to_owned(),
                format!("--use-file-for-fake-video-capture={}", video.display()),
            ])
            .unwrap();
            let out = browser::run_script(
                "door-camera.mjs",
                &server.base_url,
                &[
                    ("SESSION_COOKIE", cookie.clone()),
                    ("EXPECT", expect.into()),
                    ("NAME", name.into()),
                    ("CHROMIUM_ARGS", args),
                ],
            )
            .await;
            assert!(out.contains(&format!("ok: the camera scan of a badge answers {expect}")), "{out}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_door_page_decides_offline_and_uploads_each_scan_once_in_chromium() {
    for backend in backends() {
        offline_door_run(&backend, "door-offline.mjs", &["uploaded"], "West").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_door_page_opens_after_a_reload_and_a_restart_without_network_in_chromium() {
    for backend in backends() {
        let steps = ["reloaded offline", "restarted offline", "uploaded", "ok: the door page opens offline"];
        offline_door_run(&backend, "door-offline-reload.mjs", &steps, "Reload").await;
    }
}

/// Runs a door script that scans a valid badge (`GOOD`) and a revoked one (`REVOKED`)
/// offline at `gate` as door staff; checks it printed each of `steps` and that the two
/// scans were uploaded exactly once each.
async fn offline_door_run(backend: &Backend, script: &str, steps: &[&str], gate: &str) {
    let server = TestServer::start(backend).await;
    server.seed_demo().await;
    let good = door_token(&server, "ada.lovelace@example.org").await;
    let revoked = revoked_token(&server, "grace.okafor@example.org").await;
    let cookie = server.session_cookie("door@example.org").await;

    let out = browser::run_script(
        script,
        &server.base_url,
        &[("SESSION_COOKIE", cookie), ("GOOD", good), ("REVOKED", revoked)],
    )
    .await;

    for step in steps {
        assert!(out.contains(step), "{step}: {out}");
    }
    use haven_server::db::entities::scan;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let scans = scan::Entity::find().filter(scan::Column::Gate.eq(gate)).all(&server.db).await.unwrap();
    let results: Vec<&str> = scans.iter().map(|s| s.result.as_str()).collect();
    assert_eq!(scans.len(), 2, "each scan decided offline uploaded exactly once: {results:?}");
    assert!(results.contains(&"admit") && results.contains(&"deny"), "{results:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_out_of_the_door_page_keeps_waiting_scans_and_then_clears_the_door_data_in_chromium() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let good = door_token(&server, "ada.lovelace@example.org").await;
        let cookie = server.session_cookie("door@example.org").await;

        let second = server.session_cookie("door@example.org").await;

        let out = browser::run_script(
            "door-sign-out.mjs",
            &server.base_url,
            &[("SESSION_COOKIE", cookie), ("SECOND_COOKIE", second), ("GOOD", good)],
        )
        .await;

        assert!(out.contains("ok: signing out of the door page keeps waiting scans"), "{out}");
        use haven_server::db::entities::scan;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let scans = scan::Entity::find().filter(scan::Column::Gate.eq("Sign-out")).all(&server.db).await.unwrap();
        assert_eq!(scans.len(), 1, "the waiting scan was uploaded once before signing out");
        assert_eq!(scans[0].result, "admit");
        let anyway = scan::Entity::find().filter(scan::Column::Gate.eq("Anyway")).all(&server.db).await.unwrap();
        assert!(anyway.is_empty(), "signed out anyway, the scan waits on the phone: {anyway:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_organizer_prints_a_selection_replaces_a_badge_and_sees_arrivals_live_in_chromium() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        let ada_before = door_token(&server, "ada.lovelace@example.org").await;
        let arriving = door_token(&server, "grace.okafor@example.org").await;
        let device = server.device_token("havenconf").await;

        let out = browser::run_script(
            "badges-organizer.mjs",
            &server.base_url,
            &[
                ("SESSION_COOKIE", server.session_cookie("organizer@example.org").await),
                ("DEVICE", device.clone()),
                ("ARRIVING", arriving),
                ("ARRIVING_NAME", "Grace Okafor".into()),
            ],
        )
        .await;
        assert!(out.contains("ok: an organizer prints, replaces and watches arrivals"), "{out}");

        // The replaced badge no longer opens the door; the new one does.
        let old = server.scan(&device, &ada_before).await;
        assert_eq!((old["result"].as_str(), old["reason"].as_str()), (Some("deny"), Some("revoked")), "{old}");
        let ada_now = door_token(&server, "ada.lovelace@example.org").await;
        assert_ne!(ada_now, ada_before);
        assert_eq!(server.scan(&device, &ada_now).await["result"], "admit");
        // "E-mail every badge" queued one message per registrant with a badge, delivered by SMTP.
        let mail = sink
            .wait_for(Duration::from_secs(20), |m| m.to[0] == "grace.okafor@example.org" && m.subject.contains("badge"))
            .await;
        assert!(mail.attachments.iter().any(|a| a.1 == "image/png"), "the badge travels as a PNG");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_decision_is_appealed_through_the_emailed_link_and_decided_finally_in_chromium() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        let reference = {
            use haven_server::db::entities::{case, case_person};
            use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
            let ken = server.person_id("ken.okafor@example.org").await;
            let link = case_person::Entity::find()
                .filter(case_person::Column::PersonId.eq(ken))
                .one(&server.db)
                .await
                .unwrap()
                .unwrap();
            case::Entity::find_by_id(link.case_id).one(&server.db).await.unwrap().unwrap().reference
        };
        let link_file = std::env::temp_dir().join(format!("haven-appeal-{}", uuid::Uuid::new_v4().simple()));
        let script = browser::spawn_script(
            "decision-appeal.mjs",
            &server.base_url,
            &[
                ("REFERENCE", reference),
                ("RESPONDER_COOKIE", server.session_cookie("responder@example.org").await),
                ("ORGANIZER_COOKIE", server.session_cookie("organizer@example.org").await),
                ("ADMIN_COOKIE", server.session_cookie("admin@example.org").await),
                ("KEN_COOKIE", server.session_cookie("ken.okafor@example.org").await),
                ("LINK_FILE", link_file.display().to_string()),
            ],
        );
        // The notice arrives over SMTP; its link goes to the "person" in the browser.
        let notice = sink
            .wait_for(Duration::from_secs(60), |m| {
                m.to[0] == "ken.okafor@example.org" && m.subject.starts_with("A decision about you")
            })
            .await;
        let link = notice.text.lines().find(|l| l.contains("/appeal/")).expect("the appeal link").trim().to_owned();
        std::fs::write(&link_file, &link).unwrap();
        let out = browser::finish("decision-appeal.mjs", script).await;
        assert!(out.contains("ok: a decision is appealed through the notice and decided finally"), "{out}");

        // Lifted: Ken is admitted again (with his case's door instruction), and told so.
        let device = server.device_token("havenconf").await;
        let token = server.badge_token("havenconf", "ken.okafor@example.org").await;
        assert_eq!(server.scan(&device, &token).await["result"], "alert");
        let outcome = sink
            .wait_for(Duration::from_secs(20), |m| {
                m.to[0] == "ken.okafor@example.org" && m.text.contains("your appeal has been decided")
            })
            .await;
        assert!(outcome.text.contains("final"), "{}", outcome.text);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_arrival_alert_appears_live_on_a_responders_open_page_in_chromium() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let device = server.device_token("havenconf").await;
        let token = server.badge_token("havenconf", "ken.okafor@example.org").await;
        let cookie = server.session_cookie("responder@example.org").await;

        let out = browser::run_script(
            "notification-bell.mjs",
            &server.base_url,
            &[("SESSION_COOKIE", cookie), ("DEVICE", device), ("TOKEN", token)],
        )
        .await;

        assert!(out.contains("ok: an arrival alert appears live on an open page"), "{out}");
        use haven_server::db::entities::scan;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let scans = scan::Entity::find().filter(scan::Column::Gate.eq("North")).all(&server.db).await.unwrap();
        assert_eq!(scans.len(), 1, "the scan was recorded once");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_responder_sets_up_an_authenticator_app_and_signs_in_with_it_in_chromium() {
    use haven_server::db::entities::organization;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let org = organization::Entity::find()
            .filter(organization::Column::Slug.eq("demo"))
            .one(&server.db)
            .await
            .unwrap()
            .unwrap();
        let policy = haven_app::api::OrganizationSecurity { second_factor_required: true, accept_provider_mfa: false };
        server.services.set_security(None, org.id, policy).await.unwrap();
        let responder = server.person_id("responder@example.org").await;
        let mut links = Vec::new();
        for _ in 0..3 {
            let tx = server.services.begin().await.unwrap();
            let now = server.services.clock.now();
            let token =
                haven_server::services::auth::create_login_link_to(&tx, responder, now, "/respond").await.unwrap();
            tx.commit().await.unwrap();
            links.push(server.url(&format!("/auth/link/{token}")));
        }

        let out = browser::run_script(
            "second-factor.mjs",
            &server.base_url,
            &[("LINK", links[0].clone()), ("LINK2", links[1].clone()), ("LINK3", links[2].clone())],
        )
        .await;

        assert!(out.contains("ok: a responder sets up an authenticator app"), "{out}");
    }
}
