//! Crashes: `haven serve` killed with SIGKILL while 16 door clients scan, or while the
//! outbox sends 200 messages, then started again. Every scan that was answered is on
//! disk, once, and answers the same; every message is delivered.

use haven_tests::server::TestDatabase;
use haven_tests::{backends, haven_bin};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn haven(database: &TestDatabase, args: &[&str]) -> Command {
    let mut cmd = Command::new(haven_bin());
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HAVEN_DATABASE_URL", &database.url)
        .env("HAVEN_DATA_DIR", &database.dir)
        .env("HAVEN_ADDR", "127.0.0.1:0")
        .env("HAVEN_LOG", "warn");
    cmd
}

fn output(database: &TestDatabase, args: &[&str]) -> String {
    let out = haven(database, args).output().unwrap();
    assert!(out.status.success(), "haven {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Starts `haven serve` and waits until it is ready; returns it and its base URL.
async fn serve(database: &TestDatabase) -> (Child, String) {
    serve_with(database, &[]).await
}

async fn serve_with(database: &TestDatabase, env: &[(&str, &str)]) -> (Child, String) {
    let mut command = haven(database, &["serve"]);
    command.envs(env.iter().copied());
    let mut child = command.stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let base = loop {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "haven serve exited before listening");
        if let Some(addr) = line.trim().strip_prefix("haven: serving on ") {
            break addr.to_owned();
        }
    };
    // Keep reading its log so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in stderr.lines() {});
    let http = reqwest::Client::new();
    let started = Instant::now();
    while http.get(format!("{base}/readyz")).send().await.map(|r| r.status() != 200).unwrap_or(true) {
        assert!(started.elapsed() < Duration::from_secs(30), "ready within 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, base)
}

async fn scan(http: &reqwest::Client, base: &str, device: &str, token: &str, id: &str) -> Option<String> {
    let body = serde_json::json!({"token": token, "scan_id": id, "gate": "Crash"});
    let res = http.post(format!("{base}/api/v1/scans")).bearer_auth(device).json(&body).send().await.ok()?;
    if res.status() != 200 {
        return None;
    }
    let answer: serde_json::Value = res.json().await.ok()?;
    Some(format!("{}/{}", answer["result"], answer["reason"]))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_scan_answered_before_a_kill_9_is_on_disk_once_and_answers_the_same_after() {
    for backend in backends() {
        let database = TestDatabase::create(&backend).await;
        output(&database, &["demo"]);
        let tokens: Vec<String> =
            output(&database, &["badge", "tokens", "--event", "havenconf"]).lines().map(str::to_owned).collect();
        assert!(tokens.len() > 30, "{backend}: the demo's badges");
        let device = output(&database, &["device", "add", "--event", "havenconf", "--name", "Crash gate"]);
        let device = device.split_whitespace().find(|w| w.starts_with("hvd_")).expect("a device token").to_owned();

        let (mut child, base) = serve(&database).await;
        // 16 door clients scan as fast as they can; what was answered is noted.
        let answered: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut clients = Vec::new();
        for c in 0..16 {
            let (answered, stop, tokens, device, base) =
                (answered.clone(), stop.clone(), tokens.clone(), device.clone(), base.clone());
            clients.push(tokio::spawn(async move {
                let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
                let mut i = c;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let id = uuid::Uuid::new_v4().to_string();
                    let token = &tokens[i % tokens.len()];
                    i += 16;
                    match scan(&http, &base, &device, token, &id).await {
                        Some(answer) => {
                            answered.lock().unwrap().insert(id, format!("{token} {answer}"));
                        }
                        None => tokio::time::sleep(Duration::from_millis(5)).await,
                    }
                }
            }));
        }
        // Let the door get busy, then kill the server without warning.
        let started = Instant::now();
        while answered.lock().unwrap().len() < 300 && started.elapsed() < Duration::from_secs(20) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for c in clients {
            c.await.unwrap();
        }
        let answered = answered.lock().unwrap().clone();
        assert!(answered.len() >= 300, "{backend}: the door was busy ({} scans answered)", answered.len());

        // Started again: every answered scan is there, once.
        let (mut child, base) = serve(&database).await;
        let db = sea_orm::Database::connect(database.url.as_str()).await.unwrap();
        use haven_server::db::entities::scan;
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        let ids: Vec<uuid::Uuid> = answered.keys().map(|k| uuid::Uuid::parse_str(k).unwrap()).collect();
        let mut found = 0;
        for chunk in ids.chunks(500) {
            found += scan::Entity::find().filter(scan::Column::Id.is_in(chunk.to_vec())).count(&db).await.unwrap();
        }
        assert_eq!(found as usize, answered.len(), "{backend}: every answered scan is on disk");
        // And the same scans sent again are answered as before, and not recorded twice.
        let http = reqwest::Client::new();
        let total = scan::Entity::find().count(&db).await.unwrap();
        for (id, was) in answered.iter().take(200) {
            let token = was.split(' ').next().unwrap();
            let again = scan(&http, &base, &device, token, id).await.expect("answered");
            assert_eq!(format!("{token} {again}"), *was, "{backend}: {id} answers the same");
        }
        assert_eq!(scan::Entity::find().count(&db).await.unwrap(), total, "{backend}: nothing recorded twice");
        eprintln!("{backend}: {} scans answered before the kill, all on disk after the restart", answered.len());
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_being_sent_at_a_kill_9_is_all_delivered_after_the_restart() {
    use haven_server::db::entities::outbox;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    for backend in backends() {
        let database = TestDatabase::create(&backend).await;
        output(&database, &["demo"]);
        let sink = haven_tests::MailSink::start().await;
        // A slow mail server: most of the time a message is being handed over, so the kill
        // lands mid-delivery.
        sink.pace(Duration::from_millis(20));
        // 200 messages wait in the outbox, queued as the services queue them.
        let db = sea_orm::Database::connect(database.url.as_str()).await.unwrap();
        let store = haven_server::db::Store::new(db.clone());
        let keys = std::sync::Arc::new(
            haven_server::crypto::fields::KeyStore::load(&haven_server::config::EncryptionSettings::File(
                database.dir.join("keys").join("field.keys"),
            ))
            .unwrap(),
        );
        let tx = store.write().await.unwrap();
        for n in 0..200 {
            let mail = haven_server::mail::Mail {
                kind: "crash_test",
                to: format!("person{n}@example.org"),
                subject: format!("Crash mail {n}"),
                text: format!("Message {n} of 200."),
                html: None,
                attachments: Vec::new(),
                about: None,
            };
            haven_server::mail::enqueue(&keys, &tx, chrono::Utc::now(), mail).await.unwrap();
        }
        tx.commit().await.unwrap();
        let ours = || async {
            let mut subjects: Vec<String> =
                sink.all().await.into_iter().map(|m| m.subject).filter(|s| s.starts_with("Crash mail ")).collect();
            subjects.sort();
            subjects
        };

        let (mut child, _) = serve_with(&database, &[("HAVEN_SMTP_URL", &sink.url())]).await;
        let started = Instant::now();
        while ours().await.len() < 40 || !sink.holding() {
            assert!(started.elapsed() < Duration::from_secs(30), "{backend}: mail is being sent");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        child.kill().unwrap(); // SIGKILL, while a message is being handed over
        child.wait().unwrap();
        let before = ours().await.len();
        assert!(before < 200, "{backend}: the kill came while mail was being sent ({before} of 200 delivered)");

        // The one message a worker had claimed when it died keeps its claim for two minutes
        // (another instance may still be sending it); let them pass, then start again.
        let waiting = outbox::Entity::find()
            .filter(outbox::Column::Kind.eq("crash_test"))
            .filter(outbox::Column::SentAt.is_null())
            .all(&db)
            .await
            .unwrap();
        let claimed: Vec<_> = waiting.iter().filter(|m| m.next_attempt_at > chrono::Utc::now()).collect();
        // The message being handed over at the kill was not accepted: it waits, claimed.
        assert_eq!(claimed.len(), 1, "{backend}: the message in flight waits to be sent again: {claimed:?}");
        for m in &claimed {
            let mut update: outbox::ActiveModel = (*m).clone().into();
            update.next_attempt_at = sea_orm::ActiveValue::Set(m.next_attempt_at - chrono::Duration::minutes(2));
            outbox::Entity::update(update).exec(&db).await.unwrap();
        }
        let (mut child, _) = serve_with(&database, &[("HAVEN_SMTP_URL", &sink.url())]).await;
        let unsent = || async {
            outbox::Entity::find()
                .filter(outbox::Column::Kind.eq("crash_test"))
                .filter(outbox::Column::SentAt.is_null())
                .all(&db)
                .await
                .unwrap()
        };
        let started = Instant::now();
        loop {
            let mut distinct = ours().await;
            distinct.dedup();
            if distinct.len() == 200 && unsent().await.is_empty() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{backend}: {} of 200 delivered; not recorded as sent: {:?}",
                distinct.len(),
                unsent().await.iter().map(|m| &m.subject).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let received = ours().await;
        let mut distinct = received.clone();
        distinct.dedup();
        let duplicates = received.len() - distinct.len();
        // A duplicate can only be the message in flight: accepted by SMTP, not yet recorded.
        assert!(duplicates <= claimed.len(), "{backend}: {duplicates} duplicate(s)");
        eprintln!(
            "{backend}: {before} of 200 delivered before the kill, all 200 after the restart, \
             {duplicates} delivered twice"
        );
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
