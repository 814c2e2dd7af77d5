//! The test harness: the real `haven` server in-process on a free port with a fresh
//! database (SQLite always, PostgreSQL too when `HAVEN_TEST_POSTGRES_URL` is set), a real
//! SMTP receiver, a real OIDC provider and a real headless Chromium.

pub mod browser;
pub mod mail;
pub mod oidc;
pub mod server;

pub use mail::MailSink;
pub use oidc::OidcProvider;
pub use server::Options;

pub use server::{Backend, TestServer, backends, call_fn, drop_append_only_guards, haven_bin, workspace_root};
