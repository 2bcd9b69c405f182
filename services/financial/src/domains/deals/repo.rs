//! The only code that touches deals and ticket manifests.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Alias, OnConflict};
use sea_orm::{ConnectionTrait, ExprTrait, QueryOrder, Set};

use super::model::{Deal, ManifestLine, StoredDeal};

pub mod deal_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "deals")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub offer_id: Uuid,
        pub company_id: Uuid,
        pub event_id: Uuid,
        pub artist_id: Uuid,
        pub currency: String,
        pub terms: String,
        pub accepted_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod manifest_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ticket_manifests")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub company_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: Uuid,
        pub revision: i64,
        pub lines: String,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn corrupt(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("a stored deal or manifest is unreadable: {e}"))
}

/// Keeps a deal; false when the offer's deal was already kept (a replay).
pub async fn insert_deal(db: &impl ConnectionTrait, company: Uuid, d: &StoredDeal) -> Result<bool, DbErr> {
    let row = deal_row::ActiveModel {
        offer_id: Set(d.offer_id),
        company_id: Set(company),
        event_id: Set(d.event_id),
        artist_id: Set(d.artist_id),
        currency: Set(d.currency.clone()),
        terms: Set(serde_json::to_string(&d.deal).map_err(corrupt)?),
        accepted_at: Set(d.accepted_at),
    };
    let done = deal_row::Entity::insert(row)
        .on_conflict(OnConflict::column(deal_row::Column::OfferId).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(done == 1)
}

/// The event's deals in a currency, earliest accepted first.
pub async fn deals(
    db: &impl ConnectionTrait,
    company: Uuid,
    event: Uuid,
    currency: &str,
) -> Result<Vec<StoredDeal>, DbErr> {
    deal_row::Entity::find()
        .filter(deal_row::Column::CompanyId.eq(company))
        .filter(deal_row::Column::EventId.eq(event))
        .filter(deal_row::Column::Currency.eq(currency))
        .order_by_asc(deal_row::Column::AcceptedAt)
        .order_by_asc(deal_row::Column::OfferId)
        .all(db)
        .await?
        .into_iter()
        .map(|r| {
            Ok(StoredDeal {
                offer_id: r.offer_id,
                event_id: r.event_id,
                artist_id: r.artist_id,
                currency: r.currency,
                deal: serde_json::from_str::<Deal>(&r.terms).map_err(corrupt)?,
                accepted_at: r.accepted_at,
            })
        })
        .collect()
}

/// Keeps the event's manifest unless a later revision is already kept.
pub async fn put_manifest(
    db: &impl ConnectionTrait,
    company: Uuid,
    event: Uuid,
    revision: i64,
    lines: &[ManifestLine],
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = manifest_row::ActiveModel {
        company_id: Set(company),
        event_id: Set(event),
        revision: Set(revision),
        lines: Set(serde_json::to_string(lines).map_err(corrupt)?),
        updated_at: Set(at),
    };
    let newer = Expr::col((manifest_row::Entity, manifest_row::Column::Revision))
        .lt(Expr::col((Alias::new("excluded"), manifest_row::Column::Revision)));
    manifest_row::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([manifest_row::Column::CompanyId, manifest_row::Column::EventId])
                .update_columns([
                    manifest_row::Column::Revision,
                    manifest_row::Column::Lines,
                    manifest_row::Column::UpdatedAt,
                ])
                .action_and_where(newer)
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn manifest(
    db: &impl ConnectionTrait,
    company: Uuid,
    event: Uuid,
) -> Result<Option<Vec<ManifestLine>>, DbErr> {
    manifest_row::Entity::find()
        .filter(manifest_row::Column::CompanyId.eq(company))
        .filter(manifest_row::Column::EventId.eq(event))
        .one(db)
        .await?
        .map(|r| serde_json::from_str(&r.lines).map_err(corrupt))
        .transpose()
}
