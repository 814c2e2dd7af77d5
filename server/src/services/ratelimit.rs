//! Rate limits kept in the database, so every server instance counts the same attempts.
//! Buckets are named by purpose and a hash of the key (never the address itself).

use crate::crypto::hash_token;
use crate::db::entities::rate_limit_hit;
use chrono::{DateTime, Duration, Utc};
use haven_app::api::AppError;
use sea_orm::{ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

/// How many attempts a bucket allows in a window.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub purpose: &'static str,
    pub max: u64,
    pub window: Duration,
}

pub const SIGNIN_PER_ADDRESS: Limit = Limit { purpose: "signin-address", max: 3, window: Duration::minutes(15) };
pub const SIGNIN_PER_CLIENT: Limit = Limit { purpose: "signin-client", max: 20, window: Duration::minutes(15) };
/// Confirmation links for further addresses a person may ask for.
pub const ADDRESSES_PER_PERSON: Limit = Limit { purpose: "address-person", max: 5, window: Duration::hours(1) };
/// Second-factor codes a person may try: a six-digit code is not guessed in 5 tries a
/// quarter of an hour.
pub const SECOND_FACTOR_PER_PERSON: Limit =
    Limit { purpose: "second-factor-person", max: 5, window: Duration::minutes(15) };

fn bucket(limit: &Limit, key: &str) -> String {
    format!("{}:{}", limit.purpose, &hash_token(key)[..40])
}

/// Counts one attempt against `limit` for `key`, or refuses when the window is full.
/// Refused attempts are not counted, so waiting always helps.
pub async fn hit(
    tx: &sea_orm::DatabaseTransaction,
    limit: Limit,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Result<(), AppError>, DbErr> {
    let bucket = bucket(&limit, key);
    let recent = rate_limit_hit::Entity::find()
        .filter(rate_limit_hit::Column::Bucket.eq(&bucket))
        .filter(rate_limit_hit::Column::At.gt(now - limit.window))
        .count(tx)
        .await?;
    if recent >= limit.max {
        return Ok(Err(AppError::RateLimited));
    }
    rate_limit_hit::Entity::insert(rate_limit_hit::ActiveModel {
        id: Set(Uuid::new_v4()),
        bucket: Set(bucket),
        at: Set(now),
    })
    .exec(tx)
    .await?;
    Ok(Ok(()))
}
