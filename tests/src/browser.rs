//! Running a browser test: a Node script drives Debian's headless Chromium through
//! playwright-core (see `tests/browser/`). The script asserts and exits non-zero on failure;
//! this helper runs it against a server and reports its output.

use crate::server::workspace_root;
use std::time::Duration;

/// Runs `tests/browser/<script>` against `base_url` with extra environment variables.
/// Panics with the script's output when it fails.
pub async fn run_script(script: &str, base_url: &str, env: &[(&str, String)]) -> String {
    finish(script, spawn_script(script, base_url, env)).await
}

/// Starts a browser script without waiting for it (the test does its part meanwhile,
/// e.g. fetching a link from an e-mail), then [`finish`] collects it.
pub fn spawn_script(script: &str, base_url: &str, env: &[(&str, String)]) -> tokio::process::Child {
    let dir = workspace_root().join("tests").join("browser");
    assert!(
        dir.join("node_modules").join("playwright-core").exists(),
        "playwright-core is not installed: run the test command (it runs npm ci in tests/browser)"
    );
    let out_dir = workspace_root().join("test-output");
    std::fs::create_dir_all(&out_dir).expect("test-output is writable");
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(dir.join(script))
        .current_dir(&dir)
        .env("BASE_URL", base_url)
        .env("TEST_OUTPUT_DIR", &out_dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("node runs")
}

/// Waits for a spawned script; panics with its output when it fails.
pub async fn finish(script: &str, child: tokio::process::Child) -> String {
    let output = tokio::time::timeout(Duration::from_secs(180), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("browser test {script} did not finish within 180 s"))
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "browser test {script} failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    stdout
}

/// Parses iCalendar text with an independent parser (ical.js, in Node) and returns its
/// events as JSON; panics if it does not parse.
pub async fn parse_ics(text: &str) -> serde_json::Value {
    use tokio::io::AsyncWriteExt as _;
    let dir = workspace_root().join("tests").join("browser");
    let mut child = tokio::process::Command::new("node")
        .arg(dir.join("parse-ics.mjs"))
        .current_dir(&dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node runs");
    child.stdin.take().expect("stdin").write_all(text.as_bytes()).await.expect("write");
    let out = child.wait_with_output().await.expect("node finishes");
    assert!(out.status.success(), "ical.js refused it: {}\n{text}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON")
}
