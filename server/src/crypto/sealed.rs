//! Every column whose values are sealed, named once. A value is bound to its place
//! (`table.column:id`), so one copied to another row or column does not open. Key rotation
//! walks [`ALL`], and a test compares [`ALL`] with the schema, so a new sealed column
//! cannot be missed by either.

use super::fields::{KeyStore, SealError, place};
use std::fmt::Display;

/// A sealed column: the table and the column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub table: &'static str,
    pub column: &'static str,
}

const fn column(table: &'static str, column: &'static str) -> Column {
    Column { table, column }
}

pub const CASE_SUBJECT: Column = column("cases", "subject_enc");
pub const CASE_NARRATIVE: Column = column("cases", "narrative_enc");
pub const CASE_WISHES: Column = column("cases", "wishes_enc");
pub const CASE_CONTACT: Column = column("cases", "contact_enc");
pub const CASE_WITNESS_DETAILS: Column = column("cases", "witness_details_enc");
pub const CASE_RETENTION_REASON: Column = column("cases", "retention_reason_enc");
pub const REVEAL_REASON: Column = column("reporter_reveals", "reason_enc");
pub const NOTE_BODY: Column = column("case_notes", "body_enc");
pub const MESSAGE_BODY: Column = column("case_messages", "body_enc");
pub const WITNESS_DETAILS: Column = column("case_witnesses", "details_enc");
pub const ATTACHMENT_NAME: Column = column("case_attachments", "name_enc");
pub const ATTACHMENT_DATA: Column = column("case_attachments", "data_enc");
pub const DRAFT_DATA: Column = column("concern_drafts", "data_enc");
pub const PRECAUTION_DETAILS: Column = column("precautions", "details_enc");
pub const PLAN_RESPONSE_COMMENT: Column = column("plan_responses", "comment_enc");
pub const NOTIFICATION_TITLE: Column = column("notifications", "title_enc");
pub const NOTIFICATION_BODY: Column = column("notifications", "body_enc");
/// Keyed by the key's small number (printed on badges), not a UUID.
pub const BADGE_KEY_PRIVATE: Column = column("badge_keys", "private_enc");
pub const SCAN_INSTRUCTION: Column = column("scans", "instruction_enc");
pub const DECISION_DETAILS: Column = column("decisions", "details_enc");
pub const DECISION_REASONS: Column = column("decisions", "reasons_enc");
pub const PROPOSAL_TERMS: Column = column("decision_proposals", "terms_enc");
pub const APPEAL_TEXT: Column = column("appeals", "text_enc");
pub const COVERAGE_APPEAL_TEXT: Column = column("coverage_appeals", "text_enc");
pub const COVERAGE_APPEAL_REASONS: Column = column("coverage_appeals", "reasons_enc");
pub const OUTBOX_BODY: Column = column("outbox", "body_enc");
pub const OUTBOX_HTML: Column = column("outbox", "html_enc");
pub const OUTBOX_ATTACHMENTS: Column = column("outbox", "attachments_enc");
pub const SECOND_FACTOR_SECRET: Column = column("second_factors", "secret_enc");
pub const SECOND_FACTOR_PENDING: Column = column("second_factors", "pending_enc");
/// A data key, sealed by the wrapping key (`crypto::data_keys`).
pub const DATA_KEY: Column = column("data_keys", "key_enc");

/// Every sealed column.
pub const ALL: &[Column] = &[
    CASE_SUBJECT,
    CASE_NARRATIVE,
    CASE_WISHES,
    CASE_CONTACT,
    CASE_WITNESS_DETAILS,
    CASE_RETENTION_REASON,
    REVEAL_REASON,
    NOTE_BODY,
    MESSAGE_BODY,
    WITNESS_DETAILS,
    ATTACHMENT_NAME,
    ATTACHMENT_DATA,
    DRAFT_DATA,
    PRECAUTION_DETAILS,
    PLAN_RESPONSE_COMMENT,
    NOTIFICATION_TITLE,
    NOTIFICATION_BODY,
    BADGE_KEY_PRIVATE,
    SCAN_INSTRUCTION,
    DECISION_DETAILS,
    DECISION_REASONS,
    PROPOSAL_TERMS,
    APPEAL_TEXT,
    COVERAGE_APPEAL_TEXT,
    COVERAGE_APPEAL_REASONS,
    OUTBOX_BODY,
    OUTBOX_HTML,
    OUTBOX_ATTACHMENTS,
    SECOND_FACTOR_SECRET,
    SECOND_FACTOR_PENDING,
    DATA_KEY,
];

impl Column {
    /// Where the value of row `id` lives: what binds it there.
    pub fn place(self, id: impl Display) -> String {
        place(self.table, self.column, id)
    }
}

impl KeyStore {
    /// Seals `text` as the value of row `id` in `column`.
    pub fn seal_in(&self, column: Column, id: impl Display, text: &str) -> String {
        self.seal_str(&column.place(id), text)
    }

    /// Seals bytes as the value of row `id` in `column`.
    pub fn seal_bytes_in(&self, column: Column, id: impl Display, bytes: &[u8]) -> String {
        self.seal(&column.place(id), bytes)
    }

    /// Opens the value of row `id` in `column`. A value that does not open is logged here
    /// (where it lives, never what it holds).
    pub fn open_in(&self, column: Column, id: impl Display, sealed: &str) -> Result<String, SealError> {
        self.open_str(&column.place(id), sealed).inspect_err(|e| unopened(column, e))
    }

    /// Opens bytes sealed as the value of row `id` in `column`.
    pub fn open_bytes_in(&self, column: Column, id: impl Display, sealed: &str) -> Result<Vec<u8>, SealError> {
        self.open(&column.place(id), sealed).inspect_err(|e| unopened(column, e))
    }
}

fn unopened(column: Column, error: &SealError) {
    tracing::error!(table = column.table, column = column.column, error = %error, "a sealed value did not open");
}

/// A value that does not open is a failure on the server's side (it was logged where it
/// happened): the person is told only that.
impl From<SealError> for haven_app::api::AppError {
    fn from(_: SealError) -> Self {
        haven_app::api::AppError::Internal
    }
}
