//! The only code that touches ticket types and registrations.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, PaginatorTrait, QueryOrder, QuerySelect, Set};

use super::model::{Registration, RegistrationFilter, Status, TicketType};

pub mod type_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ticket_types")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub event_id: Uuid,
        pub name: String,
        pub price_minor: i64,
        pub currency: String,
        pub capacity: i32,
        pub comps: i32,
        pub kills: i32,
        pub sold: i32,
        /// Seats held by open reservations and vouchers' blocks.
        pub held: i32,
        pub per_order_max: i32,
        pub sale_starts_at: Option<DateTimeUtc>,
        pub sale_ends_at: Option<DateTimeUtc>,
        pub created_by: Uuid,
        pub updated_by: Uuid,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod registration_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "registrations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub event_id: Uuid,
        pub ticket_type_id: Uuid,
        pub attendee_name: String,
        pub attendee_email: String,
        pub quantity: i32,
        pub status: String,
        pub idempotency_key: Option<String>,
        pub check_in_code: Option<String>,
        pub checked_in_at: Option<DateTimeUtc>,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn corrupt(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("stored ticketing data is not readable: {e}"))
}

fn u(v: i32) -> Result<u32, DbErr> {
    u32::try_from(v).map_err(corrupt)
}

fn i(v: u32) -> Result<i32, DbErr> {
    i32::try_from(v).map_err(corrupt)
}

pub(crate) fn type_of(r: type_row::Model) -> Result<TicketType, DbErr> {
    Ok(TicketType {
        id: r.id,
        event_id: r.event_id,
        name: r.name,
        price_minor: r.price_minor,
        currency: r.currency,
        capacity: u(r.capacity)?,
        comps: u(r.comps)?,
        kills: u(r.kills)?,
        sold: u(r.sold)?,
        held: u(r.held)?,
        per_order_max: u(r.per_order_max)?,
        sale_starts_at: r.sale_starts_at,
        sale_ends_at: r.sale_ends_at,
        created_at: r.created_at,
    })
}

fn registration_of(r: registration_row::Model) -> Result<Registration, DbErr> {
    Ok(Registration {
        id: r.id,
        event_id: r.event_id,
        ticket_type_id: r.ticket_type_id,
        attendee_name: r.attendee_name,
        attendee_email: r.attendee_email,
        quantity: u(r.quantity)?,
        status: Status::parse(&r.status).ok_or_else(|| corrupt(&r.status))?,
        idempotency_key: r.idempotency_key,
        check_in_code: r.check_in_code,
        checked_in_at: r.checked_in_at,
        created_at: r.created_at,
    })
}

