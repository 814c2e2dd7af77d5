//! Data keys: one per case, per decision chain and per concern draft. Everything that
//! carries a case's text is sealed with the case's key, a decision's reasons with its
//! chain's key; the data key itself is stored sealed by the wrapping key (the key file,
//! outside the database). Erasing is destroying the data key: the text stays in its rows
//! and can no longer be opened. The next erasure run re-wraps every surviving data key
//! under a new wrapping key, and once the old wrapping key is destroyed
//! (`HAVEN_OLD_WRAPPING_KEY_DAYS` later), a database backup taken before the erasure
//! cannot open the erased text either.
//!
//! Sealed text under a data key looks like `v2:<data key id>:<base64url of nonce and
//! ciphertext>`, bound to its place (`table.column:row id`) as `v1` values are.
//!
//! A running server keeps unwrapped keys for [`CACHE_FOR`]: an erasure on this instance
//! forgets the key at once, on another instance within that time.

use super::fields::{KeyStore, SealError};
use super::sealed::{self, Column};
use crate::db::entities::data_key;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use std::fmt::Display;
use std::sync::Arc;
use uuid::Uuid;

/// How long a running server keeps an unwrapped data key.
pub const CACHE_FOR: std::time::Duration = std::time::Duration::from_secs(60);

/// An unwrapped data key. Values sealed before data keys (`v1`, under the wrapping key
/// itself) still open through it until the migration has moved them.
#[derive(Clone)]
pub struct DataKey {
    id: Uuid,
    key: [u8; 32],
    wrapping: Arc<KeyStore>,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataKey({})", self.id)
    }
}

/// Why a data key is not there to use.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the data key was erased")]
    Erased,
    #[error("there is no such data key")]
    Missing,
    #[error("the wrapped data key does not open: {0}")]
    Unwrap(SealError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// A failure on the server's side, or (erased, missing) a thing that is no longer there.
impl From<KeyError> for haven_app::api::AppError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::Erased | KeyError::Missing => haven_app::api::AppError::NotFound,
            KeyError::Unwrap(_) | KeyError::Db(_) => {
                tracing::error!(error = %e, "a data key could not be used");
                haven_app::api::AppError::Internal
            }
        }
    }
}

impl From<KeyError> for DbErr {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::Db(e) => e,
            other => DbErr::Custom(other.to_string()),
        }
    }
}

impl DataKey {
    pub fn id(&self) -> Uuid {
        self.id
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.key).into())
    }

    /// Seals bytes as the value of row `row` in `column`.
    pub fn seal_bytes_in(&self, column: Column, row: impl Display, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let place = column.place(row);
        let ciphertext = self
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: place.as_bytes() })
            .expect("encryption of in-memory data does not fail");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        format!("v2:{}:{}", self.id.simple(), URL_SAFE_NO_PAD.encode(blob))
    }

    /// Seals text as the value of row `row` in `column`.
    pub fn seal_in(&self, column: Column, row: impl Display, text: &str) -> String {
        self.seal_bytes_in(column, row, text.as_bytes())
    }

    /// Opens the bytes of row `row` in `column`, sealed by this key (or, from before data
    /// keys, by the wrapping key).
    pub fn open_bytes_in(&self, column: Column, row: impl Display, sealed: &str) -> Result<Vec<u8>, SealError> {
        if sealed.starts_with("v1:") {
            return self.wrapping.open_bytes_in(column, row, sealed);
        }
        let (id, blob) = split(sealed)?;
        if id != self.id {
            tracing::error!(table = column.table, column = column.column, "a value is sealed by another data key");
            return Err(SealError::Forged);
        }
        let place = column.place(row);
        self.cipher()
            .decrypt(XNonce::from_slice(&blob[..24]), Payload { msg: &blob[24..], aad: place.as_bytes() })
            .map_err(|_| {
                tracing::error!(table = column.table, column = column.column, "a sealed value did not open");
                SealError::Forged
            })
    }

    /// Opens the text of row `row` in `column`.
    pub fn open_in(&self, column: Column, row: impl Display, sealed: &str) -> Result<String, SealError> {
        String::from_utf8(self.open_bytes_in(column, row, sealed)?).map_err(|_| SealError::Forged)
    }
}

