//! The only code that touches the webhook tables. Endpoint and delivery reads
//! for people are scoped by company; the dispatcher's are not (it serves
//! every company).

use chrono::{DateTime, Utc};
use marquee_kit::Sealer;
use marquee_webhooks::Secret;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Func, OnConflict, Query};
use sea_orm::{ConnectionTrait, ExprTrait, PaginatorTrait, QueryOrder, QuerySelect, Set};

use super::model::{Delivery, DeliveryStatus, Endpoint, message_id};

pub mod endpoint_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_endpoints")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub url: String,
        pub description: String,
        pub event_types: String,
        pub enabled: bool,
        pub disabled_reason: Option<String>,
        pub secret_sealed: String,
        pub previous_secret_sealed: Option<String>,
        pub previous_secret_until: Option<DateTimeUtc>,
        pub version: i64,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod message_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_messages")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub event_type: String,
        pub payload: String,
        pub created_at: DateTimeUtc,
        pub fanned_out: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod delivery_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_deliveries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub message_id: Uuid,
        pub endpoint_id: Uuid,
        pub event_type: String,
        pub status: String,
        pub attempts: i32,
        pub next_attempt_at: DateTimeUtc,
        pub last_attempt_at: Option<DateTimeUtc>,
        pub last_status_code: Option<i32>,
        pub last_latency_ms: Option<i64>,
        pub last_response: Option<String>,
        pub last_error: Option<String>,
        pub delivered_at: Option<DateTimeUtc>,
        /// Until when an attempt under way holds it.
        pub claimed_until: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn corrupt(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("stored webhook data is not readable: {e}"))
}

fn open(sealer: &Sealer, sealed: &str) -> Result<Secret, DbErr> {
    let text = sealer.open(sealed).map_err(|_| corrupt("a signing secret cannot be unsealed"))?;
    Secret::parse(&String::from_utf8_lossy(&text)).ok_or_else(|| corrupt("a signing secret is malformed"))
}

