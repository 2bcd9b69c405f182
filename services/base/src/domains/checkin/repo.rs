//! The only code that touches ticket keys, check-in lists, their ticket
//! states and scans.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, ExprTrait, QueryOrder, Set};

use super::model::{CheckinList, Direction, ScanResult};

pub mod key_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ticket_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub kid: String,
        pub company_id: Uuid,
        pub generation: i32,
        /// base64url of the 32-byte public key.
        pub public_key: String,
        pub private_sealed: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod list_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "checkin_lists")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub event_id: Uuid,
        pub name: String,
        pub ticket_type_ids: String,
        pub allow_reentry: bool,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod state_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "checkin_states")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub list_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub ticket_id: Uuid,
        pub inside: bool,
        pub admissions: i32,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod scan_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "scans")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub list_id: Uuid,
        pub nonce: String,
        pub ticket_id: Option<Uuid>,
        pub direction: String,
        pub scanned_at: DateTimeUtc,
        pub gate: String,
        pub result: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn corrupt(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("stored check-in data is not readable: {e}"))
}

// ---- keys

pub async fn keys(db: &impl ConnectionTrait, company: Uuid) -> Result<Vec<key_row::Model>, DbErr> {
    key_row::Entity::find()
        .filter(key_row::Column::CompanyId.eq(company))
        .order_by_asc(key_row::Column::Generation)
        .all(db)
        .await
}

pub async fn key(db: &impl ConnectionTrait, company: Uuid, kid: &str) -> Result<Option<key_row::Model>, DbErr> {
    key_row::Entity::find()
        .filter(key_row::Column::CompanyId.eq(company))
        .filter(key_row::Column::Kid.eq(kid))
        .one(db)
        .await
}

/// Stores a key unless one of its generation exists; whether it was stored.
pub async fn insert_key(db: &impl ConnectionTrait, key: key_row::Model) -> Result<bool, DbErr> {
    let done = key_row::Entity::insert(key_row::ActiveModel::from(key))
        .on_conflict(
            OnConflict::columns([key_row::Column::CompanyId, key_row::Column::Generation]).do_nothing().to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(done == 1)
}

// ---- lists

fn list_of(r: list_row::Model) -> Result<CheckinList, DbErr> {
    Ok(CheckinList {
        id: r.id,
        event_id: r.event_id,
        name: r.name,
        ticket_type_ids: serde_json::from_str(&r.ticket_type_ids).map_err(corrupt)?,
        allow_reentry: r.allow_reentry,
        created_at: r.created_at,
    })
}

pub async fn insert_list(db: &impl ConnectionTrait, company: Uuid, l: &CheckinList, by: Uuid) -> Result<(), DbErr> {
    list_row::ActiveModel {
        id: Set(l.id),
        company_id: Set(company),
        event_id: Set(l.event_id),
        name: Set(l.name.clone()),
        ticket_type_ids: Set(serde_json::to_string(&l.ticket_type_ids).map_err(corrupt)?),
        allow_reentry: Set(l.allow_reentry),
        created_by: Set(by),
        created_at: Set(l.created_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn lists(db: &impl ConnectionTrait, company: Uuid, event: Uuid) -> Result<Vec<CheckinList>, DbErr> {
    list_row::Entity::find()
        .filter(list_row::Column::CompanyId.eq(company))
        .filter(list_row::Column::EventId.eq(event))
        .order_by_asc(list_row::Column::CreatedAt)
        .order_by_asc(list_row::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(list_of)
        .collect()
}

pub async fn list(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<CheckinList>, DbErr> {
    list_row::Entity::find()
        .filter(list_row::Column::CompanyId.eq(company))
        .filter(list_row::Column::Id.eq(id))
        .one(db)
        .await?
        .map(list_of)
        .transpose()
}

// ---- where tickets are

async fn ensure_state(db: &impl ConnectionTrait, list: Uuid, ticket: Uuid, at: DateTime<Utc>) -> Result<(), DbErr> {
    let row = state_row::ActiveModel {
        list_id: Set(list),
        ticket_id: Set(ticket),
        inside: Set(false),
        admissions: Set(0),
        updated_at: Set(at),
    };
    state_row::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([state_row::Column::ListId, state_row::Column::TicketId]).do_nothing().to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Lets a ticket in once: false when it is inside, or was ever admitted on
/// a list without re-entry.
pub async fn admit(
    db: &impl ConnectionTrait,
    list: Uuid,
    ticket: Uuid,
    allow_reentry: bool,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    ensure_state(db, list, ticket, at).await?;
    let mut update = state_row::Entity::update_many()
        .col_expr(state_row::Column::Inside, Expr::value(true))
        .col_expr(state_row::Column::Admissions, Expr::col(state_row::Column::Admissions).add(1))
        .col_expr(state_row::Column::UpdatedAt, Expr::value(at))
        .filter(state_row::Column::ListId.eq(list))
        .filter(state_row::Column::TicketId.eq(ticket))
        .filter(state_row::Column::Inside.eq(false));
    if !allow_reentry {
        update = update.filter(state_row::Column::Admissions.eq(0));
    }
    Ok(update.exec(db).await?.rows_affected == 1)
}

/// Lets a ticket out: false when it was not inside.
pub async fn release(db: &impl ConnectionTrait, list: Uuid, ticket: Uuid, at: DateTime<Utc>) -> Result<bool, DbErr> {
    let done = state_row::Entity::update_many()
        .col_expr(state_row::Column::Inside, Expr::value(false))
        .col_expr(state_row::Column::UpdatedAt, Expr::value(at))
        .filter(state_row::Column::ListId.eq(list))
        .filter(state_row::Column::TicketId.eq(ticket))
        .filter(state_row::Column::Inside.eq(true))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

// ---- scans

pub struct ScanRecord<'a> {
    pub company: Uuid,
    pub list: Uuid,
    pub nonce: &'a str,
    pub ticket: Option<Uuid>,
    pub direction: Direction,
    pub scanned_at: DateTime<Utc>,
    pub gate: &'a str,
    pub result: ScanResult,
    pub at: DateTime<Utc>,
}

pub async fn insert_scan(db: &impl ConnectionTrait, s: ScanRecord<'_>) -> Result<(), DbErr> {
    scan_row::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(s.company),
        list_id: Set(s.list),
        nonce: Set(s.nonce.to_owned()),
        ticket_id: Set(s.ticket),
        direction: Set(s.direction.as_str().to_owned()),
        scanned_at: Set(s.scanned_at),
        gate: Set(s.gate.to_owned()),
        result: Set(s.result.as_str().to_owned()),
        created_at: Set(s.at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// How a nonce was answered before, and for which ticket.
pub async fn scan_by_nonce(
    db: &impl ConnectionTrait,
    list: Uuid,
    nonce: &str,
) -> Result<Option<(ScanResult, Option<Uuid>)>, DbErr> {
    let row = scan_row::Entity::find()
        .filter(scan_row::Column::ListId.eq(list))
        .filter(scan_row::Column::Nonce.eq(nonce))
        .one(db)
        .await?;
    row.map(|r| Ok((ScanResult::parse(&r.result).ok_or_else(|| corrupt(&r.result))?, r.ticket_id))).transpose()
}
