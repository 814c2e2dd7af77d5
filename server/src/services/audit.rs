//! The audit log: append-only, hash-chained. Every change to people, registrations, roles
//! (and later cases, plans, decisions, badges) appends a record in the same transaction as
//! the change. A record holds ids, never personal data in clear. `verify` recomputes the
//! chain; `haven audit verify` runs it.

use crate::crypto::hex;
use crate::db::entities::{audit_head, audit_log};
use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One thing that happened.
#[derive(Debug, Clone)]
pub struct Entry {
    pub actor: Option<Uuid>,
    pub action: &'static str,
    pub subject_type: &'static str,
    pub subject_id: Option<Uuid>,
    /// Ids and codes only (never names, addresses or text).
    pub detail: Value,
}

impl Entry {
    pub fn new(actor: Option<Uuid>, action: &'static str, subject_type: &'static str, subject_id: Uuid) -> Entry {
        Entry { actor, action, subject_type, subject_id: Some(subject_id), detail: Value::Object(Default::default()) }
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Entry {
        if let Value::Object(map) = &mut self.detail {
            map.insert(key.to_owned(), value.into());
        }
        self
    }
}

fn format_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn record_hash(prev: &str, seq: i64, at: &str, e: &audit_log::Model) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        &seq.to_string(),
        at,
        &e.actor_id.map(|u| u.to_string()).unwrap_or_default(),
        &e.action,
        &e.subject_type,
        &e.subject_id.map(|u| u.to_string()).unwrap_or_default(),
        &e.detail,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex(&h.finalize())
}

/// Appends entries (in order) to the chain inside `tx`.
pub async fn append(tx: &sea_orm::DatabaseTransaction, at: DateTime<Utc>, entries: Vec<Entry>) -> Result<(), DbErr> {
    if entries.is_empty() {
        return Ok(());
    }
    let at = at.trunc_subsecs(6);
    let backend = tx.get_database_backend();
    // Lock the head: on PostgreSQL with FOR UPDATE; SQLite's writer lock already serializes.
    let sql = match backend {
        DbBackend::Postgres => "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
        _ => "SELECT seq, hash FROM audit_head WHERE id = 1",
    };
    let row = tx
        .query_one_raw(Statement::from_string(backend, sql))
        .await?
        .ok_or_else(|| DbErr::Custom("the audit head row is missing".into()))?;
    let mut seq: i64 = row.try_get("", "seq")?;
    let mut prev: String = row.try_get("", "hash")?;
    let at_text = format_time(at);

    let mut rows = Vec::with_capacity(entries.len());
    for e in entries {
        seq += 1;
        let mut model = audit_log::Model {
            seq,
            at,
            actor_id: e.actor,
            action: e.action.to_owned(),
            subject_type: e.subject_type.to_owned(),
            subject_id: e.subject_id,
            detail: e.detail.to_string(),
            prev_hash: prev.clone(),
            hash: String::new(),
        };
        model.hash = record_hash(&prev, seq, &at_text, &model);
        prev = model.hash.clone();
        rows.push(audit_log::ActiveModel::from(model));
    }
    for chunk in rows.chunks(500) {
        audit_log::Entity::insert_many(chunk.to_vec()).exec(tx).await?;
    }
    audit_head::Entity::update(audit_head::ActiveModel { id: Set(1), seq: Set(seq), hash: Set(prev) }).exec(tx).await?;
    Ok(())
}

/// The outcome of checking the chain.
#[derive(Debug, PartialEq, Eq)]
pub enum Verification {
    Intact { records: u64 },
    Broken { seq: i64, problem: String },
}

/// A record of the chain as the operators keep it outside the database: `SEQ:HASH`. The
/// hashes are unkeyed and the head lives in the same database, so someone who can write
/// there can cut the chain back or rewrite it and leave it consistent; a checkpoint taken
/// earlier and kept elsewhere is what shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
}

impl std::fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl std::str::FromStr for Checkpoint {
    type Err = String;

    fn from_str(text: &str) -> Result<Checkpoint, String> {
        let problem = || format!("{text:?} is not a checkpoint: expected SEQ:HASH (a record number, 64 hex digits)");
        let (seq, hash) = text.trim().split_once(':').ok_or_else(problem)?;
        let seq: i64 = seq.parse().ok().filter(|n| *n >= 0).ok_or_else(problem)?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(problem());
        }
        Ok(Checkpoint { seq, hash: hash.to_ascii_lowercase() })
    }
}

/// Recomputes every record's hash and link, in order, and checks the head.
pub async fn verify(db: &DatabaseConnection) -> Result<Verification, DbErr> {
    Ok(verify_against(db, &[]).await?.0)
}

