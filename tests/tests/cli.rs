//! The `haven` binary as an operator runs it: help, configuration errors, the demo, logs.

use haven_tests::server::TestDatabase;
use haven_tests::{backends, haven_bin};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A `haven` command with a clean environment: only the HAVEN_* settings given.
fn haven(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(haven_bin());
    cmd.args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    // Key files and mail land in a scratch directory, never in the source tree; a test
    // may name its own.
    cmd.env("HAVEN_DATA_DIR", std::env::temp_dir().join(format!("haven-cli-{}", std::process::id())));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn assert_one_clear_line(out: &std::process::Output, expected: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "it must fail: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "exactly one line: {stderr}");
    for e in expected {
        assert!(lines[0].contains(e), "{e:?} not in {:?}", lines[0]);
    }
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{stderr}");
}

#[test]
fn every_subcommand_explains_itself_with_help() {
    for sub in ["serve", "migrate", "demo", "check-config"] {
        let out = haven(&[sub, "--help"], &[]).output().unwrap();
        assert!(out.status.success(), "{sub}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage: haven"), "{sub}: {text}");
    }
    let top = haven(&["--help"], &[]).output().unwrap();
    let text = String::from_utf8_lossy(&top.stdout);
    for sub in ["serve", "migrate", "demo", "check-config"] {
        assert!(text.contains(sub), "{text}");
    }
}

