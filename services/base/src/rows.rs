//! What every company-scoped table's repository shares: a row is found,
//! rewritten and deleted only within its company, by id.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Select};
use uuid::Uuid;

/// A table whose rows belong to one company each and have a UUID id.
pub trait Scoped: EntityTrait {
    const COMPANY: Self::Column;
    const ID: Self::Column;
}

/// The company's rows.
pub fn scoped<E: Scoped>(company: Uuid) -> Select<E> {
    E::find().filter(E::COMPANY.eq(company))
}

pub async fn find<E: Scoped>(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<E::Model>, DbErr> {
    scoped::<E>(company).filter(E::ID.eq(id)).one(db).await
}

/// Rewrites the company's row `id` with `row`.
pub async fn update<E: Scoped>(
    db: &impl ConnectionTrait,
    company: Uuid,
    id: Uuid,
    row: E::ActiveModel,
) -> Result<(), DbErr> {
    E::update_many().set(row).filter(E::COMPANY.eq(company)).filter(E::ID.eq(id)).exec(db).await?;
    Ok(())
}

/// Deletes the company's row `id`; false if there was none.
pub async fn delete<E: Scoped>(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<bool, DbErr> {
    let done = E::delete_many().filter(E::COMPANY.eq(company)).filter(E::ID.eq(id)).exec(db).await?;
    Ok(done.rows_affected == 1)
}

/// Which of these (company, idempotency key) pairs already name a row of
/// `E` (a group commit's keys, checked in one statement).
pub async fn taken_keys<E: EntityTrait>(
    db: &impl ConnectionTrait,
    company: E::Column,
    key: E::Column,
    keys: &[(Uuid, String)],
) -> Result<std::collections::HashSet<(Uuid, String)>, DbErr> {
    marquee_db::taken_pairs::<E>(db, company, key, keys).await
}
