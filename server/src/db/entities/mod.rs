//! sea-orm entities, one per table, written to mirror `haven-migrations`. The migrations
//! are the schema's source of truth; the integration tests use every entity against both
//! SQLite and PostgreSQL, so a mismatch fails there.

pub mod alert_recipient;
pub mod audit_head;
pub mod audit_log;
pub mod badge;
pub mod badge_key;
pub mod case;
pub mod case_attachment;
pub mod case_conflict;
pub mod case_match_notice;
pub mod case_message;
pub mod case_note;
pub mod case_person;
pub mod case_read;
pub mod case_status_change;
pub mod case_witness;
pub mod concern_draft;
pub mod door_change;
pub mod door_device;
pub mod escort_assignment;
pub mod escort_window;
pub mod event;
pub mod ics_feed;
pub mod identity;
pub mod invitation;
pub mod login_link;
pub mod notification;
pub mod oidc_flow;
pub mod organization;
pub mod outbox;
pub mod person;
pub mod plan_response;
pub mod precaution;
pub mod rate_limit_hit;
pub mod registration;
pub mod scan;
pub mod server_secret;
pub mod session;
pub mod signin_request;
pub mod staff_role;
