use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, PaginatorTrait, QueryOrder, QuerySelect, Set};

use super::ActivityEntry;

pub mod row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "activity")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub at: DateTimeUtc,
        pub actor_user_id: Uuid,
        pub entity: String,
        pub entity_id: Uuid,
        pub action: String,
        pub before: String,
        pub after: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn active(company: Uuid, e: &ActivityEntry) -> row::ActiveModel {
    row::ActiveModel {
        id: Set(e.id),
        company_id: Set(company),
        at: Set(e.at),
        actor_user_id: Set(e.actor_user_id),
        entity: Set(e.entity.clone()),
        entity_id: Set(e.entity_id),
        action: Set(e.action.clone()),
        before: Set(e.before.to_string()),
        after: Set(e.after.to_string()),
    }
}

pub async fn insert(db: &impl ConnectionTrait, company: Uuid, e: &ActivityEntry) -> Result<(), DbErr> {
    active(company, e).insert(db).await?;
    Ok(())
}

/// Many entries in one statement per thousand (a group commit's).
pub async fn insert_many(db: &impl ConnectionTrait, entries: &[(Uuid, ActivityEntry)]) -> Result<(), DbErr> {
    for chunk in entries.chunks(1000) {
        row::Entity::insert_many(chunk.iter().map(|(company, e)| active(*company, e)))
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// The company's entries of the `areas` given (and of `entity` among them, if named).
pub async fn list(
    db: &impl ConnectionTrait,
    company: Uuid,
    areas: &[&str],
    entity: Option<&str>,
    offset: u64,
    limit: u64,
) -> Result<(Vec<ActivityEntry>, u64), DbErr> {
    let mut query = row::Entity::find()
        .filter(row::Column::CompanyId.eq(company))
        .filter(row::Column::Entity.is_in(areas.iter().copied()));
    if let Some(entity) = entity {
        query = query.filter(row::Column::Entity.eq(entity));
    }
    let total = query.clone().count(db).await?;
    let rows =
        query.order_by_desc(row::Column::At).order_by_desc(row::Column::Id).offset(offset).limit(limit).all(db).await?;
    Ok((
        rows.into_iter()
            .map(|r| ActivityEntry {
                id: r.id,
                at: r.at,
                actor_user_id: r.actor_user_id,
                entity: r.entity,
                entity_id: r.entity_id,
                action: r.action,
                before: serde_json::from_str(&r.before).unwrap_or_default(),
                after: serde_json::from_str(&r.after).unwrap_or_default(),
            })
            .collect(),
        total,
    ))
}
