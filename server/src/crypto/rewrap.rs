//! Walking every value sealed under the wrapping key (`v1`): re-sealing them under the
//! current one (rotation, and the end of each erasure run), and counting those a key still
//! seals (before it may be destroyed). Values sealed by a data key (`v2`) are left alone:
//! re-wrapping their data key is enough.

use super::fields::{Keyring, place};
use super::sealed::{ALL, Column};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbErr, Statement};
use uuid::Uuid;

/// Re-seals every `v1` value not sealed by `ring`'s current key; returns how many.
pub async fn reseal_all(db: &impl ConnectionTrait, ring: &Keyring) -> Result<u64, DbErr> {
    let current = ring.current_id().to_owned();
    let backend = db.get_database_backend();
    let mut changed = 0u64;
    for Column { table, column } in ALL {
        let select = Query::select()
            .columns([Alias::new("id"), Alias::new(*column)])
            .from(Alias::new(*table))
            .and_where(Expr::col(Alias::new(*column)).like("v1:%"))
            .to_owned();
        for row in db.query_all(&select).await? {
            // Rows are keyed by UUID, except badge keys (a small number printed on badges).
            let (id, shown) = match row.try_get::<Uuid>("", "id") {
                Ok(id) => (sea_orm::Value::from(id), id.to_string()),
                Err(_) => {
                    let id: i64 = row.try_get("", "id")?;
                    (sea_orm::Value::from(id), id.to_string())
                }
            };
            let sealed: String = row.try_get("", column)?;
            if Keyring::key_of(&sealed) == Some(current.as_str()) {
                continue;
            }
            let at = place(table, column, &shown);
            let plain =
                ring.open(&at, &sealed).map_err(|e| DbErr::Custom(format!("{table}.{column} of {shown}: {e}")))?;
            let update = Query::update()
                .table(Alias::new(*table))
                .value(Alias::new(*column), ring.seal(&at, &plain))
                .and_where(Expr::col(Alias::new("id")).eq(id))
                // Unless it changed meanwhile (a write under the new key wins).
                .and_where(Expr::col(Alias::new(*column)).eq(sealed.clone()))
                .to_owned();
            let (sql, values) = match backend {
                sea_orm::DbBackend::Postgres => update.build(sea_orm::sea_query::PostgresQueryBuilder),
                _ => update.build(sea_orm::sea_query::SqliteQueryBuilder),
            };
            db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// How many values each sealed column still holds under the wrapping key `id`.
pub async fn sealed_with(db: &impl ConnectionTrait, id: &str) -> Result<Vec<(String, i64)>, DbErr> {
    let backend = db.get_database_backend();
    let placeholder = if backend == sea_orm::DbBackend::Postgres { "$1" } else { "?" };
    let prefix = format!("v1:{id}:");
    let mut users = Vec::new();
    for Column { table, column } in ALL {
        let sql =
            format!("SELECT COUNT(*) AS n FROM {table} WHERE substr({column}, 1, {}) = {placeholder}", prefix.len());
        let row = db.query_one_raw(Statement::from_sql_and_values(backend, sql, [prefix.clone().into()])).await?;
        let n: i64 = row.map(|r| r.try_get("", "n")).transpose()?.unwrap_or(0);
        if n > 0 {
            users.push((format!("{table}.{column}"), n));
        }
    }
    Ok(users)
}
