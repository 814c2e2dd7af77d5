//! Badges and the door: tokens that decode with an independent reader, the scan API and
//! its idempotency, hostile tokens, devices, sync, replacement, arrival alerts.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use haven_tests::{MailSink, Options, TestServer, backends, call_fn};
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

const ADA: &str = "ada.lovelace@example.org";

async fn token_of(server: &TestServer, email: &str) -> String {
    server.badge_token("havenconf", email).await
}

async fn device(server: &TestServer, slug: &str) -> String {
    server.device_token(slug).await
}

async fn scan(server: &TestServer, device: &str, body: Value) -> (u16, Value) {
    post(server.url("/api/v1/scans"), device.to_owned(), body).await
}

async fn post(url: String, device: String, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new().post(url).bearer_auth(device).json(&body).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

async fn scan_token(server: &TestServer, device: &str, token: &str) -> Value {
    server.scan(device, token).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_badge_png_decodes_with_zbarimg_to_a_token_the_door_admits() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let ada = server.client_as(ADA).await;
        let (_, badges) = call_fn(&ada, &server, "my_badges", &[]).await;
        let registration = badges[0]["registration"].as_str().unwrap().to_owned();

        let png = ada.get(server.url(&format!("/badges/{registration}.png"))).send().await.unwrap();
        assert_eq!(png.headers()["content-type"], "image/png");
        let path = server.database.dir.join("badge.png");
        std::fs::write(&path, png.bytes().await.unwrap()).unwrap();
        let out = std::process::Command::new("zbarimg")
            .args(["--raw", "-q"])
            .arg(&path)
            .output()
            .expect("zbarimg is installed");
        assert!(out.status.success(), "zbarimg could not read it: {}", String::from_utf8_lossy(&out.stderr));
        let decoded = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        assert_eq!(decoded, token_of(&server, ADA).await);
        assert!(decoded.starts_with("HVN1."));

        let svg = ada.get(server.url(&format!("/badges/{registration}.svg"))).send().await.unwrap();
        assert_eq!(svg.headers()["content-type"], "image/svg+xml");
        assert!(svg.text().await.unwrap().starts_with("<svg"));
        let stranger = server.client_as("ken.okafor@example.org").await;
        assert_eq!(
            stranger.get(server.url(&format!("/badges/{registration}.svg"))).send().await.unwrap().status(),
            404
        );

        let device = device(&server, "havenconf").await;
        let answer = scan_token(&server, &device, &decoded).await;
        assert_eq!(answer["result"], "admit");
        assert_eq!(answer["name"], "Ada Lovelace");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scan_sent_twice_is_recorded_once_and_answered_the_same() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let device = device(&server, "havenconf").await;
        let token = token_of(&server, ADA).await;
        let id = Uuid::new_v4();
        let body = json!({"token": token, "scan_id": id, "gate": "North", "scanned_at": "2026-01-01T10:00:00Z"});

        let (first_status, first) = scan(&server, &device, body.clone()).await;
        let (_, second) = scan(&server, &device, body).await;
        assert_eq!(first_status, 200);
        assert_eq!(first, second, "{backend}");
        let other = token_of(&server, "ken.okafor@example.org").await;
        let (_, replay) = scan(&server, &device, json!({"token": other, "scan_id": id})).await;
        assert_eq!(replay["result"], "deny");
        assert_eq!(replay["reason"], "invalid", "a scan id reused for another badge is not that scan");

        use haven_server::db::entities::scan as scans;
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        assert_eq!(scans::Entity::find().filter(scans::Column::Id.eq(id)).count(&server.db).await.unwrap(), 1);
        assert_eq!(scans::Entity::find().count(&server.db).await.unwrap(), 1, "nothing else was recorded");

        // Later scans of the same badge say when it was last let in.
        let again = scan_token(&server, &device, &token_of(&server, ADA).await).await;
        assert_eq!(again["previous_scan_at"], "2026-01-01T10:00:00Z");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn scans_sent_again_among_new_ones_keep_their_first_answer_and_are_recorded_once() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let device = device(&server, "havenconf").await;
        let token = token_of(&server, ADA).await;
        let body = |id: Uuid, second: usize| json!({"token": token, "scan_id": id, "gate": "North", "scanned_at": format!("2026-01-01T10:00:{second:02}Z")});
        let mut first = Vec::new();
        for second in 0..10 {
            let id = Uuid::new_v4();
            let (status, answer) = scan(&server, &device, body(id, second)).await;
            assert_eq!(status, 200);
            first.push((id, second, answer));
        }
        // Those ten again, at once with 200 new scans, so that batches mix both.
        let mut sent = tokio::task::JoinSet::new();
        for (n, (id, second, _)) in first.iter().enumerate() {
            let (server_url, device, body) = (server.url("/api/v1/scans"), device.clone(), body(*id, *second));
            sent.spawn(async move { (Some(n), post(server_url, device, body).await) });
        }
        for n in 0..200 {
            let (server_url, device, body) =
                (server.url("/api/v1/scans"), device.clone(), body(Uuid::new_v4(), n % 60));
            sent.spawn(async move { (None, post(server_url, device, body).await) });
        }
        while let Some(done) = sent.join_next().await {
            let (again, (status, answer)) = done.unwrap();
            assert_eq!(status, 200, "{backend}: {answer}");
            match again {
                Some(n) => assert_eq!(answer, first[n].2, "{backend}: a scan sent again keeps its first answer"),
                None => assert_eq!(answer["result"], "admit", "{backend}"),
            }
        }
        use haven_server::db::entities::scan as scans;
        use sea_orm::{EntityTrait, PaginatorTrait};
        assert_eq!(scans::Entity::find().count(&server.db).await.unwrap(), 210, "{backend}: each scan once");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_tokens_are_denied_for_the_right_reason_and_never_break_the_server() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let device = device(&server, "havenconf").await;
        let good = token_of(&server, ADA).await;
        let bytes = URL_SAFE_NO_PAD.decode(&good[5..]).unwrap();
        let reencode = |b: &[u8]| format!("HVN1.{}", URL_SAFE_NO_PAD.encode(b));

        let mut flipped = bytes.clone();
        flipped[100] ^= 0x01;
        let mut unknown_key = bytes.clone();
        unknown_key[40..44].copy_from_slice(&7u32.to_be_bytes());
        let mut other_badge = bytes.clone();
        other_badge[16..32].copy_from_slice(Uuid::new_v4().as_bytes());
        let cases: Vec<(String, &str)> = vec![
            (good[..good.len() - 10].to_owned(), "invalid"),
            (reencode(&flipped), "invalid"),
            (reencode(&unknown_key), "invalid"),
            (reencode(&other_badge), "invalid"),
            (good.replace("HVN1.", "HVN2."), "invalid"),
            ("".to_owned(), "invalid"),
            ("\u{0}\u{1}ö😀".to_owned(), "invalid"),
            (format!("registration:{}", Uuid::new_v4()), "unknown"),
        ];
        for (token, reason) in cases {
            let answer = scan_token(&server, &device, &token).await;
            assert_eq!(
                (answer["result"].as_str(), answer["reason"].as_str()),
                (Some("deny"), Some(reason)),
                "{token:?}"
            );
            assert_eq!(answer["name"], Value::Null, "nothing about anyone for a bad token");
        }
        // Garbage of every length.
        for len in (0..400).step_by(7) {
            let junk: String = (0..len).map(|i| char::from(b'!' + ((i * 31 + len) % 90) as u8)).collect();
            let answer = scan_token(&server, &device, &junk).await;
            assert_eq!(answer["reason"], "invalid", "{len}");
        }
        // Bodies that are not scans.
        for body in
            [json!({}), json!({"token": 5, "scan_id": Uuid::new_v4()}), json!({"token": "x", "scan_id": "not-a-uuid"})]
        {
            let (status, answer) = scan(&server, &device, body).await;
            assert_eq!(status, 422, "{answer}");
            assert_eq!(answer["error"], "invalid");
        }
        let (status, body) = scan(
            &server,
            &device,
            json!({"token": good, "scan_id": Uuid::new_v4(), "scanned_at": "2999-01-01T00:00:00Z"}),
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(body["detail"][0]["field"], "scanned_at");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn another_events_badge_is_the_wrong_event_and_a_retired_key_is_invalid() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let admin = server.client_as("admin@example.org").await;
        let form = [
            ("organization", "demo"),
            ("input[name]", "HavenCamp"),
            ("input[slug]", "havencamp"),
            ("input[venue]", "Field"),
            ("input[time_zone]", "Europe/Berlin"),
            ("input[starts_at]", "2027-08-01T09:00"),
            ("input[ends_at]", "2027-08-02T18:00"),
        ];
        assert_eq!(call_fn(&admin, &server, "create_event", &form).await.0, 200);
        call_fn(
            &admin,
            &server,
            "add_registration",
            &[("slug", "havencamp"), ("name", "Camper"), ("email", "camper@example.net")],
        )
        .await;
        let camper = {
            use haven_server::db::entities::{event, registration};
            use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
            let e = event::Entity::find()
                .filter(event::Column::Slug.eq("havencamp"))
                .one(&server.db)
                .await
                .unwrap()
                .unwrap();
            let r = registration::Entity::find()
                .filter(registration::Column::EventId.eq(e.id))
                .one(&server.db)
                .await
                .unwrap()
                .unwrap();
            let b = server.services.live_badge(r.id).await.unwrap().unwrap();
            server.services.badge_token(&b, e.organization_id).await.unwrap()
        };
        let device = device(&server, "havenconf").await;
        assert_eq!(scan_token(&server, &device, &camper).await["reason"], "wrong_event");

        // A new key signs new badges; the old key still verifies until it is retired.
        let ada = token_of(&server, ADA).await;
        let org = {
            use haven_server::db::entities::organization;
            use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
            organization::Entity::find()
                .filter(organization::Column::Slug.eq("demo"))
                .one(&server.db)
                .await
                .unwrap()
                .unwrap()
                .id
        };
        let old_key = u32::from_be_bytes(URL_SAFE_NO_PAD.decode(&ada[5..]).unwrap()[40..44].try_into().unwrap());
        server.services.generate_badge_key(org).await.unwrap();
        assert_eq!(scan_token(&server, &device, &ada).await["result"], "admit", "an old key still verifies");
        server.services.retire_badge_key(org, old_key).await.unwrap();
        assert_eq!(scan_token(&server, &device, &ada).await["reason"], "invalid", "a retired key does not");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replaced_badge_is_revoked_at_once_online_and_at_the_next_sync_offline() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let device = device(&server, "havenconf").await;
        let old = token_of(&server, ADA).await;
        let http = reqwest::Client::new();
        let sync = |since: Option<i64>| {
            let mut url = server.url("/api/v1/events/havenconf/door-sync");
            if let Some(s) = since {
                url.push_str(&format!("?since={s}"));
            }
            http.get(url).bearer_auth(&device).send()
        };
        let first: Value = sync(None).await.unwrap().json().await.unwrap();
        assert_eq!(first["full"], true);
        assert!(!first["keys"].as_array().unwrap().is_empty());

        let org = server.client_as("organizer@example.org").await;
        let (_, page) = call_fn(&org, &server, "registrations", &[("slug", "havenconf"), ("query", ADA)]).await;
        let registration = page["rows"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(
            call_fn(&org, &server, "replace_badge", &[("slug", "havenconf"), ("registration", &registration)]).await.0,
            200
        );

        let answer = scan_token(&server, &device, &old).await;
        assert_eq!(
            (answer["result"].as_str(), answer["reason"].as_str()),
            (Some("deny"), Some("revoked")),
            "{backend}"
        );
        assert_eq!(answer["name"], "Ada Lovelace");
        assert_eq!(scan_token(&server, &device, &token_of(&server, ADA).await).await["result"], "admit");

        let cursor = first["cursor"].as_i64().unwrap();
        let delta: Value = sync(Some(cursor)).await.unwrap().json().await.unwrap();
        assert_eq!(delta["full"], false);
        let old_badge = Uuid::from_slice(&URL_SAFE_NO_PAD.decode(&old[5..]).unwrap()[16..32]).unwrap().to_string();
        assert!(
            delta["denied"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["badge"] == old_badge.as_str() && d["reason"] == "revoked"),
            "{delta}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn devices_scan_only_their_event_and_stop_when_revoked() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let http = reqwest::Client::new();
        let token = token_of(&server, ADA).await;
        let org = server.client_as("organizer@example.org").await;
        let (status, device) =
            call_fn(&org, &server, "add_device", &[("slug", "havenconf"), ("name", "North 1")]).await;
        assert_eq!(status, 200);
        let device = device.as_str().unwrap().to_owned();
        assert!(device.starts_with("hvd_"));

        assert_eq!(scan_token(&server, &device, &token).await["result"], "admit");
        let other_event =
            http.get(server.url("/api/v1/events/no-such-event/door-sync")).bearer_auth(&device).send().await.unwrap();
        assert_eq!(other_event.status(), 404);
        let (status, body) =
            scan(&server, "hvd_not-a-real-token", json!({"token": token, "scan_id": Uuid::new_v4()})).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("unauthenticated")));
        let no_auth = http
            .post(server.url("/api/v1/scans"))
            .json(&json!({"token": token, "scan_id": Uuid::new_v4()}))
            .send()
            .await
            .unwrap();
        assert_eq!(no_auth.status(), 401);
        assert_eq!(no_auth.headers()["www-authenticate"], "Bearer");

        let (_, list) = call_fn(&org, &server, "devices", &[("slug", "havenconf")]).await;
        let id = list[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(call_fn(&org, &server, "revoke_device", &[("slug", "havenconf"), ("device", &id)]).await.0, 200);
        let (status, _) = scan(&server, &device, json!({"token": token, "scan_id": Uuid::new_v4()})).await;
        assert_eq!(status, 401, "a revoked device scans no more");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_describes_the_scan_api() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        let doc: Value = reqwest::get(server.url("/api/openapi.json")).await.unwrap().json().await.unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let scan = &doc["paths"]["/api/v1/scans"]["post"];
        assert_eq!(
            scan["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ScanRequest"
        );
        let reasons = &doc["components"]["schemas"]["ApiReason"]["enum"];
        assert_eq!(reasons, &json!(["expelled", "banned", "revoked", "invalid", "wrong_event", "unknown"]));
        assert!(doc["paths"]["/api/v1/events/{slug}/door-sync"]["get"].is_object());
        assert_eq!(doc["components"]["securitySchemes"]["device_token"]["scheme"], "bearer");

        // Every REST route the server has is in the document, with its method, and nothing else.
        let http = std::fs::read_to_string(haven_tests::workspace_root().join("server/src/http/mod.rs")).unwrap();
        let mut routed: Vec<(String, String)> = http
            .split(".route(\"")
            .skip(1)
            .filter_map(|rest| {
                let (path, after) = rest.split_once('"')?;
                let method = after.trim_start_matches(", ").split('(').next()?;
                path.starts_with("/api/v1/").then(|| (path.to_owned(), method.to_owned()))
            })
            .collect();
        routed.sort();
        let mut documented: Vec<(String, String)> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, ops)| ops.as_object().unwrap().keys().map(move |m| (path.clone(), m.clone())))
            .collect();
        documented.sort();
        assert_eq!(documented, routed, "the OpenAPI document and the router agree");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn scanning_a_person_with_an_arrival_alert_tells_the_listed_staff_within_a_second() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        let device = device(&server, "havenconf").await;
        let rae = server.client_as("responder@example.org").await;
        let mut stream = rae.get(server.url("/live/notifications")).send().await.unwrap();

        let started = std::time::Instant::now();
        let answer = scan_token(&server, &device, &token_of(&server, "ken.okafor@example.org").await).await;
        assert_eq!(answer["result"], "alert");
        assert_eq!(answer["instruction"], "Admit, and call the safety lead on the radio.");
        let mut seen = String::new();
        while !seen.contains("Arrival at North") {
            let chunk =
                tokio::time::timeout(Duration::from_secs(2), stream.chunk()).await.expect("in time").unwrap().unwrap();
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
        let mail = sink
            .wait_for(Duration::from_secs(10), |m| m.to[0] == "responder@example.org" && m.subject.contains("Arrival"))
            .await;
        assert!(mail.subject.contains("North"));
        for text in [&seen, &mail.text] {
            assert!(!text.contains("Ken") && !text.contains("following"), "never who or why: {text}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_badge_token_command_prints_the_token_and_badges_can_be_mailed() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        let out = std::process::Command::new(haven_tests::haven_bin())
            .args(["badge", "token", "--event", "havenconf", "--email", "ADA.Lovelace@example.org"])
            .env_clear()
            .env("HAVEN_DATABASE_URL", &server.database.url)
            .env("HAVEN_DATA_DIR", &server.database.dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), token_of(&server, ADA).await);

        let org = server.client_as("organizer@example.org").await;
        let (status, sent) = call_fn(&org, &server, "send_badges", &[("slug", "havenconf")]).await;
        assert_eq!((status, sent.as_u64()), (200, Some(36)));
        let mail = sink.wait_for(Duration::from_secs(20), |m| m.to[0] == ADA && m.subject.contains("badge")).await;
        let png = mail.attachments.iter().find(|a| a.1 == "image/png").expect("the badge as PNG");
        assert!(png.2.starts_with(b"\x89PNG"));
        assert_eq!(call_fn(&org, &server, "send_badges", &[("slug", "havenconf")]).await.1, json!(0), "each once");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_prints_a_badge_for_each_door_answer_and_each_gets_that_answer() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let out = std::process::Command::new(haven_tests::haven_bin())
            .args(["demo", "--door-tokens"])
            .env_clear()
            .env("HAVEN_DATABASE_URL", &server.database.url)
            .env("HAVEN_DATA_DIR", &server.database.dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("/door/havenconf"), "{text}");
        let examples: Vec<(&str, &str)> = text
            .lines()
            .filter_map(|l| {
                let parts: Vec<&str> = l.split_whitespace().collect();
                (parts.len() == 3 && parts[2].starts_with("HVN1.")).then(|| (parts[0], parts[2]))
            })
            .collect();
        let answers: Vec<&str> = examples.iter().map(|e| e.0).collect();
        assert_eq!(answers, ["admit", "alert", "deny/expelled", "deny/banned", "deny/revoked"], "{text}");
        let device = device(&server, "havenconf").await;
        for (answer, token) in examples {
            let got = scan_token(&server, &device, token).await;
            let shown = match got["reason"].as_str() {
                Some(reason) => format!("{}/{reason}", got["result"].as_str().unwrap()),
                None => got["result"].as_str().unwrap().to_owned(),
            };
            assert_eq!(shown, answer, "{got}");
        }
    }
}

const KEN: &str = "ken.okafor@example.org";
/// The demo's door instruction for Ken: words that appear nowhere else.
const KENS_INSTRUCTION: &str = "Admit, and call the safety lead on the radio.";

/// The badge id inside a token.
fn badge_of(token: &str) -> String {
    Uuid::from_slice(&URL_SAFE_NO_PAD.decode(&token[5..]).unwrap()[16..32]).unwrap().to_string()
}

/// A scan from the signed-in door page.
async fn door_scan(client: &reqwest::Client, server: &TestServer, text: &str, scan_id: Uuid, gate: &str) -> Value {
    let scan_id = scan_id.to_string();
    let (status, answer) = call_fn(
        client,
        server,
        "door_scan",
        &[("slug", "havenconf"), ("token", text), ("scan_id", &scan_id), ("gate", gate)],
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    answer
}

/// The registration of the person found first by this name at the door.
async fn registration_of(door: &reqwest::Client, server: &TestServer, name: &str) -> String {
    let (status, found) = call_fn(door, server, "door_search", &[("slug", "havenconf"), ("query", name)]).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found[0]["name"], name, "{found}");
    found[0]["registration"].as_str().unwrap().to_owned()
}

/// A door browser's full sync (signed in: no device token), as text and as JSON.
async fn browser_sync(client: &reqwest::Client, server: &TestServer, since: Option<i64>) -> (String, Value) {
    let mut url = server.url("/api/v1/events/havenconf/door-sync");
    if let Some(s) = since {
        url.push_str(&format!("?since={s}"));
    }
    let res = client.get(url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap();
    (text, json)
}

fn instruction_for(sync: &Value, badge: &str) -> Option<String> {
    sync["instructions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["badge"] == badge)
        .map(|i| i["instruction"].as_str().unwrap().to_owned())
}

/// Arrival alerts someone has been sent (notification rows).
async fn arrival_notifications(server: &TestServer, person: Uuid) -> u64 {
    use haven_server::db::entities::notification;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    notification::Entity::find()
        .filter(notification::Column::PersonId.eq(person))
        .filter(notification::Column::Kind.eq("arrival_alert"))
        .count(&server.db)
        .await
        .unwrap()
}

/// Links a person to a case as named, as a responder confirming a match would, and has
/// the door reload.
async fn link_named(server: &TestServer, case: Uuid, person: Uuid) {
    use haven_server::db::entities::case_person;
    use sea_orm::{ActiveValue::Set, EntityTrait};
    case_person::Entity::insert(case_person::ActiveModel {
        id: Set(Uuid::new_v4()),
        case_id: Set(case),
        person_id: Set(person),
        role: Set("named".into()),
        confirmed_by: Set(None),
        created_at: Set(chrono::Utc::now()),
    })
    .exec(&server.db)
    .await
    .unwrap();
    server.services.door_changed();
}

/// The open demo case that names Ken.
async fn kens_case(server: &TestServer) -> Uuid {
    use haven_server::db::entities::case_person;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let ken = server.person_id(KEN).await;
    case_person::Entity::find()
        .filter(case_person::Column::PersonId.eq(ken))
        .one(&server.db)
        .await
        .unwrap()
        .expect("the demo names Ken in a case")
        .case_id
}

#[tokio::test(flavor = "multi_thread")]
async fn door_staff_scanning_their_own_badge_or_registration_are_only_admitted_and_the_alert_still_goes_out() {
    use haven_app::domain::Role;
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        // Ken, named in a case with a door instruction and an arrival alert, works the door.
        server.grant_organization_role(KEN, Role::Door).await;
        let ken_id = server.person_id(KEN).await;
        let rae_id = server.person_id("responder@example.org").await;
        // Even were Ken (wrongly) listed to be told of arrivals, he is never told of his own.
        {
            use haven_server::db::entities::{alert_recipient, precaution};
            use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
            let alert = precaution::Entity::find()
                .filter(precaution::Column::CaseId.eq(kens_case(&server).await))
                .filter(precaution::Column::Kind.eq("arrival_alert"))
                .one(&server.db)
                .await
                .unwrap()
                .expect("the demo's arrival alert");
            alert_recipient::Entity::insert(alert_recipient::ActiveModel {
                id: Set(Uuid::new_v4()),
                precaution_id: Set(alert.id),
                person_id: Set(ken_id),
            })
            .exec(&server.db)
            .await
            .unwrap();
        }
        let ken = server.client_as(KEN).await;
        let own = token_of(&server, KEN).await;

        let by_badge = door_scan(&ken, &server, &own, Uuid::new_v4(), "North").await;
        let registration = registration_of(&ken, &server, "Ken Okafor").await;
        let by_name = door_scan(&ken, &server, &format!("registration:{registration}"), Uuid::new_v4(), "North").await;
        for answer in [&by_badge, &by_name] {
            assert_eq!(answer["result"], "admit", "{backend}: {answer}");
            assert_eq!(answer["instruction"], Value::Null, "{backend}: {answer}");
            assert_eq!(answer["name"], "Ken Okafor");
            let text = answer.to_string();
            assert!(!text.contains("radio") && !text.contains("told"), "{backend}: {text}");
        }

        // Rae is told of both arrivals, in the app and by mail; Ken of neither.
        for _ in 0..100 {
            if arrival_notifications(&server, rae_id).await >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(arrival_notifications(&server, rae_id).await, 2, "{backend}");
        sink.wait_for(Duration::from_secs(10), |m| m.to[0] == "responder@example.org" && m.subject.contains("Arrival"))
            .await;
        assert_eq!(arrival_notifications(&server, ken_id).await, 0, "{backend}: never told of himself");
        {
            use haven_server::db::entities::outbox;
            use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
            let to_ken = outbox::Entity::find()
                .filter(outbox::Column::ToAddress.eq(KEN))
                .filter(outbox::Column::Subject.contains("Arrival"))
                .count(&server.db)
                .await
                .unwrap();
            assert_eq!(to_ken, 0, "{backend}: no mail to Ken about his own arrival");
        }

        // Dana, at the same door, still gets the instruction for Ken.
        let dana = server.client_as("door@example.org").await;
        let answer = door_scan(&dana, &server, &own, Uuid::new_v4(), "North").await;
        assert_eq!(answer["result"], "alert", "{backend}: {answer}");
        assert_eq!(answer["instruction"], KENS_INSTRUCTION);
        let answer = door_scan(&dana, &server, &format!("registration:{registration}"), Uuid::new_v4(), "North").await;
        assert_eq!(answer["instruction"], KENS_INSTRUCTION, "{backend}: and by name");

        // A device's answer is not Ken's to read back by sending its scan id again.
        let device = device(&server, "havenconf").await;
        let id = Uuid::new_v4();
        let (_, answer) = scan(&server, &device, json!({"token": own, "scan_id": id})).await;
        assert_eq!(answer["instruction"], KENS_INSTRUCTION, "{backend}");
        let replay = door_scan(&ken, &server, &own, id, "North").await;
        assert_eq!((replay["result"].as_str(), replay["reason"].as_str()), (Some("deny"), Some("invalid")));
        assert!(!replay.to_string().contains("radio"), "{backend}: {replay}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_door_browser_never_syncs_instructions_of_cases_its_signed_in_person_is_involved_in() {
    use haven_app::domain::Role;
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let case = kens_case(&server).await;
        // The case names Alan too; Ada reported it; Dana is on the door, uninvolved.
        link_named(&server, case, server.person_id("alan.lovelace@example.org").await).await;
        for person in [KEN, ADA] {
            server.grant_organization_role(person, Role::Door).await;
        }
        // Another open case, naming Barbara, with a door instruction of its own.
        let reporter = server.client_as("margaret.moreau@example.org").await;
        let form = reqwest::multipart::Form::new().text("person_name", "Someone").text("narrative", "Please help.");
        let res = reporter.post(server.url("/events/havenconf/concern")).multipart(form).send().await.unwrap();
        let other = res.headers()["location"].to_str().unwrap().split('/').nth(2).unwrap().split('?').next().unwrap();
        let rae = server.client_as("responder@example.org").await;
        let (status, body) = call_fn(
            &rae,
            &server,
            "add_door_instruction",
            &[("reference", other), ("instruction", "Offer a quiet room first.")],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let other_case = {
            use haven_server::db::entities::case;
            use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
            case::Entity::find().filter(case::Column::Reference.eq(other)).one(&server.db).await.unwrap().unwrap().id
        };
        link_named(&server, other_case, server.person_id("barbara.lovelace@example.org").await).await;

        let ken_badge = badge_of(&token_of(&server, KEN).await);
        let alan_badge = badge_of(&token_of(&server, "alan.lovelace@example.org").await);
        let barbara_badge = badge_of(&token_of(&server, "barbara.lovelace@example.org").await);

        // A device, and Dana, get every instruction.
        let device = device(&server, "havenconf").await;
        let res = reqwest::Client::new()
            .get(server.url("/api/v1/events/havenconf/door-sync"))
            .bearer_auth(&device)
            .send()
            .await
            .unwrap();
        let from_device: Value = res.json().await.unwrap();
        let dana = server.client_as("door@example.org").await;
        let (_, from_dana) = browser_sync(&dana, &server, None).await;
        for sync in [&from_device, &from_dana] {
            assert_eq!(instruction_for(sync, &ken_badge).as_deref(), Some(KENS_INSTRUCTION), "{backend}");
            assert_eq!(instruction_for(sync, &alan_badge).as_deref(), Some(KENS_INSTRUCTION), "{backend}");
            assert_eq!(instruction_for(sync, &barbara_badge).as_deref(), Some("Offer a quiet room first."));
        }

        // Ken (named), and Ada (who reported it), never get that case's words, not even
        // through Alan's badge; the other case's instruction they do get.
        for person in [KEN, ADA] {
            let client = server.client_as(person).await;
            let (text, full) = browser_sync(&client, &server, None).await;
            let cursor = full["cursor"].as_i64().unwrap();
            let (delta_text, _) = browser_sync(&client, &server, Some(cursor)).await;
            for text in [&text, &delta_text] {
                assert!(!text.contains("radio") && !text.contains("safety lead"), "{backend} {person}: {text}");
                assert!(!text.contains(&ken_badge), "{backend} {person}: Ken's badge {ken_badge} in {text}");
                assert!(!text.contains(&alan_badge), "{backend} {person}: Alan's badge {alan_badge} in {text}");
            }
            assert_eq!(instruction_for(&full, &barbara_badge).as_deref(), Some("Offer a quiet room first."));
            // Nor online: scanning Alan tells them nothing of the case.
            let answer = door_scan(
                &client,
                &server,
                &token_of(&server, "alan.lovelace@example.org").await,
                Uuid::new_v4(),
                "North",
            )
            .await;
            assert_eq!(
                (answer["result"].as_str(), &answer["instruction"]),
                (Some("admit"), &Value::Null),
                "{backend} {person}"
            );
        }

        // Nor does a door person who declared a conflict on the case.
        {
            use haven_server::db::entities::case_conflict;
            use sea_orm::{ActiveValue::Set, EntityTrait};
            case_conflict::Entity::insert(case_conflict::ActiveModel {
                id: Set(Uuid::new_v4()),
                case_id: Set(case),
                person_id: Set(server.person_id("door@example.org").await),
                declared_at: Set(chrono::Utc::now()),
            })
            .exec(&server.db)
            .await
            .unwrap();
        }
        let (text, full) = browser_sync(&dana, &server, None).await;
        assert!(!text.contains("radio"), "{backend}: {text}");
        assert_eq!(instruction_for(&full, &barbara_badge).as_deref(), Some("Offer a quiet room first."));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_arrivals_page_shows_who_checked_in_whom_by_name() {
    use haven_app::domain::Role;
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let dana = server.client_as("door@example.org").await;
        let ada = registration_of(&dana, &server, "Ada Lovelace").await;
        let barbara = registration_of(&dana, &server, "Barbara Lovelace").await;
        let ken = registration_of(&dana, &server, "Ken Okafor").await;
        for (text, gate) in [(&ada, "East"), (&ken, "East")] {
            let answer = door_scan(&dana, &server, &format!("registration:{text}"), Uuid::new_v4(), gate).await;
            assert_ne!(answer["result"], "deny", "{backend}: {answer}");
        }
        // A badge read is not a check-in by name.
        door_scan(&dana, &server, &token_of(&server, ADA).await, Uuid::new_v4(), "East").await;
        let device = device(&server, "havenconf").await;
        assert_eq!(scan_token(&server, &device, &format!("registration:{barbara}")).await["result"], "admit");

        let org = server.client_as("organizer@example.org").await;
        let (status, view) = call_fn(&org, &server, "arrivals", &[("slug", "havenconf")]).await;
        assert_eq!(status, 200, "{view}");
        assert_eq!(
            view["by_name"],
            json!([
                {"by": "Dana Door", "device": false, "count": 2},
                {"by": "test scanner", "device": true, "count": 1},
            ]),
            "{backend}"
        );
        let latest: Vec<(String, String, bool, String)> = view["latest_by_name"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let s = |k: &str| c[k].as_str().unwrap().to_owned();
                (s("by"), s("name"), c["device"].as_bool().unwrap(), s("gate"))
            })
            .collect();
        for expected in [
            ("Dana Door", "Ada Lovelace", false, "East"),
            ("Dana Door", "Ken Okafor", false, "East"),
            ("test scanner", "Barbara Lovelace", true, "North"),
        ] {
            let expected = (expected.0.to_owned(), expected.1.to_owned(), expected.2, expected.3.to_owned());
            assert!(latest.contains(&expected), "{backend}: {expected:?} in {latest:?}");
        }
        assert_eq!(latest.len(), 3, "{backend}: {latest:?}");
        assert!(!view["latest_by_name"].to_string().contains("radio"), "no case information");

        // An organizer named in a case sees their own arrival as a plain admission.
        server.grant_organization_role(KEN, Role::Organizer).await;
        let gate_results = |view: &Value, name: &str| -> Vec<String> {
            view["gates"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|g| g["latest"].as_array().unwrap().clone())
                .filter(|s| s["name"] == name)
                .map(|s| s["result"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(gate_results(&view, "Ken Okafor"), ["alert"], "{backend}");
        let (_, as_ken) = call_fn(&server.client_as(KEN).await, &server, "arrivals", &[("slug", "havenconf")]).await;
        assert_eq!(gate_results(&as_ken, "Ken Okafor"), ["admit"], "{backend}: {as_ken}");
    }
}

/// Bans Ken for good, starting now, through the decision flow: a responder of his case
/// proposes, an administrator records.
async fn ban_ken_from_now(server: &TestServer) {
    use haven_server::db::entities::case;
    use sea_orm::EntityTrait;
    let case_id = kens_case(server).await;
    let reference = case::Entity::find_by_id(case_id).one(&server.db).await.unwrap().unwrap().reference;
    let rae = server.client_as("responder@example.org").await;
    let ken = server.person_id(KEN).await.to_string();
    let form = [
        ("reference", reference.as_str()),
        ("input[person]", ken.as_str()),
        ("input[kind]", "permanent_ban"),
        ("input[reasons]", "Per the report."),
    ];
    let (status, body) = call_fn(&rae, server, "propose_decision", &form).await;
    assert_eq!(status, 200, "{body}");
    let admin = server.client_as("admin@example.org").await;
    let (status, home) = call_fn(&admin, server, "decide_home", &[]).await;
    assert_eq!(status, 200, "{home}");
    let proposal =
        home["proposals"].as_array().unwrap().last().expect("the proposal waits")["id"].as_str().unwrap().to_owned();
    let form = [("proposal", proposal.as_str()), ("input[kind]", "permanent_ban"), ("input[reasons]", "As proposed.")];
    let (status, body) = call_fn(&admin, server, "record_decision", &form).await;
    assert_eq!(status, 200, "{body}");
}

/// A clock at a whole second (so times compare exactly after the database), now.
fn whole_second_clock() -> haven_server::clock::ManualClock {
    use chrono::{SubsecRound, Utc};
    haven_server::clock::ManualClock::new(Utc::now().trunc_subsecs(0))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_back_dated_scan_is_judged_by_what_holds_now_and_recorded_with_its_time() {
    use chrono::Duration as Days;
    use haven_server::db::entities::scan as scans;
    use sea_orm::EntityTrait;
    for backend in backends() {
        let clock = whole_second_clock();
        let server = TestServer::start_with(&backend, Options::default().clock(clock.clone())).await;
        server.seed_demo().await;
        let device = device(&server, "havenconf").await;
        let token = token_of(&server, KEN).await;
        ban_ken_from_now(&server).await;
        let now = clock_now(&server);

        // A day before the ban began, by the device's word: still refused today.
        let yesterday = now - Days::days(1);
        let id = Uuid::new_v4();
        let (status, answer) =
            scan(&server, &device, json!({"token": token, "scan_id": id, "gate": "North", "scanned_at": yesterday}))
                .await;
        assert_eq!(status, 200, "{backend}: {answer}");
        assert_eq!(
            (answer["result"].as_str(), answer["reason"].as_str()),
            (Some("deny"), Some("banned")),
            "{backend}: a back-dated scan cannot slip past a ban: {answer}"
        );
        assert_eq!(answer["instruction"], Value::Null, "{backend}");
        let row = scans::Entity::find_by_id(id).one(&server.db).await.unwrap().expect("recorded");
        assert_eq!(row.scanned_at, yesterday, "{backend}: recorded with when it happened");
        assert_eq!(row.received_at, now, "{backend}");
        assert_eq!((row.result.as_str(), row.reason.as_deref()), ("deny", Some("banned")), "{backend}");
        assert!(!row.late, "{backend}: a day old is not late");

        // Sent again, it keeps that answer.
        let (_, again) =
            scan(&server, &device, json!({"token": token, "scan_id": id, "gate": "North", "scanned_at": yesterday}))
                .await;
        assert_eq!(again, answer, "{backend}");
    }
}

fn clock_now(server: &TestServer) -> chrono::DateTime<chrono::Utc> {
    server.services.clock.now()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scan_uploaded_more_than_seven_days_late_is_recorded_and_marked_late_for_the_organizers() {
    use chrono::Duration as Days;
    use haven_server::db::entities::scan as scans;
    use sea_orm::EntityTrait;
    for backend in backends() {
        let clock = whole_second_clock();
        let server = TestServer::start_with(&backend, Options::default().clock(clock.clone())).await;
        server.seed_demo().await;
        let device = device(&server, "havenconf").await;
        let now = clock_now(&server);
        let seven = Days::days(7);
        // Each at a gate of its own, so the arrivals page shows each.
        let sent = [
            ("Six days", ADA, now - Days::days(6), false),
            ("Seven days", "grace.okafor@example.org", now - seven, false),
            ("Seven days and a second", "barbara.lovelace@example.org", now - seven - Days::seconds(1), true),
            ("Eight days", "alan.okafor@example.org", now - Days::days(8), true),
        ];
        for (gate, email, at, late) in &sent {
            let id = Uuid::new_v4();
            let token = token_of(&server, email).await;
            let (status, answer) =
                scan(&server, &device, json!({"token": token, "scan_id": id, "gate": gate, "scanned_at": at})).await;
            assert_eq!(status, 200, "{backend}: {gate}: {answer}");
            assert_eq!(answer["result"], "admit", "{backend}: {gate}: {answer}");
            let row = scans::Entity::find_by_id(id).one(&server.db).await.unwrap().expect("never lost");
            assert_eq!(row.scanned_at, *at, "{backend}: {gate}");
            assert_eq!(row.late, *late, "{backend}: {gate}");
        }

        let org = server.client_as("organizer@example.org").await;
        let (status, view) = call_fn(&org, &server, "arrivals", &[("slug", "havenconf")]).await;
        assert_eq!(status, 200, "{view}");
        let late: Vec<(String, String)> = view["late"]
            .as_array()
            .unwrap_or_else(|| panic!("{backend}: a list of late scans: {view}"))
            .iter()
            .map(|s| (s["gate"].as_str().unwrap().to_owned(), s["name"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(
            late,
            [
                ("Seven days and a second".to_owned(), "Barbara Lovelace".to_owned()),
                ("Eight days".to_owned(), "Alan Okafor".to_owned()),
            ],
            "{backend}: only the scans more than 7 days old, latest received first: {view}"
        );
        for s in view["late"].as_array().unwrap() {
            assert_eq!(s["by"], "test scanner", "{backend}: {s}");
            assert_eq!(s["device"], true, "{backend}: {s}");
            assert_eq!(s["result"], "admit", "{backend}: {s}");
        }
        for (gate, _, _, late) in &sent {
            let shown = view["gates"].as_array().unwrap().iter().find(|g| g["gate"] == *gate).expect("the gate");
            assert_eq!(shown["latest"][0]["late"], *late, "{backend}: {gate}: {shown}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scan_more_than_five_minutes_in_the_future_is_refused_and_not_recorded() {
    use chrono::Duration as Minutes;
    use haven_server::db::entities::scan as scans;
    use sea_orm::EntityTrait;
    for backend in backends() {
        let clock = whole_second_clock();
        let server = TestServer::start_with(&backend, Options::default().clock(clock.clone())).await;
        server.seed_demo().await;
        let device = device(&server, "havenconf").await;
        let token = token_of(&server, ADA).await;
        let now = clock_now(&server);

        let id = Uuid::new_v4();
        let at = now + Minutes::minutes(5);
        let (status, answer) = scan(&server, &device, json!({"token": token, "scan_id": id, "scanned_at": at})).await;
        assert_eq!((status, answer["result"].as_str()), (200, Some("admit")), "{backend}: 5 minutes ahead: {answer}");
        assert!(scans::Entity::find_by_id(id).one(&server.db).await.unwrap().is_some(), "{backend}");

        let id = Uuid::new_v4();
        let at = now + Minutes::minutes(5) + Minutes::seconds(1);
        let (status, answer) = scan(&server, &device, json!({"token": token, "scan_id": id, "scanned_at": at})).await;
        assert_eq!(status, 422, "{backend}: {answer}");
        assert_eq!(answer["detail"][0]["field"], "scanned_at", "{backend}: {answer}");
        assert!(scans::Entity::find_by_id(id).one(&server.db).await.unwrap().is_none(), "{backend}: not recorded");
    }
}
