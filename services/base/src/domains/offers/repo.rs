//! The only code that touches offers.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, PaginatorTrait, QueryOrder, QuerySelect, Set};

use super::{Deal, Offer, OfferFilter, Status};

pub mod row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "offers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub event_id: Uuid,
        pub artist_id: Uuid,
        pub fee_minor: i64,
        pub currency: String,
        pub terms: String,
        pub deal: Option<String>,
        pub deadline: DateTimeUtc,
        pub status: String,
        pub created_by: Uuid,
        pub updated_by: Uuid,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn offer_of(r: row::Model) -> Result<Offer, DbErr> {
    Ok(Offer {
        id: r.id,
        event_id: r.event_id,
        artist_id: r.artist_id,
        fee_minor: r.fee_minor,
        currency: r.currency,
        terms: r.terms,
        deal: match r.deal {
            Some(json) => serde_json::from_str(&json).map_err(|e| DbErr::Custom(format!("offer deal: {e}")))?,
            None => Deal::flat(r.fee_minor),
        },
        deadline: r.deadline,
        status: Status::parse(&r.status).ok_or_else(|| DbErr::Custom(format!("offer status {}", r.status)))?,
        created_by: r.created_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

pub async fn insert(db: &impl ConnectionTrait, company: Uuid, o: &Offer) -> Result<(), DbErr> {
    row::ActiveModel {
        id: Set(o.id),
        company_id: Set(company),
        event_id: Set(o.event_id),
        artist_id: Set(o.artist_id),
        fee_minor: Set(o.fee_minor),
        currency: Set(o.currency.clone()),
        terms: Set(o.terms.clone()),
        deal: Set(Some(serde_json::to_string(&o.deal).map_err(|e| DbErr::Custom(e.to_string()))?)),
        deadline: Set(o.deadline),
        status: Set(o.status.as_str().to_owned()),
        created_by: Set(o.created_by),
        updated_by: Set(o.created_by),
        created_at: Set(o.created_at),
        updated_at: Set(o.updated_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<Offer>, DbErr> {
    row::Entity::find()
        .filter(row::Column::CompanyId.eq(company))
        .filter(row::Column::Id.eq(id))
        .one(db)
        .await?
        .map(offer_of)
        .transpose()
}

/// Moves an offer from `from` to `to`; false if it was no longer `from`.
pub async fn set_status(
    db: &impl ConnectionTrait,
    company: Uuid,
    id: Uuid,
    from: Status,
    to: Status,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = row::Entity::update_many()
        .col_expr(row::Column::Status, Expr::value(to.as_str()))
        .col_expr(row::Column::UpdatedBy, Expr::value(by))
        .col_expr(row::Column::UpdatedAt, Expr::value(at))
        .filter(row::Column::CompanyId.eq(company))
        .filter(row::Column::Id.eq(id))
        .filter(row::Column::Status.eq(from.as_str()))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Sent offers past their deadline, across companies (for the expiry job).
pub async fn overdue(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Vec<(Uuid, Uuid)>, DbErr> {
    Ok(row::Entity::find()
        .filter(row::Column::Status.eq(Status::Sent.as_str()))
        .filter(row::Column::Deadline.lte(now))
        .limit(500)
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.company_id, r.id))
        .collect())
}

pub async fn list(
    db: &impl ConnectionTrait,
    company: Uuid,
    filter: &OfferFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Offer>, u64), DbErr> {
    let mut query = row::Entity::find().filter(row::Column::CompanyId.eq(company));
    if let Some(s) = filter.status {
        query = query.filter(row::Column::Status.eq(s.as_str()));
    }
    if let Some(e) = filter.event_id {
        query = query.filter(row::Column::EventId.eq(e));
    }
    if let Some(a) = filter.artist_id {
        query = query.filter(row::Column::ArtistId.eq(a));
    }
    let total = query.clone().count(db).await?;
    let rows = query.order_by_desc(row::Column::CreatedAt).offset(offset).limit(limit).all(db).await?;
    Ok((rows.into_iter().map(offer_of).collect::<Result<_, _>>()?, total))
}
