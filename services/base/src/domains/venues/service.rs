//! The rules of venues: company-scoped, every change in the activity log, and
//! a venue with events is not deleted.

use marquee_guard::AccessContext;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::{Venue, VenueFilter, VenueIn, VenuePatch, repo};
use crate::domains::activity::{self, Change};
use crate::error::Error;
use crate::patch::patched;
use crate::state::AppState;

pub async fn create(state: &AppState, ctx: &AccessContext, input: VenueIn) -> Result<Venue, Error> {
    let now = state.clock.now();
    let venue = Venue {
        id: Uuid::now_v7(),
        name: input.name.trim().to_owned(),
        address: input.address,
        timezone: input.timezone,
        capacity: input.capacity,
        spaces: input.spaces,
        created_by: ctx.user_id,
        updated_by: ctx.user_id,
        created_at: now,
        updated_at: now,
    };
    let txn = state.db.begin().await?;
    repo::insert(&txn, ctx.company_id, &venue).await?;
    activity::record(&txn, ctx, Change::created(now, "venue", venue.id, &venue)).await?;
    txn.commit().await?;
    Ok(venue)
}

pub async fn get(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<Venue, Error> {
    repo::find(&state.reads, ctx.company_id, id).await?.ok_or(Error::NotFound("venue"))
}

pub async fn list(
    state: &AppState,
    ctx: &AccessContext,
    filter: &VenueFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Venue>, u64), Error> {
    Ok(repo::list(&state.reads, ctx.company_id, filter, offset, limit).await?)
}

pub async fn update(state: &AppState, ctx: &AccessContext, id: Uuid, patch: VenuePatch) -> Result<Venue, Error> {
    let txn = state.db.begin().await?;
    let before = repo::find(&txn, ctx.company_id, id).await?.ok_or(Error::NotFound("venue"))?;
    let mut after = patched(&before, patch);
    if let Some(i) = after.spaces.iter().position(|s| s.capacity > after.capacity) {
        return Err(Error::field(&format!("spaces[{i}].capacity"), "cannot exceed the venue's capacity"));
    }
    after.updated_by = ctx.user_id;
    after.updated_at = state.clock.now();
    repo::update(&txn, ctx.company_id, &after).await?;
    activity::record(&txn, ctx, Change::updated(after.updated_at, "venue", id, &before, &after)).await?;
    txn.commit().await?;
    Ok(after)
}

pub async fn delete(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<(), Error> {
    let txn = state.db.begin().await?;
    let before = repo::find(&txn, ctx.company_id, id).await?.ok_or(Error::NotFound("venue"))?;
    if crate::domains::events::repo::count_at_venue(&txn, ctx.company_id, id).await? > 0 {
        return Err(Error::VenueInUse("the venue has events; cancel or move them first".to_owned()));
    }
    repo::delete(&txn, ctx.company_id, id).await?;
    activity::record(&txn, ctx, Change::deleted(state.clock.now(), "venue", id, &before)).await?;
    txn.commit().await?;
    Ok(())
}
