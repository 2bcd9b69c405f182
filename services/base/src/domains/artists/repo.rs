//! The only code that touches the artists table; every query starts from
//! `scoped(company)`.

use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, PaginatorTrait, QuerySelect, Select, Set};

use super::model::{Artist, ArtistFilter, FeeRange};
use crate::{listing, rows};

pub mod row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "artists")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub name: String,
        pub genres: String,
        pub contacts: String,
        pub representation: Option<String>,
        pub fee_min: Option<i64>,
        pub fee_max: Option<i64>,
        pub fee_currency: Option<String>,
        pub notes: String,
        pub created_by: Uuid,
        pub updated_by: Uuid,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Artists of one company: the start of every query.
impl rows::Scoped for row::Entity {
    const COMPANY: row::Column = row::Column::CompanyId;
    const ID: row::Column = row::Column::Id;
}

pub fn scoped(company: Uuid) -> Select<row::Entity> {
    rows::scoped(company)
}

fn corrupt(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("stored artist is not readable: {e}"))
}

fn decode(r: row::Model) -> Result<Artist, DbErr> {
    let fee = match (r.fee_min, r.fee_max, r.fee_currency) {
        (Some(min), Some(max), Some(currency)) => Some(FeeRange { min, max, currency }),
        _ => None,
    };
    Ok(Artist {
        id: r.id,
        name: r.name,
        genres: serde_json::from_str(&r.genres).map_err(corrupt)?,
        contacts: serde_json::from_str(&r.contacts).map_err(corrupt)?,
        representation: r.representation,
        fee,
        notes: r.notes,
        created_by: r.created_by,
        updated_by: r.updated_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

fn encode(company: Uuid, a: &Artist) -> Result<row::ActiveModel, DbErr> {
    Ok(row::ActiveModel {
        id: Set(a.id),
        company_id: Set(company),
        name: Set(a.name.clone()),
        genres: Set(serde_json::to_string(&a.genres).map_err(corrupt)?),
        contacts: Set(serde_json::to_string(&a.contacts).map_err(corrupt)?),
        representation: Set(a.representation.clone()),
        fee_min: Set(a.fee.as_ref().map(|f| f.min)),
        fee_max: Set(a.fee.as_ref().map(|f| f.max)),
        fee_currency: Set(a.fee.as_ref().map(|f| f.currency.clone())),
        notes: Set(a.notes.clone()),
        created_by: Set(a.created_by),
        updated_by: Set(a.updated_by),
        created_at: Set(a.created_at),
        updated_at: Set(a.updated_at),
    })
}

pub async fn insert(db: &impl ConnectionTrait, company: Uuid, a: &Artist) -> Result<(), DbErr> {
    row::Entity::insert(encode(company, a)?).exec_without_returning(db).await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<Artist>, DbErr> {
    rows::find::<row::Entity>(db, company, id).await?.map(decode).transpose()
}

pub async fn update(db: &impl ConnectionTrait, company: Uuid, a: &Artist) -> Result<(), DbErr> {
    rows::update::<row::Entity>(db, company, a.id, encode(company, a)?).await
}

pub async fn delete(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<bool, DbErr> {
    rows::delete::<row::Entity>(db, company, id).await
}

pub async fn list(
    db: &impl ConnectionTrait,
    company: Uuid,
    filter: &ArtistFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Artist>, u64), DbErr> {
    let mut query = listing::containing(scoped(company), row::Column::Name, filter.q.as_deref());
    if let Some(genre) = filter.genre.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
        // Genres are stored as a JSON array of strings.
        let needle = serde_json::to_string(genre).map_err(corrupt)?.replace(['%', '_'], "");
        query = query.filter(row::Column::Genres.contains(needle));
    }
    let total = query.clone().count(db).await?;
    let rows = listing::sorted(query, filter.sort, row::Column::Name, row::Column::CreatedAt, row::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows.into_iter().map(decode).collect::<Result<_, _>>()?, total))
}
