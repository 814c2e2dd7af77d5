//! Signing in (OIDC and e-mail links), sessions, CSRF, one person behind many identities.

use haven_server::clock::ManualClock;
use haven_tests::{MailSink, OidcProvider, Options, TestServer, backends, call_fn};
use serde_json::json;
use std::time::Duration;

const ADA: &str = "ada.lovelace@example.org";

fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect()
}

fn location(res: &reqwest::Response) -> String {
    res.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// Runs an OIDC sign-in as a browser would (without one): start, provider, callback.
/// Returns the callback response.
async fn oidc_sign_in(server: &TestServer, client: &reqwest::Client) -> reqwest::Response {
    oidc_sign_in_with(server, client, "mock").await
}

/// The same with the provider configured under `id`.
async fn oidc_sign_in_with(server: &TestServer, client: &reqwest::Client, id: &str) -> reqwest::Response {
    let callback = oidc_callback_url(server, client, id).await;
    client.get(callback).send().await.unwrap()
}

/// Starts a sign-in and passes the provider: the callback URL it sends the browser back to.
async fn oidc_callback_url(server: &TestServer, client: &reqwest::Client, id: &str) -> String {
    let start = client.get(server.url(&format!("/auth/oidc/{id}/start?return_to=/me"))).send().await.unwrap();
    assert_eq!(start.status(), 303);
    let provider = client.get(location(&start)).send().await.unwrap();
    assert_eq!(provider.status(), 302, "the mock provider redirects straight back");
    let callback = location(&provider);
    assert!(callback.starts_with(&server.url(&format!("/auth/oidc/{id}/callback"))), "{callback}");
    callback
}

async fn me(server: &TestServer, client: &reqwest::Client) -> serde_json::Value {
    let (status, body) = call_fn(client, server, "my_page", &[]).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn oidc_sign_in_finds_the_registrant_by_verified_email_and_keeps_one_person() {
    for backend in backends() {
        let mut provider = OidcProvider::start().await;
        let options = Options::default().oidc(&provider, "mock", "Mock SSO");
        let server = TestServer::start_with(&backend, options).await;
        server.seed_demo().await;

        // Ada signs in with her provider account, whose address differs in case only.
        provider
            .sign_in_as(
                json!({"sub": "ada-1", "email": "Ada.Lovelace@Example.org", "email_verified": true, "name": "Ada L."}),
            )
            .await;
        let browser = server.client();
        let done = oidc_sign_in(&server, &browser).await;
        assert_eq!(done.status(), 303);
        assert_eq!(location(&done), "/me");
        let cookies = set_cookies(&done);
        let session = cookies.iter().find(|c| c.starts_with("haven_session=")).expect("a session cookie");
        for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(session.contains(flag), "{session}");
        }
        assert!(!session.contains("Secure"), "plain http in tests: {session}");
        let page = me(&server, &browser).await;
        assert_eq!(page["name"], "Ada Lovelace", "{backend}: the registered person, not a new one");
        assert_eq!(page["registrations"][0]["event_slug"], "havenconf");

        // The same account again: still the same person.
        let again = server.client();
        oidc_sign_in(&server, &again).await;
        assert_eq!(me(&server, &again).await["name"], "Ada Lovelace");

        // An unverified address links to no one: a new person without registrations.
        provider.sign_in_as(json!({"sub": "mallory", "email": ADA, "email_verified": false, "name": "Mallory"})).await;
        let mallory = server.client();
        oidc_sign_in(&server, &mallory).await;
        let page = me(&server, &mallory).await;
        assert_eq!(page["name"], "Mallory");
        assert_eq!(page["registrations"], json!([]));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oidc_callback_without_its_browser_cookie_or_replayed_is_refused() {
    for backend in backends() {
        let mut provider = OidcProvider::start().await;
        let options = Options::default().oidc(&provider, "mock", "Mock SSO");
        let server = TestServer::start_with(&backend, options).await;
        server.seed_demo().await;
        provider.sign_in_as(json!({"sub": "ada-1", "email": ADA, "email_verified": true})).await;

        let browser = server.client();
        let start = browser.get(server.url("/auth/oidc/mock/start")).send().await.unwrap();
        let callback = location(&browser.get(location(&start)).send().await.unwrap());

        // Another browser (no flow cookie) presenting the same callback: refused.
        let stranger = server.client().get(&callback).send().await.unwrap();
        assert_eq!(location(&stranger), "/signin?error=expired");
        assert!(set_cookies(&stranger).iter().all(|c| !c.starts_with("haven_session=")));

        // The right browser succeeds once; replaying the callback fails.
        let first = browser.get(&callback).send().await.unwrap();
        assert_eq!(location(&first), "/me");
        let replay = browser.get(&callback).send().await.unwrap();
        assert_eq!(location(&replay), "/signin?error=expired");

        // An unknown provider is simply refused.
        let unknown = browser.get(server.url("/auth/oidc/nope/start")).send().await.unwrap();
        assert_eq!(location(&unknown), "/signin?error=unknown_provider");
    }
}

/// The next sign-in e-mail to this address.
async fn signin_mail(sink: &MailSink, to: &str) -> haven_tests::mail::Mail {
    let to = to.to_owned();
    sink.wait_for(Duration::from_secs(10), move |m| {
        m.to.iter().any(|t| t.eq_ignore_ascii_case(&to)) && m.subject == "Your Haven sign-in link"
    })
    .await
}

fn link_in(mail: &haven_tests::mail::Mail) -> String {
    mail.text
        .split_whitespace()
        .find(|w| w.contains("/auth/link/"))
        .expect("the mail carries a sign-in link")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_email_link_signs_in_once_and_only_for_fifteen_minutes() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let clock = ManualClock::new(chrono::Utc::now());
        let server = TestServer::start_with(&backend, Options::default().mail(&sink).clock(clock.clone())).await;
        server.seed_demo().await;
        let browser = server.client();

        let (status, _) =
            call_fn(&browser, &server, "request_signin_link", &[("email", "ADA.LOVELACE@example.org")]).await;
        assert_eq!(status, 200, "{backend}");
        let mail = signin_mail(&sink, "ADA.LOVELACE@example.org").await;
        assert_eq!(mail.subject, "Your Haven sign-in link");
        let link = link_in(&mail);
        let token = link.rsplit('/').next().unwrap().to_owned();

        // Opening the link shows a button; it does not sign in by itself.
        let page = browser.get(&link).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(call_fn(&browser, &server, "my_page", &[]).await.0 == 401);

        let (status, _) = call_fn(&browser, &server, "redeem_signin_link", &[("token", &token)]).await;
        assert_eq!(status, 200);
        assert_eq!(me(&server, &browser).await["name"], "Ada Lovelace");

        let (status, body) = call_fn(&server.client(), &server, "redeem_signin_link", &[("token", &token)]).await;
        assert_eq!(status, 422, "a used link does not work twice");
        assert!(body.to_string().contains("expired or was already used"), "{body}");

        // A fresh link left for 16 minutes no longer works.
        call_fn(&server.client(), &server, "request_signin_link", &[("email", ADA)]).await;
        let second = sink.wait_for(Duration::from_secs(10), |m| m.to[0] == ADA && m.text.contains("/auth/link/")).await;
        let late_token = link_in(&second).rsplit('/').next().unwrap().to_owned();
        clock.advance(chrono::Duration::minutes(16));
        let (status, _) = call_fn(&server.client(), &server, "redeem_signin_link", &[("token", &late_token)]).await;
        assert_eq!(status, 422);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn asking_for_a_link_answers_the_same_for_unknown_addresses_and_sends_nothing() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;

        let known =
            server.client().post(server.url("/fn/request_signin_link")).form(&[("email", ADA)]).send().await.unwrap();
        let unknown = server
            .client()
            .post(server.url("/fn/request_signin_link"))
            .form(&[("email", "stranger@example.net")])
            .send()
            .await
            .unwrap();

        assert_eq!(known.status(), unknown.status());
        assert_eq!(location(&known), location(&unknown));
        assert_eq!(known.text().await.unwrap(), unknown.text().await.unwrap());
        signin_mail(&sink, ADA).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(sink.to("stranger@example.net").await.is_empty(), "no mail for an unknown address");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_links_are_rate_limited_per_address_and_per_client() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        let client = server.client();
        for i in 0..3 {
            assert_eq!(call_fn(&client, &server, "request_signin_link", &[("email", ADA)]).await.0, 200, "attempt {i}");
        }
        let (status, body) = call_fn(&client, &server, "request_signin_link", &[("email", ADA)]).await;
        assert_eq!(status, 429);
        assert_eq!(body["error"], "rate_limited");

        // One client trying many addresses is stopped too (3 attempts above count).
        let mut last = 0;
        for i in 0..20 {
            last = call_fn(&client, &server, "request_signin_link", &[("email", &format!("person{i}@example.org"))])
                .await
                .0;
        }
        assert_eq!(last, 429);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_end_when_idle_at_their_maximum_age_and_on_sign_out_everywhere() {
    for backend in backends() {
        let clock = ManualClock::new(chrono::Utc::now());
        let server = TestServer::start_with(&backend, Options::default().clock(clock.clone())).await;
        server.seed_demo().await;

        // Idle for more than 8 hours: signed out.
        let idle = server.client_as(ADA).await;
        assert_eq!(call_fn(&idle, &server, "my_page", &[]).await.0, 200);
        clock.advance(chrono::Duration::hours(8) + chrono::Duration::minutes(1));
        assert_eq!(call_fn(&idle, &server, "my_page", &[]).await.0, 401, "{backend}");

        // Active every 7 hours, still ends after 7 days.
        let active = server.client_as(ADA).await;
        for _ in 0..23 {
            clock.advance(chrono::Duration::hours(7));
            assert_eq!(call_fn(&active, &server, "my_page", &[]).await.0, 200);
        }
        clock.advance(chrono::Duration::hours(7));
        assert_eq!(call_fn(&active, &server, "my_page", &[]).await.0, 401);

        // Signing out everywhere ends every session of the person.
        let phone = server.client_as(ADA).await;
        let laptop = server.client_as(ADA).await;
        let (status, _) = call_fn(&laptop, &server, "sign_out", &[("everywhere", "true")]).await;
        assert_eq!(status, 200);
        assert_eq!(call_fn(&phone, &server, "my_page", &[]).await.0, 401);
        assert_eq!(call_fn(&laptop, &server, "my_page", &[]).await.0, 401);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_in_again_rotates_the_session() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        let old_cookie = server.session_cookie(ADA).await;
        let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

        call_fn(&server.client(), &server, "request_signin_link", &[("email", ADA)]).await;
        let token = link_in(&signin_mail(&sink, ADA).await).rsplit('/').next().unwrap().to_owned();
        let res = browser
            .post(server.url("/fn/redeem_signin_link"))
            .header("cookie", &old_cookie)
            .header("origin", &server.base_url)
            .form(&[("token", token.as_str())])
            .send()
            .await
            .unwrap();
        let new_cookie = set_cookies(&res).into_iter().find(|c| c.starts_with("haven_session=")).unwrap();
        assert_ne!(new_cookie.split(';').next().unwrap(), old_cookie);

        let with_old = browser
            .post(server.url("/fn/my_page"))
            .header("cookie", &old_cookie)
            .header("sec-fetch-site", "same-origin")
            .send()
            .await
            .unwrap();
        assert_eq!(with_old.status(), 401, "the session from before the sign-in is over");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn state_changing_requests_from_other_sites_are_refused() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let cookie = server.session_cookie(ADA).await;
        let raw = reqwest::Client::new();
        let post = |headers: Vec<(&'static str, &'static str)>| {
            let mut req =
                raw.post(server.url("/fn/sign_out")).header("cookie", &cookie).form(&[("everywhere", "true")]);
            for (k, v) in headers {
                req = req.header(k, v);
            }
            req.send()
        };

        assert_eq!(post(vec![("origin", "https://evil.example")]).await.unwrap().status(), 403);
        assert_eq!(post(vec![("sec-fetch-site", "cross-site")]).await.unwrap().status(), 403);
        assert_eq!(post(vec![("sec-fetch-site", "same-site")]).await.unwrap().status(), 403);
        assert_eq!(post(vec![]).await.unwrap().status(), 403, "a cookie without any origin information");
        let still_in = raw
            .post(server.url("/fn/my_page"))
            .header("cookie", &cookie)
            .header("sec-fetch-site", "same-origin")
            .send()
            .await
            .unwrap();
        assert_eq!(still_in.status(), 200, "nothing was signed out");

        assert_eq!(post(vec![("sec-fetch-site", "same-origin")]).await.unwrap().status(), 200);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_cookie_from_another_installation_is_nobody_here() {
    for backend in backends() {
        let here = TestServer::start(&backend).await;
        let elsewhere = TestServer::start(&backend).await;
        here.seed_demo().await;
        elsewhere.seed_demo().await;
        let foreign = elsewhere.session_cookie(ADA).await;

        let res = reqwest::Client::new()
            .post(here.url("/fn/my_page"))
            .header("cookie", foreign)
            .header("sec-fetch-site", "same-origin")
            .send()
            .await
            .unwrap();

        assert_eq!(res.status(), 401);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn haven_signin_link_prints_a_working_one_time_link_for_the_operator() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;

        let out = std::process::Command::new(haven_tests::haven_bin())
            .args(["signin-link", "--email", "Organizer@example.org"])
            .env_clear()
            .env("HAVEN_DATABASE_URL", &server.database.url)
            .env("HAVEN_DATA_DIR", &server.database.dir)
            .env("HAVEN_PUBLIC_URL", &server.base_url)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let link = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(link.starts_with(&format!("{}/auth/link/", server.base_url)), "{link}");
        let token = link.rsplit('/').next().unwrap();

        let browser = server.client();
        assert_eq!(call_fn(&browser, &server, "redeem_signin_link", &[("token", token)]).await.0, 200);
        assert_eq!(me(&server, &browser).await["name"], "Olu Organizer");

        let unknown = std::process::Command::new(haven_tests::haven_bin())
            .args(["signin-link", "--email", "nobody@example.org"])
            .env_clear()
            .env("HAVEN_DATABASE_URL", &server.database.url)
            .env("HAVEN_DATA_DIR", &server.database.dir)
            .output()
            .unwrap();
        assert!(!unknown.status.success());
        assert!(String::from_utf8_lossy(&unknown.stderr).contains("no one with the address"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn several_providers_sign_the_same_person_in_side_by_side() {
    for backend in backends() {
        use haven_server::db::entities::identity;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let mut corp = OidcProvider::start().await;
        let mut public = OidcProvider::start().await;
        let options = Options::default().oidc(&corp, "corp", "Corp SSO").oidc(&public, "public", "Public ID");
        let server = TestServer::start_with(&backend, options).await;
        server.seed_demo().await;

        let (_, offered) = call_fn(&server.client(), &server, "signin_options", &[]).await;
        let names: Vec<(&str, &str)> = offered["providers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
            .collect();
        assert_eq!(names, [("corp", "Corp SSO"), ("public", "Public ID")], "{offered}");
        let page = server.client().get(server.url("/signin")).send().await.unwrap().text().await.unwrap();
        for shown in ["Corp SSO", "Public ID", "/auth/oidc/corp/start", "/auth/oidc/public/start"] {
            assert!(page.contains(shown), "the sign-in page offers {shown}");
        }

        corp.sign_in_as(json!({"sub": "c-1", "email": ADA, "email_verified": true})).await;
        public.sign_in_as(json!({"sub": "p-9", "email": "Ada.Lovelace@Example.org", "email_verified": true})).await;
        for id in ["corp", "public"] {
            let browser = server.client();
            assert_eq!(location(&oidc_sign_in_with(&server, &browser, id).await), "/me", "{id}");
            assert_eq!(me(&server, &browser).await["name"], "Ada Lovelace", "{id}: the registered person");
        }
        let ada = server.person_id(ADA).await;
        let mut held: Vec<(String, String)> = identity::Entity::find()
            .filter(identity::Column::PersonId.eq(ada))
            .all(&server.db)
            .await
            .unwrap()
            .into_iter()
            .map(|i| (i.subject, i.provider))
            .filter(|(_, p)| p != "email")
            .collect();
        held.sort();
        let subjects: Vec<&str> = held.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(subjects, ["c-1", "p-9"], "one identity per provider account, both Ada's");
        assert_ne!(held[0].1, held[1].1, "each kept under its own provider (issuer)");

        // A callback from one provider's flow presented at the other's address is refused.
        let browser = server.client();
        let callback = oidc_callback_url(&server, &browser, "corp").await;
        let crossed = browser.get(callback.replace("/auth/oidc/corp/", "/auth/oidc/public/")).send().await.unwrap();
        assert_eq!(location(&crossed), "/signin?error=expired");
        assert!(set_cookies(&crossed).iter().all(|c| !c.starts_with("haven_session=")));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_state_is_refused_even_when_the_browser_cookie_matches_it() {
    for backend in backends() {
        let mut provider = OidcProvider::start().await;
        let server = TestServer::start_with(&backend, Options::default().oidc(&provider, "mock", "Mock SSO")).await;
        server.seed_demo().await;
        provider.sign_in_as(json!({"sub": "ada-1", "email": ADA, "email_verified": true})).await;
        // A real code from the provider, and a state (and cookie) the attacker made up.
        let browser = server.client();
        let callback = oidc_callback_url(&server, &browser, "mock").await;
        let code = callback.split("code=").nth(1).unwrap().split('&').next().unwrap().to_owned();
        let forged = "f".repeat(43);
        let attacker = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let res = attacker
            .get(server.url(&format!("/auth/oidc/mock/callback?code={code}&state={forged}")))
            .header("cookie", format!("haven_oidc={forged}"))
            .send()
            .await
            .unwrap();
        assert_eq!(location(&res), "/signin?error=expired");
        assert!(set_cookies(&res).iter().all(|c| !c.starts_with("haven_session=")));
        // The real flow is untouched by the attempt and still completes.
        assert_eq!(location(&browser.get(&callback).send().await.unwrap()), "/me");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn behind_https_every_cookie_is_secure_and_links_use_the_public_address() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let provider = OidcProvider::start().await;
        let options = Options::default()
            .mail(&sink)
            .oidc(&provider, "mock", "Mock SSO")
            .env("HAVEN_PUBLIC_URL", "https://haven.example.org");
        let server = TestServer::start_with(&backend, options).await;
        server.seed_demo().await;
        let browser = server.client();

        let start = browser.get(server.url("/auth/oidc/mock/start")).send().await.unwrap();
        let flow = set_cookies(&start).into_iter().find(|c| c.starts_with("haven_oidc=")).unwrap();
        assert!(flow.contains("; Secure") && flow.contains("HttpOnly"), "{flow}");
        assert!(
            location(&start).contains("redirect_uri=https%3A%2F%2Fhaven.example.org%2Fauth%2Foidc%2Fmock%2Fcallback"),
            "{}",
            location(&start)
        );

        call_fn(&browser, &server, "request_signin_link", &[("email", ADA)]).await;
        let link = link_in(&signin_mail(&sink, ADA).await);
        assert!(link.starts_with("https://haven.example.org/auth/link/"), "{link}");
        let token = link.rsplit('/').next().unwrap();
        let res = browser.post(server.url("/fn/redeem_signin_link")).form(&[("token", token)]).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let session = set_cookies(&res).into_iter().find(|c| c.starts_with("haven_session=")).unwrap();
        for flag in ["; Secure", "HttpOnly", "SameSite=Lax"] {
            assert!(session.contains(flag), "{session}");
        }
        let token = session.split(';').next().unwrap().to_owned();
        let out = server
            .client()
            .post(server.url("/fn/sign_out"))
            .header("cookie", token)
            .form(&[("x", "")])
            .send()
            .await
            .unwrap();
        assert_eq!(out.status(), 200);
        let cleared = set_cookies(&out).into_iter().find(|c| c.starts_with("haven_session=")).unwrap();
        assert!(cleared.contains("Max-Age=0") && cleared.contains("; Secure"), "{cleared}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_confirms_a_second_address_and_it_signs_in_as_them_everywhere() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        let ada = server.client_as(ADA).await;
        const WORK: &str = "ada@work.example";

        for (typed, why) in
            [("not an address", "is not an e-mail address"), ("ADA.Lovelace@example.org", "already one of yours")]
        {
            let (status, body) = call_fn(&ada, &server, "add_email", &[("email", typed)]).await;
            assert_eq!(status, 422, "{typed}");
            assert_eq!(body["detail"][0]["field"], "email", "{body}");
            assert!(body.to_string().contains(why), "{body}");
        }
        assert_eq!(call_fn(&ada, &server, "add_email", &[("email", WORK)]).await.0, 200, "{backend}");
        let mail = sink
            .wait_for(Duration::from_secs(10), |m| m.to[0] == WORK && m.subject == "Confirm your address for Haven")
            .await;
        assert!(mail.text.contains("Ada Lovelace asked"), "{}", mail.text);
        let link = mail.text.split_whitespace().find(|w| w.contains("/me/addresses/")).unwrap().to_owned();
        let token = link.rsplit('/').next().unwrap().to_owned();
        // Opening the link shows a button and changes nothing by itself.
        assert_eq!(server.client().get(&link).send().await.unwrap().status(), 200);
        assert_eq!(me(&server, &ada).await["addresses"], json!([]));

        // Whoever holds the link (it went to that address) confirms it, once.
        let (status, body) = call_fn(&server.client(), &server, "confirm_email", &[("token", &token)]).await;
        assert_eq!((status, body), (200, json!(WORK)));
        let (status, body) = call_fn(&server.client(), &server, "confirm_email", &[("token", &token)]).await;
        assert_eq!(status, 422, "a used link does not work twice: {body}");
        assert_eq!(me(&server, &ada).await["addresses"], json!([WORK]));

        // The address now signs in as Ada, and the organizers' lists know it is her.
        let browser = server.client();
        call_fn(&browser, &server, "request_signin_link", &[("email", "Ada@Work.example")]).await;
        let signin = link_in(&signin_mail(&sink, "Ada@Work.example").await);
        let (status, _) =
            call_fn(&browser, &server, "redeem_signin_link", &[("token", signin.rsplit('/').next().unwrap())]).await;
        assert_eq!(status, 200);
        assert_eq!(me(&server, &browser).await["name"], "Ada Lovelace");
        let org = server.client_as("organizer@example.org").await;
        let (status, body) =
            call_fn(&org, &server, "add_registration", &[("slug", "havenconf"), ("name", "A. L."), ("email", WORK)])
                .await;
        assert_eq!(status, 422, "Ada is already registered: {body}");
        let csv = format!("name,email\nAda at work,{WORK}\n");
        let (status, report) =
            call_fn(&org, &server, "import_registrations", &[("slug", "havenconf"), ("csv", &csv)]).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!((report["created"].clone(), report["unchanged"].clone()), (json!(0), json!(1)));

        // Someone else cannot take the address over: the same answer, but confirming fails.
        let grace = server.client_as("grace.lovelace@example.org").await;
        assert_eq!(call_fn(&grace, &server, "add_email", &[("email", WORK)]).await.0, 200);
        let second = sink
            .wait_for(Duration::from_secs(10), |m| m.to[0] == WORK && m.text.contains("Grace Lovelace asked"))
            .await;
        let token = second.text.split_whitespace().find(|w| w.contains("/me/addresses/")).unwrap();
        let (status, body) =
            call_fn(&server.client(), &server, "confirm_email", &[("token", token.rsplit('/').next().unwrap())]).await;
        assert_eq!(status, 422);
        assert!(body.to_string().contains("already belongs to another Haven account"), "{body}");
        assert_eq!(me(&server, &grace).await["addresses"], json!([]));

        // Ada removes it again; her main address stays.
        assert_eq!(call_fn(&ada, &server, "remove_email", &[("email", WORK)]).await.0, 200);
        assert_eq!(me(&server, &ada).await["addresses"], json!([]));
        assert_eq!(call_fn(&ada, &server, "remove_email", &[("email", WORK)]).await.0, 422);
        let (status, body) = call_fn(&ada, &server, "remove_email", &[("email", ADA)]).await;
        assert_eq!(status, 422, "{body}");
    }
}

/// Rows of a table, counted.
async fn rows<E: sea_orm::EntityTrait>(server: &TestServer, _: E) -> u64
where
    E::Model: Sync,
{
    use sea_orm::PaginatorTrait;
    E::find().count(&server.db).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn what_expires_is_deleted_and_no_typed_address_outlives_its_request() {
    use chrono::Duration as Span;
    use haven_server::db::entities::{
        concern_draft, email_confirmation, invitation, login_link, oidc_flow, rate_limit_hit, session, signin_request,
    };
    use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
    for backend in backends() {
        let clock = ManualClock::new(chrono::Utc::now());
        let mut provider = OidcProvider::start().await;
        let options = Options::default().clock(clock.clone()).oidc(&provider, "mock", "Mock SSO");
        let server = TestServer::start_with(&backend, options).await;
        server.seed_demo().await;

        // Typed addresses, known and unknown, are gone once the dispatcher handled them.
        let anonymous = server.client();
        for typed in [ADA, "nobody.here@example.net"] {
            let (status, body) = call_fn(&anonymous, &server, "request_signin_link", &[("email", typed)]).await;
            assert_eq!(status, 200, "{body}");
        }
        let mut left = u64::MAX;
        for _ in 0..100 {
            left = rows(&server, signin_request::Entity).await;
            if left == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(left, 0, "{backend}: no sign-in request (and no typed address) stays");

        // A used OIDC flow is deleted at once; an abandoned one when it expires.
        provider.sign_in_as(json!({"sub": "ada-1", "email": ADA, "email_verified": true})).await;
        let browser = server.client();
        assert_eq!(location(&oidc_sign_in(&server, &browser).await), "/me");
        assert_eq!(rows(&server, oidc_flow::Entity).await, 0, "{backend}: the used flow is gone");
        let abandoned = server.client();
        let start = abandoned.get(server.url("/auth/oidc/mock/start")).send().await.unwrap();
        assert_eq!(start.status(), 303);
        assert_eq!(rows(&server, oidc_flow::Entity).await, 1);

        // One expired and one live row in every table that expires.
        let now = haven_server::clock::Clock::now(&clock);
        let ada = server.person_id(ADA).await;
        let e = haven_server::db::entities::event::Entity::find().one(&server.db).await.unwrap().unwrap();
        for (expires, tag) in [(now + Span::hours(1), "live"), (now - Span::minutes(5), "old")] {
            let id = uuid::Uuid::new_v4;
            let hash = || haven_server::crypto::hash_token(&haven_server::crypto::random_token());
            login_link::Entity::insert(login_link::ActiveModel {
                id: Set(id()),
                token_hash: Set(hash()),
                person_id: Set(ada),
                created_at: Set(now - Span::minutes(10)),
                expires_at: Set(expires),
                used_at: Set(None),
                return_to: Set("/me".into()),
            })
            .exec(&server.db)
            .await
            .unwrap();
            email_confirmation::Entity::insert(email_confirmation::ActiveModel {
                id: Set(id()),
                token_hash: Set(hash()),
                person_id: Set(ada),
                email: Set(format!("{tag}@confirm.example")),
                email_normalized: Set(format!("{tag}@confirm.example")),
                created_at: Set(now - Span::minutes(10)),
                expires_at: Set(expires),
                used_at: Set(None),
            })
            .exec(&server.db)
            .await
            .unwrap();
            session::Entity::insert(session::ActiveModel {
                id: Set(id()),
                token_hash: Set(hash()),
                person_id: Set(ada),
                created_at: Set(now - Span::minutes(10)),
                last_seen_at: Set(now - Span::minutes(1)),
                expires_at: Set(expires),
                revoked_at: Set(None),
                second_factor: Set(None),
            })
            .exec(&server.db)
            .await
            .unwrap();
            invitation::Entity::insert(invitation::ActiveModel {
                id: Set(id()),
                token_hash: Set(hash()),
                organization_id: Set(e.organization_id),
                event_id: Set(Some(e.id)),
                role: Set("door".into()),
                email: Set(format!("{tag}@invited.example")),
                email_normalized: Set(format!("{tag}@invited.example")),
                invited_by: Set(ada),
                created_at: Set(now - Span::minutes(10)),
                expires_at: Set(expires),
                accepted_at: Set(None),
                accepted_by: Set(None),
            })
            .exec(&server.db)
            .await
            .unwrap();
            concern_draft::Entity::insert(concern_draft::ActiveModel {
                id: Set(id()),
                person_id: Set(ada),
                event_id: Set(e.id),
                data_enc: Set("sealed".into()),
                created_at: Set(now - Span::minutes(10)),
                expires_at: Set(expires),
            })
            .exec(&server.db)
            .await
            .unwrap();
            rate_limit_hit::Entity::insert(rate_limit_hit::ActiveModel {
                id: Set(id()),
                bucket: Set(format!("test:{tag}")),
                at: Set(expires - Span::days(1)),
            })
            .exec(&server.db)
            .await
            .unwrap();
        }
        let links = rows(&server, login_link::Entity).await;

        // Eleven minutes on, the abandoned flow has expired too.
        clock.advance(Span::minutes(11));
        let pruned = haven_server::jobs::prune(&server.services).await.unwrap();
        let count = |table: &str| pruned.iter().find(|(t, _)| *t == table).map(|(_, n)| *n);
        assert_eq!(count("oidc_flows"), Some(1), "{backend}: {pruned:?}");
        assert_eq!(count("email_confirmations"), Some(1), "{backend}: {pruned:?}");
        assert_eq!(count("invitations"), Some(1), "{backend}: {pruned:?}");
        assert_eq!(count("concern_drafts"), Some(1), "{backend}: {pruned:?}");
        assert_eq!(count("rate_limit_hits").map(|n| n >= 1), Some(true), "{backend}: {pruned:?}");
        // The old link goes (and Ada's e-mailed one once expired); the live one stays.
        assert!(count("login_links").unwrap() >= 1 && count("login_links").unwrap() < links, "{pruned:?}");
        assert!(count("sessions").unwrap() >= 1, "{pruned:?}");
        assert_eq!(rows(&server, oidc_flow::Entity).await, 0);
        for (table, address) in
            [("email_confirmations", "live@confirm.example"), ("invitations", "live@invited.example")]
        {
            let kept = match table {
                "invitations" => invitation::Entity::find()
                    .filter(invitation::Column::Email.eq(address))
                    .one(&server.db)
                    .await
                    .unwrap()
                    .is_some(),
                _ => email_confirmation::Entity::find()
                    .filter(email_confirmation::Column::Email.eq(address))
                    .one(&server.db)
                    .await
                    .unwrap()
                    .is_some(),
            };
            assert!(kept, "{backend}: the live row of {table} stays");
        }
        for gone in ["old@confirm.example"] {
            let found = email_confirmation::Entity::find()
                .filter(email_confirmation::Column::Email.eq(gone))
                .one(&server.db)
                .await
                .unwrap();
            assert!(found.is_none(), "{backend}");
        }
        let live_drafts = rows(&server, concern_draft::Entity).await;
        assert_eq!(live_drafts, 1, "{backend}: the live draft stays");
        // The session Ada's OIDC sign-in made is still live, and works.
        assert_eq!(me(&server, &browser).await["name"], "Ada Lovelace", "{backend}");
    }
}

/// Serves, on a free port, a discovery document naming the real provider's endpoints and
/// another issuer; returns its base URL.
async fn forged_discovery(real: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let body = json!({
        "issuer": "https://issuer.elsewhere.example",
        "authorization_endpoint": format!("{real}/authorize"),
        "token_endpoint": format!("{real}/token"),
        "userinfo_endpoint": format!("{real}/userinfo"),
    })
    .to_string();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            // A look-alike serves whoever asks; a client that hangs up early changes nothing,
            // so its read and write errors are of no interest here.
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    base
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_naming_another_issuer_or_answering_too_much_signs_nobody_in() {
    for backend in backends() {
        let mut provider = OidcProvider::start().await;
        // A look-alike: its discovery document points at the real provider's endpoints but
        // names another issuer than the one configured for it.
        let elsewhere = forged_discovery(&provider.issuer).await;
        let mut options = Options::default().oidc(&provider, "mock", "Mock SSO");
        for (key, value) in provider.settings("other", "Other SSO") {
            let value = if key.ends_with("_ISSUER") { elsewhere.clone() } else { value };
            options = options.env(&key, &value);
        }
        let server = TestServer::start_with(&backend, options).await;
        server.seed_demo().await;
        let browser = server.client();
        let start = browser.get(server.url("/auth/oidc/other/start")).send().await.unwrap();
        assert!(location(&start).starts_with("/signin?error="), "{backend}: {}", location(&start));
        assert!(set_cookies(&start).iter().all(|c| !c.starts_with("haven_oidc=")), "{backend}: no flow begins");

        // The right issuer: the authorization request carries no nonce (no ID token is read).
        let start = browser.get(server.url("/auth/oidc/mock/start")).send().await.unwrap();
        assert!(location(&start).starts_with(&provider.issuer), "{backend}: {}", location(&start));
        assert!(!location(&start).contains("nonce="), "{backend}: {}", location(&start));

        // A userinfo answer one byte past the bound is refused, and nobody is signed in or
        // created; one exactly at the bound signs in. (The provider sends the claims as
        // compact JSON with the keys in the order given, which serde_json sorts.)
        let claims = |sub: &str, email: &str, pad: usize| json!({"sub": sub, "email": email, "email_verified": true, "name": "x".repeat(pad)});
        let max = haven_server::services::oidc::PROVIDER_ANSWER_MAX;
        let fill = |sub: &str, email: &str| max - claims(sub, email, 0).to_string().len();
        let over = claims("big-1", "big@example.net", fill("big-1", "big@example.net") + 1);
        assert_eq!(over.to_string().len(), max + 1);
        provider.sign_in_as(over).await;
        let big = server.client();
        let done = oidc_sign_in(&server, &big).await;
        assert!(location(&done).starts_with("/signin?error="), "{backend}: {}", location(&done));
        assert!(set_cookies(&done).iter().all(|c| !c.starts_with("haven_session=")), "{backend}");
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let created = haven_server::db::entities::person::Entity::find()
            .filter(haven_server::db::entities::person::Column::Email.eq("big@example.net"))
            .one(&server.db)
            .await
            .unwrap();
        assert!(created.is_none(), "{backend}: nobody was created");
        let at = claims("ok-1", ADA, fill("ok-1", ADA));
        assert_eq!(at.to_string().len(), max);
        provider.sign_in_as(at).await;
        let ok = server.client();
        assert_eq!(location(&oidc_sign_in(&server, &ok).await), "/me", "{backend}");
    }
}

/// `return_to` values that must never lead a browser off this site, and what each becomes
/// (`/me` for all of them). `{site}` is the server's own address.
fn hostile_return_tos() -> Vec<String> {
    let mut values: Vec<String> = [
        "/\t/evil.example",
        "/\r\n/evil.example",
        "/%09/evil.example",
        "/%0D%0ASet-Cookie:%20haven_session=x",
        "/%2F%2Fevil.example",
        "/\\evil.example",
        "//evil.example",
        "/.//evil.example",
        "https://evil.example/me",
        "javascript:alert(1)",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    values.push(format!("/{}", "a".repeat(500)));
    values
}

/// `return_to` values that stay on this site: the value and where the sign-in leads.
fn kept_return_tos(server: &TestServer) -> Vec<(String, String)> {
    let at_limit = format!("/{}", "a".repeat(499));
    vec![
        ("/events/havenconf/concern?x=1#form".to_owned(), "/events/havenconf/concern?x=1#form".to_owned()),
        (server.url("/manage"), "/manage".to_owned()),
        (at_limit.clone(), at_limit),
    ]
}

async fn new_person(server: &TestServer, email: &str) {
    let tx = server.services.begin().await.unwrap();
    let name = haven_app::domain::DisplayName::parse("name", "Return Tester").unwrap();
    let address = haven_app::domain::EmailAddress::parse("email", email).unwrap();
    let now = server.services.clock.now();
    haven_server::services::auth::person_for_email(&tx, now, None, &name, &address).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sign_in_link_never_leads_off_the_site_whatever_return_to_says() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        let mut cases: Vec<(String, String)> =
            hostile_return_tos().into_iter().map(|v| (v, "/me".to_owned())).collect();
        cases.extend(kept_return_tos(&server));
        // One person per value: at most 3 links per address in 15 minutes.
        for (i, (value, _)) in cases.iter().enumerate() {
            let email = format!("return{i}@example.org");
            new_person(&server, &email).await;
            let asked =
                call_fn(&server.client(), &server, "request_signin_link", &[("email", &email), ("return_to", value)])
                    .await;
            assert_eq!(asked.0, 200, "{backend} {value:?}: {}", asked.1);
        }
        for (i, (value, want)) in cases.iter().enumerate() {
            let email = format!("return{i}@example.org");
            let token = link_in(&signin_mail(&sink, &email).await).rsplit('/').next().unwrap().to_owned();
            let res = server
                .client()
                .post(server.url("/fn/redeem_signin_link"))
                .form(&[("token", token.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(location(&res), *want, "{backend}: return_to {value:?}");
            assert!(set_cookies(&res).iter().any(|c| c.starts_with("haven_session=")), "{value:?}: signed in");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oidc_sign_in_never_leads_off_the_site_whatever_return_to_says() {
    for backend in backends() {
        let mut provider = OidcProvider::start().await;
        let server = TestServer::start_with(&backend, Options::default().oidc(&provider, "mock", "Mock SSO")).await;
        provider.sign_in_as(json!({"sub": "returner", "email": "returner@example.org", "email_verified": true})).await;
        let mut cases: Vec<(String, String)> =
            hostile_return_tos().into_iter().map(|v| (v, "/me".to_owned())).collect();
        cases.extend(kept_return_tos(&server));
        for (value, want) in &cases {
            let browser = server.client();
            let start =
                browser.get(server.url("/auth/oidc/mock/start")).query(&[("return_to", value)]).send().await.unwrap();
            assert_eq!(start.status(), 303, "{value:?}");
            let provider_answer = browser.get(location(&start)).send().await.unwrap();
            let done = browser.get(location(&provider_answer)).send().await.unwrap();
            assert_eq!(done.status(), 303, "{backend} {value:?}");
            assert_eq!(location(&done), *want, "{backend}: return_to {value:?}");
            assert!(set_cookies(&done).iter().any(|c| c.starts_with("haven_session=")), "{value:?}: signed in");
        }
    }
}

/// Asks for a sign-in link as if through proxies that sent `X-Forwarded-For: <chain>`.
async fn ask_through(server: &TestServer, chain: &str, email: &str) -> u16 {
    let res = server
        .client()
        .post(server.url("/fn/request_signin_link"))
        .header("x-forwarded-for", chain)
        .form(&[("email", email)])
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_leftmost_forwarded_for_entry_does_not_escape_the_per_client_limit() {
    for backend in backends() {
        // The test connects from 127.0.0.1, which stands for the nearest proxy.
        let setups: [(Option<&str>, &str); 3] = [
            (None, "203.0.113.7"),
            (Some("1"), "203.0.113.7"),
            (Some("127.0.0.1,10.0.0.0/8"), "203.0.113.7, 10.1.2.3"),
        ];
        for (trusted, added_by_proxies) in setups {
            let mut options = Options::default().env("HAVEN_TRUST_PROXY_HEADERS", "true");
            if let Some(t) = trusted {
                options = options.env("HAVEN_TRUSTED_PROXIES", t);
            }
            let server = TestServer::start_with(&backend, options).await;
            // 20 requests a client may make in 15 minutes, each with a new made-up leftmost entry.
            for i in 0..20 {
                let chain = format!("198.51.100.{i}, {added_by_proxies}");
                assert_eq!(ask_through(&server, &chain, &format!("p{i}@example.org")).await, 200, "{trusted:?} {i}");
            }
            let chain = format!("198.51.100.99, {added_by_proxies}");
            assert_eq!(
                ask_through(&server, &chain, "p20@example.org").await,
                429,
                "{trusted:?}: forging does not help"
            );
            // Someone else behind the same proxies is another client.
            let other = added_by_proxies.replace("203.0.113.7", "203.0.113.8");
            assert_eq!(ask_through(&server, &other, "q@example.org").await, 200, "{trusted:?}: a different client");
        }

        // From a peer that is not a trusted proxy, the header is the client's own words.
        let options =
            Options::default().env("HAVEN_TRUST_PROXY_HEADERS", "true").env("HAVEN_TRUSTED_PROXIES", "10.0.0.0/8");
        let server = TestServer::start_with(&backend, options).await;
        for i in 0..20 {
            assert_eq!(ask_through(&server, &format!("203.0.113.{i}"), &format!("p{i}@example.org")).await, 200);
        }
        assert_eq!(ask_through(&server, "203.0.113.99", "p20@example.org").await, 429, "keyed by the peer");
    }
}
