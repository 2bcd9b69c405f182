//! The only code that touches settlements and payouts.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, ExprTrait, PaginatorTrait, QueryOrder, QuerySelect, Set};

use super::model::{Figures, Payout, Split, Status};

pub mod settlement_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlements")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub event_id: Uuid,
        pub currency: String,
        pub status: String,
        pub splits: String,
        pub figures: Option<String>,
        pub entry_id: Option<Uuid>,
        pub version: i64,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
        pub finalized_by: Option<Uuid>,
        pub finalized_at: Option<DateTimeUtc>,
        /// Held (1) while draft or final, cleared when voided: unique per
        /// company, event and currency, so only one settlement is live.
        pub slot: Option<i32>,
        pub voided_by: Option<Uuid>,
        pub voided_at: Option<DateTimeUtc>,
        pub void_entry_id: Option<Uuid>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod payout_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "payouts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub settlement_id: Uuid,
        pub party: String,
        pub amount: i64,
        pub currency: String,
        pub entry_id: Uuid,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A settlement as stored: figures only once frozen.
pub struct Stored {
    pub id: Uuid,
    pub event_id: Uuid,
    pub currency: String,
    pub status: Status,
    pub splits: Vec<Split>,
    pub figures: Option<Figures>,
    pub entry_id: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub finalized_by: Option<Uuid>,
    pub finalized_at: Option<DateTime<Utc>>,
    /// Whether it is the live settlement of its event and currency (false
    /// when voided, or for a duplicate made before only one could be).
    pub holds_slot: bool,
    pub voided_by: Option<Uuid>,
    pub voided_at: Option<DateTime<Utc>>,
    pub void_entry_id: Option<Uuid>,
}

fn corrupt(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("stored settlement is not readable: {e}"))
}

fn stored(r: settlement_row::Model) -> Result<Stored, DbErr> {
    Ok(Stored {
        id: r.id,
        event_id: r.event_id,
        currency: r.currency,
        status: Status::parse(&r.status).ok_or_else(|| corrupt(&r.status))?,
        splits: serde_json::from_str(&r.splits).map_err(corrupt)?,
        figures: r.figures.as_deref().map(serde_json::from_str).transpose().map_err(corrupt)?,
        entry_id: r.entry_id,
        created_by: r.created_by,
        created_at: r.created_at,
        finalized_by: r.finalized_by,
        finalized_at: r.finalized_at,
        holds_slot: r.slot.is_some(),
        voided_by: r.voided_by,
        voided_at: r.voided_at,
        void_entry_id: r.void_entry_id,
    })
}

pub async fn insert(db: &impl ConnectionTrait, company: Uuid, s: &Stored) -> Result<(), DbErr> {
    settlement_row::ActiveModel {
        id: Set(s.id),
        company_id: Set(company),
        event_id: Set(s.event_id),
        currency: Set(s.currency.clone()),
        status: Set("draft".to_owned()),
        splits: Set(serde_json::to_string(&s.splits).map_err(corrupt)?),
        figures: Set(None),
        entry_id: Set(None),
        version: Set(0),
        created_by: Set(s.created_by),
        created_at: Set(s.created_at),
        finalized_by: Set(None),
        finalized_at: Set(None),
        slot: Set(Some(1)),
        voided_by: Set(None),
        voided_at: Set(None),
        void_entry_id: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<Stored>, DbErr> {
    settlement_row::Entity::find()
        .filter(settlement_row::Column::CompanyId.eq(company))
        .filter(settlement_row::Column::Id.eq(id))
        .one(db)
        .await?
        .map(stored)
        .transpose()
}

pub async fn list(
    db: &impl ConnectionTrait,
    company: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Stored>, u64), DbErr> {
    let query = settlement_row::Entity::find().filter(settlement_row::Column::CompanyId.eq(company));
    let total = query.clone().count(db).await?;
    let rows = query.order_by_desc(settlement_row::Column::CreatedAt).offset(offset).limit(limit).all(db).await?;
    Ok((rows.into_iter().map(stored).collect::<Result<_, _>>()?, total))
}

/// Takes the settlement's row lock for the rest of the transaction.
pub async fn lock(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<(), DbErr> {
    settlement_row::Entity::update_many()
        .col_expr(settlement_row::Column::Version, Expr::col(settlement_row::Column::Version).add(1))
        .filter(settlement_row::Column::CompanyId.eq(company))
        .filter(settlement_row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Freezes a draft; false if it was already final.
pub async fn finalize(
    db: &impl ConnectionTrait,
    company: Uuid,
    id: Uuid,
    figures: &Figures,
    entry: Option<Uuid>,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = settlement_row::Entity::update_many()
        .col_expr(settlement_row::Column::Status, Expr::value("finalized"))
        .col_expr(settlement_row::Column::Figures, Expr::value(serde_json::to_string(figures).map_err(corrupt)?))
        .col_expr(settlement_row::Column::EntryId, Expr::value(entry))
        .col_expr(settlement_row::Column::FinalizedBy, Expr::value(by))
        .col_expr(settlement_row::Column::FinalizedAt, Expr::value(at))
        .filter(settlement_row::Column::CompanyId.eq(company))
        .filter(settlement_row::Column::Id.eq(id))
        .filter(settlement_row::Column::Status.eq("draft"))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Voids a draft or final settlement, freeing its slot; false if it already was.
pub async fn void(
    db: &impl ConnectionTrait,
    company: Uuid,
    id: Uuid,
    reversal: Option<Uuid>,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = settlement_row::Entity::update_many()
        .col_expr(settlement_row::Column::Status, Expr::value(Status::Voided.as_str()))
        .col_expr(settlement_row::Column::Slot, Expr::value(Option::<i32>::None))
        .col_expr(settlement_row::Column::VoidEntryId, Expr::value(reversal))
        .col_expr(settlement_row::Column::VoidedBy, Expr::value(by))
        .col_expr(settlement_row::Column::VoidedAt, Expr::value(at))
        .filter(settlement_row::Column::CompanyId.eq(company))
        .filter(settlement_row::Column::Id.eq(id))
        .filter(settlement_row::Column::Status.ne(Status::Voided.as_str()))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

pub async fn insert_payout(db: &impl ConnectionTrait, company: Uuid, p: &Payout) -> Result<(), DbErr> {
    payout_row::ActiveModel {
        id: Set(p.id),
        company_id: Set(company),
        settlement_id: Set(p.settlement_id),
        party: Set(p.party.clone()),
        amount: Set(p.amount),
        currency: Set(p.currency.clone()),
        entry_id: Set(p.entry_id),
        created_by: Set(p.created_by),
        created_at: Set(p.created_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn payouts(db: &impl ConnectionTrait, company: Uuid, settlement: Option<Uuid>) -> Result<Vec<Payout>, DbErr> {
    let mut query = payout_row::Entity::find().filter(payout_row::Column::CompanyId.eq(company));
    if let Some(s) = settlement {
        query = query.filter(payout_row::Column::SettlementId.eq(s));
    }
    Ok(query
        .order_by_asc(payout_row::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|r| Payout {
            id: r.id,
            settlement_id: r.settlement_id,
            party: r.party,
            amount: r.amount,
            currency: r.currency,
            entry_id: r.entry_id,
            created_by: r.created_by,
            created_at: r.created_at,
        })
        .collect())
}
