//! The only code that touches waiting-list entries.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, PaginatorTrait, QueryOrder, QuerySelect, Set};

use super::model::{Entry, EntryFilter, EntryStatus};

pub mod row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "waitlist_entries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub event_id: Uuid,
        pub ticket_type_id: Uuid,
        pub email: String,
        pub name: Option<String>,
        pub quantity: i32,
        pub status: String,
        pub order_id: Option<Uuid>,
        pub offer_token_hash: Option<String>,
        pub offered_at: Option<DateTimeUtc>,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn corrupt(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("stored waiting-list data is not readable: {e}"))
}

fn entry_of(r: row::Model) -> Result<Entry, DbErr> {
    Ok(Entry {
        id: r.id,
        event_id: r.event_id,
        ticket_type_id: r.ticket_type_id,
        email: r.email,
        name: r.name,
        quantity: u32::try_from(r.quantity).map_err(corrupt)?,
        status: EntryStatus::parse(&r.status).ok_or_else(|| corrupt(&r.status))?,
        order_id: r.order_id,
        offered_at: r.offered_at,
        created_at: r.created_at,
    })
}

pub async fn insert(db: &impl ConnectionTrait, company: Uuid, e: &Entry, by: Uuid) -> Result<(), DbErr> {
    row::ActiveModel {
        id: Set(e.id),
        company_id: Set(company),
        event_id: Set(e.event_id),
        ticket_type_id: Set(e.ticket_type_id),
        email: Set(e.email.clone()),
        name: Set(e.name.clone()),
        quantity: Set(i32::try_from(e.quantity).map_err(corrupt)?),
        status: Set(e.status.as_str().to_owned()),
        order_id: Set(None),
        offer_token_hash: Set(None),
        offered_at: Set(None),
        created_by: Set(by),
        created_at: Set(e.created_at),
        updated_at: Set(e.created_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn entry(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<Entry>, DbErr> {
    row::Entity::find()
        .filter(row::Column::CompanyId.eq(company))
        .filter(row::Column::Id.eq(id))
        .one(db)
        .await?
        .map(entry_of)
        .transpose()
}

/// Whether `email` already waits (or holds an offer) for this ticket type.
pub async fn is_waiting(
    db: &impl ConnectionTrait,
    company: Uuid,
    ticket_type: Uuid,
    email: &str,
) -> Result<bool, DbErr> {
    Ok(row::Entity::find()
        .filter(row::Column::CompanyId.eq(company))
        .filter(row::Column::TicketTypeId.eq(ticket_type))
        .filter(row::Column::Email.eq(email))
        .filter(row::Column::Status.is_in([EntryStatus::Waiting.as_str(), EntryStatus::Offered.as_str()]))
        .one(db)
        .await?
        .is_some())
}

/// An event's waiting entries, first come first served.
pub async fn waiting(db: &impl ConnectionTrait, company: Uuid, event: Uuid, limit: u64) -> Result<Vec<Entry>, DbErr> {
    row::Entity::find()
        .filter(row::Column::CompanyId.eq(company))
        .filter(row::Column::EventId.eq(event))
        .filter(row::Column::Status.eq(EntryStatus::Waiting.as_str()))
        .order_by_asc(row::Column::CreatedAt)
        .order_by_asc(row::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(entry_of)
        .collect()
}

pub async fn entries(
    db: &impl ConnectionTrait,
    company: Uuid,
    event: Uuid,
    filter: &EntryFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Entry>, u64), DbErr> {
    let mut query =
        row::Entity::find().filter(row::Column::CompanyId.eq(company)).filter(row::Column::EventId.eq(event));
    if let Some(status) = filter.status {
        query = query.filter(row::Column::Status.eq(status.as_str()));
    }
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_asc(row::Column::CreatedAt)
        .order_by_asc(row::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows.into_iter().map(entry_of).collect::<Result<_, _>>()?, total))
}

/// Offers a waiting entry its reservation; false when it no longer waited.
pub async fn offer(
    db: &impl ConnectionTrait,
    id: Uuid,
    order: Uuid,
    token_hash: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = row::Entity::update_many()
        .col_expr(row::Column::Status, Expr::value(EntryStatus::Offered.as_str()))
        .col_expr(row::Column::OrderId, Expr::value(order))
        .col_expr(row::Column::OfferTokenHash, Expr::value(token_hash))
        .col_expr(row::Column::OfferedAt, Expr::value(at))
        .col_expr(row::Column::UpdatedAt, Expr::value(at))
        .filter(row::Column::Id.eq(id))
        .filter(row::Column::Status.eq(EntryStatus::Waiting.as_str()))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Ends the offer made with `order`, if there is one still open; the
/// one-time link stops working at once.
pub async fn settle(db: &impl ConnectionTrait, order: Uuid, to: EntryStatus, at: DateTime<Utc>) -> Result<(), DbErr> {
    row::Entity::update_many()
        .col_expr(row::Column::Status, Expr::value(to.as_str()))
        .col_expr(row::Column::OfferTokenHash, Expr::value(Option::<String>::None))
        .col_expr(row::Column::UpdatedAt, Expr::value(at))
        .filter(row::Column::OrderId.eq(order))
        .filter(row::Column::Status.eq(EntryStatus::Offered.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// The open offer a link's token names.
pub async fn by_token(db: &impl ConnectionTrait, company: Uuid, token_hash: &str) -> Result<Option<Entry>, DbErr> {
    row::Entity::find()
        .filter(row::Column::CompanyId.eq(company))
        .filter(row::Column::OfferTokenHash.eq(token_hash))
        .filter(row::Column::Status.eq(EntryStatus::Offered.as_str()))
        .one(db)
        .await?
        .map(entry_of)
        .transpose()
}

/// Events with someone waiting: (company, event).
pub async fn events_waiting(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<(Uuid, Uuid)>, DbErr> {
    row::Entity::find()
        .select_only()
        .column(row::Column::CompanyId)
        .column(row::Column::EventId)
        .filter(row::Column::Status.eq(EntryStatus::Waiting.as_str()))
        .distinct()
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}
