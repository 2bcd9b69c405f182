//! The only code that touches crew profiles.

use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, PaginatorTrait, QueryOrder, QuerySelect, Set};

use super::model::{CrewFilter, CrewMember, Kind};

pub mod crew_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "crew_members")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub user_id: Option<Uuid>,
        pub name: String,
        pub email: Option<String>,
        pub phone: Option<String>,
        pub kind: String,
        pub skills: String,
        pub certifications: String,
        pub availability: String,
        pub created_by: Uuid,
        pub updated_by: Uuid,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub(crate) fn corrupt(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("stored crew data is not readable: {e}"))
}

pub(crate) fn json<T: serde::Serialize>(v: &T) -> Result<String, DbErr> {
    serde_json::to_string(v).map_err(corrupt)
}

pub(crate) fn count(v: u32) -> Result<i32, DbErr> {
    i32::try_from(v).map_err(corrupt)
}

fn crew_of(r: crew_row::Model) -> Result<CrewMember, DbErr> {
    Ok(CrewMember {
        id: r.id,
        user_id: r.user_id,
        name: r.name,
        email: r.email,
        phone: r.phone,
        kind: Kind::parse(&r.kind).ok_or_else(|| corrupt(&r.kind))?,
        skills: serde_json::from_str(&r.skills).map_err(corrupt)?,
        certifications: serde_json::from_str(&r.certifications).map_err(corrupt)?,
        availability: serde_json::from_str(&r.availability).map_err(corrupt)?,
        created_by: r.created_by,
        updated_by: r.updated_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

fn crew_row(company: Uuid, c: &CrewMember) -> Result<crew_row::ActiveModel, DbErr> {
    Ok(crew_row::ActiveModel {
        id: Set(c.id),
        company_id: Set(company),
        user_id: Set(c.user_id),
        name: Set(c.name.clone()),
        email: Set(c.email.clone()),
        phone: Set(c.phone.clone()),
        kind: Set(c.kind.as_str().to_owned()),
        skills: Set(json(&c.skills)?),
        certifications: Set(json(&c.certifications)?),
        availability: Set(json(&c.availability)?),
        created_by: Set(c.created_by),
        updated_by: Set(c.updated_by),
        created_at: Set(c.created_at),
        updated_at: Set(c.updated_at),
    })
}

fn crew_scoped(company: Uuid) -> Select<crew_row::Entity> {
    crew_row::Entity::find().filter(crew_row::Column::CompanyId.eq(company))
}

pub async fn insert_crew(db: &impl ConnectionTrait, company: Uuid, c: &CrewMember) -> Result<(), DbErr> {
    crew_row(company, c)?.insert(db).await?;
    Ok(())
}

pub async fn update_crew(db: &impl ConnectionTrait, company: Uuid, c: &CrewMember) -> Result<(), DbErr> {
    let mut row = crew_row(company, c)?;
    row.created_by = sea_orm::NotSet;
    row.created_at = sea_orm::NotSet;
    crew_row::Entity::update_many()
        .set(row)
        .filter(crew_row::Column::CompanyId.eq(company))
        .filter(crew_row::Column::Id.eq(c.id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn crew(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<CrewMember>, DbErr> {
    crew_scoped(company).filter(crew_row::Column::Id.eq(id)).one(db).await?.map(crew_of).transpose()
}

pub async fn crew_of_user(db: &impl ConnectionTrait, company: Uuid, user: Uuid) -> Result<Option<CrewMember>, DbErr> {
    crew_scoped(company).filter(crew_row::Column::UserId.eq(user)).one(db).await?.map(crew_of).transpose()
}

/// Takes the person's row lock for the rest of the transaction, so two
/// assignments of one person are decided one after the other.
pub async fn lock_crew(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<bool, DbErr> {
    let done = crew_row::Entity::update_many()
        .col_expr(crew_row::Column::UpdatedAt, Expr::col(crew_row::Column::UpdatedAt))
        .filter(crew_row::Column::CompanyId.eq(company))
        .filter(crew_row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

pub async fn list_crew(
    db: &impl ConnectionTrait,
    company: Uuid,
    filter: &CrewFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<CrewMember>, u64), DbErr> {
    let mut query = crew_scoped(company);
    if let Some(k) = filter.kind {
        query = query.filter(crew_row::Column::Kind.eq(k.as_str()));
    }
    if let Some(skill) = &filter.skill {
        // Skills are stored as a JSON list of lowercase strings.
        let quoted = serde_json::to_string(&skill.trim().to_lowercase()).map_err(corrupt)?;
        query = query.filter(crew_row::Column::Skills.contains(quoted));
    }
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_asc(crew_row::Column::Name)
        .order_by_asc(crew_row::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows.into_iter().map(crew_of).collect::<Result<_, _>>()?, total))
}

pub async fn delete_crew(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<(), DbErr> {
    crew_row::Entity::delete_many()
        .filter(crew_row::Column::CompanyId.eq(company))
        .filter(crew_row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
