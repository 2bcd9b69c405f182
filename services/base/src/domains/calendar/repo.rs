//! The only code that touches holds and booking settings.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{Condition, ConnectionTrait, QueryOrder, QuerySelect, Select, Set};

use super::{Challenge, Hold, HoldFilter, HoldStatus, Lane};

pub mod row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "holds")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub venue_id: Option<Uuid>,
        pub space: String,
        pub artist_id: Option<Uuid>,
        pub hold_date: Option<String>,
        pub rank: Option<i32>,
        pub owner_id: Option<Uuid>,
        pub starts_at: DateTimeUtc,
        pub ends_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        pub note: String,
        pub status: String,
        pub challenged_by: Option<Uuid>,
        pub challenge_deadline: Option<DateTimeUtc>,
        pub event_id: Option<Uuid>,
        pub created_by: Uuid,
        pub updated_by: Uuid,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod settings_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "booking_settings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub company_id: Uuid,
        pub challenge_hours: i32,
        pub updated_by: Uuid,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

const DATE: &str = "%Y-%m-%d";

pub fn scoped(company: Uuid) -> Select<row::Entity> {
    row::Entity::find().filter(row::Column::CompanyId.eq(company))
}

fn corrupt(what: &str) -> DbErr {
    DbErr::Custom(format!("a stored hold is unreadable: {what}"))
}

