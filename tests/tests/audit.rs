//! The audit chain as its keepers see it: the database refuses to change or remove its
//! records (and to remove scans and decisions), `haven audit verify` prints the head and
//! checks a head kept elsewhere, and the head is mailed to the operators once a day.

use chrono::TimeZone as _;
use haven_server::clock::ManualClock;
use haven_server::services::audit::{self, Checkpoint, Verification};
use haven_tests::server::TestDatabase;
use haven_tests::{MailSink, Options, TestServer, backends, haven_bin};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use std::time::Duration;

async fn count(db: &DatabaseConnection, table: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), format!("SELECT COUNT(*) AS n FROM {table}")))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_database_refuses_to_change_an_audit_record_or_remove_records_scans_and_decisions() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let device = server.device_token("havenconf").await;
        let badge = server.badge_token("havenconf", "ada.lovelace@example.org").await;
        assert_eq!(server.scan(&device, &badge).await["result"], "admit");
        let db = &server.db;
        let (records, scans, decisions) =
            (count(db, "audit_log").await, count(db, "scans").await, count(db, "decisions").await);
        assert!(records > 2 && scans >= 1 && decisions >= 1, "{backend}: {records} {scans} {decisions}");
        let second = |db: &DatabaseConnection| {
            let sql = "SELECT detail, hash FROM audit_log WHERE seq = 2";
            let db = db.clone();
            async move {
                let row =
                    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
                (row.try_get::<String>("", "detail").unwrap(), row.try_get::<String>("", "hash").unwrap())
            }
        };
        let before = second(db).await;

        let shown = backend.to_string();
        let shown = shown.as_str();
        let refused = |sql: String| async move {
            match db.execute_unprepared(&sql).await {
                Ok(done) => panic!("{shown}: {sql} was allowed ({} row(s))", done.rows_affected()),
                Err(e) => e.to_string(),
            }
        };
        let e = refused(r#"UPDATE audit_log SET detail = '{"rewritten":true}' WHERE seq = 2"#.into()).await;
        assert!(e.contains("audit records are append-only: they are never changed"), "{backend}: {e}");
        let e = refused("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)".into()).await;
        assert!(e.contains("audit records are append-only: they are never deleted"), "{backend}: {e}");
        let e = refused("DELETE FROM scans".into()).await;
        assert!(e.contains("scans are never deleted"), "{backend}: {e}");
        let e = refused("DELETE FROM decisions".into()).await;
        assert!(e.contains("decisions are never deleted"), "{backend}: {e}");
        if db.get_database_backend() == DbBackend::Postgres {
            for table in ["audit_log", "scans", "decisions"] {
                let e = refused(format!("TRUNCATE {table} CASCADE")).await;
                assert!(e.contains("never deleted"), "{backend}: {e}");
            }
        }

        assert_eq!(second(db).await, before, "{backend}: the record is as it was");
        assert_eq!(
            (count(db, "audit_log").await, count(db, "scans").await, count(db, "decisions").await),
            (records, scans, decisions),
            "{backend}: nothing was removed"
        );
        assert_eq!(audit::verify(db).await.unwrap(), Verification::Intact { records: records as u64 }, "{backend}");
    }
}

