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

/// Writes a Y4M video (what Chromium's fake camera plays) showing a QR code of `text`,
/// black on white in the middle of a 640×480 frame.
pub fn qr_video(text: &str, path: &std::path::Path) {
    let (width, modules) = haven_server::services::door::qr_modules(text).expect("a QR code");
    let (w, h) = (640usize, 480usize);
    let quiet = 4;
    let scale = 440 / (width + 2 * quiet);
    let side = (width + 2 * quiet) * scale;
    let (x0, y0) = ((w - side) / 2, (h - side) / 2);
    let mut luma = vec![235u8; w * h];
    for y in 0..side {
        for x in 0..side {
            let (mx, my) = (x / scale, y / scale);
            let dark = mx >= quiet
                && my >= quiet
                && mx < width + quiet
                && my < width + quiet
                && modules[(my - quiet) * width + (mx - quiet)];
            luma[(y0 + y) * w + x0 + x] = if dark { 16 } else { 235 };
        }
    }
    let chroma = vec![128u8; (w / 2) * (h / 2)];
    let mut out = format!("YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n").into_bytes();
    for _ in 0..10 {
        out.extend_from_slice(b"FRAME\n");
        out.extend_from_slice(&luma);
        out.extend_from_slice(&chroma);
        out.extend_from_slice(&chroma);
    }
    std::fs::write(path, out).expect("write the video");
}
