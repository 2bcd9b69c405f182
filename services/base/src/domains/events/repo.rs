//! The only code that touches the events and tenant-lock tables.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, ExprTrait, PaginatorTrait, QueryOrder, QuerySelect, Select, Set};

use super::model::{Event, EventFilter, Status};
use crate::listing;

pub mod row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub name: String,
        pub venue_id: Uuid,
        pub starts_at: DateTimeUtc,
        pub ends_at: DateTimeUtc,
        pub timezone: String,
        pub status: String,
        pub lineup: String,
        pub description: String,
        pub created_by: Uuid,
        pub updated_by: Uuid,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub version: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod lock_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tenant_locks")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub company_id: Uuid,
        pub version: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub fn scoped(company: Uuid) -> Select<row::Entity> {
    row::Entity::find().filter(row::Column::CompanyId.eq(company))
}

fn corrupt(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("stored event is not readable: {e}"))
}

fn decode(r: row::Model) -> Result<Event, DbErr> {
    Ok(Event {
        id: r.id,
        name: r.name,
        venue_id: r.venue_id,
        starts_at: r.starts_at,
        ends_at: r.ends_at,
        timezone: r.timezone,
        status: Status::parse(&r.status).ok_or_else(|| corrupt(&r.status))?,
        lineup: serde_json::from_str(&r.lineup).map_err(corrupt)?,
        description: r.description,
        created_by: r.created_by,
        updated_by: r.updated_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
        version: u64::try_from(r.version).map_err(corrupt)?,
    })
}

fn encode(company: Uuid, e: &Event) -> Result<row::ActiveModel, DbErr> {
    Ok(row::ActiveModel {
        id: Set(e.id),
        company_id: Set(company),
        name: Set(e.name.clone()),
        venue_id: Set(e.venue_id),
        starts_at: Set(e.starts_at),
        ends_at: Set(e.ends_at),
        timezone: Set(e.timezone.clone()),
        status: Set(e.status.as_str().to_owned()),
        lineup: Set(serde_json::to_string(&e.lineup).map_err(corrupt)?),
        description: Set(e.description.clone()),
        created_by: Set(e.created_by),
        updated_by: Set(e.updated_by),
        created_at: Set(e.created_at),
        updated_at: Set(e.updated_at),
        version: Set(i64::try_from(e.version).map_err(corrupt)?),
    })
}

/// Serialises the company's limit-bound writes for the rest of the transaction.
pub async fn lock_company(db: &impl ConnectionTrait, company: Uuid) -> Result<(), DbErr> {
    lock_row::Entity::insert(lock_row::ActiveModel { company_id: Set(company), version: Set(0) })
        .on_conflict(OnConflict::column(lock_row::Column::CompanyId).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    lock_row::Entity::update_many()
        .col_expr(lock_row::Column::Version, Expr::col(lock_row::Column::Version).add(1))
        .filter(lock_row::Column::CompanyId.eq(company))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn insert(db: &impl ConnectionTrait, company: Uuid, e: &Event) -> Result<(), DbErr> {
    row::Entity::insert(encode(company, e)?).exec_without_returning(db).await?;
    Ok(())
}

/// The named events, each (company, id) once, whether found or not (a
/// group commit's events).
pub async fn find_each(
    db: &impl ConnectionTrait,
    named: &[(Uuid, Uuid)],
) -> Result<std::collections::BTreeMap<(Uuid, Uuid), Option<Event>>, DbErr> {
    let mut found = std::collections::BTreeMap::new();
    for &(company, id) in named {
        if let std::collections::btree_map::Entry::Vacant(slot) = found.entry((company, id)) {
            slot.insert(find(db, company, id).await?);
        }
    }
    Ok(found)
}

pub async fn find(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<Event>, DbErr> {
    scoped(company).filter(row::Column::Id.eq(id)).one(db).await?.map(decode).transpose()
}

/// Writes `e` over the row only if the row is still at version `read`
/// (`e.version` is the next one); false when someone else changed it first.
pub async fn update(db: &impl ConnectionTrait, company: Uuid, e: &Event, read: u64) -> Result<bool, DbErr> {
    let done = row::Entity::update_many()
        .set(encode(company, e)?)
        .filter(row::Column::CompanyId.eq(company))
        .filter(row::Column::Id.eq(e.id))
        .filter(row::Column::Version.eq(i64::try_from(read).map_err(corrupt)?))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

pub async fn delete(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<(), DbErr> {
    row::Entity::delete_many()
        .filter(row::Column::CompanyId.eq(company))
        .filter(row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Live events of the venue overlapping [starts, ends), other than `except`.
pub async fn overlapping(
    db: &impl ConnectionTrait,
    company: Uuid,
    venue: Uuid,
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
    except: Option<Uuid>,
) -> Result<Vec<Event>, DbErr> {
    let mut query = scoped(company)
        .filter(row::Column::VenueId.eq(venue))
        .filter(row::Column::Status.ne(Status::Canceled.as_str()))
        .filter(row::Column::StartsAt.lt(ends))
        .filter(row::Column::EndsAt.gt(starts));
    if let Some(id) = except {
        query = query.filter(row::Column::Id.ne(id));
    }
    query.all(db).await?.into_iter().map(decode).collect()
}

/// Events that still count against `maxEvents`.
pub async fn count_live(db: &impl ConnectionTrait, company: Uuid) -> Result<u64, DbErr> {
    scoped(company).filter(row::Column::Status.ne(Status::Canceled.as_str())).count(db).await
}

pub async fn count_at_venue(db: &impl ConnectionTrait, company: Uuid, venue: Uuid) -> Result<u64, DbErr> {
    scoped(company).filter(row::Column::VenueId.eq(venue)).count(db).await
}

pub async fn list(
    db: &impl ConnectionTrait,
    company: Uuid,
    filter: &EventFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Event>, u64), DbErr> {
    let mut query = listing::containing(scoped(company), row::Column::Name, filter.q.as_deref());
    if let Some(status) = filter.status {
        query = query.filter(row::Column::Status.eq(status.as_str()));
    }
    if let Some(venue) = filter.venue_id {
        query = query.filter(row::Column::VenueId.eq(venue));
    }
    if let Some(from) = filter.from {
        query = query.filter(row::Column::EndsAt.gt(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(row::Column::StartsAt.lt(to));
    }
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_asc(row::Column::StartsAt)
        .order_by_asc(row::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows.into_iter().map(decode).collect::<Result<_, _>>()?, total))
}

/// Moves an event from `from` to `to`; false if it was not in `from`.
pub async fn set_status(
    db: &impl ConnectionTrait,
    company: Uuid,
    id: Uuid,
    from: Status,
    to: Status,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = row::Entity::update_many()
        .col_expr(row::Column::Status, Expr::value(to.as_str()))
        .col_expr(row::Column::UpdatedAt, Expr::value(at))
        .col_expr(row::Column::Version, Expr::col(row::Column::Version).add(1))
        .filter(row::Column::CompanyId.eq(company))
        .filter(row::Column::Id.eq(id))
        .filter(row::Column::Status.eq(from.as_str()))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}
