//! The only code that touches quotas, orders, their items, tickets and
//! refunds, and vouchers (the seat counters live in `seats`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, ExprTrait, PaginatorTrait, QueryOrder, QuerySelect, Set};

use super::model::{
    Attendee, DiscountKind, Order, OrderFilter, OrderItem, OrderStatus, Quota, Ticket, TicketStatus, Voucher,
};

pub mod quota_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "quotas")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub event_id: Uuid,
        pub name: String,
        pub size: i32,
        pub sold: i32,
        pub held: i32,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod quota_type_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "quota_ticket_types")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub quota_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub ticket_type_id: Uuid,
        pub company_id: Uuid,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod order_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "orders")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub event_id: Uuid,
        pub status: String,
        pub buyer_name: Option<String>,
        pub buyer_email: Option<String>,
        pub currency: String,
        pub subtotal_minor: i64,
        pub discount_minor: i64,
        pub total_minor: i64,
        pub refunded_minor: i64,
        pub voucher_id: Option<Uuid>,
        pub idempotency_key: String,
        pub expires_at: DateTimeUtc,
        pub payment_ref: Option<String>,
        pub paid_at: Option<DateTimeUtc>,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod item_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "order_items")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub order_id: Uuid,
        pub company_id: Uuid,
        pub ticket_type_id: Uuid,
        pub quantity: i32,
        pub unit_price_minor: i64,
        pub discount_minor: i64,
        pub voucher_seats: i32,
        pub attendees: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod ticket_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tickets")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub order_id: Uuid,
        pub event_id: Uuid,
        pub ticket_type_id: Uuid,
        pub attendee_name: Option<String>,
        pub attendee_email: Option<String>,
        pub price_minor: i64,
        pub status: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod refund_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "order_refunds")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub order_id: Uuid,
        pub amount_minor: i64,
        pub fee_minor: i64,
        pub tickets: i32,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod voucher_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "vouchers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub event_id: Uuid,
        pub code: String,
        pub discount_kind: String,
        pub discount_value: i64,
        pub ticket_type_ids: String,
        pub max_uses: i32,
        pub uses: i32,
        pub valid_until: Option<DateTimeUtc>,
        pub block_quota: bool,
        pub block_released: bool,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn corrupt(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("stored order data is not readable: {e}"))
}

fn u(v: i32) -> Result<u32, DbErr> {
    u32::try_from(v).map_err(corrupt)
}

fn i(v: u32) -> Result<i32, DbErr> {
    i32::try_from(v).map_err(corrupt)
}

// ---- quotas

pub async fn insert_quota(db: &impl ConnectionTrait, company: Uuid, q: &Quota, by: Uuid) -> Result<(), DbErr> {
    quota_row::ActiveModel {
        id: Set(q.id),
        company_id: Set(company),
        event_id: Set(q.event_id),
        name: Set(q.name.clone()),
        size: Set(i(q.size)?),
        sold: Set(i(q.sold)?),
        held: Set(i(q.held)?),
        created_by: Set(by),
        created_at: Set(q.created_at),
    }
    .insert(db)
    .await?;
    let links = q.ticket_type_ids.iter().map(|t| quota_type_row::ActiveModel {
        quota_id: Set(q.id),
        ticket_type_id: Set(*t),
        company_id: Set(company),
    });
    quota_type_row::Entity::insert_many(links).exec(db).await?;
    Ok(())
}

pub async fn quotas(db: &impl ConnectionTrait, company: Uuid, event: Uuid) -> Result<Vec<Quota>, DbErr> {
    let rows = quota_row::Entity::find()
        .filter(quota_row::Column::CompanyId.eq(company))
        .filter(quota_row::Column::EventId.eq(event))
        .order_by_asc(quota_row::Column::CreatedAt)
        .order_by_asc(quota_row::Column::Id)
        .all(db)
        .await?;
    let mut links: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for l in quota_type_row::Entity::find()
        .filter(quota_type_row::Column::CompanyId.eq(company))
        .filter(quota_type_row::Column::QuotaId.is_in(rows.iter().map(|r| r.id)))
        .all(db)
        .await?
    {
        links.entry(l.quota_id).or_default().push(l.ticket_type_id);
    }
    rows.into_iter()
        .map(|r| {
            Ok(Quota {
                id: r.id,
                event_id: r.event_id,
                name: r.name,
                size: u(r.size)?,
                sold: u(r.sold)?,
                held: u(r.held)?,
                ticket_type_ids: links.remove(&r.id).unwrap_or_default(),
                created_at: r.created_at,
            })
        })
        .collect()
}

