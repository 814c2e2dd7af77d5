//! Two instances on one database, as behind a load balancer: what one records the other
//! acts on within a second, a scan sent to both is one scan, each mail goes out once
//! though both run workers, a session made on one works on the other, and scheduled
//! escalations fire once.

use chrono::Duration as Span;
use haven_server::clock::ManualClock;
use haven_tests::{MailSink, Options, TestServer, backends, call_fn};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const ADA: &str = "ada.lovelace@example.org";
const KEN: &str = "ken.okafor@example.org";
const RESPONDER: &str = "responder@example.org";
const ORGANIZER: &str = "organizer@example.org";
const ADMIN: &str = "admin@example.org";

async fn scan(server: &TestServer, device: &str, token: &str, id: &str) -> (u16, Value) {
    let body = json!({"token": token, "scan_id": id, "gate": "North"});
    let res = reqwest::Client::new().post(server.url("/api/v1/scans")).bearer_auth(device).json(&body).send().await;
    let res = res.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

/// Scans at `server` until the answer's `result` is `want` (1 s at most); returns the time it took.
async fn until_answer(server: &TestServer, device: &str, token: &str, want: &str) -> Duration {
    let started = Instant::now();
    loop {
        let (_, answer) = scan(server, device, token, &uuid::Uuid::new_v4().to_string()).await;
        if answer["result"] == want {
            return started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(1), "not {want} within a second: {answer}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_on_one_database_act_as_one() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let clock = ManualClock::new(chrono::Utc::now());
        let a = TestServer::start_with(&backend, Options::default().mail(&sink).clock(clock.clone())).await;
        a.seed_demo().await;
        let b = TestServer::start_with(&backend, Options::default().share(&a).mail(&sink).clock(clock.clone())).await;

        // A session made on A works on B.
        let ada_on_b = reqwest::Client::builder()
            .default_headers({
                let mut h = reqwest::header::HeaderMap::new();
                h.insert("cookie", a.session_cookie(ADA).await.parse().unwrap());
                h.insert("origin", b.base_url.parse().unwrap());
                h
            })
            .build()
            .unwrap();
        let (status, page) = call_fn(&ada_on_b, &b, "my_page", &[]).await;
        assert_eq!((status, page["name"].as_str()), (200, Some("Ada Lovelace")), "{backend}");

        // The same scan sent to both is one scan, answered the same.
        let device = a.device_token("havenconf").await;
        let ada_badge = a.badge_token("havenconf", ADA).await;
        let id = uuid::Uuid::new_v4().to_string();
        let (to_a, to_b) = tokio::join!(scan(&a, &device, &ada_badge, &id), scan(&b, &device, &ada_badge, &id));
        assert_eq!(to_a.0, 200, "{backend}: {to_a:?}");
        assert_eq!(to_a, to_b, "{backend}");
        use haven_server::db::entities::scan as scans;
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        let rows = scans::Entity::find()
            .filter(scans::Column::Id.eq(uuid::Uuid::parse_str(&id).unwrap()))
            .count(&a.db)
            .await
            .unwrap();
        assert_eq!(rows, 1, "{backend}");

        // An expulsion recorded on A denies at B within a second.
        let ken_badge = a.badge_token("havenconf", KEN).await;
        assert_ne!(scan(&b, &device, &ken_badge, &uuid::Uuid::new_v4().to_string()).await.1["result"], "deny");
        let rae = a.client_as(RESPONDER).await;
        let ken = a.person_id(KEN).await.to_string();
        let reference = {
            use haven_server::db::entities::{case, case_person};
            let link = case_person::Entity::find()
                .filter(case_person::Column::PersonId.eq(a.person_id(KEN).await))
                .one(&a.db)
                .await
                .unwrap()
                .expect("the demo links Ken");
            case::Entity::find_by_id(link.case_id).one(&a.db).await.unwrap().unwrap().reference
        };
        let (status, body) = call_fn(
            &rae,
            &a,
            "propose_decision",
            &[
                ("reference", &reference),
                ("input[person]", &ken),
                ("input[kind]", "expulsion"),
                ("input[reasons]", "x"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{backend}: {body}");
        let admin = a.client_as(ADMIN).await;
        let (_, home) = call_fn(&admin, &a, "decide_home", &[]).await;
        let proposal = home["proposals"].as_array().unwrap().last().unwrap()["id"].as_str().unwrap().to_owned();
        let (status, body) = call_fn(
            &admin,
            &a,
            "record_decision",
            &[("proposal", &proposal), ("input[kind]", "expulsion"), ("input[reasons]", "As proposed.")],
        )
        .await;
        assert_eq!(status, 200, "{backend}: {body}");
        let took = until_answer(&b, &device, &ken_badge, "deny").await;
        eprintln!("{backend}: the expulsion recorded on A denied at B after {took:?}");

        // A device revoked on A is refused at B within a second.
        let org = a.client_as(ORGANIZER).await;
        let (_, list) = call_fn(&org, &a, "devices", &[("slug", "havenconf")]).await;
        let id = list[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(call_fn(&org, &a, "revoke_device", &[("slug", "havenconf"), ("device", &id)]).await.0, 200);
        let started = Instant::now();
        while scan(&b, &device, &ada_badge, &uuid::Uuid::new_v4().to_string()).await.0 != 401 {
            assert!(started.elapsed() < Duration::from_secs(1), "{backend}: B refuses the revoked device in 1 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        // Both run mail workers: every badge mail goes out once.
        let (status, sent) = call_fn(&org, &a, "send_badges", &[("slug", "havenconf")]).await;
        assert_eq!(status, 200, "{backend}: {sent}");
        a.outbox_drained().await;
        let badges: Vec<_> = sink.all().await.into_iter().filter(|m| m.subject.starts_with("Your badge")).collect();
        assert!(badges.len() > 30, "{backend}: {}", badges.len());
        let mut to: Vec<&String> = badges.iter().flat_map(|m| &m.to).collect();
        let all = to.len();
        to.sort();
        to.dedup();
        assert_eq!(to.len(), all, "{backend}: each badge mail once");

        // Both run the escalation job: the demo's unacknowledged escort escalates once.
        clock.advance(Span::hours(3));
        let started = Instant::now();
        let escalations =
            || async { sink.all().await.into_iter().filter(|m| m.subject.contains("not acknowledged")).count() };
        while escalations().await == 0 {
            assert!(started.elapsed() < Duration::from_secs(10), "{backend}: an escalation");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(2500)).await;
        a.outbox_drained().await;
        assert_eq!(escalations().await, 1, "{backend}: escalated once by the two instances");
    }
}

/// Runs the `haven` command against the server's own database and data folder.
fn operator(server: &TestServer, args: &[&str]) -> String {
    let out = std::process::Command::new(haven_tests::haven_bin())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HAVEN_DATABASE_URL", &server.database.url)
        .env("HAVEN_DATA_DIR", &server.database.dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "haven {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn what_an_operator_changes_with_the_haven_command_reaches_a_running_server_within_a_second() {
    use haven_server::db::entities::badge_key;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    for backend in backends() {
        let a = TestServer::start(&backend).await;
        a.seed_demo().await;
        let device = a.device_token("havenconf").await;
        let ada_badge = a.badge_token("havenconf", ADA).await;
        assert_eq!(scan(&a, &device, &ada_badge, &uuid::Uuid::new_v4().to_string()).await.1["result"], "admit");
        let old = badge_key::Entity::find().filter(badge_key::Column::RetiredAt.is_null()).one(&a.db).await;
        let old = old.unwrap().expect("the demo's badge key").id.to_string();

        // A new key, then the old one retired, by the operator's command: its badges stop.
        operator(&a, &["keys", "generate", "--org", "demo"]);
        operator(&a, &["keys", "retire", "--org", "demo", "--key", &old]);
        let took = until_answer(&a, &device, &ada_badge, "deny").await;
        eprintln!("{backend}: a key retired by the command was refused after {took:?}");

        // An import by the command: the new registrant's badge opens the door.
        let csv = a.database.dir.join("people.csv");
        std::fs::write(&csv, "name,email\nNadia New,nadia.new@example.net\n").unwrap();
        operator(&a, &["import", "registrations", "--event", "havenconf", csv.to_str().unwrap()]);
        let token = operator(&a, &["badge", "token", "--event", "havenconf", "--email", "nadia.new@example.net"]);
        let took = until_answer(&a, &device, token.trim(), "admit").await;
        eprintln!("{backend}: a badge imported by the command was admitted after {took:?}");
    }
}