/// The data key a `v2` value names, and its nonce and ciphertext.
fn split(sealed: &str) -> Result<(Uuid, Vec<u8>), SealError> {
    let rest = sealed.strip_prefix("v2:").ok_or(SealError::Malformed)?;
    let (id, data) = rest.split_once(':').ok_or(SealError::Malformed)?;
    let id = Uuid::try_parse(id).map_err(|_| SealError::Malformed)?;
    let blob = URL_SAFE_NO_PAD.decode(data).map_err(|_| SealError::Malformed)?;
    if blob.len() < 24 + 16 {
        return Err(SealError::Malformed);
    }
    Ok((id, blob))
}

/// The data key a sealed value names, when it is sealed by one.
pub fn key_of(sealed: &str) -> Option<Uuid> {
    split(sealed).ok().map(|(id, _)| id)
}

/// A fresh data key and the row that stores it wrapped.
fn fresh(keys: &KeyStore, id: Uuid, now: DateTime<Utc>) -> ([u8; 32], data_key::ActiveModel) {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let row = data_key::ActiveModel {
        id: Set(id),
        key_enc: Set(Some(keys.seal_bytes_in(sealed::DATA_KEY, id, &key))),
        created_at: Set(now),
        erased_at: Set(None),
    };
    (key, row)
}

