use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, PaginatorTrait, QueryOrder, QuerySelect, Set};

use super::model::{Status, SubscriptionChange};

pub mod subscription_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "subscriptions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub company_id: Uuid,
        pub status: String,
        pub package_id: Uuid,
        pub addon_ids: String,
        pub current_period_start: DateTimeUtc,
        pub current_period_end: DateTimeUtc,
        pub trial_ends_at: Option<DateTimeUtc>,
        pub past_due_since: Option<DateTimeUtc>,
        pub grace_days: i32,
        pub revision: i64,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub updated_by: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod change_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "subscription_changes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub revision: i64,
        pub from_status: Option<String>,
        pub to_status: String,
        pub package_id: Uuid,
        pub addon_ids: String,
        pub actor: String,
        pub note: Option<String>,
        pub at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A subscription as stored: plans by id.
#[derive(Debug, Clone)]
pub struct Record {
    pub company_id: Uuid,
    pub status: Status,
    pub package_id: Uuid,
    pub addon_ids: Vec<Uuid>,
    pub current_period_start: DateTime<Utc>,
    pub current_period_end: DateTime<Utc>,
    pub trial_ends_at: Option<DateTime<Utc>>,
    pub past_due_since: Option<DateTime<Utc>>,
    pub grace_days: u32,
    pub revision: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

fn corrupt(what: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("stored subscription is not readable: {what}"))
}

fn status_of(s: &str) -> Result<Status, DbErr> {
    Status::parse(s).ok_or_else(|| corrupt(format!("status {s}")))
}

fn ids_of(s: &str) -> Result<Vec<Uuid>, DbErr> {
    serde_json::from_str(s).map_err(corrupt)
}

fn ids_json(ids: &[Uuid]) -> Result<String, DbErr> {
    serde_json::to_string(ids).map_err(corrupt)
}

fn to_i64(v: u64) -> Result<i64, DbErr> {
    i64::try_from(v).map_err(corrupt)
}

fn decode(row: subscription_row::Model) -> Result<Record, DbErr> {
    Ok(Record {
        company_id: row.company_id,
        status: status_of(&row.status)?,
        package_id: row.package_id,
        addon_ids: ids_of(&row.addon_ids)?,
        current_period_start: row.current_period_start,
        current_period_end: row.current_period_end,
        trial_ends_at: row.trial_ends_at,
        past_due_since: row.past_due_since,
        grace_days: u32::try_from(row.grace_days).map_err(corrupt)?,
        revision: u64::try_from(row.revision).map_err(corrupt)?,
        created_at: row.created_at,
        updated_at: row.updated_at,
        updated_by: row.updated_by,
    })
}

fn encode(r: &Record) -> Result<subscription_row::ActiveModel, DbErr> {
    Ok(subscription_row::ActiveModel {
        company_id: Set(r.company_id),
        status: Set(r.status.as_str().to_owned()),
        package_id: Set(r.package_id),
        addon_ids: Set(ids_json(&r.addon_ids)?),
        current_period_start: Set(r.current_period_start),
        current_period_end: Set(r.current_period_end),
        trial_ends_at: Set(r.trial_ends_at),
        past_due_since: Set(r.past_due_since),
        grace_days: Set(i32::try_from(r.grace_days).map_err(corrupt)?),
        revision: Set(to_i64(r.revision)?),
        created_at: Set(r.created_at),
        updated_at: Set(r.updated_at),
        updated_by: Set(r.updated_by.clone()),
    })
}

pub async fn find(db: &impl ConnectionTrait, company_id: Uuid) -> Result<Option<Record>, DbErr> {
    subscription_row::Entity::find_by_id(company_id).one(db).await?.map(decode).transpose()
}

pub async fn insert(db: &impl ConnectionTrait, record: &Record) -> Result<(), DbErr> {
    subscription_row::Entity::insert(encode(record)?).exec_without_returning(db).await?;
    Ok(())
}

/// Writes `record` only if the stored revision is still `expected`; false when
/// someone else changed it first.
pub async fn update_if_revision(db: &impl ConnectionTrait, record: &Record, expected: u64) -> Result<bool, DbErr> {
    let result = subscription_row::Entity::update_many()
        .set(encode(record)?)
        .filter(subscription_row::Column::CompanyId.eq(record.company_id))
        .filter(subscription_row::Column::Revision.eq(to_i64(expected)?))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn insert_change(db: &impl ConnectionTrait, change: &SubscriptionChange) -> Result<(), DbErr> {
    change_row::ActiveModel {
        id: Set(change.id),
        company_id: Set(change.company_id),
        revision: Set(to_i64(change.revision)?),
        from_status: Set(change.from_status.map(|s| s.as_str().to_owned())),
        to_status: Set(change.to_status.as_str().to_owned()),
        package_id: Set(change.package_id),
        addon_ids: Set(ids_json(&change.addon_ids)?),
        actor: Set(change.actor.clone()),
        note: Set(change.note.clone()),
        at: Set(change.at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A company's changes, newest first.
pub async fn changes(
    db: &impl ConnectionTrait,
    company_id: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<SubscriptionChange>, u64), DbErr> {
    let query = change_row::Entity::find().filter(change_row::Column::CompanyId.eq(company_id));
    let total = query.clone().count(db).await?;
    let rows = query.order_by_desc(change_row::Column::Revision).offset(offset).limit(limit).all(db).await?;
    let changes = rows
        .into_iter()
        .map(|row| {
            Ok(SubscriptionChange {
                id: row.id,
                company_id: row.company_id,
                revision: u64::try_from(row.revision).map_err(corrupt)?,
                from_status: row.from_status.as_deref().map(status_of).transpose()?,
                to_status: status_of(&row.to_status)?,
                package_id: row.package_id,
                addon_ids: ids_of(&row.addon_ids)?,
                actor: row.actor,
                note: row.note,
                at: row.at,
            })
        })
        .collect::<Result<_, DbErr>>()?;
    Ok((changes, total))
}
