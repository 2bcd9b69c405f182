//! The seat counters of ticket types and quotas, the only code that moves
//! them. Every change is a conditional update of a counter row, so no seat
//! is ever sold twice under any concurrency: `sold + held ≤ capacity` for
//! each ticket type and `sold + held ≤ size` for each quota, always. Rows are
//! locked in one fixed order (ticket types by id, then quotas by id), so two
//! orders touching the same rows never wait on each other in a circle.

use std::collections::BTreeMap;

use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, ExprTrait};

use super::repo::{quota_row, quota_type_row};
use crate::domains::ticketing::model::TicketType;
use crate::domains::ticketing::repo::type_row;

/// Which counter seats go to or come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Sold: paid orders and confirmed registrations.
    Sold,
    /// Held: open reservations and vouchers' blocks.
    Held,
}

impl Bucket {
    fn of_type(self) -> type_row::Column {
        match self {
            Self::Sold => type_row::Column::Sold,
            Self::Held => type_row::Column::Held,
        }
    }

    fn of_quota(self) -> quota_row::Column {
        match self {
            Self::Sold => quota_row::Column::Sold,
            Self::Held => quota_row::Column::Held,
        }
    }
}

/// Seats wanted per ticket type, in the fixed order.
pub type Wants = BTreeMap<Uuid, u32>;

/// What a take did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// Every seat was taken; `filled` when a type or quota has no room left.
    Yes { filled: bool },
    /// Too few seats: nothing was changed.
    No,
}

fn n(v: u32) -> Result<i32, DbErr> {
    i32::try_from(v).map_err(|e| DbErr::Custom(format!("seat count out of range: {e}")))
}

/// The seats each quota is asked for by `wants`, in quota order.
async fn quota_wants(db: &impl ConnectionTrait, company: Uuid, wants: &Wants) -> Result<BTreeMap<Uuid, u32>, DbErr> {
    let links = quota_type_row::Entity::find()
        .filter(quota_type_row::Column::CompanyId.eq(company))
        .filter(quota_type_row::Column::TicketTypeId.is_in(wants.keys().copied()))
        .all(db)
        .await?;
    let mut per_quota = BTreeMap::new();
    for link in links {
        *per_quota.entry(link.quota_id).or_insert(0) += wants.get(&link.ticket_type_id).copied().unwrap_or(0);
    }
    Ok(per_quota)
}

async fn add_to_type(
    db: &impl ConnectionTrait,
    company: Uuid,
    id: Uuid,
    bucket: Bucket,
    q: i32,
) -> Result<Option<bool>, DbErr> {
    let column = bucket.of_type();
    let rows = type_row::Entity::update_many()
        .col_expr(column, Expr::col(column).add(q))
        .filter(type_row::Column::CompanyId.eq(company))
        .filter(type_row::Column::Id.eq(id))
        .filter(
            Expr::col(type_row::Column::Sold)
                .add(Expr::col(type_row::Column::Held))
                .add(Expr::col(type_row::Column::Comps))
                .add(Expr::col(type_row::Column::Kills))
                .add(q)
                .lte(Expr::col(type_row::Column::Capacity)),
        )
        .exec_with_returning(db)
        .await?;
    Ok(rows.first().map(|t| t.sold + t.held + t.comps + t.kills >= t.capacity))
}

async fn add_to_quota(db: &impl ConnectionTrait, id: Uuid, bucket: Bucket, q: i32) -> Result<Option<bool>, DbErr> {
    let column = bucket.of_quota();
    let rows = quota_row::Entity::update_many()
        .col_expr(column, Expr::col(column).add(q))
        .filter(quota_row::Column::Id.eq(id))
        .filter(
            Expr::col(quota_row::Column::Sold)
                .add(Expr::col(quota_row::Column::Held))
                .add(q)
                .lte(Expr::col(quota_row::Column::Size)),
        )
        .exec_with_returning(db)
        .await?;
    Ok(rows.first().map(|t| t.sold + t.held >= t.size))
}

