//! The only code that touches the vendors table; every query starts from `scoped`.

use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, PaginatorTrait, QuerySelect, Select, Set};

use super::{Vendor, VendorFilter};
use crate::{listing, rows};

pub mod row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "vendors")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub name: String,
        pub category: String,
        pub contacts: String,
        pub services: String,
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
    DbErr::Custom(format!("stored vendor is not readable: {e}"))
}

fn decode(r: row::Model) -> Result<Vendor, DbErr> {
    Ok(Vendor {
        id: r.id,
        name: r.name,
        category: r.category,
        contacts: serde_json::from_str(&r.contacts).map_err(corrupt)?,
        services: serde_json::from_str(&r.services).map_err(corrupt)?,
        created_by: r.created_by,
        updated_by: r.updated_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

fn encode(company: Uuid, v: &Vendor) -> Result<row::ActiveModel, DbErr> {
    Ok(row::ActiveModel {
        id: Set(v.id),
        company_id: Set(company),
        name: Set(v.name.clone()),
        category: Set(v.category.clone()),
        contacts: Set(serde_json::to_string(&v.contacts).map_err(corrupt)?),
        services: Set(serde_json::to_string(&v.services).map_err(corrupt)?),
        created_by: Set(v.created_by),
        updated_by: Set(v.updated_by),
        created_at: Set(v.created_at),
        updated_at: Set(v.updated_at),
    })
}

pub async fn insert(db: &impl ConnectionTrait, company: Uuid, v: &Vendor) -> Result<(), DbErr> {
    row::Entity::insert(encode(company, v)?).exec_without_returning(db).await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<Vendor>, DbErr> {
    rows::find::<row::Entity>(db, company, id).await?.map(decode).transpose()
}

pub async fn update(db: &impl ConnectionTrait, company: Uuid, v: &Vendor) -> Result<(), DbErr> {
    rows::update::<row::Entity>(db, company, v.id, encode(company, v)?).await
}

pub async fn delete(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<bool, DbErr> {
    rows::delete::<row::Entity>(db, company, id).await
}

pub async fn list(
    db: &impl ConnectionTrait,
    company: Uuid,
    filter: &VendorFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Vendor>, u64), DbErr> {
    let mut query = listing::containing(scoped(company), row::Column::Name, filter.q.as_deref());
    if let Some(category) = filter.category.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        query = query.filter(row::Column::Category.eq(category));
    }
    let total = query.clone().count(db).await?;
    let rows = listing::sorted(query, filter.sort, row::Column::Name, row::Column::CreatedAt, row::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows.into_iter().map(decode).collect::<Result<_, _>>()?, total))
}
