//! The only code that touches the `api_keys` table; every read but the
//! grant's (which knows only the key's id) is scoped by company.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, ExprTrait, PaginatorTrait, QueryOrder, QuerySelect, Set};

use super::model::ApiKey;

pub mod row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "api_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub name: String,
        pub prefix: String,
        pub secret_hash: String,
        pub permissions: String,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
        pub expires_at: Option<DateTimeUtc>,
        pub last_used_at: Option<DateTimeUtc>,
        pub revoked_at: Option<DateTimeUtc>,
        pub revoked_by: Option<Uuid>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn key_of(r: row::Model) -> Result<(ApiKey, String), DbErr> {
    let permissions = serde_json::from_str(&r.permissions)
        .map_err(|e| DbErr::Custom(format!("stored key permissions are not readable: {e}")))?;
    Ok((
        ApiKey {
            id: r.id,
            company_id: r.company_id,
            name: r.name,
            prefix: r.prefix,
            permissions,
            created_by: r.created_by,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
            revoked_by: r.revoked_by,
        },
        r.secret_hash,
    ))
}

pub async fn insert(db: &impl ConnectionTrait, key: &ApiKey, secret_hash: String) -> Result<(), DbErr> {
    let permissions = serde_json::to_string(&key.permissions).map_err(|e| DbErr::Custom(e.to_string()))?;
    row::ActiveModel {
        id: Set(key.id),
        company_id: Set(key.company_id),
        name: Set(key.name.clone()),
        prefix: Set(key.prefix.clone()),
        secret_hash: Set(secret_hash),
        permissions: Set(permissions),
        created_by: Set(key.created_by),
        created_at: Set(key.created_at),
        expires_at: Set(key.expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
        revoked_by: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A key and its secret's hash, by the key's id alone (the grant's lookup).
pub async fn by_id(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<(ApiKey, String)>, DbErr> {
    row::Entity::find_by_id(id).one(db).await?.map(key_of).transpose()
}

pub async fn of_company(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<ApiKey>, DbErr> {
    Ok(row::Entity::find()
        .filter(row::Column::CompanyId.eq(company))
        .filter(row::Column::Id.eq(id))
        .one(db)
        .await?
        .map(key_of)
        .transpose()?
        .map(|(key, _)| key))
}

/// A page of the company's keys, newest first, and how many there are.
pub async fn list(
    db: &impl ConnectionTrait,
    company: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<ApiKey>, u64), DbErr> {
    let query = row::Entity::find().filter(row::Column::CompanyId.eq(company));
    let total = query.clone().count(db).await?;
    let rows = query.order_by_desc(row::Column::Id).offset(offset).limit(limit).all(db).await?;
    let keys = rows.into_iter().map(|r| key_of(r).map(|(key, _)| key)).collect::<Result<_, _>>()?;
    Ok((keys, total))
}

/// Keys of the company neither revoked nor expired at `now`.
pub async fn count_live(db: &impl ConnectionTrait, company: Uuid, now: DateTime<Utc>) -> Result<u64, DbErr> {
    row::Entity::find()
        .filter(row::Column::CompanyId.eq(company))
        .filter(row::Column::RevokedAt.is_null())
        .filter(row::Column::ExpiresAt.is_null().or(row::Column::ExpiresAt.gt(now)))
        .count(db)
        .await
}

/// Revokes a key not revoked yet; false if it already was (or is unknown).
pub async fn revoke(
    db: &impl ConnectionTrait,
    company: Uuid,
    id: Uuid,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = row::Entity::update_many()
        .col_expr(row::Column::RevokedAt, Expr::value(now))
        .col_expr(row::Column::RevokedBy, Expr::value(by))
        .filter(row::Column::CompanyId.eq(company))
        .filter(row::Column::Id.eq(id))
        .filter(row::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Notes a use, at most once a minute per key (a token grant).
pub async fn touch(db: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<(), DbErr> {
    row::Entity::update_many()
        .col_expr(row::Column::LastUsedAt, Expr::value(now))
        .filter(row::Column::Id.eq(id))
        .filter(row::Column::LastUsedAt.is_null().or(row::Column::LastUsedAt.lt(now - chrono::Duration::minutes(1))))
        .exec(db)
        .await?;
    Ok(())
}
