//! Running a browser test: a Node script drives Debian's headless Chromium through
//! playwright-core (see `tests/browser/`). The script asserts and exits non-zero on failure;
//! this helper runs it against a server and reports its output.

use crate::server::workspace_root;
use std::time::Duration;

/// Runs `tests/browser/<script>` against `base_url` with extra environment variables.
/// Panics with the script's output when it fails.
pub async fn run_script(script: &str, base_url: &str, env: &[(&str, String)]) -> String {
    let dir = workspace_root().join("tests").join("browser");
    assert!(
        dir.join("node_modules").join("playwright-core").exists(),
        "playwright-core is not installed: run the test command (it runs npm ci in tests/browser)"
    );
    let out_dir = workspace_root().join("test-output");
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(dir.join(script))
        .current_dir(&dir)
        .env("BASE_URL", base_url)
        .env("TEST_OUTPUT_DIR", &out_dir)
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = tokio::time::timeout(Duration::from_secs(180), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("browser test {script} did not finish within 180 s"))
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "browser test {script} failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    stdout
}
