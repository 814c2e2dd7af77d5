//! A real OIDC provider for tests: `tests/browser/oidc-provider.mjs` (oauth2-mock-server)
//! in a Node process on a free port. Tests choose who signs in next with [`OidcProvider::sign_in_as`].

use crate::server::workspace_root;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

pub struct OidcProvider {
    pub issuer: String,
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl OidcProvider {
    pub async fn start() -> OidcProvider {
        let dir = workspace_root().join("tests").join("browser");
        let mut child = tokio::process::Command::new("node")
            .arg(dir.join("oidc-provider.mjs"))
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts the OIDC provider (run the test command to install it)");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = tokio::time::timeout(std::time::Duration::from_secs(20), stdout.next_line())
            .await
            .expect("the OIDC provider starts within 20 s")
            .expect("reads")
            .expect("a line");
        let issuer = first.strip_prefix("issuer ").expect("the provider prints its issuer").trim().to_owned();
        OidcProvider { issuer, child, stdin, stdout }
    }

    /// The HAVEN_OIDC_<ID>_* settings for a server that trusts this provider.
    pub fn settings(&self, id: &str, name: &str) -> Vec<(String, String)> {
        let prefix = format!("HAVEN_OIDC_{}", id.to_uppercase());
        vec![
            (format!("{prefix}_ISSUER"), self.issuer.clone()),
            (format!("{prefix}_CLIENT_ID"), "haven-test".to_owned()),
            (format!("{prefix}_CLIENT_SECRET"), "haven-test-secret".to_owned()),
            (format!("{prefix}_NAME"), name.to_owned()),
        ]
    }

    /// The claims the next sign-ins receive.
    pub async fn sign_in_as(&mut self, claims: serde_json::Value) {
        self.stdin.write_all(format!("{claims}\n").as_bytes()).await.expect("write claims");
        self.stdin.flush().await.expect("flush");
        let answer = self.stdout.next_line().await.expect("read").expect("a line");
        assert_eq!(answer, "ok");
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
