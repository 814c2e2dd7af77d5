//! Health, readiness, metrics, security headers, and the server-rendered public pages.

use haven_migrations::{Migrator, MigratorTrait};
use haven_tests::{Options, TestServer, backends, call_fn};

const METRICS_TOKEN: &str = "scrape-me-3f9c2a7d41e8";

#[tokio::test(flavor = "multi_thread")]
async fn health_and_readiness_answer_when_the_schema_is_current() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        let http = server.client();

        let health = http.get(server.url("/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200, "{backend}");
        assert_eq!(health.text().await.unwrap(), "ok\n");

        let ready = http.get(server.url("/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 200, "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn readiness_is_503_while_a_migration_is_pending() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        Migrator::down(&server.db, Some(1)).await.unwrap();

        let ready = server.client().get(server.url("/readyz")).send().await.unwrap();

        assert_eq!(ready.status(), 503, "{backend}");
        assert_eq!(ready.text().await.unwrap(), "migrations pending\n");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn readiness_is_503_when_the_database_goes_away_while_liveness_stays_200() {
    // Only a database server can go away under a running Haven; SQLite is a file it holds open.
    let Some(backend) = backends().into_iter().find(|b| matches!(b, haven_tests::Backend::Postgres(_))) else {
        eprintln!("no PostgreSQL configured (HAVEN_TEST_POSTGRES_URL): nothing to take away");
        return;
    };
    let haven_tests::Backend::Postgres(admin_url) = &backend else { unreachable!() };
    let server = TestServer::start(&backend).await;
    let http = server.client();
    assert_eq!(http.get(server.url("/readyz")).send().await.unwrap().status(), 200);

    let name = server.database.url.rsplit('/').next().unwrap().to_owned();
    let admin = sea_orm::Database::connect(admin_url.as_str()).await.unwrap();
    use sea_orm::ConnectionTrait;
    admin.execute_unprepared(&format!("DROP DATABASE \"{name}\" WITH (FORCE)")).await.unwrap();
    admin.close().await.ok();

    let ready = http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(ready.text().await.unwrap(), "database unreachable\n");
    assert_eq!(http.get(server.url("/healthz")).send().await.unwrap().status(), 200, "the process is still alive");
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_requests_by_route_pattern_and_show_the_pool() {
    for backend in backends() {
        let server =
            TestServer::start_with(&backend, Options::default().env("HAVEN_METRICS_TOKEN", METRICS_TOKEN)).await;
        server.seed_demo().await;
        let http = server.client();
        for _ in 0..2 {
            http.get(server.url("/events/havenconf")).send().await.unwrap();
        }

        let res = http.get(server.url("/metrics")).bearer_auth(METRICS_TOKEN).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let text = res.text().await.unwrap();

        assert!(
            text.contains(r#"haven_http_requests_total{method="GET",route="/events/{slug}",status="200"} 2"#),
            "{text}"
        );
        assert!(text.contains(r#"haven_http_request_duration_seconds_count{method="GET",route="/events/{slug}"} 2"#));
        assert!(text.contains("haven_db_pool_connections{state=\"idle\"}"));
        assert!(text.contains("haven_db_pool_max_connections 5"));
        assert!(!text.contains("havenconf"), "raw paths never become labels");
    }
}

/// `/metrics` as an unknown address answers it: 404 and the app's "Not found" page.
async fn assert_no_metrics(res: reqwest::Response, what: &str) {
    assert_eq!(res.status(), 404, "{what}");
    let body = res.text().await.unwrap();
    assert!(body.contains("Not found") && !body.contains("haven_http_requests_total"), "{what}: {body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_are_served_only_with_the_bearer_token_or_on_their_own_address() {
    for backend in backends() {
        // Neither set: nobody reads them, signed in or not.
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        assert_no_metrics(server.client().get(server.url("/metrics")).send().await.unwrap(), "anonymous").await;
        let admin = server.client_as("admin@example.org").await;
        assert_no_metrics(admin.get(server.url("/metrics")).send().await.unwrap(), "an administrator's session").await;
        let guess = server.client().get(server.url("/metrics")).bearer_auth("anything-at-all-really").send().await;
        assert_no_metrics(guess.unwrap(), "any token, when none is set").await;

        // A token: only it opens them; a wrong one or a session cookie gets the same 404.
        let server =
            TestServer::start_with(&backend, Options::default().env("HAVEN_METRICS_TOKEN", METRICS_TOKEN)).await;
        server.seed_demo().await;
        let http = server.client();
        assert_no_metrics(http.get(server.url("/metrics")).send().await.unwrap(), "no token").await;
        let wrong = http.get(server.url("/metrics")).bearer_auth(format!("{METRICS_TOKEN}x")).send().await.unwrap();
        assert_no_metrics(wrong, "a wrong token").await;
        let admin = server.client_as("admin@example.org").await;
        assert_no_metrics(admin.get(server.url("/metrics")).send().await.unwrap(), "a session cookie").await;
        let right = http.get(server.url("/metrics")).bearer_auth(METRICS_TOKEN).send().await.unwrap();
        assert_eq!(right.status(), 200);
        assert!(right.text().await.unwrap().contains("haven_http_requests_total"));

        // Their own address: served there, and not on the main address.
        let options = Options::default().env("HAVEN_METRICS_ADDR", "127.0.0.1:0");
        let server = TestServer::start_with(&backend, options).await;
        let main = server.client().get(server.url("/metrics")).send().await.unwrap();
        assert_no_metrics(main, "the main address, with a metrics address set").await;
        let own = server.metrics_addr.expect("a metrics listener");
        assert_ne!(own, server.addr);
        let res = reqwest::get(format!("http://{own}/metrics")).await.unwrap();
        assert_eq!(res.status(), 200);
        let text = res.text().await.unwrap();
        assert!(text.contains(r#"haven_http_requests_total{method="GET",route="/metrics",status="404"} 1"#), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn invented_http_methods_are_counted_as_other() {
    for backend in backends() {
        let server =
            TestServer::start_with(&backend, Options::default().env("HAVEN_METRICS_TOKEN", METRICS_TOKEN)).await;
        let http = server.client();
        for i in 0..25 {
            let method = reqwest::Method::from_bytes(format!("INVENTED{i}").as_bytes()).unwrap();
            let res = http.request(method, server.url("/healthz")).send().await.unwrap();
            assert_eq!(res.status(), 405);
        }
        http.request(reqwest::Method::PATCH, server.url("/healthz")).send().await.unwrap();

        let text =
            http.get(server.url("/metrics")).bearer_auth(METRICS_TOKEN).send().await.unwrap().text().await.unwrap();

        assert!(
            text.contains(r#"haven_http_requests_total{method="other",route="/healthz",status="405"} 25"#),
            "{text}"
        );
        assert!(
            text.contains(r#"haven_http_requests_total{method="PATCH",route="/healthz",status="405"} 1"#),
            "{text}"
        );
        assert!(!text.contains("INVENTED"), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_page_carries_a_nonce_csp_without_unsafe_eval_and_protective_headers() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;

        let res = server
            .client()
            .get(server.url("/events/havenconf"))
            .header("x-request-id", "ada.lovelace@example.org")
            .send()
            .await
            .unwrap();

        let h = res.headers().clone();
        let csp = h["content-security-policy"].to_str().unwrap().to_owned();
        assert!(!csp.contains("'unsafe-eval'") && !csp.contains("'unsafe-inline'"), "{csp}");
        assert!(csp.contains("'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "same-origin");
        assert_eq!(h["x-frame-options"], "DENY");
        let request_id = h["x-request-id"].to_str().unwrap();
        assert_eq!(request_id.len(), 32, "a fresh id replaces the client's: {request_id}");

        let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap().to_owned();
        let html = res.text().await.unwrap();
        assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries the CSP nonce");

        let other = server.client().get(server.url("/healthz")).send().await.unwrap();
        let other_csp = other.headers()["content-security-policy"].to_str().unwrap();
        assert!(!other_csp.contains(&nonce), "each response gets its own nonce");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn behind_https_every_answer_tells_browsers_to_keep_to_https() {
    for backend in backends() {
        let options = Options::default().env("HAVEN_PUBLIC_URL", "https://haven.example.org");
        let server = TestServer::start_with(&backend, options).await;
        server.seed_demo().await;
        for path in ["/", "/events/havenconf", "/healthz", "/no/such/page", "/auth/oidc/none/start"] {
            let res = server.client().get(server.url(path)).send().await.unwrap();
            let hsts = res.headers().get("strict-transport-security").map(|v| v.to_str().unwrap().to_owned());
            assert_eq!(hsts.as_deref(), Some("max-age=31536000"), "{path}");
        }
        let posted = server.client().post(server.url("/fn/event")).form(&[("slug", "havenconf")]).send().await.unwrap();
        assert_eq!(posted.headers()["strict-transport-security"], "max-age=31536000");

        // Plain http (no TLS in front): nothing to promise.
        let plain = TestServer::start(&backend).await;
        let res = plain.client().get(plain.url("/healthz")).send().await.unwrap();
        assert!(res.headers().get("strict-transport-security").is_none());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_home_page_lists_the_demo_event_rendered_on_the_server() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;

        let res = server.client().get(server.url("/")).send().await.unwrap();

        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        assert!(html.contains("HavenConf"), "{backend}: {html}");
        assert!(html.contains(r#"href="/events/havenconf""#));
        assert!(html.contains("Congress Center, Hall A"));
    }
}

/// Starting a server lists the app's pages, and leptos parks every resource first polled
/// during a listing, process-wide: a page being rendered by another server in the same
/// process at that moment never finished (the matrix test hung on one now and then).
#[tokio::test(flavor = "multi_thread")]
async fn pages_keep_rendering_while_another_server_starts_in_the_same_process() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut readers = Vec::new();
        for _ in 0..4 {
            let (url, stop) = (server.url("/"), stop.clone());
            let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build().unwrap();
            readers.push(tokio::spawn(async move {
                let mut pages = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let res = http.get(&url).send().await.unwrap_or_else(|e| panic!("after {pages} pages: {e:?}"));
                    assert_eq!(res.status(), 200);
                    let html = res.text().await.unwrap_or_else(|e| panic!("after {pages} pages: {e:?}"));
                    assert!(html.contains("Congress Center, Hall A"), "{html}");
                    pages += 1;
                }
                pages
            }));
        }
        for _ in 0..12 {
            drop(TestServer::start(&backend).await);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for reader in readers {
            assert!(reader.await.unwrap() > 0, "each reader got pages while the other servers started");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_event_page_shows_dates_in_the_event_time_zone() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;

        let html = server.client().get(server.url("/events/havenconf")).send().await.unwrap().text().await.unwrap();

        assert!(html.contains("<h1>HavenConf"), "{html}");
        assert!(html.contains("09:00 –"), "starts at nine local time: {html}");
        assert!(html.contains("Europe/Berlin"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_and_malformed_event_slugs_are_simply_not_found() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let http = server.client();

        for path in ["/events/nope", "/events/NOT%20A%20SLUG", "/no/such/page"] {
            let res = http.get(server.url(path)).send().await.unwrap();
            assert_eq!(res.status(), 404, "{path}");
            assert!(res.text().await.unwrap().contains("Not found"), "{path}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_function_answers_not_found_as_404_with_a_json_error() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;

        let res = server.client().post(server.url("/fn/event")).form(&[("slug", "nope")]).send().await.unwrap();

        assert_eq!(res.status(), 404);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body, serde_json::json!({"error": "not_found"}));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_function_called_with_malformed_arguments_answers_400_not_500() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;

        let missing = server.client().post(server.url("/fn/event")).form(&[("nope", "x")]).send().await.unwrap();
        let wrong_type = server
            .client()
            .post(server.url("/fn/registrations"))
            .form(&[("slug", "x"), ("page", "many")])
            .send()
            .await
            .unwrap();

        for res in [missing, wrong_type] {
            assert_eq!(res.status(), 400);
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["error"], "transport", "{body}");
        }
    }
}

/// The wasm, its JavaScript and the stylesheet are named after their content and kept by
/// browsers for a year; pages are never kept; the plain error page links the same
/// stylesheet; the old plain names are gone.
#[tokio::test(flavor = "multi_thread")]
async fn assets_are_named_after_their_content_and_cached_for_a_year_while_pages_are_not() {
    let server = TestServer::start(&backends()[0]).await;
    let http = server.client();
    let page = http.get(server.url("/")).send().await.unwrap();
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    let hashed: Vec<String> = ["js", "wasm", "css"]
        .iter()
        .map(|ext| {
            let at = html.find(&format!(".{ext}\"")).unwrap_or_else(|| panic!("the page names a .{ext}: {html}"));
            let start = html[..at].rfind("/pkg/haven.").expect("under /pkg");
            html[start..at + ext.len() + 1].to_owned()
        })
        .collect();
    for path in &hashed {
        let hash = path.trim_start_matches("/pkg/haven.").split('.').next().unwrap();
        assert!(hash.len() >= 16, "{path} carries a hash");
        let res = http.get(server.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["cache-control"], "public, max-age=31536000, immutable", "{path}");
        assert!(!res.bytes().await.unwrap().is_empty(), "{path}");
    }
    for plain in ["/pkg/haven.js", "/pkg/haven.wasm", "/pkg/haven.css"] {
        assert_eq!(http.get(server.url(plain)).send().await.unwrap().status(), 404, "{plain}");
    }
    let list = http.get(server.url("/pkg/hash.txt")).send().await.unwrap();
    assert_eq!(list.headers()["cache-control"], "no-cache");
    // A form posted without a session gets Haven's plain error page.
    let error = http.post(server.url("/events/havenconf/concern")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(error.status(), 401);
    let text = error.text().await.unwrap();
    assert!(text.contains(&format!("<link rel=\"stylesheet\" href=\"{}\">", hashed[2])), "{text}");
}

/// The door page's service worker is told which files make up the running release, so it
/// keeps exactly those, and a new release (new names) is a new worker that replaces them.
#[tokio::test(flavor = "multi_thread")]
async fn the_door_worker_names_the_running_release_and_is_replaced_by_a_new_one() {
    let worker = |server: &TestServer| {
        let get = server.client().get(server.url("/door-sw.js")).send();
        async move {
            let res = get.await.unwrap();
            assert_eq!(res.status(), 200);
            assert_eq!(res.headers()["content-type"], "text/javascript; charset=utf-8");
            assert_eq!(res.headers()["cache-control"], "no-cache", "browsers check for a new release");
            let text = res.text().await.unwrap();
            let line = |name: &str| {
                let start = text.find(&format!("const {name} = ")).expect(name) + name.len() + 9;
                serde_json::from_str::<serde_json::Value>(&text[start..start + text[start..].find(";\n").unwrap()])
                    .unwrap()
            };
            assert!(text.contains("addEventListener('fetch'"), "{text}");
            (line("RELEASE"), line("ASSETS"))
        }
    };
    let server = TestServer::start(&backends()[0]).await;
    let html = server.client().get(server.url("/door/havenconf")).send().await.unwrap().text().await.unwrap();
    let (release, assets) = worker(&server).await;
    let assets: Vec<String> = serde_json::from_value(assets).unwrap();
    assert_eq!(assets.len(), 3, "{assets:?}");
    for path in &assets {
        assert!(html.contains(path.as_str()), "the page names {path}");
        assert_eq!(server.client().get(server.url(path)).send().await.unwrap().status(), 200, "{path}");
    }

    let site = std::env::temp_dir().join(format!("haven-site-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    let hashes = "js: j1j1j1j1j1j1j1j1j1j1j1\nwasm: w2w2w2w2w2w2w2w2w2w2w2\ncss: c3c3c3c3c3c3c3c3c3c3c3\n";
    std::fs::write(site.join("pkg/hash.txt"), hashes).unwrap();
    let options = Options { env: vec![("HAVEN_SITE_ROOT".into(), site.display().to_string())], ..Default::default() };
    let next = TestServer::start_with(&backends()[0], options).await;
    let (next_release, next_assets) = worker(&next).await;
    assert_ne!(next_release, release, "a new release is a new worker");
    let expected = [
        "/pkg/haven.j1j1j1j1j1j1j1j1j1j1j1.js",
        "/pkg/haven.w2w2w2w2w2w2w2w2w2w2w2.wasm",
        "/pkg/haven.c3c3c3c3c3c3c3c3c3c3c3.css",
    ];
    assert_eq!(next_assets, serde_json::json!(expected));
    std::fs::remove_dir_all(&site).unwrap();
}

/// A release build writes a brotli and a gzip copy of each asset (`--precompress`): the
/// browser gets the one it accepts, marked as such, and the file itself otherwise.
#[tokio::test(flavor = "multi_thread")]
async fn assets_are_sent_precompressed_as_the_browser_accepts() {
    let site = std::env::temp_dir().join(format!("haven-site-{}", uuid::Uuid::new_v4().simple()));
    let pkg = site.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        pkg.join("hash.txt"),
        "js: j1j1j1j1j1j1j1j1j1j1j1\nwasm: w2w2w2w2w2w2w2w2w2w2w2\ncss: c3c3c3c3c3c3c3c3c3c3c3\n",
    )
    .unwrap();
    let name = "haven.w2w2w2w2w2w2w2w2w2w2w2.wasm";
    for (suffix, bytes) in [("", &b"\0asm plain"[..]), (".br", b"brotli bytes"), (".gz", b"gzip bytes")] {
        std::fs::write(pkg.join(format!("{name}{suffix}")), bytes).unwrap();
    }
    let options = Options { env: vec![("HAVEN_SITE_ROOT".into(), site.display().to_string())], ..Default::default() };
    let server = TestServer::start_with(&backends()[0], options).await;
    let http = server.client();
    for (accepted, encoding, body) in [
        ("gzip, deflate, br, zstd", Some("br"), "brotli bytes"),
        ("gzip", Some("gzip"), "gzip bytes"),
        ("identity", None, "\0asm plain"),
    ] {
        let res =
            http.get(server.url(&format!("/pkg/{name}"))).header("accept-encoding", accepted).send().await.unwrap();
        assert_eq!(res.status(), 200, "{accepted}");
        assert_eq!(res.headers().get("content-encoding").map(|v| v.to_str().unwrap()), encoding, "{accepted}");
        assert_eq!(res.headers()["content-type"], "application/wasm", "{accepted}");
        assert_eq!(res.headers()["cache-control"], "public, max-age=31536000, immutable", "{accepted}");
        assert_eq!(res.text().await.unwrap(), body, "{accepted}");
    }
    std::fs::remove_dir_all(&site).unwrap();
}

/// Every server function that names a record by id: an administrator (who may act on
/// every record of the demo) is told "not found" for an id that cannot be one, someone
/// signed out is asked to sign in first, and nothing is written either way.
#[tokio::test(flavor = "multi_thread")]
async fn ids_that_cannot_be_ids_are_not_found_and_a_signed_out_caller_is_asked_to_sign_in_first() {
    use haven_server::db::entities::{audit_log, case};
    use sea_orm::{EntityTrait, PaginatorTrait};
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reference = case::Entity::find().one(&server.db).await.unwrap().expect("the demo has cases").reference;
        let admin = server.client_as("admin@example.org").await;
        let calls: [(&str, Vec<(&str, &str)>); 10] = [
            ("record_decision", vec![("proposal", "not-a-uuid"), ("input[kind]", "warning"), ("input[reasons]", "x")]),
            ("decline_proposal", vec![("proposal", "1234")]),
            ("correct_decision", vec![("decision", "'; drop table decisions; --"), ("input[kind]", "warning")]),
            ("appeal_decision", vec![("decision", ""), ("text", "I appeal.")]),
            ("decide_appeal", vec![("appeal", "x"), ("outcome", "upheld"), ("input[kind]", "warning")]),
            ("resolve_flag", vec![("flag", "00000000-0000-0000-0000-00000000000g"), ("action", "confirm")]),
            ("remove_precaution", vec![("reference", &reference), ("precaution", "precaution-1")]),
            ("acknowledge_assignment", vec![("assignment", "{}")]),
            ("replace_badge", vec![("slug", "havenconf"), ("registration", "ken")]),
            ("revoke_role", vec![("slug", "havenconf"), ("role_id", "organizer")]),
        ];
        let written = audit_log::Entity::find().count(&server.db).await.unwrap();
        for (name, form) in &calls {
            let (status, body) = call_fn(&admin, &server, name, form).await;
            assert_eq!((status, &body), (404, &serde_json::json!({"error": "not_found"})), "{name}");
            let (status, body) = call_fn(&server.client(), &server, name, form).await;
            assert_eq!(status, 401, "{name}: {body}");
            assert_eq!(body["error"], "unauthenticated", "{name}");
        }
        let (status, _) = call_fn(&admin, &server, "revoke_device", &[("slug", "havenconf"), ("device", "x")]).await;
        assert_eq!(status, 404, "revoke_device");
        assert_eq!(audit_log::Entity::find().count(&server.db).await.unwrap(), written, "nothing was written");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_is_ready_only_once_the_doors_of_todays_events_are_loaded() {
    use haven_server::clock::{Clock, ManualClock};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    for backend in backends() {
        let first = TestServer::start(&backend).await;
        first.seed_demo().await;
        let e = haven_server::db::entities::event::Entity::find()
            .filter(haven_server::db::entities::event::Column::Slug.eq("havenconf"))
            .one(&first.db)
            .await
            .unwrap()
            .unwrap();
        // A (re)started instance on the morning of the event.
        let clock = ManualClock::new(e.starts_at - chrono::Duration::hours(2));
        let second = TestServer::start_with(&backend, Options::default().share(&first).clock(clock.clone())).await;
        let ready = second.client().get(second.url("/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 200, "{backend}");
        assert!(second.services.door_is_loaded(e.id), "{backend}: ready means the door is loaded");
        // An instance started weeks before the event has nothing to load yet.
        let early = ManualClock::new(clock.now() - chrono::Duration::days(20));
        let third = TestServer::start_with(&backend, Options::default().share(&first).clock(early)).await;
        assert_eq!(third.client().get(third.url("/readyz")).send().await.unwrap().status(), 200);
        assert!(!third.services.door_is_loaded(e.id), "{backend}");
    }
}