fn decode(r: row::Model) -> Result<Hold, DbErr> {
    Ok(Hold {
        id: r.id,
        venue_id: r.venue_id,
        space: Some(r.space).filter(|s| !s.is_empty()),
        artist_id: r.artist_id,
        date: r.hold_date.map(|d| NaiveDate::parse_from_str(&d, DATE).map_err(|_| corrupt("date"))).transpose()?,
        rank: r.rank.map(|n| u32::try_from(n).map_err(|_| corrupt("rank"))).transpose()?,
        owner_id: r.owner_id.unwrap_or(r.created_by),
        starts_at: r.starts_at,
        ends_at: r.ends_at,
        expires_at: r.expires_at,
        note: r.note,
        status: HoldStatus::parse(&r.status).ok_or_else(|| corrupt("status"))?,
        challenge: match (r.challenged_by, r.challenge_deadline) {
            (Some(by_hold_id), Some(deadline)) => Some(Challenge { by_hold_id, deadline }),
            _ => None,
        },
        event_id: r.event_id,
        created_by: r.created_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

fn decode_all(rows: Vec<row::Model>) -> Result<Vec<Hold>, DbErr> {
    rows.into_iter().map(decode).collect()
}

fn rank(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

pub async fn insert(db: &impl ConnectionTrait, company: Uuid, h: &Hold) -> Result<(), DbErr> {
    row::ActiveModel {
        id: Set(h.id),
        company_id: Set(company),
        venue_id: Set(h.venue_id),
        space: Set(h.space.clone().unwrap_or_default()),
        artist_id: Set(h.artist_id),
        hold_date: Set(h.date.map(|d| d.format(DATE).to_string())),
        rank: Set(h.rank.map(rank)),
        owner_id: Set(Some(h.owner_id)),
        starts_at: Set(h.starts_at),
        ends_at: Set(h.ends_at),
        expires_at: Set(h.expires_at),
        note: Set(h.note.clone()),
        status: Set(h.status.as_str().to_owned()),
        challenged_by: Set(None),
        challenge_deadline: Set(None),
        event_id: Set(None),
        created_by: Set(h.created_by),
        updated_by: Set(h.created_by),
        created_at: Set(h.created_at),
        updated_at: Set(h.created_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<Hold>, DbErr> {
    scoped(company).filter(row::Column::Id.eq(id)).one(db).await?.map(decode).transpose()
}

/// Holds still in force at `now` that overlap [from, to).
pub async fn active_between(
    db: &impl ConnectionTrait,
    company: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Hold>, DbErr> {
    decode_all(
        scoped(company)
            .filter(row::Column::Status.eq(HoldStatus::Held.as_str()))
            .filter(row::Column::ExpiresAt.gt(now))
            .filter(row::Column::StartsAt.lt(to))
            .filter(row::Column::EndsAt.gt(from))
            .order_by_asc(row::Column::StartsAt)
            .all(db)
            .await?,
    )
}

/// How many holds the company keeps in force at `now`.
pub async fn count_active(db: &impl ConnectionTrait, company: Uuid, now: DateTime<Utc>) -> Result<u64, DbErr> {
    scoped(company)
        .filter(row::Column::Status.eq(HoldStatus::Held.as_str()))
        .filter(row::Column::ExpiresAt.gt(now))
        .count(db)
        .await
}

/// The holds held in a lane, first rank first.
pub async fn lane(db: &impl ConnectionTrait, company: Uuid, lane: &Lane) -> Result<Vec<Hold>, DbErr> {
    decode_all(
        scoped(company)
            .filter(row::Column::VenueId.eq(lane.venue))
            .filter(row::Column::Space.eq(lane.space.as_str()))
            .filter(row::Column::HoldDate.eq(lane.date.format(DATE).to_string()))
            .filter(row::Column::Status.eq(HoldStatus::Held.as_str()))
            .filter(row::Column::Rank.is_not_null())
            .order_by_asc(row::Column::Rank)
            .all(db)
            .await?,
    )
}

pub async fn set_rank(db: &impl ConnectionTrait, company: Uuid, id: Uuid, to: u32) -> Result<(), DbErr> {
    row::Entity::update_many()
        .col_expr(row::Column::Rank, Expr::value(rank(to)))
        .filter(row::Column::CompanyId.eq(company))
        .filter(row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends a held hold as `to` (its rank and challenge cleared); false if it was
/// no longer held.
pub async fn finish(
    db: &impl ConnectionTrait,
    company: Uuid,
    id: Uuid,
    to: HoldStatus,
    event: Option<Uuid>,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = row::Entity::update_many()
        .col_expr(row::Column::Status, Expr::value(to.as_str()))
        .col_expr(row::Column::Rank, Expr::value(Option::<i32>::None))
        .col_expr(row::Column::ChallengedBy, Expr::value(Option::<Uuid>::None))
        .col_expr(row::Column::ChallengeDeadline, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(row::Column::EventId, Expr::value(event))
        .col_expr(row::Column::UpdatedBy, Expr::value(by))
        .col_expr(row::Column::UpdatedAt, Expr::value(now))
        .filter(row::Column::CompanyId.eq(company))
        .filter(row::Column::Id.eq(id))
        .filter(row::Column::Status.eq(HoldStatus::Held.as_str()))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

pub async fn set_challenge(
    db: &impl ConnectionTrait,
    company: Uuid,
    id: Uuid,
    challenge: Option<&Challenge>,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    row::Entity::update_many()
        .col_expr(row::Column::ChallengedBy, Expr::value(challenge.map(|c| c.by_hold_id)))
        .col_expr(row::Column::ChallengeDeadline, Expr::value(challenge.map(|c| c.deadline)))
        .col_expr(row::Column::UpdatedBy, Expr::value(by))
        .col_expr(row::Column::UpdatedAt, Expr::value(now))
        .filter(row::Column::CompanyId.eq(company))
        .filter(row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Held holds past their expiry or their challenge's deadline, across
/// companies (for the sweeper).
pub async fn due(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Vec<(Uuid, Uuid)>, DbErr> {
    Ok(row::Entity::find()
        .filter(row::Column::Status.eq(HoldStatus::Held.as_str()))
        .filter(Condition::any().add(row::Column::ExpiresAt.lte(now)).add(row::Column::ChallengeDeadline.lte(now)))
        .order_by_asc(row::Column::CompanyId)
        .limit(500)
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.company_id, r.id))
        .collect())
}

pub async fn list(db: &impl ConnectionTrait, company: Uuid, filter: &HoldFilter) -> Result<Vec<Hold>, DbErr> {
    let mut query = scoped(company);
    if let Some(v) = filter.venue_id {
        query = query.filter(row::Column::VenueId.eq(v));
    }
    if let Some(d) = filter.date {
        query = query.filter(row::Column::HoldDate.eq(d.format(DATE).to_string()));
    }
    let status = filter.status.unwrap_or(HoldStatus::Held);
    query = query.filter(row::Column::Status.eq(status.as_str()));
    decode_all(
        query
            .order_by_asc(row::Column::StartsAt)
            .order_by_asc(row::Column::Space)
            .order_by_asc(row::Column::Rank)
            .limit(1_000)
            .all(db)
            .await?,
    )
}

pub async fn challenge_hours(db: &impl ConnectionTrait, company: Uuid) -> Result<Option<u32>, DbErr> {
    Ok(settings_row::Entity::find_by_id(company).one(db).await?.and_then(|r| u32::try_from(r.challenge_hours).ok()))
}

pub async fn put_challenge_hours(
    db: &impl ConnectionTrait,
    company: Uuid,
    hours: u32,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    settings_row::Entity::insert(settings_row::ActiveModel {
        company_id: Set(company),
        challenge_hours: Set(i32::try_from(hours).unwrap_or(i32::MAX)),
        updated_by: Set(by),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(settings_row::Column::CompanyId)
            .update_columns([
                settings_row::Column::ChallengeHours,
                settings_row::Column::UpdatedBy,
                settings_row::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}