#[test]
fn serve_with_a_malformed_database_url_fails_with_one_line_naming_it() {
    let out = haven(&["serve"], &[("HAVEN_DATABASE_URL", "mysql://root:pw@db/haven")]).output().unwrap();
    assert_one_clear_line(&out, &["HAVEN_DATABASE_URL", "sqlite:// or postgres://"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("pw"), "the password is not echoed");
}

#[test]
fn serve_with_an_unreachable_postgres_fails_with_one_line() {
    let out = haven(
        &["serve"],
        &[
            ("HAVEN_DATABASE_URL", "postgres://postgres:secret@127.0.0.1:1/haven"),
            ("HAVEN_DATABASE_CONNECT_TIMEOUT_SECS", "2"),
        ],
    )
    .output()
    .unwrap();
    assert_one_clear_line(&out, &["cannot connect to PostgreSQL at 127.0.0.1:1/haven"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("secret"));
}

#[test]
fn serve_with_a_read_only_data_directory_fails_with_one_line() {
    let dir = std::env::temp_dir().join(format!("haven-ro-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut perms = std::fs::metadata(&dir).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o555);
    std::fs::set_permissions(&dir, perms).unwrap();
    let data_dir = dir.display().to_string();

    // Root ignores permissions; run as `nobody` then, as a real operator account would.
    let is_root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
    let out = if is_root {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(haven_bin())
            .arg("serve")
            .env_clear()
            .env("HAVEN_DATA_DIR", &data_dir)
            .current_dir(&dir);
        cmd.output().unwrap()
    } else {
        haven(&["serve"], &[("HAVEN_DATA_DIR", &data_dir)]).current_dir(&dir).output().unwrap()
    };

    assert_one_clear_line(&out, &["cannot open the SQLite database", "writable"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_config_prints_every_setting_with_secrets_masked() {
    let out = haven(&["check-config"], &[("HAVEN_DATABASE_URL", "postgres://haven:s3cret@db.internal:5432/haven")])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("HAVEN_DATABASE_URL=******** (postgres db.internal:5432/haven)"), "{text}");
    assert!(text.contains("HAVEN_ADDR=127.0.0.1:3000"));
    assert!(!text.contains("s3cret"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_seeds_once_and_a_second_run_changes_nothing() {
    for backend in backends() {
        let database = TestDatabase::create(&backend).await;
        let env = [("HAVEN_DATABASE_URL", database.url.as_str())];

        let first = haven(&["demo"], &env).output().unwrap();
        let second = haven(&["demo"], &env).output().unwrap();
        let if_empty = haven(&["demo", "--if-empty"], &env).output().unwrap();

        assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
        assert_eq!(
            String::from_utf8_lossy(&first.stdout).lines().next().unwrap(),
            "demo: created 1 organization(s), 1 event(s), 42 people, 36 registration(s), 6 staff role(s), 4 case(s)",
            "{backend}"
        );
        assert_eq!(
            String::from_utf8_lossy(&second.stdout).lines().next().unwrap(),
            "demo: created 0 organization(s), 0 event(s), 0 people, 0 registration(s), 0 staff role(s), 0 case(s)"
        );
        let shown = String::from_utf8_lossy(&first.stdout);
        for account in [
            "admin@example.org",
            "organizer@example.org",
            "responder@example.org",
            "escort@example.org",
            "door@example.org",
        ] {
            assert!(shown.contains(account), "the demo names how to sign in as {account}: {shown}");
        }
        assert!(shown.contains("haven signin-link --email"), "{shown}");
        assert_eq!(
            String::from_utf8_lossy(&if_empty.stdout).trim(),
            "demo: the database already holds data; nothing seeded"
        );
    }
}

/// Starts `haven serve` on a free port and returns the child and its address.
fn spawn_serve(env: &[(&str, &str)]) -> (std::process::Child, String, BufReader<std::process::ChildStderr>) {
    spawn_haven(&["serve"], env)
}

fn spawn_haven(
    args: &[&str],
    env: &[(&str, &str)],
) -> (std::process::Child, String, BufReader<std::process::ChildStderr>) {
    let mut child = haven(args, env).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let started = Instant::now();
    let mut line = String::new();
    let problem = loop {
        line.clear();
        if stderr.read_line(&mut line).unwrap_or(0) == 0 {
            break "haven serve exited before listening";
        }
        if let Some(addr) = line.trim().strip_prefix("haven: serving on ") {
            return (child, addr.to_owned(), stderr);
        }
        if started.elapsed() > Duration::from_secs(60) {
            break "haven serve did not start within 60 s";
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    panic!("{problem}");
}

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_carry_request_ids_and_routes_but_no_personal_data() {
    for backend in backends() {
        let database = TestDatabase::create(&backend).await;
        let env = [("HAVEN_DATABASE_URL", database.url.as_str())];
        assert!(haven(&["demo"], &env).output().unwrap().status.success());
        let (mut child, base, stderr) = spawn_serve(&[
            ("HAVEN_DATABASE_URL", database.url.as_str()),
            ("HAVEN_ADDR", "127.0.0.1:0"),
            ("HAVEN_LOG_FORMAT", "json"),
        ]);

        let http = reqwest::Client::new();
        http.get(format!("{base}/")).send().await.unwrap();
        http.get(format!("{base}/events/havenconf?email=ada.lovelace@example.org")).send().await.unwrap();
        http.get(format!("{base}/events/no-such-event")).send().await.unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        let lines: Vec<String> = stderr.lines().map_while(Result::ok).collect();

        assert!(!lines.is_empty());
        let mut answered = 0;
        for line in &lines {
            let json: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
            if json["message"] == "request answered" {
                answered += 1;
                assert_eq!(json["span"]["request_id"].as_str().map(str::len), Some(32), "{line}");
                assert!(json["span"]["route"].is_string(), "{line}");
            }
            for private in ["ada.lovelace", "lovelace", "example.org", "havenconf", "no-such-event"] {
                assert!(!line.to_lowercase().contains(&private.to_lowercase()), "{private:?} leaked: {line}");
            }
        }
        assert!(answered >= 3, "{lines:?}");
    }
}

fn stdout_of(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = haven(args, env).output().unwrap();
    assert!(out.status.success(), "haven {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn migrate_shows_its_status_rolls_back_and_serve_can_leave_the_schema_alone() {
    use haven_migrations::{Migrator, MigratorTrait};
    let names: Vec<String> = Migrator::migrations().iter().map(|m| m.name().to_owned()).collect();
    for backend in backends() {
        let database = TestDatabase::create(&backend).await;
        let env = [("HAVEN_DATABASE_URL", database.url.as_str())];
        let lines = |text: String| text.lines().map(str::to_owned).collect::<Vec<_>>();
        let expect = |state: &dyn Fn(usize) -> &'static str| {
            names.iter().enumerate().map(|(i, n)| format!("{}  {n}", state(i))).collect::<Vec<_>>()
        };

        assert_eq!(lines(stdout_of(&["migrate", "--status"], &env)), expect(&|_| "pending"), "{backend}");
        assert_eq!(
            stdout_of(&["migrate"], &env).trim(),
            format!("applied {} migration(s); the schema is current", names.len())
        );
        assert_eq!(lines(stdout_of(&["migrate", "--status"], &env)), expect(&|_| "applied"), "{backend}");
        assert_eq!(stdout_of(&["migrate", "--down", "1"], &env).trim(), "rolled back 1 migration(s)");
        let last = names.len() - 1;
        let one_pending: Vec<String> = expect(&|i| if i == last { "pending" } else { "applied" });
        assert_eq!(lines(stdout_of(&["migrate", "--status"], &env)), one_pending, "{backend}");

        // Told not to migrate (by flag or setting), serve leaves it pending and is not ready.
        let http = reqwest::Client::new();
        let addr = ("HAVEN_ADDR", "127.0.0.1:0");
        for (args, extra) in
            [(&["serve", "--no-migrate"][..], None), (&["serve"][..], Some(("HAVEN_MIGRATE_ON_START", "false")))]
        {
            let mut env = vec![env[0], addr];
            env.extend(extra);
            // The log pipe stays open while the server runs (it writes to it).
            let (mut child, base, _log) = spawn_haven(args, &env);
            let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
            let (status, body) = (ready.status(), ready.text().await.unwrap());
            child.kill().unwrap();
            child.wait().unwrap();
            assert_eq!((status.as_u16(), body.as_str()), (503, "migrations pending\n"), "{backend} {args:?} {extra:?}");
        }
        assert_eq!(lines(stdout_of(&["migrate", "--status"], &env)), one_pending, "nothing was applied");

        // By default serve applies what is pending and is ready (once today's doors are loaded).
        let (mut child, base, _log) = spawn_haven(&["serve"], &[env[0], addr]);
        let mut status = http.get(format!("{base}/readyz")).send().await.unwrap().status();
        for _ in 0..100 {
            if status != 503 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            status = http.get(format!("{base}/readyz")).send().await.unwrap().status();
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(status, 200, "{backend}");
        assert_eq!(lines(stdout_of(&["migrate", "--status"], &env)), expect(&|_| "applied"), "{backend}");
    }
}

#[test]
fn serve_refuses_a_key_file_that_others_may_read() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = std::env::temp_dir().join(format!("haven-keymode-{}", uuid::Uuid::new_v4().simple()));
    let keys = dir.join("keys").join("field.keys");
    std::fs::create_dir_all(keys.parent().unwrap()).unwrap();
    std::fs::write(&keys, format!("k1 {}\n", "A".repeat(43))).unwrap();
    let data_dir = dir.display().to_string();
    let env = [("HAVEN_DATA_DIR", data_dir.as_str()), ("HAVEN_ADDR", "127.0.0.1:0")];
    for mode in [0o640, 0o604, 0o620] {
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(mode)).unwrap();
        let mut child = haven(&["serve"], &env).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                panic!("serve started with a key file of mode {mode:o}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_one_clear_line(&child.wait_with_output().unwrap(), &["field.keys", "group or others", "chmod 600"]);
    }
    // Readable by its owner alone: it serves.
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (mut child, _addr, _log) = spawn_serve(&env);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn new_organizations_require_a_second_factor_and_the_operator_can_change_it_or_remove_one() {
    use haven_server::db::entities::{audit_log, second_factor};
    use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
    for backend in backends() {
        let database = TestDatabase::create(&backend).await;
        let env = [("HAVEN_DATABASE_URL", database.url.as_str())];
        let run = |args: &[&str]| {
            let out = haven(args, &env).output().unwrap();
            assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        };

        run(&["org", "create", "--slug", "acme", "--name", "Acme"]);
        assert_eq!(
            run(&["org", "security", "--org", "acme"]),
            "acme: second factor required; a sign-in provider's multi-factor claim does not count",
            "{backend}"
        );
        let changed = run(&[
            "org",
            "security",
            "--org",
            "acme",
            "--second-factor-required",
            "false",
            "--accept-provider-mfa",
            "true",
        ]);
        assert_eq!(changed, "acme: second factor not required; a sign-in provider's multi-factor claim counts");
        assert_eq!(run(&["org", "security", "--org", "acme"]), changed, "it was stored");
        let bad =
            haven(&["org", "security", "--org", "nowhere", "--second-factor-required", "true"], &env).output().unwrap();
        let said = String::from_utf8_lossy(&bad.stderr);
        assert!(!bad.status.success() && said.trim().ends_with("no organization with the slug \"nowhere\""), "{said}");

        run(&["demo"]);
        assert_eq!(
            run(&["staff", "reset-second-factor", "--email", "admin@example.org"]),
            "admin@example.org had no second factor"
        );
        let db = sea_orm::Database::connect(&database.url).await.unwrap();
        let admin = haven_server::db::entities::person::Entity::find()
            .filter(haven_server::db::entities::person::Column::EmailNormalized.eq("admin@example.org"))
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        second_factor::Entity::insert(second_factor::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            person_id: Set(admin.id),
            secret_enc: Set(Some("sealed".into())),
            pending_enc: Set(None),
            created_at: Set(chrono::Utc::now()),
            confirmed_at: Set(Some(chrono::Utc::now())),
            last_step: Set(None),
        })
        .exec(&db)
        .await
        .unwrap();
        assert_eq!(
            run(&["staff", "reset-second-factor", "--email", "admin@example.org"]),
            "removed the second factor of admin@example.org; they were told by mail"
        );
        assert!(second_factor::Entity::find().all(&db).await.unwrap().is_empty(), "{backend}");
        let audited = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("second_factor.reset"))
            .all(&db)
            .await
            .unwrap();
        assert_eq!(audited.len(), 1);
    }
}
