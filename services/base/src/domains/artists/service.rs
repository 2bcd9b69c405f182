//! The rules of artists: company-scoped, every change in the activity log.

use marquee_guard::AccessContext;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::model::{Artist, ArtistFilter, ArtistIn, ArtistPatch};
use super::repo;
use crate::domains::activity::{self, Change};
use crate::error::Error;
use crate::patch::patched;
use crate::state::AppState;

pub async fn create(state: &AppState, ctx: &AccessContext, input: ArtistIn) -> Result<Artist, Error> {
    let now = state.clock.now();
    let artist = Artist {
        id: Uuid::now_v7(),
        name: input.name.trim().to_owned(),
        genres: input.genres.into_iter().map(|g| g.trim().to_owned()).collect(),
        contacts: input.contacts,
        representation: input.representation,
        fee: input.fee,
        notes: input.notes,
        created_by: ctx.user_id,
        updated_by: ctx.user_id,
        created_at: now,
        updated_at: now,
    };
    let txn = state.db.begin().await?;
    repo::insert(&txn, ctx.company_id, &artist).await?;
    activity::record(&txn, ctx, Change::created(now, "artist", artist.id, &artist)).await?;
    txn.commit().await?;
    Ok(artist)
}

pub async fn get(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<Artist, Error> {
    repo::find(&state.reads, ctx.company_id, id).await?.ok_or(Error::NotFound("artist"))
}

pub async fn list(
    state: &AppState,
    ctx: &AccessContext,
    filter: &ArtistFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Artist>, u64), Error> {
    Ok(repo::list(&state.reads, ctx.company_id, filter, offset, limit).await?)
}

pub async fn update(state: &AppState, ctx: &AccessContext, id: Uuid, patch: ArtistPatch) -> Result<Artist, Error> {
    let txn = state.db.begin().await?;
    let before = repo::find(&txn, ctx.company_id, id).await?.ok_or(Error::NotFound("artist"))?;
    let mut after = patched(&before, patch);
    after.updated_by = ctx.user_id;
    after.updated_at = state.clock.now();
    repo::update(&txn, ctx.company_id, &after).await?;
    activity::record(&txn, ctx, Change::updated(after.updated_at, "artist", id, &before, &after)).await?;
    txn.commit().await?;
    Ok(after)
}

pub async fn delete(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<(), Error> {
    let txn = state.db.begin().await?;
    let before = repo::find(&txn, ctx.company_id, id).await?.ok_or(Error::NotFound("artist"))?;
    repo::delete(&txn, ctx.company_id, id).await?;
    activity::record(&txn, ctx, Change::deleted(state.clock.now(), "artist", id, &before)).await?;
    txn.commit().await?;
    Ok(())
}
