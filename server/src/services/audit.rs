//! The audit log: append-only, hash-chained. Every change to people, registrations, roles
//! (and later cases, plans, decisions, badges) appends a record in the same transaction as
//! the change. A record holds ids, never personal data in clear. `verify` recomputes the
//! chain; `haven audit verify` runs it.

use crate::crypto::hex;
use crate::db::WriteTx;
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
pub async fn append(tx: &WriteTx, at: DateTime<Utc>, entries: Vec<Entry>) -> Result<(), DbErr> {
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
        audit_log::Entity::insert_many(chunk.to_vec()).exec(&**tx).await?;
    }
    audit_head::Entity::update(audit_head::ActiveModel { id: Set(1), seq: Set(seq), hash: Set(prev) })
        .exec(&**tx)
        .await?;
    Ok(())
}

/// The outcome of checking the chain.
#[derive(Debug, PartialEq, Eq)]
pub enum Verification {
    Intact { records: u64 },
    Broken { seq: i64, problem: String },
}

/// Recomputes every record's hash and link, in order, and checks the head.
pub async fn verify(db: &DatabaseConnection) -> Result<Verification, DbErr> {
    let mut prev = GENESIS.to_owned();
    let mut expected_seq = 0i64;
    let mut records = 0u64;
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
                return Ok(Verification::Broken { seq: r.seq, problem: format!("record {expected_seq} is missing") });
            }
            if r.prev_hash != prev {
                return Ok(Verification::Broken { seq: r.seq, problem: "does not link to the record before".into() });
            }
            let hash = record_hash(&prev, r.seq, &format_time(r.at), &r);
            if hash != r.hash {
                return Ok(Verification::Broken { seq: r.seq, problem: "its content does not match its hash".into() });
            }
            prev = r.hash;
            records += 1;
        }
    }
    let head = audit_head::Entity::find_by_id(1).one(db).await?;
    match head {
        Some(h) if h.seq == expected_seq && h.hash == prev => Ok(Verification::Intact { records }),
        Some(h) => Ok(Verification::Broken {
            seq: h.seq,
            problem: "the chain's head does not match its last record (records removed?)".into(),
        }),
        None => Ok(Verification::Broken { seq: 0, problem: "the chain's head is missing".into() }),
    }
}
