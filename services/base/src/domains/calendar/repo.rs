use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Select, Set};

use super::Hold;

pub mod row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "holds")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub venue_id: Option<Uuid>,
        pub artist_id: Option<Uuid>,
        pub starts_at: DateTimeUtc,
        pub ends_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        pub note: String,
        pub status: String,
        pub created_by: Uuid,
        pub updated_by: Uuid,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

const HELD: &str = "held";
const RELEASED: &str = "released";

pub fn scoped(company: Uuid) -> Select<row::Entity> {
    row::Entity::find().filter(row::Column::CompanyId.eq(company))
}

fn decode(r: row::Model) -> Hold {
    Hold {
        id: r.id,
        venue_id: r.venue_id,
        artist_id: r.artist_id,
        starts_at: r.starts_at,
        ends_at: r.ends_at,
        expires_at: r.expires_at,
        note: r.note,
        created_by: r.created_by,
        created_at: r.created_at,
    }
}

pub async fn insert(db: &impl ConnectionTrait, company: Uuid, h: &Hold) -> Result<(), DbErr> {
    row::ActiveModel {
        id: Set(h.id),
        company_id: Set(company),
        venue_id: Set(h.venue_id),
        artist_id: Set(h.artist_id),
        starts_at: Set(h.starts_at),
        ends_at: Set(h.ends_at),
        expires_at: Set(h.expires_at),
        note: Set(h.note.clone()),
        status: Set(HELD.to_owned()),
        created_by: Set(h.created_by),
        updated_by: Set(h.created_by),
        created_at: Set(h.created_at),
        updated_at: Set(h.created_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Holds still in force at `now` that overlap [from, to).
pub async fn active_between(
    db: &impl ConnectionTrait,
    company: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Hold>, DbErr> {
    Ok(scoped(company)
        .filter(row::Column::Status.eq(HELD))
        .filter(row::Column::ExpiresAt.gt(now))
        .filter(row::Column::StartsAt.lt(to))
        .filter(row::Column::EndsAt.gt(from))
        .order_by_asc(row::Column::StartsAt)
        .all(db)
        .await?
        .into_iter()
        .map(decode)
        .collect())
}

/// How many holds the company keeps in force at `now`.
pub async fn count_active(db: &impl ConnectionTrait, company: Uuid, now: DateTime<Utc>) -> Result<u64, DbErr> {
    scoped(company).filter(row::Column::Status.eq(HELD)).filter(row::Column::ExpiresAt.gt(now)).count(db).await
}

/// Releases a hold in force; false if there was none.
pub async fn release(
    db: &impl ConnectionTrait,
    company: Uuid,
    id: Uuid,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Hold>, DbErr> {
    let Some(found) =
        scoped(company).filter(row::Column::Id.eq(id)).filter(row::Column::Status.eq(HELD)).one(db).await?
    else {
        return Ok(None);
    };
    row::Entity::update_many()
        .col_expr(row::Column::Status, Expr::value(RELEASED))
        .col_expr(row::Column::UpdatedBy, Expr::value(by))
        .col_expr(row::Column::UpdatedAt, Expr::value(now))
        .filter(row::Column::CompanyId.eq(company))
        .filter(row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(Some(decode(found)))
}