pub async fn insert_type(db: &impl ConnectionTrait, company: Uuid, t: &TicketType, by: Uuid) -> Result<(), DbErr> {
    type_row::ActiveModel {
        id: Set(t.id),
        company_id: Set(company),
        event_id: Set(t.event_id),
        name: Set(t.name.clone()),
        price_minor: Set(t.price_minor),
        currency: Set(t.currency.clone()),
        capacity: Set(i(t.capacity)?),
        comps: Set(i(t.comps)?),
        kills: Set(i(t.kills)?),
        sold: Set(0),
        held: Set(0),
        per_order_max: Set(i(t.per_order_max)?),
        sale_starts_at: Set(t.sale_starts_at),
        sale_ends_at: Set(t.sale_ends_at),
        created_by: Set(by),
        updated_by: Set(by),
        created_at: Set(t.created_at),
        updated_at: Set(t.created_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn ticket_type(
    db: &impl ConnectionTrait,
    company: Uuid,
    event: Uuid,
    id: Uuid,
) -> Result<Option<TicketType>, DbErr> {
    type_row::Entity::find()
        .filter(type_row::Column::CompanyId.eq(company))
        .filter(type_row::Column::EventId.eq(event))
        .filter(type_row::Column::Id.eq(id))
        .one(db)
        .await?
        .map(type_of)
        .transpose()
}

pub async fn ticket_types(db: &impl ConnectionTrait, company: Uuid, event: Uuid) -> Result<Vec<TicketType>, DbErr> {
    type_row::Entity::find()
        .filter(type_row::Column::CompanyId.eq(company))
        .filter(type_row::Column::EventId.eq(event))
        .order_by_asc(type_row::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(type_of)
        .collect()
}

/// Locks ticket types against seat changes until the transaction ends, one
/// at a time in id order (the order every seat change takes them in).
pub async fn lock(db: &impl ConnectionTrait, company: Uuid, ids: &[Uuid]) -> Result<(), DbErr> {
    let mut ids = ids.to_vec();
    ids.sort();
    for id in ids {
        type_row::Entity::update_many()
            .col_expr(type_row::Column::Held, Expr::col(type_row::Column::Held))
            .filter(type_row::Column::CompanyId.eq(company))
            .filter(type_row::Column::Id.eq(id))
            .exec(db)
            .await?;
    }
    Ok(())
}

pub async fn insert_registration(
    db: &impl ConnectionTrait,
    company: Uuid,
    r: &Registration,
    by: Uuid,
) -> Result<(), DbErr> {
    registration_active(company, r, by)?.insert(db).await?;
    Ok(())
}

/// Many registrations, each (company, registration, by), in one statement
/// per thousand (a group commit's).
pub async fn insert_registrations(db: &impl ConnectionTrait, rows: &[(Uuid, Registration, Uuid)]) -> Result<(), DbErr> {
    let rows =
        rows.iter().map(|(company, r, by)| registration_active(*company, r, *by)).collect::<Result<Vec<_>, _>>()?;
    for chunk in rows.chunks(1000) {
        registration_row::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
    }
    Ok(())
}

/// Which of these (company, idempotency key) pairs already name a registration.
pub async fn taken_keys(
    db: &impl ConnectionTrait,
    keys: &[(Uuid, String)],
) -> Result<std::collections::HashSet<(Uuid, String)>, DbErr> {
    crate::rows::taken_keys::<registration_row::Entity>(
        db,
        registration_row::Column::CompanyId,
        registration_row::Column::IdempotencyKey,
        keys,
    )
    .await
}

fn registration_active(company: Uuid, r: &Registration, by: Uuid) -> Result<registration_row::ActiveModel, DbErr> {
    Ok(registration_row::ActiveModel {
        id: Set(r.id),
        company_id: Set(company),
        event_id: Set(r.event_id),
        ticket_type_id: Set(r.ticket_type_id),
        attendee_name: Set(r.attendee_name.clone()),
        attendee_email: Set(r.attendee_email.clone()),
        quantity: Set(i(r.quantity)?),
        status: Set(r.status.as_str().to_owned()),
        idempotency_key: Set(r.idempotency_key.clone()),
        check_in_code: Set(r.check_in_code.clone()),
        checked_in_at: Set(None),
        created_by: Set(by),
        created_at: Set(r.created_at),
        updated_at: Set(r.created_at),
    })
}

pub async fn registration(
    db: &impl ConnectionTrait,
    company: Uuid,
    event: Uuid,
    id: Uuid,
) -> Result<Option<Registration>, DbErr> {
    registration_row::Entity::find()
        .filter(registration_row::Column::CompanyId.eq(company))
        .filter(registration_row::Column::EventId.eq(event))
        .filter(registration_row::Column::Id.eq(id))
        .one(db)
        .await?
        .map(registration_of)
        .transpose()
}

pub async fn by_idempotency_key(
    db: &impl ConnectionTrait,
    company: Uuid,
    key: &str,
) -> Result<Option<Registration>, DbErr> {
    registration_row::Entity::find()
        .filter(registration_row::Column::CompanyId.eq(company))
        .filter(registration_row::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?
        .map(registration_of)
        .transpose()
}

/// Moves a registration from `from` to `to` (with a code for confirmations); false if it was not `from`.
pub async fn set_status(
    db: &impl ConnectionTrait,
    id: Uuid,
    from: Status,
    to: Status,
    code: Option<String>,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut update = registration_row::Entity::update_many()
        .col_expr(registration_row::Column::Status, Expr::value(to.as_str()))
        .col_expr(registration_row::Column::UpdatedAt, Expr::value(at));
    if let Some(code) = code {
        update = update.col_expr(registration_row::Column::CheckInCode, Expr::value(code));
    }
    let done = update
        .filter(registration_row::Column::Id.eq(id))
        .filter(registration_row::Column::Status.eq(from.as_str()))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Marks a confirmed registration checked in, once.
pub async fn check_in(db: &impl ConnectionTrait, id: Uuid, at: DateTime<Utc>) -> Result<bool, DbErr> {
    let done = registration_row::Entity::update_many()
        .col_expr(registration_row::Column::CheckedInAt, Expr::value(at))
        .filter(registration_row::Column::Id.eq(id))
        .filter(registration_row::Column::Status.eq(Status::Confirmed.as_str()))
        .filter(registration_row::Column::CheckedInAt.is_null())
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// A ticket type's waiting list in its order, at most `limit` of it, after
/// `after` (the last one already seen): a long list is read a page at a time.
pub async fn waitlist(
    db: &impl ConnectionTrait,
    company: Uuid,
    ticket_type: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<Registration>, DbErr> {
    use registration_row::Column as C;
    let mut query = registration_row::Entity::find()
        .filter(C::CompanyId.eq(company))
        .filter(C::TicketTypeId.eq(ticket_type))
        .filter(C::Status.eq(Status::Waitlisted.as_str()));
    if let Some((at, id)) = after {
        query = query.filter(
            sea_orm::Condition::any()
                .add(C::CreatedAt.gt(at))
                .add(sea_orm::Condition::all().add(C::CreatedAt.eq(at)).add(C::Id.gt(id))),
        );
    }
    query
        .order_by_asc(C::CreatedAt)
        .order_by_asc(C::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(registration_of)
        .collect()
}

/// The seats waiting for each of these ticket types, summed by the database.
pub async fn waiting_seats(
    db: &impl ConnectionTrait,
    company: Uuid,
    ticket_types: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, u32>, DbErr> {
    use registration_row::Column as C;
    let sums: Vec<(Uuid, i64)> = registration_row::Entity::find()
        .select_only()
        .column(C::TicketTypeId)
        .column_as(Expr::cust("CAST(COALESCE(SUM(quantity), 0) AS BIGINT)"), "seats")
        .filter(C::CompanyId.eq(company))
        .filter(C::TicketTypeId.is_in(ticket_types.iter().copied()))
        .filter(C::Status.eq(Status::Waitlisted.as_str()))
        .group_by(C::TicketTypeId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(sums.into_iter().map(|(t, seats)| (t, u32::try_from(seats).unwrap_or(u32::MAX))).collect())
}

pub async fn registrations(
    db: &impl ConnectionTrait,
    company: Uuid,
    event: Uuid,
    filter: &RegistrationFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Registration>, u64), DbErr> {
    let mut query = registration_row::Entity::find()
        .filter(registration_row::Column::CompanyId.eq(company))
        .filter(registration_row::Column::EventId.eq(event));
    if let Some(s) = filter.status {
        query = query.filter(registration_row::Column::Status.eq(s.as_str()));
    }
    if let Some(t) = filter.ticket_type_id {
        query = query.filter(registration_row::Column::TicketTypeId.eq(t));
    }
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_asc(registration_row::Column::CreatedAt)
        .order_by_asc(registration_row::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows.into_iter().map(registration_of).collect::<Result<_, _>>()?, total))
}