/// Makes a new data key with this id (a case's, a decision chain's or a draft's), stored
/// wrapped as part of `db`'s transaction.
pub async fn create(
    keys: &Arc<KeyStore>,
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<DataKey, DbErr> {
    let (key, row) = fresh(keys, id, now);
    data_key::Entity::insert(row).exec(db).await?;
    keys.remember(id, key);
    Ok(DataKey { id, key, wrapping: keys.clone() })
}

/// The data key `id`, made now when there is none yet (never when it was erased).
pub async fn get_or_create(
    keys: &Arc<KeyStore>,
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<DataKey, KeyError> {
    match load(keys, db, id).await {
        Err(KeyError::Missing) => {}
        other => return other,
    }
    // Two requests may race to make it: the first one in wins, the other reads it.
    data_key::Entity::insert(fresh(keys, id, now).1)
        .on_conflict(OnConflict::column(data_key::Column::Id).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    load(keys, db, id).await
}

/// The data key `id`, unwrapped.
pub async fn load(keys: &Arc<KeyStore>, db: &impl ConnectionTrait, id: Uuid) -> Result<DataKey, KeyError> {
    if let Some(key) = keys.remembered(id) {
        return Ok(DataKey { id, key, wrapping: keys.clone() });
    }
    let row = data_key::Entity::find_by_id(id).one(db).await?.ok_or(KeyError::Missing)?;
    let wrapped = row.key_enc.ok_or(KeyError::Erased)?;
    let key: [u8; 32] = keys
        .open_bytes_in(sealed::DATA_KEY, id, &wrapped)
        .map_err(KeyError::Unwrap)?
        .try_into()
        .map_err(|_| KeyError::Unwrap(SealError::Malformed))?;
    keys.remember(id, key);
    Ok(DataKey { id, key, wrapping: keys.clone() })
}

/// Opens a value as someone holding a copy of the database and these wrapping keys could:
/// the data key as the copy holds it (`data_keys.key_enc` of `key_id`), then the value
/// sealed by it. What a restore needs, and what an erasure must make impossible once the
/// wrapping key that sealed the copy's data key is destroyed.
pub fn open_from_copy(
    ring: &super::fields::Keyring,
    key_id: Uuid,
    key_enc: &str,
    column: Column,
    row: impl Display,
    sealed: &str,
) -> Result<Vec<u8>, SealError> {
    let key: [u8; 32] =
        ring.open(&sealed::DATA_KEY.place(key_id), key_enc)?.try_into().map_err(|_| SealError::Malformed)?;
    let (id, blob) = split(sealed)?;
    if id != key_id {
        return Err(SealError::Forged);
    }
    let place = column.place(row);
    XChaCha20Poly1305::new((&key).into())
        .decrypt(XNonce::from_slice(&blob[..24]), Payload { msg: &blob[24..], aad: place.as_bytes() })
        .map_err(|_| SealError::Forged)
}

/// Opens a value sealed either by the wrapping key (`v1`) or by the data key it names.
pub async fn open_any(
    keys: &Arc<KeyStore>,
    db: &impl ConnectionTrait,
    column: Column,
    row: impl Display,
    sealed: &str,
) -> Result<String, KeyError> {
    match key_of(sealed) {
        None => keys.open_in(column, row, sealed).map_err(KeyError::Unwrap),
        Some(id) => load(keys, db, id).await?.open_in(column, row, sealed).map_err(KeyError::Unwrap),
    }
}

/// Destroys the data key `id`: its row stays, without the key, with the moment. False when
/// it was already erased or never existed. The caller audits it.
pub async fn erase(keys: &KeyStore, db: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let done = data_key::Entity::update_many()
        .col_expr(data_key::Column::KeyEnc, sea_orm::sea_query::Expr::value(Option::<String>::None))
        .col_expr(data_key::Column::ErasedAt, sea_orm::sea_query::Expr::value(Some(now)))
        .filter(data_key::Column::Id.eq(id))
        .filter(data_key::Column::ErasedAt.is_null())
        .exec(db)
        .await?;
    keys.forget(id);
    Ok(done.rows_affected > 0)
}

/// Where the columns that carry a case's or a decision's text find their data key: an SQL
/// expression over the row giving the key's id.
const MOVED: &[(Column, &str)] = &[
    (sealed::CASE_SUBJECT, "id"),
    (sealed::CASE_NARRATIVE, "id"),
    (sealed::CASE_WISHES, "id"),
    (sealed::CASE_CONTACT, "id"),
    (sealed::CASE_WITNESS_DETAILS, "id"),
    (sealed::NOTE_BODY, "case_id"),
    (sealed::MESSAGE_BODY, "case_id"),
    (sealed::WITNESS_DETAILS, "case_id"),
    (sealed::ATTACHMENT_NAME, "case_id"),
    (sealed::ATTACHMENT_DATA, "case_id"),
    (sealed::DRAFT_DATA, "id"),
    (sealed::PRECAUTION_DETAILS, "case_id"),
    (sealed::PLAN_RESPONSE_COMMENT, "case_id"),
    (sealed::DECISION_DETAILS, "root_id"),
    (sealed::DECISION_REASONS, "root_id"),
    (
        sealed::PROPOSAL_TERMS,
        "COALESCE((SELECT d.root_id FROM decisions d WHERE d.id = decision_proposals.decision_id), decision_proposals.case_id)",
    ),
    (sealed::APPEAL_TEXT, "root_id"),
    (
        sealed::COVERAGE_APPEAL_TEXT,
        "(SELECT d.root_id FROM decision_subjects s JOIN decisions d ON d.id = s.decision_id WHERE s.id = coverage_appeals.subject_id)",
    ),
    (
        sealed::COVERAGE_APPEAL_REASONS,
        "(SELECT d.root_id FROM decision_subjects s JOIN decisions d ON d.id = s.decision_id WHERE s.id = coverage_appeals.subject_id)",
    ),
];

/// Moves text sealed before data keys (under the wrapping key) to the data key of its
/// case, decision chain or draft, making the keys it needs. Row by row, each its own
/// write guarded by the value it read, so it can stop anywhere and resume at the next
/// start; a value already moved is not read again. Returns how many values it moved.
///
/// Left under the wrapping key: notifications, scan instructions and outbox mail written
/// before data keys (nothing in them says which case they came from).
pub async fn adopt_legacy(keys: &Arc<KeyStore>, db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    use sea_orm::Statement;
    let backend = db.get_database_backend();
    let placeholder = |n: usize| if backend == sea_orm::DbBackend::Postgres { format!("${n}") } else { "?".into() };
    let mut moved = 0;
    for (column, owner) in MOVED {
        let Column { table, column: name } = *column;
        let select = format!("SELECT id, {name} AS v, {owner} AS owner FROM {table} WHERE {name} LIKE 'v1:%'");
        for row in db.query_all_raw(Statement::from_string(backend, select)).await? {
            let id: Uuid = row.try_get("", "id")?;
            let value: String = row.try_get("", "v")?;
            let Ok(owner) = row.try_get::<Uuid>("", "owner") else { continue };
            let key = match get_or_create(keys, db, owner, now).await {
                Ok(key) => key,
                // An erased key: nothing is moved under it (the value stays as it was).
                Err(KeyError::Erased) => continue,
                Err(e) => return Err(e.into()),
            };
            let plain =
                keys.open_bytes_in(*column, id, &value).map_err(|e| DbErr::Custom(format!("{table}.{name}: {e}")))?;
            let update = format!(
                "UPDATE {table} SET {name} = {} WHERE id = {} AND {name} = {}",
                placeholder(1),
                placeholder(2),
                placeholder(3)
            );
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                update,
                [key.seal_bytes_in(*column, id, &plain).into(), id.into(), value.into()],
            ))
            .await?;
            moved += 1;
        }
    }
    // Every case and decision chain has its key, text or not, so reads never miss one.
    for (table, column) in [("cases", "id"), ("decisions", "root_id")] {
        let select =
            format!("SELECT DISTINCT {column} AS owner FROM {table} WHERE {column} NOT IN (SELECT id FROM data_keys)");
        for row in db.query_all_raw(Statement::from_string(backend, select)).await? {
            let owner: Uuid = row.try_get("", "owner")?;
            get_or_create(keys, db, owner, now).await?;
        }
    }
    if moved > 0 {
        tracing::info!(moved, "text sealed before data keys now sits under its case's or decision's key");
    }
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::fields::EncryptionSettings;

    fn store() -> Arc<KeyStore> {
        let key = URL_SAFE_NO_PAD.encode([7u8; 32]);
        let settings = EncryptionSettings::Inline(crate::secret::Secret::new(format!("w1:{key}")));
        Arc::new(KeyStore::load(&settings).unwrap())
    }

    #[test]
    fn a_data_key_opens_its_own_values_in_their_place_and_older_values_through_the_wrapping_key() {
        let keys = store();
        let a = DataKey { id: Uuid::new_v4(), key: [1u8; 32], wrapping: keys.clone() };
        let b = DataKey { id: Uuid::new_v4(), key: [2u8; 32], wrapping: keys.clone() };
        let sealed = a.seal_in(sealed::CASE_NARRATIVE, 1, "He followed me.");
        assert!(sealed.starts_with(&format!("v2:{}:", a.id().simple())));
        assert!(!sealed.contains("followed"));
        assert_eq!(key_of(&sealed), Some(a.id()));
        assert_eq!(a.open_in(sealed::CASE_NARRATIVE, 1, &sealed).unwrap(), "He followed me.");
        assert_eq!(a.open_in(sealed::CASE_NARRATIVE, 2, &sealed), Err(SealError::Forged), "another row");
        assert_eq!(b.open_in(sealed::CASE_NARRATIVE, 1, &sealed), Err(SealError::Forged), "another key");
        let old = keys.seal_in(sealed::CASE_NARRATIVE, 1, "from before");
        assert_eq!(key_of(&old), None);
        assert_eq!(a.open_in(sealed::CASE_NARRATIVE, 1, &old).unwrap(), "from before");
        assert_eq!(a.open_in(sealed::CASE_NARRATIVE, 1, "v2:zz:AAAA"), Err(SealError::Malformed));
    }
}
