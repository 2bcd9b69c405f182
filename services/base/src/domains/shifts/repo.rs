//! The only code that touches shifts and their assignments.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, ExprTrait, PaginatorTrait, QueryOrder, QuerySelect, Set};

use super::model::Shift;
use crate::domains::crew::repo::{corrupt, count, json};
pub mod shift_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "shifts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub event_id: Uuid,
        pub name: String,
        pub starts_at: DateTimeUtc,
        pub ends_at: DateTimeUtc,
        pub required_skills: String,
        pub headcount: i32,
        pub filled: i32,
        pub created_by: Uuid,
        pub updated_by: Uuid,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub version: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod assignment_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "shift_assignments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub shift_id: Uuid,
        pub crew_id: Uuid,
        pub assigned_by: Uuid,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn shift_of(r: shift_row::Model, assigned: Vec<Uuid>) -> Result<Shift, DbErr> {
    Ok(Shift {
        id: r.id,
        event_id: r.event_id,
        name: r.name,
        starts_at: r.starts_at,
        ends_at: r.ends_at,
        required_skills: serde_json::from_str(&r.required_skills).map_err(corrupt)?,
        headcount: u32::try_from(r.headcount).map_err(corrupt)?,
        filled: u32::try_from(r.filled).map_err(corrupt)?,
        assigned,
        created_by: r.created_by,
        updated_by: r.updated_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
        version: u64::try_from(r.version).map_err(corrupt)?,
    })
}

fn version(v: u64) -> Result<i64, DbErr> {
    i64::try_from(v).map_err(corrupt)
}

fn shift_scoped(company: Uuid) -> Select<shift_row::Entity> {
    shift_row::Entity::find().filter(shift_row::Column::CompanyId.eq(company))
}

/// The crew assigned to each of `shifts`, in assignment order.
async fn assigned_to(
    db: &impl ConnectionTrait,
    company: Uuid,
    shifts: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Uuid>>, DbErr> {
    let mut out: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    if shifts.is_empty() {
        return Ok(out);
    }
    let rows = assignment_row::Entity::find()
        .filter(assignment_row::Column::CompanyId.eq(company))
        .filter(assignment_row::Column::ShiftId.is_in(shifts.iter().copied()))
        .order_by_asc(assignment_row::Column::CreatedAt)
        .order_by_asc(assignment_row::Column::Id)
        .all(db)
        .await?;
    for r in rows {
        out.entry(r.shift_id).or_default().push(r.crew_id);
    }
    Ok(out)
}

async fn with_assignments(
    db: &impl ConnectionTrait,
    company: Uuid,
    rows: Vec<shift_row::Model>,
) -> Result<Vec<Shift>, DbErr> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut assigned = assigned_to(db, company, &ids).await?;
    rows.into_iter().map(|r| shift_of(r.clone(), assigned.remove(&r.id).unwrap_or_default())).collect()
}

