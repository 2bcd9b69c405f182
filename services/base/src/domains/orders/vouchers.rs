//! Vouchers: a code with a discount, for some or all ticket types of an
//! event, with an exact number of uses (one per seat) and optionally seats
//! of its own, held from its creation until it is deleted or runs out.

use std::collections::BTreeMap;

use marquee_guard::AccessContext;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::model::{Voucher, VoucherIn};
use super::repo;
use super::seats::{self, Bucket, Taken};
use crate::domains::activity::{self, Change};
use crate::domains::events::repo as events;
use crate::domains::ticketing::repo as ticket_types;
use crate::error::Error;
use crate::state::AppState;

pub async fn create(state: &AppState, ctx: &AccessContext, event: Uuid, input: VoucherIn) -> Result<Voucher, Error> {
    let company = ctx.company_id;
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    events::find(&txn, company, event).await?.ok_or(Error::NotFound("event"))?;
    let types = ticket_types::ticket_types(&txn, company, event).await?;
    for id in &input.ticket_type_ids {
        if !types.iter().any(|t| t.id == *id) {
            return Err(Error::field("ticketTypeIds", format!("{id} is not a ticket type of this event")));
        }
    }
    let code = input.code.trim().to_uppercase();
    if repo::voucher_by_code(&txn, company, event, &code).await?.is_some() {
        return Err(Error::VoucherCodeTaken(format!("the code {code} is already a voucher of this event")));
    }
    let voucher = Voucher {
        id: Uuid::now_v7(),
        event_id: event,
        code,
        discount_kind: input.discount_kind,
        discount_value: input.discount_value,
        ticket_type_ids: input.ticket_type_ids,
        max_uses: input.max_uses,
        uses: 0,
        valid_until: input.valid_until,
        block_quota: input.block_quota,
        created_at: now,
    };
    if voucher.block_quota {
        let wants = BTreeMap::from([(voucher.ticket_type_ids[0], voucher.max_uses)]);
        if seats::take(&txn, company, &wants, Bucket::Held).await? == Taken::No {
            return Err(Error::SoldOut(format!("fewer than {} seats are free to block", voucher.max_uses)));
        }
    }
    repo::insert_voucher(&txn, company, &voucher, ctx.user_id).await?;
    activity::record(&txn, ctx, Change::created(now, "voucher", voucher.id, &voucher)).await?;
    txn.commit().await?;
    Ok(voucher)
}

pub async fn list(state: &AppState, ctx: &AccessContext, event: Uuid) -> Result<Vec<Voucher>, Error> {
    events::find(&state.db, ctx.company_id, event).await?.ok_or(Error::NotFound("event"))?;
    Ok(repo::vouchers(&state.db, ctx.company_id, event).await?)
}

/// Ends a voucher's block: the seats it still holds go back on sale.
pub async fn release(state: &AppState, company: Uuid, id: Uuid) -> Result<bool, Error> {
    let txn = state.db.begin().await?;
    let Some(voucher) = repo::voucher(&txn, company, id).await? else { return Ok(false) };
    let released = release_in(&txn, company, &voucher).await?;
    txn.commit().await?;
    if released {
        super::service::offer_to_waitlist(state, company, voucher.event_id).await;
    }
    Ok(released)
}

async fn release_in(db: &impl sea_orm::ConnectionTrait, company: Uuid, voucher: &Voucher) -> Result<bool, Error> {
    let Some(left) = repo::release_block(db, company, voucher.id).await? else { return Ok(false) };
    if left > 0 {
        let wants = BTreeMap::from([(voucher.ticket_type_ids[0], left)]);
        seats::give_back(db, company, &wants, Bucket::Held).await?;
    }
    Ok(true)
}

/// Deletes a voucher no order has used; its block goes back on sale.
pub async fn delete(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<(), Error> {
    let now = state.clock.now();
    let company = ctx.company_id;
    let txn = state.db.begin().await?;
    let voucher = repo::voucher(&txn, company, id).await?.ok_or(Error::NotFound("voucher"))?;
    if repo::voucher_in_orders(&txn, id).await? {
        return Err(Error::VoucherInUse("orders used this voucher; it can no longer be deleted".to_owned()));
    }
    release_in(&txn, company, &voucher).await?;
    repo::delete_voucher(&txn, company, id).await?;
    activity::record(&txn, ctx, Change::deleted(now, "voucher", id, &voucher)).await?;
    txn.commit().await?;
    super::service::offer_to_waitlist(state, company, voucher.event_id).await;
    Ok(())
}