async fn sub_from_type(
    db: &impl ConnectionTrait,
    company: Uuid,
    id: Uuid,
    bucket: Bucket,
    q: i32,
) -> Result<(), DbErr> {
    let column = bucket.of_type();
    type_row::Entity::update_many()
        .col_expr(column, Expr::col(column).sub(q))
        .filter(type_row::Column::CompanyId.eq(company))
        .filter(type_row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

async fn sub_from_quota(db: &impl ConnectionTrait, id: Uuid, bucket: Bucket, q: i32) -> Result<(), DbErr> {
    let column = bucket.of_quota();
    quota_row::Entity::update_many()
        .col_expr(column, Expr::col(column).sub(q))
        .filter(quota_row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Takes the wanted seats into `bucket` if every ticket type and quota has
/// room for them; otherwise undoes what it took and answers `No`.
pub async fn take(db: &impl ConnectionTrait, company: Uuid, wants: &Wants, bucket: Bucket) -> Result<Taken, DbErr> {
    let mut filled = false;
    let mut done_types = Vec::new();
    for (&id, &q) in wants {
        match add_to_type(db, company, id, bucket, n(q)?).await? {
            Some(full) => {
                filled |= full;
                done_types.push((id, q));
            }
            None => {
                for (id, q) in done_types {
                    sub_from_type(db, company, id, bucket, n(q)?).await?;
                }
                return Ok(Taken::No);
            }
        }
    }
    let quotas = quota_wants(db, company, wants).await?;
    let mut done_quotas = Vec::new();
    for (&id, &q) in &quotas {
        match add_to_quota(db, id, bucket, n(q)?).await? {
            Some(full) => {
                filled |= full;
                done_quotas.push((id, q));
            }
            None => {
                for (id, q) in done_quotas {
                    sub_from_quota(db, id, bucket, n(q)?).await?;
                }
                for (id, q) in done_types {
                    sub_from_type(db, company, id, bucket, n(q)?).await?;
                }
                return Ok(Taken::No);
            }
        }
    }
    Ok(Taken::Yes { filled })
}

/// Gives seats back from `bucket` to the ticket types and their quotas.
pub async fn give_back(db: &impl ConnectionTrait, company: Uuid, wants: &Wants, bucket: Bucket) -> Result<(), DbErr> {
    for (&id, &q) in wants {
        sub_from_type(db, company, id, bucket, n(q)?).await?;
    }
    for (id, q) in quota_wants(db, company, wants).await? {
        sub_from_quota(db, id, bucket, n(q)?).await?;
    }
    Ok(())
}

/// Held seats become sold (a reservation is paid): no room is needed, the
/// seats are already counted.
pub async fn sell_held(db: &impl ConnectionTrait, company: Uuid, wants: &Wants) -> Result<(), DbErr> {
    for (&id, &q) in wants {
        let q = n(q)?;
        type_row::Entity::update_many()
            .col_expr(type_row::Column::Held, Expr::col(type_row::Column::Held).sub(q))
            .col_expr(type_row::Column::Sold, Expr::col(type_row::Column::Sold).add(q))
            .filter(type_row::Column::CompanyId.eq(company))
            .filter(type_row::Column::Id.eq(id))
            .exec(db)
            .await?;
    }
    for (id, q) in quota_wants(db, company, wants).await? {
        let q = n(q)?;
        quota_row::Entity::update_many()
            .col_expr(quota_row::Column::Held, Expr::col(quota_row::Column::Held).sub(q))
            .col_expr(quota_row::Column::Sold, Expr::col(quota_row::Column::Sold).add(q))
            .filter(quota_row::Column::Id.eq(id))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Whether every one of `types` can sell no more: each is sold to its own
/// capacity or belongs to a quota that is sold (held seats may come back).
pub async fn all_sold(db: &impl ConnectionTrait, company: Uuid, types: &[TicketType]) -> Result<bool, DbErr> {
    if types.is_empty() {
        return Ok(false);
    }
    let open: Vec<Uuid> = types.iter().filter(|t| t.sold < t.sellable()).map(|t| t.id).collect();
    if open.is_empty() {
        return Ok(true);
    }
    let links = quota_type_row::Entity::find()
        .filter(quota_type_row::Column::CompanyId.eq(company))
        .filter(quota_type_row::Column::TicketTypeId.is_in(open.iter().copied()))
        .all(db)
        .await?;
    let full: std::collections::HashSet<Uuid> = quota_row::Entity::find()
        .filter(quota_row::Column::Id.is_in(links.iter().map(|l| l.quota_id)))
        .filter(Expr::col(quota_row::Column::Sold).gte(Expr::col(quota_row::Column::Size)))
        .all(db)
        .await?
        .into_iter()
        .map(|q| q.id)
        .collect();
    Ok(open.iter().all(|t| links.iter().any(|l| l.ticket_type_id == *t && full.contains(&l.quota_id))))
}
