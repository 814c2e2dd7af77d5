//! Tests a person would do in a browser, in Debian's headless Chromium.

use haven_tests::{Backend, TestServer, browser};

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_event_page_hydrates_and_its_disclosure_opens_in_chromium() {
    let server = TestServer::start(&Backend::Sqlite).await;
    server.seed_demo().await;

    let out = browser::run_script("hydration.mjs", &server.base_url, &[]).await;

    assert!(out.contains("ok: the demo event page hydrates"), "{out}");
    assert!(
        haven_tests::workspace_root()
            .join("test-output/event-page-hydrated.png")
            .exists()
    );
}
