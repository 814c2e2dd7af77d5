//! sea-orm entities, one per table, written to mirror `haven-migrations`. The migrations
//! are the schema's source of truth; the integration tests use every entity against both
//! SQLite and PostgreSQL, so a mismatch fails there.

pub mod audit_head;
pub mod audit_log;
pub mod event;
pub mod identity;
pub mod invitation;
pub mod login_link;
pub mod oidc_flow;
pub mod organization;
pub mod outbox;
pub mod person;
pub mod rate_limit_hit;
pub mod registration;
pub mod server_secret;
pub mod session;
pub mod signin_request;
pub mod staff_role;
