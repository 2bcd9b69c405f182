//! The only code that touches media rows and each company's stored total.

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, ExprTrait, PaginatorTrait, QueryOrder, QuerySelect, Set};

use super::{Media, MediaFilter, OwnerType};

pub mod row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "media_assets")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub owner_type: String,
        pub owner_id: Uuid,
        pub filename: String,
        pub content_type: String,
        pub size_bytes: i64,
        pub checksum_sha256: String,
        pub storage_key: String,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod usage_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "media_usage")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub company_id: Uuid,
        pub bytes: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn bytes(v: u64) -> Result<i64, DbErr> {
    i64::try_from(v).map_err(|_| DbErr::Custom(format!("size {v} out of range")))
}

fn media_of(r: row::Model) -> Result<(Media, String), DbErr> {
    let media = Media {
        id: r.id,
        owner_type: OwnerType::parse(&r.owner_type)
            .ok_or_else(|| DbErr::Custom(format!("media owner type {}", r.owner_type)))?,
        owner_id: r.owner_id,
        filename: r.filename,
        content_type: r.content_type,
        size_bytes: u64::try_from(r.size_bytes).map_err(|_| DbErr::Custom("negative media size".to_owned()))?,
        checksum_sha256: r.checksum_sha256,
        created_by: r.created_by,
        created_at: r.created_at,
    };
    Ok((media, r.storage_key))
}

fn scoped(company: Uuid) -> Select<row::Entity> {
    row::Entity::find().filter(row::Column::CompanyId.eq(company))
}

pub async fn insert(db: &impl ConnectionTrait, company: Uuid, m: &Media, key: &str) -> Result<(), DbErr> {
    row::ActiveModel {
        id: Set(m.id),
        company_id: Set(company),
        owner_type: Set(m.owner_type.as_str().to_owned()),
        owner_id: Set(m.owner_id),
        filename: Set(m.filename.clone()),
        content_type: Set(m.content_type.clone()),
        size_bytes: Set(bytes(m.size_bytes)?),
        checksum_sha256: Set(m.checksum_sha256.clone()),
        storage_key: Set(key.to_owned()),
        created_by: Set(m.created_by),
        created_at: Set(m.created_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The media and its object's key.
pub async fn find(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<(Media, String)>, DbErr> {
    scoped(company).filter(row::Column::Id.eq(id)).one(db).await?.map(media_of).transpose()
}

pub async fn list(
    db: &impl ConnectionTrait,
    company: Uuid,
    filter: &MediaFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Media>, u64), DbErr> {
    let mut query = scoped(company);
    if let Some(t) = filter.owner_type {
        query = query.filter(row::Column::OwnerType.eq(t.as_str()));
    }
    if let Some(o) = filter.owner_id {
        query = query.filter(row::Column::OwnerId.eq(o));
    }
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(row::Column::CreatedAt)
        .order_by_asc(row::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    let items = rows.into_iter().map(|r| media_of(r).map(|(m, _)| m)).collect::<Result<_, _>>()?;
    Ok((items, total))
}

pub async fn delete(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<bool, DbErr> {
    let done = row::Entity::delete_many()
        .filter(row::Column::CompanyId.eq(company))
        .filter(row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// The bytes a company stores now.
pub async fn used(db: &impl ConnectionTrait, company: Uuid) -> Result<u64, DbErr> {
    let row = usage_row::Entity::find_by_id(company).one(db).await?;
    Ok(row.map_or(0, |r| u64::try_from(r.bytes).unwrap_or(0)))
}

/// Adds `size` to the company's total if it stays within `limit`: one
/// conditional update, so concurrent uploads can never pass the limit together.
pub async fn reserve(db: &impl ConnectionTrait, company: Uuid, size: u64, limit: Option<u64>) -> Result<bool, DbErr> {
    usage_row::Entity::insert(usage_row::ActiveModel { company_id: Set(company), bytes: Set(0) })
        .on_conflict(OnConflict::column(usage_row::Column::CompanyId).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    let size = bytes(size)?;
    let mut update = usage_row::Entity::update_many()
        .col_expr(usage_row::Column::Bytes, Expr::col(usage_row::Column::Bytes).add(size))
        .filter(usage_row::Column::CompanyId.eq(company));
    if let Some(limit) = limit {
        update = update.filter(Expr::col(usage_row::Column::Bytes).add(size).lte(bytes(limit)?));
    }
    Ok(update.exec(db).await?.rows_affected == 1)
}

pub async fn release(db: &impl ConnectionTrait, company: Uuid, size: u64) -> Result<(), DbErr> {
    usage_row::Entity::update_many()
        .col_expr(usage_row::Column::Bytes, Expr::col(usage_row::Column::Bytes).sub(bytes(size)?))
        .filter(usage_row::Column::CompanyId.eq(company))
        .exec(db)
        .await?;
    Ok(())
}