pub async fn insert_shift(db: &impl ConnectionTrait, company: Uuid, s: &Shift) -> Result<(), DbErr> {
    shift_row::ActiveModel {
        id: Set(s.id),
        company_id: Set(company),
        event_id: Set(s.event_id),
        name: Set(s.name.clone()),
        starts_at: Set(s.starts_at),
        ends_at: Set(s.ends_at),
        required_skills: Set(json(&s.required_skills)?),
        headcount: Set(count(s.headcount)?),
        filled: Set(0),
        created_by: Set(s.created_by),
        updated_by: Set(s.updated_by),
        created_at: Set(s.created_at),
        updated_at: Set(s.updated_at),
        version: Set(version(s.version)?),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Writes the shift's own fields; `filled` moves only with assignments.
/// Writes `s` only over the version `read` (`s.version` is the next one);
/// false when an assignment or another edit came first.
pub async fn update_shift(db: &impl ConnectionTrait, company: Uuid, s: &Shift, read: u64) -> Result<bool, DbErr> {
    let done = shift_row::Entity::update_many()
        .col_expr(shift_row::Column::Name, Expr::value(s.name.clone()))
        .col_expr(shift_row::Column::StartsAt, Expr::value(s.starts_at))
        .col_expr(shift_row::Column::EndsAt, Expr::value(s.ends_at))
        .col_expr(shift_row::Column::RequiredSkills, Expr::value(json(&s.required_skills)?))
        .col_expr(shift_row::Column::Headcount, Expr::value(count(s.headcount)?))
        .col_expr(shift_row::Column::UpdatedBy, Expr::value(s.updated_by))
        .col_expr(shift_row::Column::UpdatedAt, Expr::value(s.updated_at))
        .col_expr(shift_row::Column::Version, Expr::value(version(s.version)?))
        .filter(shift_row::Column::CompanyId.eq(company))
        .filter(shift_row::Column::Id.eq(s.id))
        .filter(shift_row::Column::Version.eq(version(read)?))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

pub async fn shift(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<Shift>, DbErr> {
    let rows = shift_scoped(company).filter(shift_row::Column::Id.eq(id)).all(db).await?;
    Ok(with_assignments(db, company, rows).await?.pop())
}

pub async fn shifts_of_event(db: &impl ConnectionTrait, company: Uuid, event: Uuid) -> Result<Vec<Shift>, DbErr> {
    let rows = shift_scoped(company)
        .filter(shift_row::Column::EventId.eq(event))
        .order_by_asc(shift_row::Column::StartsAt)
        .order_by_asc(shift_row::Column::Id)
        .all(db)
        .await?;
    with_assignments(db, company, rows).await
}

/// Upcoming shifts still short of their headcount, soonest first, and how many there are.
pub async fn unfilled(
    db: &impl ConnectionTrait,
    company: Uuid,
    from: DateTime<Utc>,
    limit: u64,
) -> Result<(Vec<Shift>, u64), DbErr> {
    let query = shift_scoped(company)
        .filter(shift_row::Column::StartsAt.gte(from))
        .filter(Expr::col(shift_row::Column::Filled).lt(Expr::col(shift_row::Column::Headcount)));
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_asc(shift_row::Column::StartsAt)
        .order_by_asc(shift_row::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    Ok((with_assignments(db, company, rows).await?, total))
}

/// The shifts `crew` works that overlap `[start, end)`.
pub async fn overlapping(
    db: &impl ConnectionTrait,
    company: Uuid,
    crew: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<Shift>, DbErr> {
    let mine: Vec<Uuid> = assignment_row::Entity::find()
        .filter(assignment_row::Column::CompanyId.eq(company))
        .filter(assignment_row::Column::CrewId.eq(crew))
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.shift_id)
        .collect();
    if mine.is_empty() {
        return Ok(Vec::new());
    }
    let rows = shift_scoped(company)
        .filter(shift_row::Column::Id.is_in(mine))
        .filter(shift_row::Column::StartsAt.lt(end))
        .filter(shift_row::Column::EndsAt.gt(start))
        .order_by_asc(shift_row::Column::StartsAt)
        .all(db)
        .await?;
    rows.into_iter().map(|r| shift_of(r, Vec::new())).collect()
}

pub async fn has_assignments(db: &impl ConnectionTrait, company: Uuid, crew: Uuid) -> Result<bool, DbErr> {
    let n = assignment_row::Entity::find()
        .filter(assignment_row::Column::CompanyId.eq(company))
        .filter(assignment_row::Column::CrewId.eq(crew))
        .count(db)
        .await?;
    Ok(n > 0)
}

/// Takes the shift's row lock for the transaction: its edits and its
/// assignments run one after another, each seeing the other's result.
pub async fn lock_shift(db: &impl ConnectionTrait, company: Uuid, shift: Uuid) -> Result<bool, DbErr> {
    let done = shift_row::Entity::update_many()
        .col_expr(shift_row::Column::Version, Expr::col(shift_row::Column::Version))
        .filter(shift_row::Column::CompanyId.eq(company))
        .filter(shift_row::Column::Id.eq(shift))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Takes one of the shift's open places, false when it is full: one
/// conditional update, so the headcount is never passed, whatever runs at the
/// same time.
pub async fn take_place(db: &impl ConnectionTrait, company: Uuid, shift: Uuid) -> Result<bool, DbErr> {
    let done = shift_row::Entity::update_many()
        .col_expr(shift_row::Column::Filled, Expr::col(shift_row::Column::Filled).add(1))
        .col_expr(shift_row::Column::Version, Expr::col(shift_row::Column::Version).add(1))
        .filter(shift_row::Column::CompanyId.eq(company))
        .filter(shift_row::Column::Id.eq(shift))
        .filter(Expr::col(shift_row::Column::Filled).lt(Expr::col(shift_row::Column::Headcount)))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

pub async fn insert_assignment(
    db: &impl ConnectionTrait,
    company: Uuid,
    shift: Uuid,
    crew: Uuid,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    assignment_row::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(company),
        shift_id: Set(shift),
        crew_id: Set(crew),
        assigned_by: Set(by),
        created_at: Set(at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Removes the assignment and frees its place; false when there was none.
pub async fn remove_assignment(
    db: &impl ConnectionTrait,
    company: Uuid,
    shift: Uuid,
    crew: Uuid,
) -> Result<bool, DbErr> {
    let done = assignment_row::Entity::delete_many()
        .filter(assignment_row::Column::CompanyId.eq(company))
        .filter(assignment_row::Column::ShiftId.eq(shift))
        .filter(assignment_row::Column::CrewId.eq(crew))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Ok(false);
    }
    shift_row::Entity::update_many()
        .col_expr(shift_row::Column::Filled, Expr::col(shift_row::Column::Filled).sub(1))
        .col_expr(shift_row::Column::Version, Expr::col(shift_row::Column::Version).add(1))
        .filter(shift_row::Column::CompanyId.eq(company))
        .filter(shift_row::Column::Id.eq(shift))
        .exec(db)
        .await?;
    Ok(true)
}

pub async fn delete_shift(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<(), DbErr> {
    assignment_row::Entity::delete_many()
        .filter(assignment_row::Column::CompanyId.eq(company))
        .filter(assignment_row::Column::ShiftId.eq(id))
        .exec(db)
        .await?;
    shift_row::Entity::delete_many()
        .filter(shift_row::Column::CompanyId.eq(company))
        .filter(shift_row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