/// `haven <args>` on this database; (success, stdout, stderr).
fn haven(database: &TestDatabase, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(haven_bin())
        .args(args)
        .env_clear()
        .env("HAVEN_DATABASE_URL", &database.url)
        .env("HAVEN_DATA_DIR", &database.dir)
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn head_in(stdout: &str) -> Checkpoint {
    let line = stdout.lines().last().unwrap_or_default();
    line.strip_prefix("head: ").unwrap_or_else(|| panic!("no head in {stdout:?}")).parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chain_cut_back_with_its_head_moved_or_rewritten_fails_against_an_earlier_checkpoint() {
    for backend in backends() {
        let database = TestDatabase::create(&backend).await;
        assert!(haven(&database, &["demo"]).0);
        let (ok, stdout, stderr) = haven(&database, &["audit", "verify"]);
        assert!(ok, "{backend}: {stderr}");
        let checkpoint = head_in(&stdout);
        assert!(checkpoint.seq > 4, "{backend}: {stdout}");
        assert!(haven(&database, &["org", "create", "--slug", "acme", "--name", "ACME Events"]).0);
        let (ok, stdout, _) = haven(&database, &["audit", "verify", "--expect", &checkpoint.to_string()]);
        assert!(ok, "{backend}: an intact chain holds its earlier heads: {stdout}");
        assert_eq!(stdout.lines().nth(1), Some(format!("it holds the checkpoint {checkpoint}").as_str()));
        assert_eq!(head_in(&stdout).seq, checkpoint.seq + 1, "{backend}");

        // Someone who owns the database cuts the last records off and moves the head back.
        let kept = checkpoint.seq - 2;
        let db = sea_orm::Database::connect(database.url.as_str()).await.unwrap();
        haven_tests::drop_append_only_guards(&db).await;
        let first: String = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT hash FROM audit_log WHERE seq = 1",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get("", "hash")
            .unwrap();
        db.execute_unprepared(&format!("DELETE FROM audit_log WHERE seq > {kept}")).await.unwrap();
        db.execute_unprepared(&format!(
            "UPDATE audit_head SET seq = {kept}, hash = (SELECT hash FROM audit_log WHERE seq = {kept})"
        ))
        .await
        .unwrap();
        db.close().await.unwrap();

        // The chain alone looks intact; the checkpoint kept elsewhere shows the cut.
        let (ok, stdout, _) = haven(&database, &["audit", "verify"]);
        assert!(ok && head_in(&stdout).seq == kept, "{backend}: {stdout}");
        let (ok, _, stderr) = haven(&database, &["audit", "verify", "--expect", &checkpoint.to_string()]);
        assert!(!ok, "{backend}");
        assert_eq!(
            stderr.trim(),
            format!(
                "haven: the audit log is broken at record {}: it does not hold the checkpoint {checkpoint}: \
                 the log now ends at record {kept} (records removed)",
                checkpoint.seq
            ),
            "{backend}"
        );

        // Writing new records up to and past it (with the real code) does not hide it.
        for slug in ["one", "two", "three"] {
            assert!(haven(&database, &["org", "create", "--slug", slug, "--name", "Another"]).0);
        }
        let (ok, stdout, _) = haven(&database, &["audit", "verify"]);
        assert!(ok && head_in(&stdout).seq == kept + 3, "{backend}: {stdout}");
        let (ok, _, stderr) = haven(&database, &["audit", "verify", "--expect", &checkpoint.to_string()]);
        assert!(!ok, "{backend}");
        assert_eq!(
            stderr.trim(),
            format!(
                "haven: the audit log is broken at record {}: it does not hold the checkpoint {checkpoint}: \
                 the record there now has another hash (rewritten)",
                checkpoint.seq
            ),
            "{backend}"
        );
        // A checkpoint from before the cut still holds, and a malformed one is named.
        let (ok, stdout, _) = haven(&database, &["audit", "verify", "--expect", &format!("1:{first}")]);
        assert!(ok, "{backend}: {stdout}");
        let (ok, _, stderr) = haven(&database, &["audit", "verify", "--expect", "12:abc"]);
        assert!(!ok && stderr.contains("\"12:abc\" is not a checkpoint: expected SEQ:HASH"), "{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_head_is_mailed_to_the_operators_once_a_day_by_one_of_several_instances() {
    use haven_server::db::entities::audit_checkpoint;
    use sea_orm::{EntityTrait, QueryOrder};
    const OPS: &str = "ops@example.net";
    for backend in backends() {
        let sink = MailSink::start().await;
        let clock = ManualClock::new(chrono::Utc.with_ymd_and_hms(2027, 1, 10, 23, 59, 0).unwrap());
        let options = || Options::default().clock(clock.clone()).mail(&sink).env("HAVEN_AUDIT_CHECKPOINT_TO", OPS);
        let first = TestServer::start_with(&backend, options()).await;
        let second = TestServer::start_with(&backend, options().share(&first)).await;

        let line_of = |text: &str| -> Checkpoint {
            let line = text.lines().next().unwrap();
            line.rsplit(' ').next().unwrap().parse().unwrap_or_else(|e| panic!("{e}: {line}"))
        };
        let day1 = sink.wait_for(Duration::from_secs(10), |m| m.subject == "Haven audit checkpoint 2027-01-10").await;
        assert_eq!(day1.to, vec![OPS.to_owned()]);
        let at_day1 = line_of(&day1.text);
        assert_eq!(
            day1.text.lines().next().unwrap(),
            format!("Haven audit checkpoint 2027-01-10 {} {at_day1}", first.base_url),
            "{backend}: one line to keep"
        );
        assert!(day1.text.contains(&format!("haven audit verify --expect {at_day1}")), "{}", day1.text);

        first.seed_demo().await;
        let seeded = audit::head(&first.db).await.unwrap();
        assert!(seeded.seq > at_day1.seq, "{backend}");
        clock.advance(chrono::Duration::minutes(2));
        let day2 = sink.wait_for(Duration::from_secs(10), |m| m.subject == "Haven audit checkpoint 2027-01-11").await;
        let at_day2 = line_of(&day2.text);
        assert!(at_day2.seq >= seeded.seq, "{backend}: the head after the day began");

        // Both are points of the chain, which still holds them.
        let (outcome, _) = audit::verify_against(&first.db, &[at_day1.clone(), at_day2.clone()]).await.unwrap();
        assert!(matches!(outcome, Verification::Intact { .. }), "{backend}: {outcome:?}");

        // Two instances, several rounds each: one message a day.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let mailed: Vec<String> = sink.to(OPS).await.into_iter().map(|m| m.subject).collect();
        assert_eq!(
            mailed,
            vec!["Haven audit checkpoint 2027-01-10".to_owned(), "Haven audit checkpoint 2027-01-11".to_owned()],
            "{backend}"
        );
        let claimed: Vec<(String, i64, String)> = audit_checkpoint::Entity::find()
            .order_by_asc(audit_checkpoint::Column::Day)
            .all(&second.db)
            .await
            .unwrap()
            .into_iter()
            .map(|c| (c.day, c.seq, c.hash))
            .collect();
        assert_eq!(
            claimed,
            vec![
                ("2027-01-10".to_owned(), at_day1.seq, at_day1.hash),
                ("2027-01-11".to_owned(), at_day2.seq, at_day2.hash)
            ],
            "{backend}"
        );
    }
}
