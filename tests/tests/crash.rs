//! A crash under load: `haven serve` killed with SIGKILL while 16 door clients scan, then
//! started again. Every scan that was answered is on disk, once, and answers the same.

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
    let mut child = haven(database, &["serve"]).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
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
