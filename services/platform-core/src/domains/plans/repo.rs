use std::collections::{BTreeMap, BTreeSet};

use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};

use super::model::{Plan, PlanKind};

pub mod plan_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "plans")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub kind: String,
        pub code: String,
        pub version: i32,
        pub name: String,
        pub description: String,
        pub modules: String,
        pub permissions: String,
        pub limits: String,
        pub created_by: Option<Uuid>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn decode(row: plan_row::Model) -> Result<Plan, DbErr> {
    let bad = |what: &str, e: serde_json::Error| DbErr::Custom(format!("plan {} {what}: {e}", row.id));
    let kind = match row.kind.as_str() {
        "package" => PlanKind::Package,
        "addon" => PlanKind::Addon,
        other => {
            return Err(DbErr::Custom(format!("plan {} has unknown kind {other}", row.id)));
        }
    };
    Ok(Plan {
        id: row.id,
        kind: Some(kind),
        modules: serde_json::from_str::<BTreeSet<String>>(&row.modules).map_err(|e| bad("modules", e))?,
        permissions: serde_json::from_str::<BTreeSet<String>>(&row.permissions).map_err(|e| bad("permissions", e))?,
        limits: serde_json::from_str::<BTreeMap<String, i64>>(&row.limits).map_err(|e| bad("limits", e))?,
        version: u32::try_from(row.version).map_err(|e| DbErr::Custom(e.to_string()))?,
        code: row.code,
        name: row.name,
        description: row.description,
        created_by: row.created_by,
        created_at: row.created_at,
    })
}

fn decode_all(rows: Vec<plan_row::Model>) -> Result<Vec<Plan>, DbErr> {
    rows.into_iter().map(decode).collect()
}

pub async fn insert(db: &impl ConnectionTrait, plan: &Plan, kind: PlanKind) -> Result<(), DbErr> {
    plan_row::ActiveModel {
        id: Set(plan.id),
        kind: Set(kind.as_str().to_owned()),
        code: Set(plan.code.clone()),
        version: Set(i32::try_from(plan.version).map_err(|e| DbErr::Custom(e.to_string()))?),
        name: Set(plan.name.clone()),
        description: Set(plan.description.clone()),
        modules: Set(json(&plan.modules)?),
        permissions: Set(json(&plan.permissions)?),
        limits: Set(json(&plan.limits)?),
        created_by: Set(plan.created_by),
        created_at: Set(plan.created_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, DbErr> {
    serde_json::to_string(value).map_err(|e| DbErr::Custom(e.to_string()))
}

/// Every version of one code, newest first.
pub async fn versions(db: &impl ConnectionTrait, kind: PlanKind, code: &str) -> Result<Vec<Plan>, DbErr> {
    decode_all(
        plan_row::Entity::find()
            .filter(plan_row::Column::Kind.eq(kind.as_str()))
            .filter(plan_row::Column::Code.eq(code))
            .order_by_desc(plan_row::Column::Version)
            .all(db)
            .await?,
    )
}

/// Every version of every code of a kind, by code then newest first.
pub async fn all(db: &impl ConnectionTrait, kind: PlanKind) -> Result<Vec<Plan>, DbErr> {
    decode_all(
        plan_row::Entity::find()
            .filter(plan_row::Column::Kind.eq(kind.as_str()))
            .order_by_asc(plan_row::Column::Code)
            .order_by_desc(plan_row::Column::Version)
            .all(db)
            .await?,
    )
}

pub async fn by_ids(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<Plan>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    decode_all(plan_row::Entity::find().filter(plan_row::Column::Id.is_in(ids.iter().copied())).all(db).await?)
}