/// [`verify`], and also that the chain still holds each of `expected` (its record is
/// there, with that hash). Returns the chain's head too. Reads one snapshot, so appends
/// made meanwhile by a running server do not disturb it.
pub async fn verify_against(
    db: &DatabaseConnection,
    expected: &[Checkpoint],
) -> Result<(Verification, Checkpoint), DbErr> {
    use sea_orm::{AccessMode, IsolationLevel, TransactionTrait};
    // SQLite: a transaction reads one snapshot from its first read on.
    let tx = match db.get_database_backend() {
        DbBackend::Postgres => {
            db.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?
        }
        _ => db.begin().await?,
    };
    let outcome = walk(&tx, expected).await;
    tx.rollback().await?;
    outcome
}

async fn walk(db: &sea_orm::DatabaseTransaction, expected: &[Checkpoint]) -> Result<(Verification, Checkpoint), DbErr> {
    let mut prev = GENESIS.to_owned();
    let mut expected_seq = 0i64;
    let mut records = 0u64;
    let head = audit_head::Entity::find_by_id(1).one(db).await?;
    let broken = |seq, problem: String, prev: &str, at: i64| {
        Ok((Verification::Broken { seq, problem }, Checkpoint { seq: at, hash: prev.to_owned() }))
    };
    // The genesis is record 0 of every chain.
    if let Some(c) = expected.iter().find(|c| c.seq == 0 && c.hash != GENESIS) {
        return broken(0, format!("it does not hold the checkpoint {c}: record 0 is always {GENESIS}"), &prev, 0);
    }
    loop {
        let batch = audit_log::Entity::find()
            .filter(audit_log::Column::Seq.gt(expected_seq))
            .order_by_asc(audit_log::Column::Seq)
            .limit(1000)
            .all(db)
            .await?;
        if batch.is_empty() {
            break;
        }
        for r in batch {
            expected_seq += 1;
            if r.seq != expected_seq {
                return broken(r.seq, format!("record {expected_seq} is missing"), &prev, expected_seq - 1);
            }
            if r.prev_hash != prev {
                return broken(r.seq, "does not link to the record before".into(), &prev, r.seq - 1);
            }
            let hash = record_hash(&prev, r.seq, &format_time(r.at), &r);
            if hash != r.hash {
                return broken(r.seq, "its content does not match its hash".into(), &prev, r.seq - 1);
            }
            if let Some(c) = expected.iter().find(|c| c.seq == r.seq && c.hash != r.hash) {
                return broken(
                    r.seq,
                    format!("it does not hold the checkpoint {c}: the record there now has another hash (rewritten)"),
                    &prev,
                    r.seq - 1,
                );
            }
            prev = r.hash;
            records += 1;
        }
    }
    let last = Checkpoint { seq: expected_seq, hash: prev.clone() };
    match head {
        Some(h) if h.seq == expected_seq && h.hash == prev => {}
        Some(h) => {
            return broken(
                h.seq,
                "the chain's head does not match its last record (records removed?)".into(),
                &prev,
                expected_seq,
            );
        }
        None => return broken(0, "the chain's head is missing".into(), &prev, expected_seq),
    }
    if let Some(c) = expected.iter().find(|c| c.seq > expected_seq) {
        return Ok((
            Verification::Broken {
                seq: c.seq,
                problem: format!(
                    "it does not hold the checkpoint {c}: the log now ends at record {expected_seq} (records removed)"
                ),
            },
            last,
        ));
    }
    Ok((Verification::Intact { records }, last))
}

/// The chain's head as the database holds it now.
pub async fn head(db: &impl ConnectionTrait) -> Result<Checkpoint, DbErr> {
    let h = audit_head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::Custom("the audit head row is missing".into()))?;
    Ok(Checkpoint { seq: h.seq, hash: h.hash })
}

impl crate::services::Services {
    /// Mails the chain's head to `HAVEN_AUDIT_CHECKPOINT_TO`, once for `day` across every
    /// instance (the first to claim the day's row sends it). Returns whether this call did.
    pub async fn mail_audit_checkpoint(&self, day: chrono::NaiveDate) -> Result<bool, DbErr> {
        use crate::db::entities::audit_checkpoint;
        use sea_orm::TryInsertResult;
        let Some(to) = self.settings.audit_checkpoint_to.clone() else {
            return Ok(false);
        };
        let tx = self.begin().await?;
        let now = tx.now;
        let head = head(&*tx).await?;
        let day_text = day.format("%Y-%m-%d").to_string();
        let claimed = audit_checkpoint::Entity::insert(audit_checkpoint::ActiveModel {
            day: Set(day_text.clone()),
            seq: Set(head.seq),
            hash: Set(head.hash.clone()),
            taken_at: Set(now),
        })
        .on_conflict_do_nothing_on([audit_checkpoint::Column::Day])
        .exec_without_returning(&*tx)
        .await?;
        if !matches!(claimed, TryInsertResult::Inserted(1)) {
            return Ok(false);
        }
        let mail = crate::mail::templates::audit_checkpoint(&to, &self.public_url, &day_text, &head.to_string());
        tx.mail(mail).await?;
        tx.commit().await?;
        tracing::info!(day = %day_text, seq = head.seq, "audit checkpoint mailed to the operators");
        Ok(true)
    }
}