fn endpoint_of(sealer: &Sealer, r: endpoint_row::Model) -> Result<Endpoint, DbErr> {
    let previous = match (&r.previous_secret_sealed, r.previous_secret_until) {
        (Some(sealed), Some(until)) => Some((open(sealer, sealed)?, until)),
        _ => None,
    };
    Ok(Endpoint {
        id: r.id,
        company_id: r.company_id,
        url: r.url,
        description: r.description,
        event_types: serde_json::from_str(&r.event_types).map_err(corrupt)?,
        enabled: r.enabled,
        disabled_reason: r.disabled_reason,
        secret: open(sealer, &r.secret_sealed)?,
        previous,
        version: u64::try_from(r.version).map_err(corrupt)?,
        created_by: r.created_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

fn row_of(sealer: &Sealer, e: &Endpoint) -> Result<endpoint_row::ActiveModel, DbErr> {
    Ok(endpoint_row::ActiveModel {
        id: Set(e.id),
        company_id: Set(e.company_id),
        url: Set(e.url.clone()),
        description: Set(e.description.clone()),
        event_types: Set(serde_json::to_string(&e.event_types).map_err(corrupt)?),
        enabled: Set(e.enabled),
        disabled_reason: Set(e.disabled_reason.clone()),
        secret_sealed: Set(sealer.seal(e.secret.to_text().as_bytes())),
        previous_secret_sealed: Set(e.previous.as_ref().map(|(s, _)| sealer.seal(s.to_text().as_bytes()))),
        previous_secret_until: Set(e.previous.as_ref().map(|(_, until)| *until)),
        version: Set(i64::try_from(e.version).map_err(corrupt)?),
        created_by: Set(e.created_by),
        created_at: Set(e.created_at),
        updated_at: Set(e.updated_at),
    })
}

pub async fn insert_endpoint(db: &impl ConnectionTrait, sealer: &Sealer, e: &Endpoint) -> Result<(), DbErr> {
    row_of(sealer, e)?.insert(db).await?;
    Ok(())
}

/// Writes `e` over the stored endpoint if that is still at `e.version - 1`.
pub async fn update_endpoint(db: &impl ConnectionTrait, sealer: &Sealer, e: &Endpoint) -> Result<bool, DbErr> {
    let mut row = row_of(sealer, e)?;
    row.id = sea_orm::ActiveValue::NotSet;
    row.company_id = sea_orm::ActiveValue::NotSet;
    row.created_at = sea_orm::ActiveValue::NotSet;
    row.created_by = sea_orm::ActiveValue::NotSet;
    let done = endpoint_row::Entity::update_many()
        .set(row)
        .filter(endpoint_row::Column::CompanyId.eq(e.company_id))
        .filter(endpoint_row::Column::Id.eq(e.id))
        .filter(endpoint_row::Column::Version.eq(i64::try_from(e.version - 1).map_err(corrupt)?))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

pub async fn endpoint(
    db: &impl ConnectionTrait,
    sealer: &Sealer,
    company: Uuid,
    id: Uuid,
) -> Result<Option<Endpoint>, DbErr> {
    endpoint_row::Entity::find()
        .filter(endpoint_row::Column::CompanyId.eq(company))
        .filter(endpoint_row::Column::Id.eq(id))
        .one(db)
        .await?
        .map(|r| endpoint_of(sealer, r))
        .transpose()
}

pub async fn endpoints(
    db: &impl ConnectionTrait,
    sealer: &Sealer,
    company: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Endpoint>, u64), DbErr> {
    let query = endpoint_row::Entity::find().filter(endpoint_row::Column::CompanyId.eq(company));
    let total = query.clone().count(db).await?;
    let rows = query.order_by_asc(endpoint_row::Column::Id).offset(offset).limit(limit).all(db).await?;
    Ok((rows.into_iter().map(|r| endpoint_of(sealer, r)).collect::<Result<_, _>>()?, total))
}

pub async fn count_endpoints(db: &impl ConnectionTrait, company: Uuid) -> Result<u64, DbErr> {
    endpoint_row::Entity::find().filter(endpoint_row::Column::CompanyId.eq(company)).count(db).await
}

/// Deletes an endpoint; its deliveries still waiting fail.
pub async fn delete_endpoint(
    db: &impl ConnectionTrait,
    company: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = endpoint_row::Entity::delete_many()
        .filter(endpoint_row::Column::CompanyId.eq(company))
        .filter(endpoint_row::Column::Id.eq(id))
        .exec(db)
        .await?;
    if done.rows_affected != 1 {
        return Ok(false);
    }
    fail_waiting(db, company, id, "the endpoint was deleted", now).await?;
    Ok(true)
}

/// Disables an endpoint on the receiver's word (410); its waiting deliveries fail.
pub async fn disable_endpoint(
    db: &impl ConnectionTrait,
    company: Uuid,
    id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    endpoint_row::Entity::update_many()
        .col_expr(endpoint_row::Column::Enabled, Expr::value(false))
        .col_expr(endpoint_row::Column::DisabledReason, Expr::value(reason))
        .col_expr(endpoint_row::Column::Version, Expr::col(endpoint_row::Column::Version).add(1))
        .col_expr(endpoint_row::Column::UpdatedAt, Expr::value(now))
        .filter(endpoint_row::Column::CompanyId.eq(company))
        .filter(endpoint_row::Column::Id.eq(id))
        .exec(db)
        .await?;
    fail_waiting(db, company, id, "the endpoint is disabled", now).await
}

/// Fails an endpoint's waiting deliveries, finished now (an attempt under
/// way keeps its claim until it ends).
async fn fail_waiting(
    db: &impl ConnectionTrait,
    company: Uuid,
    endpoint: Uuid,
    why: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    delivery_row::Entity::update_many()
        .col_expr(delivery_row::Column::Status, Expr::value(DeliveryStatus::Failed.as_str()))
        .col_expr(delivery_row::Column::LastError, Expr::value(why))
        .col_expr(delivery_row::Column::NextAttemptAt, Expr::value(now))
        .filter(delivery_row::Column::CompanyId.eq(company))
        .filter(delivery_row::Column::EndpointId.eq(endpoint))
        .filter(delivery_row::Column::Status.eq(DeliveryStatus::Pending.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

// ---- messages

pub async fn insert_messages(
    db: &impl ConnectionTrait,
    messages: Vec<(Uuid, Uuid, &str, String)>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let rows: Vec<message_row::ActiveModel> = messages
        .into_iter()
        .map(|(id, company, event_type, payload)| message_row::ActiveModel {
            id: Set(id),
            company_id: Set(company),
            event_type: Set(event_type.to_owned()),
            payload: Set(payload),
            created_at: Set(now),
            fanned_out: Set(false),
        })
        .collect();
    for chunk in rows.chunks(500) {
        message_row::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
    }
    Ok(())
}

/// Messages taken from another service's feed, each (id, company, event
/// type, body): one already stored under its id is not stored again.
pub async fn insert_taken(
    db: &impl ConnectionTrait,
    messages: Vec<(Uuid, Uuid, String, String)>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if messages.is_empty() {
        return Ok(());
    }
    let rows = messages.into_iter().map(|(id, company, event_type, payload)| message_row::ActiveModel {
        id: Set(id),
        company_id: Set(company),
        event_type: Set(event_type),
        payload: Set(payload),
        created_at: Set(now),
        fanned_out: Set(false),
    });
    message_row::Entity::insert_many(rows)
        .on_conflict(OnConflict::column(message_row::Column::Id).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Messages not fanned out yet, oldest first.
pub async fn waiting_messages(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<message_row::Model>, DbErr> {
    message_row::Entity::find()
        .filter(message_row::Column::FannedOut.eq(false))
        .order_by_asc(message_row::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

pub async fn message(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<message_row::Model>, DbErr> {
    message_row::Entity::find_by_id(id).one(db).await
}

/// Enabled endpoints of `companies`.
pub async fn enabled_endpoints(
    db: &impl ConnectionTrait,
    sealer: &Sealer,
    companies: Vec<Uuid>,
) -> Result<Vec<Endpoint>, DbErr> {
    let rows = endpoint_row::Entity::find()
        .filter(endpoint_row::Column::CompanyId.is_in(companies))
        .filter(endpoint_row::Column::Enabled.eq(true))
        .all(db)
        .await?;
    rows.into_iter().map(|r| endpoint_of(sealer, r)).collect()
}

pub async fn endpoint_by_id(db: &impl ConnectionTrait, sealer: &Sealer, id: Uuid) -> Result<Option<Endpoint>, DbErr> {
    endpoint_row::Entity::find_by_id(id).one(db).await?.map(|r| endpoint_of(sealer, r)).transpose()
}

/// A message's deliveries, one per endpoint (a replica that fanned it out
/// too adds nothing), and the message marked fanned out.
pub async fn fan_out(
    db: &impl ConnectionTrait,
    message: Uuid,
    deliveries: Vec<delivery_row::Model>,
) -> Result<(), DbErr> {
    if !deliveries.is_empty() {
        delivery_row::Entity::insert_many(deliveries.into_iter().map(delivery_row::ActiveModel::from))
            .on_conflict(
                OnConflict::columns([delivery_row::Column::MessageId, delivery_row::Column::EndpointId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    message_row::Entity::update_many()
        .col_expr(message_row::Column::FannedOut, Expr::value(true))
        .filter(message_row::Column::Id.eq(message))
        .exec(db)
        .await?;
    Ok(())
}

// ---- deliveries

/// Endpoints (with their companies) that have deliveries due, the most
/// overdue first, leaving out those already being served and the companies
/// already holding their share of the attempts.
pub async fn due_endpoints(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
    busy_endpoints: Vec<Uuid>,
    full_companies: Vec<Uuid>,
) -> Result<Vec<(Uuid, Uuid)>, DbErr> {
    let mut query = delivery_row::Entity::find()
        .select_only()
        .column(delivery_row::Column::EndpointId)
        .column(delivery_row::Column::CompanyId)
        .filter(delivery_row::Column::Status.eq(DeliveryStatus::Pending.as_str()))
        .filter(delivery_row::Column::NextAttemptAt.lte(now));
    if !busy_endpoints.is_empty() {
        query = query.filter(delivery_row::Column::EndpointId.is_not_in(busy_endpoints));
    }
    if !full_companies.is_empty() {
        query = query.filter(delivery_row::Column::CompanyId.is_not_in(full_companies));
    }
    query
        .group_by(delivery_row::Column::EndpointId)
        .group_by(delivery_row::Column::CompanyId)
        .order_by_asc(Func::min(Expr::col(delivery_row::Column::NextAttemptAt)))
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

/// An endpoint's deliveries due, oldest message first.
pub async fn due_for_endpoint(
    db: &impl ConnectionTrait,
    endpoint: Uuid,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<delivery_row::Model>, DbErr> {
    delivery_row::Entity::find()
        .filter(delivery_row::Column::EndpointId.eq(endpoint))
        .filter(delivery_row::Column::Status.eq(DeliveryStatus::Pending.as_str()))
        .filter(delivery_row::Column::NextAttemptAt.lte(now))
        .order_by_asc(delivery_row::Column::MessageId)
        .limit(limit)
        .all(db)
        .await
}

/// Takes a delivery for one attempt: counts the attempt and sets its next
/// time past the attempt's end, so no other replica takes it meanwhile;
/// false if another took it first.
pub async fn claim(
    db: &impl ConnectionTrait,
    d: &delivery_row::Model,
    now: DateTime<Utc>,
    lease: chrono::Duration,
) -> Result<bool, DbErr> {
    let done = delivery_row::Entity::update_many()
        .col_expr(delivery_row::Column::Attempts, Expr::value(d.attempts + 1))
        .col_expr(delivery_row::Column::NextAttemptAt, Expr::value(now + lease))
        .col_expr(delivery_row::Column::ClaimedUntil, Expr::value(Some(now + lease)))
        .filter(delivery_row::Column::Id.eq(d.id))
        .filter(delivery_row::Column::Status.eq(DeliveryStatus::Pending.as_str()))
        .filter(delivery_row::Column::Attempts.eq(d.attempts))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// What an attempt came to, and what follows it.
pub struct Outcome<'a> {
    pub attempt: &'a marquee_webhooks::Attempt,
    pub at: DateTime<Utc>,
    pub status: DeliveryStatus,
    pub next_attempt_at: DateTime<Utc>,
}

/// Records an attempt on the delivery it claimed (`attempt`, its number),
/// unless the delivery was claimed again since; whether it was recorded.
pub async fn record(db: &impl ConnectionTrait, id: Uuid, attempt: i32, o: Outcome<'_>) -> Result<bool, DbErr> {
    let delivered = (o.status == DeliveryStatus::Succeeded).then_some(o.at);
    let done = delivery_row::Entity::update_many()
        .col_expr(delivery_row::Column::Status, Expr::value(o.status.as_str()))
        .col_expr(delivery_row::Column::NextAttemptAt, Expr::value(o.next_attempt_at))
        .col_expr(delivery_row::Column::LastAttemptAt, Expr::value(o.at))
        .col_expr(delivery_row::Column::LastStatusCode, Expr::value(o.attempt.status.map(i32::from)))
        .col_expr(delivery_row::Column::LastLatencyMs, Expr::value(o.attempt.latency_ms))
        .col_expr(delivery_row::Column::LastResponse, Expr::value(o.attempt.excerpt.clone()))
        .col_expr(delivery_row::Column::LastError, Expr::value(o.attempt.error.clone()))
        .col_expr(delivery_row::Column::DeliveredAt, Expr::value(delivered))
        .col_expr(delivery_row::Column::ClaimedUntil, Expr::value(None::<DateTime<Utc>>))
        .filter(delivery_row::Column::Id.eq(id))
        .filter(delivery_row::Column::Attempts.eq(attempt))
        .filter(delivery_row::Column::Status.eq(DeliveryStatus::Pending.as_str()))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Lets go of a claim whose attempt could not be recorded (the delivery was
/// failed meanwhile, with its endpoint), so a redelivery is not refused.
pub async fn release(db: &impl ConnectionTrait, id: Uuid, attempt: i32) -> Result<(), DbErr> {
    delivery_row::Entity::update_many()
        .col_expr(delivery_row::Column::ClaimedUntil, Expr::value(None::<DateTime<Utc>>))
        .filter(delivery_row::Column::Id.eq(id))
        .filter(delivery_row::Column::Attempts.eq(attempt))
        .exec(db)
        .await?;
    Ok(())
}

fn delivery_of(r: delivery_row::Model) -> Delivery {
    let status = DeliveryStatus::parse(&r.status);
    Delivery {
        id: r.id,
        endpoint_id: r.endpoint_id,
        message_id: message_id(r.message_id),
        event_type: r.event_type,
        status,
        attempts: u32::try_from(r.attempts).unwrap_or(0),
        next_attempt_at: (status == DeliveryStatus::Pending).then_some(r.next_attempt_at),
        last_attempt_at: r.last_attempt_at,
        last_status_code: r.last_status_code.and_then(|c| u16::try_from(c).ok()),
        last_latency_ms: r.last_latency_ms,
        last_response: r.last_response,
        last_error: r.last_error,
        delivered_at: r.delivered_at,
    }
}

/// An endpoint's deliveries, newest first.
pub async fn deliveries(
    db: &impl ConnectionTrait,
    company: Uuid,
    endpoint: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Delivery>, u64), DbErr> {
    let query = delivery_row::Entity::find()
        .filter(delivery_row::Column::CompanyId.eq(company))
        .filter(delivery_row::Column::EndpointId.eq(endpoint));
    let total = query.clone().count(db).await?;
    let rows = query.order_by_desc(delivery_row::Column::Id).offset(offset).limit(limit).all(db).await?;
    Ok((rows.into_iter().map(delivery_of).collect(), total))
}

pub async fn delivery(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<Delivery>, DbErr> {
    Ok(delivery_row::Entity::find()
        .filter(delivery_row::Column::CompanyId.eq(company))
        .filter(delivery_row::Column::Id.eq(id))
        .one(db)
        .await?
        .map(delivery_of))
}

/// Puts a delivery back in line for an attempt now, unless an attempt holds
/// it at this moment; whether it was put back.
pub async fn redeliver(db: &impl ConnectionTrait, company: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let done = delivery_row::Entity::update_many()
        .col_expr(delivery_row::Column::Status, Expr::value(DeliveryStatus::Pending.as_str()))
        .col_expr(delivery_row::Column::NextAttemptAt, Expr::value(now))
        .col_expr(delivery_row::Column::ClaimedUntil, Expr::value(None::<DateTime<Utc>>))
        .filter(delivery_row::Column::CompanyId.eq(company))
        .filter(delivery_row::Column::Id.eq(id))
        .filter(delivery_row::Column::ClaimedUntil.is_null().or(delivery_row::Column::ClaimedUntil.lte(now)))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// At most this many rows go per statement of the sweep.
const SWEEP_BATCH: u64 = 1000;

/// Forgets up to a batch of finished deliveries last attempted before
/// `before`; how many.
pub async fn sweep_deliveries(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, DbErr> {
    // A finished delivery's next attempt time is the time it finished.
    let batch = Query::select()
        .column(delivery_row::Column::Id)
        .from(delivery_row::Entity)
        .and_where(
            Expr::col(delivery_row::Column::Status)
                .is_in([DeliveryStatus::Succeeded.as_str(), DeliveryStatus::Failed.as_str()]),
        )
        .and_where(Expr::col(delivery_row::Column::NextAttemptAt).lt(before))
        .limit(SWEEP_BATCH)
        .to_owned();
    let done = delivery_row::Entity::delete_many().filter(delivery_row::Column::Id.in_subquery(batch)).exec(db).await?;
    Ok(done.rows_affected)
}

/// Forgets up to a batch of messages made before `before` that no delivery
/// needs any more; how many.
pub async fn sweep_messages(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, DbErr> {
    let needed = Query::select()
        .expr(Expr::val(1))
        .from(delivery_row::Entity)
        .and_where(
            Expr::col((delivery_row::Entity, delivery_row::Column::MessageId))
                .equals((message_row::Entity, message_row::Column::Id)),
        )
        .to_owned();
    let batch = Query::select()
        .column(message_row::Column::Id)
        .from(message_row::Entity)
        .and_where(Expr::col(message_row::Column::FannedOut).eq(true))
        .and_where(Expr::col(message_row::Column::CreatedAt).lt(before))
        .and_where(Expr::exists(needed).not())
        .limit(SWEEP_BATCH)
        .to_owned();
    let done = message_row::Entity::delete_many().filter(message_row::Column::Id.in_subquery(batch)).exec(db).await?;
    Ok(done.rows_affected)
}
