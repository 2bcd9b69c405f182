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
/// seats are already counted. True when a type or quota touched is now sold
/// to its limit, the only case in which its event may have sold out. The
/// links are read before the first counter is locked, so the lock is held
/// by the updates alone.
pub async fn sell_held(db: &impl ConnectionTrait, company: Uuid, wants: &Wants) -> Result<bool, DbErr> {
    let quotas = quota_wants(db, company, wants).await?;
    let mut sold_out = false;
    for (&id, &q) in wants {
        let q = n(q)?;
        let rows = type_row::Entity::update_many()
            .col_expr(type_row::Column::Held, Expr::col(type_row::Column::Held).sub(q))
            .col_expr(type_row::Column::Sold, Expr::col(type_row::Column::Sold).add(q))
            .filter(type_row::Column::CompanyId.eq(company))
            .filter(type_row::Column::Id.eq(id))
            .exec_with_returning(db)
            .await?;
        sold_out |= rows.iter().any(|t| t.sold + t.comps + t.kills >= t.capacity);
    }
    for (id, q) in quotas {
        let q = n(q)?;
        let rows = quota_row::Entity::update_many()
            .col_expr(quota_row::Column::Held, Expr::col(quota_row::Column::Held).sub(q))
            .col_expr(quota_row::Column::Sold, Expr::col(quota_row::Column::Sold).add(q))
            .filter(quota_row::Column::Id.eq(id))
            .exec_with_returning(db)
            .await?;
        sold_out |= rows.iter().any(|t| t.sold >= t.size);
    }
    Ok(sold_out)
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

/// One counter row read under its lock: the seats it may give and those
/// already sold or held, with what a batch has taken from it so far.
#[derive(Debug, Clone)]
struct Counter {
    company: Uuid,
    room: i64,
    used: i64,
    taken: i64,
}

impl Counter {
    fn fits(&self, q: i64) -> bool {
        self.used + self.taken + q <= self.room
    }
}

/// The seat counters of some ticket types and of their quotas, locked until
/// the transaction ends, for claims checked in memory one after another
/// (group commit): each claim sees the seats its predecessors took.
#[derive(Debug, Default)]
pub struct Counters {
    types: BTreeMap<Uuid, Counter>,
    quotas: BTreeMap<Uuid, Counter>,
    /// Each ticket type's quotas.
    links: BTreeMap<Uuid, Vec<Uuid>>,
}

/// Locks the named ticket types (each company's among its own ids) and
/// their quotas, in the fixed order (types by id, then quotas by id), with
/// the lock an update of the counters takes; answers their counters and the
/// types as read.
pub async fn lock(db: &impl ConnectionTrait, named: &[(Uuid, Uuid)]) -> Result<(Counters, Vec<TicketType>), DbErr> {
    use sea_orm::sea_query::LockType;
    use sea_orm::{QueryOrder, QuerySelect};
    let mut counters = Counters::default();
    let mut read = Vec::new();
    if named.is_empty() {
        return Ok((counters, read));
    }
    let any_type = marquee_db::per_company(named, type_row::Column::CompanyId, type_row::Column::Id);
    for t in type_row::Entity::find()
        .filter(any_type)
        .order_by_asc(type_row::Column::Id)
        .lock(LockType::NoKeyUpdate)
        .all(db)
        .await?
    {
        let room = i64::from(t.capacity) - i64::from(t.comps) - i64::from(t.kills);
        let used = i64::from(t.sold) + i64::from(t.held);
        counters.types.insert(t.id, Counter { company: t.company_id, room, used, taken: 0 });
        read.push(crate::domains::ticketing::repo::type_of(t)?);
    }
    let linked: Vec<(Uuid, Uuid)> = counters.types.iter().map(|(id, c)| (c.company, *id)).collect();
    let any_link =
        marquee_db::per_company(&linked, quota_type_row::Column::CompanyId, quota_type_row::Column::TicketTypeId);
    let links = if counters.types.is_empty() {
        Vec::new()
    } else {
        quota_type_row::Entity::find().filter(any_link).all(db).await?
    };
    for link in &links {
        counters.links.entry(link.ticket_type_id).or_default().push(link.quota_id);
    }
    if !links.is_empty() {
        for q in quota_row::Entity::find()
            .filter(quota_row::Column::Id.is_in(links.iter().map(|l| l.quota_id)))
            .order_by_asc(quota_row::Column::Id)
            .lock(LockType::NoKeyUpdate)
            .all(db)
            .await?
        {
            let used = i64::from(q.sold) + i64::from(q.held);
            counters.quotas.insert(q.id, Counter { company: q.company_id, room: i64::from(q.size), used, taken: 0 });
        }
    }
    Ok((counters, read))
}

impl Counters {
    /// Takes the wanted seats if every ticket type and each of their quotas
    /// have room for them after what this batch already took; nothing
    /// moves otherwise. `filled` as [`take`] says it.
    pub fn take(&mut self, company: Uuid, wants: &Wants) -> Taken {
        let mut per_quota: BTreeMap<Uuid, i64> = BTreeMap::new();
        for (t, &q) in wants {
            for quota in self.links.get(t).into_iter().flatten() {
                *per_quota.entry(*quota).or_insert(0) += i64::from(q);
            }
        }
        let fits =
            wants.iter().all(|(t, &q)| self.types.get(t).is_some_and(|c| c.company == company && c.fits(q.into())))
                && per_quota.iter().all(|(id, &q)| self.quotas.get(id).is_some_and(|c| c.fits(q)));
        if !fits {
            return Taken::No;
        }
        let mut filled = false;
        let mut take = |counter: Option<&mut Counter>, q: i64| {
            if let Some(counter) = counter {
                counter.taken += q;
                filled |= !counter.fits(1);
            }
        };
        for (t, &q) in wants {
            take(self.types.get_mut(t), q.into());
        }
        for (id, q) in per_quota {
            take(self.quotas.get_mut(&id), q);
        }
        Taken::Yes { filled }
    }

    /// Writes what the batch took into `bucket`: one update per counter it moved.
    pub async fn store(&self, db: &impl ConnectionTrait, bucket: Bucket) -> Result<(), DbErr> {
        let (of_type, of_quota) = (bucket.of_type(), bucket.of_quota());
        let count =
            |taken: i64| i32::try_from(taken).map_err(|e| DbErr::Custom(format!("seat count out of range: {e}")));
        for (id, c) in self.types.iter().filter(|(_, c)| c.taken > 0) {
            type_row::Entity::update_many()
                .col_expr(of_type, Expr::col(of_type).add(count(c.taken)?))
                .filter(type_row::Column::CompanyId.eq(c.company))
                .filter(type_row::Column::Id.eq(*id))
                .exec(db)
                .await?;
        }
        for (id, c) in self.quotas.iter().filter(|(_, c)| c.taken > 0) {
            quota_row::Entity::update_many()
                .col_expr(of_quota, Expr::col(of_quota).add(count(c.taken)?))
                .filter(quota_row::Column::Id.eq(*id))
                .exec(db)
                .await?;
        }
        Ok(())
    }
}