// ---- vouchers

fn voucher_of(r: voucher_row::Model) -> Result<Voucher, DbErr> {
    Ok(Voucher {
        id: r.id,
        event_id: r.event_id,
        code: r.code,
        discount_kind: DiscountKind::parse(&r.discount_kind).ok_or_else(|| corrupt(&r.discount_kind))?,
        discount_value: r.discount_value,
        ticket_type_ids: serde_json::from_str(&r.ticket_type_ids).map_err(corrupt)?,
        max_uses: u(r.max_uses)?,
        uses: u(r.uses)?,
        valid_until: r.valid_until,
        block_quota: r.block_quota && !r.block_released,
        created_at: r.created_at,
    })
}

pub async fn insert_voucher(db: &impl ConnectionTrait, company: Uuid, v: &Voucher, by: Uuid) -> Result<(), DbErr> {
    voucher_row::ActiveModel {
        id: Set(v.id),
        company_id: Set(company),
        event_id: Set(v.event_id),
        code: Set(v.code.clone()),
        discount_kind: Set(v.discount_kind.as_str().to_owned()),
        discount_value: Set(v.discount_value),
        ticket_type_ids: Set(serde_json::to_string(&v.ticket_type_ids).map_err(corrupt)?),
        max_uses: Set(i(v.max_uses)?),
        uses: Set(0),
        valid_until: Set(v.valid_until),
        block_quota: Set(v.block_quota),
        block_released: Set(false),
        created_by: Set(by),
        created_at: Set(v.created_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn vouchers(db: &impl ConnectionTrait, company: Uuid, event: Uuid) -> Result<Vec<Voucher>, DbErr> {
    voucher_row::Entity::find()
        .filter(voucher_row::Column::CompanyId.eq(company))
        .filter(voucher_row::Column::EventId.eq(event))
        .order_by_asc(voucher_row::Column::CreatedAt)
        .order_by_asc(voucher_row::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(voucher_of)
        .collect()
}

pub async fn voucher(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<Voucher>, DbErr> {
    voucher_row::Entity::find()
        .filter(voucher_row::Column::CompanyId.eq(company))
        .filter(voucher_row::Column::Id.eq(id))
        .one(db)
        .await?
        .map(voucher_of)
        .transpose()
}

pub async fn voucher_by_code(
    db: &impl ConnectionTrait,
    company: Uuid,
    event: Uuid,
    code: &str,
) -> Result<Option<Voucher>, DbErr> {
    voucher_row::Entity::find()
        .filter(voucher_row::Column::CompanyId.eq(company))
        .filter(voucher_row::Column::EventId.eq(event))
        .filter(voucher_row::Column::Code.eq(code))
        .one(db)
        .await?
        .map(voucher_of)
        .transpose()
}

/// Counts `seats` more uses if they stay within `maxUses`; false otherwise.
pub async fn use_voucher(db: &impl ConnectionTrait, id: Uuid, seats: u32) -> Result<bool, DbErr> {
    let q = i(seats)?;
    let done = voucher_row::Entity::update_many()
        .col_expr(voucher_row::Column::Uses, Expr::col(voucher_row::Column::Uses).add(q))
        .filter(voucher_row::Column::Id.eq(id))
        .filter(Expr::col(voucher_row::Column::Uses).add(q).lte(Expr::col(voucher_row::Column::MaxUses)))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Gives `seats` uses back; whether the voucher's block still holds seats
/// (then those seats go back to it).
pub async fn unuse_voucher(db: &impl ConnectionTrait, id: Uuid, seats: u32) -> Result<bool, DbErr> {
    let rows = voucher_row::Entity::update_many()
        .col_expr(voucher_row::Column::Uses, Expr::col(voucher_row::Column::Uses).sub(i(seats)?))
        .filter(voucher_row::Column::Id.eq(id))
        .exec_with_returning(db)
        .await?;
    Ok(rows.first().is_some_and(|v| v.block_quota && !v.block_released))
}

/// Ends a voucher's block once: the seats it still held (max uses less
/// uses), or None if it held none or was already released.
pub async fn release_block(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<u32>, DbErr> {
    let rows = voucher_row::Entity::update_many()
        .col_expr(voucher_row::Column::BlockReleased, Expr::value(true))
        .filter(voucher_row::Column::CompanyId.eq(company))
        .filter(voucher_row::Column::Id.eq(id))
        .filter(voucher_row::Column::BlockQuota.eq(true))
        .filter(voucher_row::Column::BlockReleased.eq(false))
        .exec_with_returning(db)
        .await?;
    Ok(rows.first().map(|v| u32::try_from(v.max_uses - v.uses).unwrap_or(0)))
}

/// Blocking vouchers whose validity ended and whose seats are still held.
pub async fn lapsed_blocks(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<(Uuid, Uuid)>, DbErr> {
    Ok(voucher_row::Entity::find()
        .filter(voucher_row::Column::BlockQuota.eq(true))
        .filter(voucher_row::Column::BlockReleased.eq(false))
        .filter(voucher_row::Column::ValidUntil.lte(now))
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.company_id, v.id))
        .collect())
}

pub async fn delete_voucher(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<bool, DbErr> {
    let done = voucher_row::Entity::delete_many()
        .filter(voucher_row::Column::CompanyId.eq(company))
        .filter(voucher_row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

pub async fn voucher_in_orders(db: &impl ConnectionTrait, id: Uuid) -> Result<bool, DbErr> {
    Ok(order_row::Entity::find().filter(order_row::Column::VoucherId.eq(id)).one(db).await?.is_some())
}

// ---- orders

fn ticket_of(r: ticket_row::Model) -> Result<Ticket, DbErr> {
    Ok(Ticket {
        id: r.id,
        order_id: r.order_id,
        event_id: r.event_id,
        ticket_type_id: r.ticket_type_id,
        attendee_name: r.attendee_name,
        attendee_email: r.attendee_email,
        price_minor: r.price_minor,
        status: TicketStatus::parse(&r.status).ok_or_else(|| corrupt(&r.status))?,
        token: None,
        created_at: r.created_at,
    })
}

fn item_of(r: item_row::Model) -> Result<OrderItem, DbErr> {
    let attendees: Vec<Attendee> = match r.attendees {
        Some(json) => serde_json::from_str(&json).map_err(corrupt)?,
        None => Vec::new(),
    };
    Ok(OrderItem {
        ticket_type_id: r.ticket_type_id,
        quantity: u(r.quantity)?,
        unit_price_minor: r.unit_price_minor,
        discount_minor: r.discount_minor,
        voucher_seats: u(r.voucher_seats)?,
        attendees,
    })
}

/// Orders with their items and tickets, read for all of them at once.
async fn assemble(db: &impl ConnectionTrait, rows: Vec<order_row::Model>) -> Result<Vec<Order>, DbErr> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut items: HashMap<Uuid, Vec<OrderItem>> = HashMap::new();
    for r in item_row::Entity::find()
        .filter(item_row::Column::OrderId.is_in(ids.iter().copied()))
        .order_by_asc(item_row::Column::Id)
        .all(db)
        .await?
    {
        items.entry(r.order_id).or_default().push(item_of(r)?);
    }
    let mut tickets: HashMap<Uuid, Vec<Ticket>> = HashMap::new();
    for r in ticket_row::Entity::find()
        .filter(ticket_row::Column::OrderId.is_in(ids))
        .order_by_asc(ticket_row::Column::Id)
        .all(db)
        .await?
    {
        tickets.entry(r.order_id).or_default().push(ticket_of(r)?);
    }
    rows.into_iter()
        .map(|r| {
            Ok(Order {
                id: r.id,
                event_id: r.event_id,
                status: OrderStatus::parse(&r.status).ok_or_else(|| corrupt(&r.status))?,
                buyer_name: r.buyer_name,
                buyer_email: r.buyer_email,
                items: items.remove(&r.id).unwrap_or_default(),
                currency: r.currency,
                subtotal_minor: r.subtotal_minor,
                discount_minor: r.discount_minor,
                total_minor: r.total_minor,
                refunded_minor: r.refunded_minor,
                voucher_id: r.voucher_id,
                idempotency_key: r.idempotency_key,
                expires_at: r.expires_at,
                payment_ref: r.payment_ref,
                paid_at: r.paid_at,
                tickets: tickets.remove(&r.id).unwrap_or_default(),
                created_at: r.created_at,
            })
        })
        .collect()
}

pub async fn insert_order(db: &impl ConnectionTrait, company: Uuid, o: &Order, by: Uuid) -> Result<(), DbErr> {
    insert_orders(db, &[(company, o.clone(), by)]).await
}

/// Orders, each (company, order, by), with their items: one statement for
/// the orders and one for the items per thousand (a group commit's).
pub async fn insert_orders(db: &impl ConnectionTrait, orders: &[(Uuid, Order, Uuid)]) -> Result<(), DbErr> {
    let mut rows = Vec::new();
    let mut items = Vec::new();
    for (company, o, by) in orders {
        rows.push(order_row::ActiveModel {
            id: Set(o.id),
            company_id: Set(*company),
            event_id: Set(o.event_id),
            status: Set(o.status.as_str().to_owned()),
            buyer_name: Set(o.buyer_name.clone()),
            buyer_email: Set(o.buyer_email.clone()),
            currency: Set(o.currency.clone()),
            subtotal_minor: Set(o.subtotal_minor),
            discount_minor: Set(o.discount_minor),
            total_minor: Set(o.total_minor),
            refunded_minor: Set(0),
            voucher_id: Set(o.voucher_id),
            idempotency_key: Set(o.idempotency_key.clone()),
            expires_at: Set(o.expires_at),
            payment_ref: Set(None),
            paid_at: Set(None),
            created_by: Set(*by),
            created_at: Set(o.created_at),
            updated_at: Set(o.created_at),
        });
        for item in &o.items {
            items.push(item_row::ActiveModel {
                id: Set(Uuid::now_v7()),
                order_id: Set(o.id),
                company_id: Set(*company),
                ticket_type_id: Set(item.ticket_type_id),
                quantity: Set(i(item.quantity)?),
                unit_price_minor: Set(item.unit_price_minor),
                discount_minor: Set(item.discount_minor),
                voucher_seats: Set(i(item.voucher_seats)?),
                attendees: Set(if item.attendees.is_empty() {
                    None
                } else {
                    Some(serde_json::to_string(&item.attendees).map_err(corrupt)?)
                }),
            });
        }
    }
    for chunk in rows.chunks(1000) {
        order_row::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
    }
    for chunk in items.chunks(1000) {
        item_row::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
    }
    Ok(())
}

/// Which of these (company, idempotency key) pairs already name an order.
pub async fn taken_order_keys(
    db: &impl ConnectionTrait,
    keys: &[(Uuid, String)],
) -> Result<std::collections::HashSet<(Uuid, String)>, DbErr> {
    crate::rows::taken_keys::<order_row::Entity>(
        db,
        order_row::Column::CompanyId,
        order_row::Column::IdempotencyKey,
        keys,
    )
    .await
}

pub async fn order(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<Order>, DbErr> {
    let rows = order_row::Entity::find()
        .filter(order_row::Column::CompanyId.eq(company))
        .filter(order_row::Column::Id.eq(id))
        .all(db)
        .await?;
    Ok(assemble(db, rows).await?.pop())
}

pub async fn order_by_key(db: &impl ConnectionTrait, company: Uuid, key: &str) -> Result<Option<Order>, DbErr> {
    let rows = order_row::Entity::find()
        .filter(order_row::Column::CompanyId.eq(company))
        .filter(order_row::Column::IdempotencyKey.eq(key))
        .all(db)
        .await?;
    Ok(assemble(db, rows).await?.pop())
}

pub async fn orders(
    db: &impl ConnectionTrait,
    company: Uuid,
    event: Uuid,
    filter: &OrderFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Order>, u64), DbErr> {
    let mut query = order_row::Entity::find()
        .filter(order_row::Column::CompanyId.eq(company))
        .filter(order_row::Column::EventId.eq(event));
    if let Some(s) = filter.status {
        query = query.filter(order_row::Column::Status.eq(s.as_str()));
    }
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_asc(order_row::Column::CreatedAt)
        .order_by_asc(order_row::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((assemble(db, rows).await?, total))
}

/// Moves an order from `from` to `to`; false when it was no longer `from`.
pub async fn set_status(
    db: &impl ConnectionTrait,
    id: Uuid,
    from: OrderStatus,
    to: OrderStatus,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = order_row::Entity::update_many()
        .col_expr(order_row::Column::Status, Expr::value(to.as_str()))
        .col_expr(order_row::Column::UpdatedAt, Expr::value(at))
        .filter(order_row::Column::Id.eq(id))
        .filter(order_row::Column::Status.eq(from.as_str()))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Marks an order paid if it still was `from`; false otherwise.
pub async fn mark_paid(
    db: &impl ConnectionTrait,
    id: Uuid,
    from: OrderStatus,
    payment_ref: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = order_row::Entity::update_many()
        .col_expr(order_row::Column::Status, Expr::value(OrderStatus::Paid.as_str()))
        .col_expr(order_row::Column::PaymentRef, Expr::value(payment_ref))
        .col_expr(order_row::Column::PaidAt, Expr::value(at))
        .col_expr(order_row::Column::UpdatedAt, Expr::value(at))
        .filter(order_row::Column::Id.eq(id))
        .filter(order_row::Column::Status.eq(from.as_str()))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Reservations whose time is up, oldest first: (company, order).
pub async fn overdue(db: &impl ConnectionTrait, now: DateTime<Utc>, limit: u64) -> Result<Vec<(Uuid, Uuid)>, DbErr> {
    Ok(order_row::Entity::find()
        .filter(order_row::Column::Status.eq(OrderStatus::Reserved.as_str()))
        .filter(order_row::Column::ExpiresAt.lte(now))
        .order_by_asc(order_row::Column::ExpiresAt)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.company_id, o.id))
        .collect())
}

/// An event's reservations whose time is up.
pub async fn overdue_of_event(
    db: &impl ConnectionTrait,
    company: Uuid,
    event: Uuid,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Uuid>, DbErr> {
    order_row::Entity::find()
        .select_only()
        .column(order_row::Column::Id)
        .filter(order_row::Column::CompanyId.eq(company))
        .filter(order_row::Column::EventId.eq(event))
        .filter(order_row::Column::Status.eq(OrderStatus::Reserved.as_str()))
        .filter(order_row::Column::ExpiresAt.lte(now))
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

pub async fn ticket(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<Ticket>, DbErr> {
    ticket_row::Entity::find()
        .filter(ticket_row::Column::CompanyId.eq(company))
        .filter(ticket_row::Column::Id.eq(id))
        .one(db)
        .await?
        .map(ticket_of)
        .transpose()
}

pub async fn insert_tickets(db: &impl ConnectionTrait, company: Uuid, tickets: &[Ticket]) -> Result<(), DbErr> {
    let rows = tickets.iter().map(|t| ticket_row::ActiveModel {
        id: Set(t.id),
        company_id: Set(company),
        order_id: Set(t.order_id),
        event_id: Set(t.event_id),
        ticket_type_id: Set(t.ticket_type_id),
        attendee_name: Set(t.attendee_name.clone()),
        attendee_email: Set(t.attendee_email.clone()),
        price_minor: Set(t.price_minor),
        status: Set(t.status.as_str().to_owned()),
        created_at: Set(t.created_at),
        updated_at: Set(t.created_at),
    });
    ticket_row::Entity::insert_many(rows).exec(db).await?;
    Ok(())
}

/// Refunds these valid tickets of an order; the number actually moved.
pub async fn refund_tickets(
    db: &impl ConnectionTrait,
    order: Uuid,
    ids: &[Uuid],
    at: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let done = ticket_row::Entity::update_many()
        .col_expr(ticket_row::Column::Status, Expr::value(TicketStatus::Refunded.as_str()))
        .col_expr(ticket_row::Column::UpdatedAt, Expr::value(at))
        .filter(ticket_row::Column::OrderId.eq(order))
        .filter(ticket_row::Column::Id.is_in(ids.iter().copied()))
        .filter(ticket_row::Column::Status.eq(TicketStatus::Valid.as_str()))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

/// Records a refund on its order, and ends the order when nothing is left.
pub async fn record_refund(
    db: &impl ConnectionTrait,
    company: Uuid,
    order: Uuid,
    refund: (Uuid, i64, i64, u32),
    all_refunded: bool,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let (id, amount, fee, tickets) = refund;
    refund_row::ActiveModel {
        id: Set(id),
        company_id: Set(company),
        order_id: Set(order),
        amount_minor: Set(amount),
        fee_minor: Set(fee),
        tickets: Set(i(tickets)?),
        created_by: Set(by),
        created_at: Set(at),
    }
    .insert(db)
    .await?;
    let mut update = order_row::Entity::update_many()
        .col_expr(order_row::Column::RefundedMinor, Expr::col(order_row::Column::RefundedMinor).add(amount))
        .col_expr(order_row::Column::UpdatedAt, Expr::value(at));
    if all_refunded {
        update = update.col_expr(order_row::Column::Status, Expr::value(OrderStatus::Refunded.as_str()));
    }
    update.filter(order_row::Column::Id.eq(order)).exec(db).await?;
    Ok(())
}
