//! The only code that touches the venues table; every query starts from `scoped`.

use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, PaginatorTrait, QuerySelect, Select, Set};

use super::{Venue, VenueFilter};
use crate::{listing, rows};

pub mod row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "venues")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub name: String,
        pub address: String,
        pub timezone: String,
        pub capacity: i32,
        pub spaces: String,
        pub created_by: Uuid,
        pub updated_by: Uuid,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

impl rows::Scoped for row::Entity {
    const COMPANY: row::Column = row::Column::CompanyId;
    const ID: row::Column = row::Column::Id;
}

pub fn scoped(company: Uuid) -> Select<row::Entity> {
    rows::scoped(company)
}

fn corrupt(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("stored venue is not readable: {e}"))
}

fn decode(r: row::Model) -> Result<Venue, DbErr> {
    Ok(Venue {
        id: r.id,
        name: r.name,
        address: serde_json::from_str(&r.address).map_err(corrupt)?,
        timezone: r.timezone,
        capacity: u32::try_from(r.capacity).map_err(corrupt)?,
        spaces: serde_json::from_str(&r.spaces).map_err(corrupt)?,
        created_by: r.created_by,
        updated_by: r.updated_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

fn encode(company: Uuid, v: &Venue) -> Result<row::ActiveModel, DbErr> {
    Ok(row::ActiveModel {
        id: Set(v.id),
        company_id: Set(company),
        name: Set(v.name.clone()),
        address: Set(serde_json::to_string(&v.address).map_err(corrupt)?),
        timezone: Set(v.timezone.clone()),
        capacity: Set(i32::try_from(v.capacity).map_err(corrupt)?),
        spaces: Set(serde_json::to_string(&v.spaces).map_err(corrupt)?),
        created_by: Set(v.created_by),
        updated_by: Set(v.updated_by),
        created_at: Set(v.created_at),
        updated_at: Set(v.updated_at),
    })
}

pub async fn insert(db: &impl ConnectionTrait, company: Uuid, v: &Venue) -> Result<(), DbErr> {
    row::Entity::insert(encode(company, v)?).exec_without_returning(db).await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<Venue>, DbErr> {
    rows::find::<row::Entity>(db, company, id).await?.map(decode).transpose()
}

/// Takes the venue's row lock for the rest of the transaction (bookings of
/// one venue are decided one at a time); false if there is no such venue.
pub async fn lock(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<bool, DbErr> {
    let done = row::Entity::update_many()
        .col_expr(row::Column::Id, Expr::col(row::Column::Id))
        .filter(row::Column::CompanyId.eq(company))
        .filter(row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

pub async fn update(db: &impl ConnectionTrait, company: Uuid, v: &Venue) -> Result<(), DbErr> {
    rows::update::<row::Entity>(db, company, v.id, encode(company, v)?).await
}

pub async fn delete(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<bool, DbErr> {
    rows::delete::<row::Entity>(db, company, id).await
}

pub async fn list(
    db: &impl ConnectionTrait,
    company: Uuid,
    filter: &VenueFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Venue>, u64), DbErr> {
    let mut query = listing::containing(scoped(company), row::Column::Name, filter.q.as_deref());
    if let Some(city) = filter.city.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        let needle = serde_json::to_string(city).map_err(corrupt)?.replace(['%', '_'], "");
        query = query.filter(row::Column::Address.contains(format!("\"city\":{needle}")));
    }
    let total = query.clone().count(db).await?;
    let rows = listing::sorted(query, filter.sort, row::Column::Name, row::Column::CreatedAt, row::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows.into_iter().map(decode).collect::<Result<_, _>>()?, total))
}
