//! The rules of vendors: company-scoped, every change in the activity log.

use marquee_guard::AccessContext;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::{Vendor, VendorFilter, VendorIn, VendorPatch, repo};
use crate::domains::activity::{self, Change};
use crate::error::Error;
use crate::patch::patched;
use crate::state::AppState;

pub async fn create(state: &AppState, ctx: &AccessContext, input: VendorIn) -> Result<Vendor, Error> {
    let now = state.clock.now();
    let vendor = Vendor {
        id: Uuid::now_v7(),
        name: input.name.trim().to_owned(),
        category: input.category.trim().to_owned(),
        contacts: input.contacts,
        services: input.services,
        created_by: ctx.user_id,
        updated_by: ctx.user_id,
        created_at: now,
        updated_at: now,
    };
    let txn = state.db.begin().await?;
    repo::insert(&txn, ctx.company_id, &vendor).await?;
    activity::record(&txn, ctx, Change::created(now, "vendor", vendor.id, &vendor)).await?;
    txn.commit().await?;
    Ok(vendor)
}

pub async fn get(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<Vendor, Error> {
    repo::find(&state.reads, ctx.company_id, id).await?.ok_or(Error::NotFound("vendor"))
}

pub async fn list(
    state: &AppState,
    ctx: &AccessContext,
    filter: &VendorFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Vendor>, u64), Error> {
    Ok(repo::list(&state.reads, ctx.company_id, filter, offset, limit).await?)
}

pub async fn update(state: &AppState, ctx: &AccessContext, id: Uuid, patch: VendorPatch) -> Result<Vendor, Error> {
    let txn = state.db.begin().await?;
    let before = repo::find(&txn, ctx.company_id, id).await?.ok_or(Error::NotFound("vendor"))?;
    let mut after = patched(&before, patch);
    after.updated_by = ctx.user_id;
    after.updated_at = state.clock.now();
    repo::update(&txn, ctx.company_id, &after).await?;
    activity::record(&txn, ctx, Change::updated(after.updated_at, "vendor", id, &before, &after)).await?;
    txn.commit().await?;
    Ok(after)
}

pub async fn delete(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<(), Error> {
    let txn = state.db.begin().await?;
    let before = repo::find(&txn, ctx.company_id, id).await?.ok_or(Error::NotFound("vendor"))?;
    repo::delete(&txn, ctx.company_id, id).await?;
    activity::record(&txn, ctx, Change::deleted(state.clock.now(), "vendor", id, &before)).await?;
    txn.commit().await?;
    Ok(())
}
