//! The rules of crew profiles: a profile's account is an active member of
//! the company and has one profile at most; a person who works shifts is
//! unassigned before the profile goes.

use marquee_guard::AccessContext;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::model::{CrewFilter, CrewIn, CrewMember, CrewPatch, normalise_skills, trimmed};
use super::repo;
use crate::domains::activity::{self, Change};
use crate::error::Error;
use crate::patch::patched;
use crate::state::AppState;

async fn check_user(
    state: &AppState,
    ctx: &AccessContext,
    user: Option<Uuid>,
    this: Option<Uuid>,
) -> Result<(), Error> {
    let Some(user) = user else {
        return Ok(());
    };
    let members = state.guard.active_members(ctx.company_id, &[user]).await.map_err(Error::Upstream)?;
    if !members.contains(&user) {
        return Err(Error::field("userId", "is not an active member of this company"));
    }
    match repo::crew_of_user(&state.db, ctx.company_id, user).await? {
        Some(other) if Some(other.id) != this => {
            Err(Error::CrewUserTaken("that account already has a crew profile".to_owned()))
        }
        _ => Ok(()),
    }
}

pub async fn create(state: &AppState, ctx: &AccessContext, input: CrewIn) -> Result<CrewMember, Error> {
    check_user(state, ctx, input.user_id, None).await?;
    let now = state.clock.now();
    let member = CrewMember {
        id: Uuid::now_v7(),
        user_id: input.user_id,
        name: input.name.trim().to_owned(),
        email: trimmed(input.email),
        phone: trimmed(input.phone),
        kind: input.kind,
        skills: normalise_skills(&input.skills),
        certifications: input.certifications,
        availability: input.availability,
        created_by: ctx.user_id,
        updated_by: ctx.user_id,
        created_at: now,
        updated_at: now,
    };
    let txn = state.db.begin().await?;
    repo::insert_crew(&txn, ctx.company_id, &member).await.map_err(user_taken)?;
    activity::record(&txn, ctx, Change::created(now, "crew", member.id, &member)).await?;
    txn.commit().await?;
    Ok(member)
}

/// The one-profile-per-account index, hit by a concurrent link.
fn user_taken(e: sea_orm::DbErr) -> Error {
    match Error::from(e) {
        Error::Db(marquee_db::DbError::Conflict { .. }) => {
            Error::CrewUserTaken("that account already has a crew profile".to_owned())
        }
        other => other,
    }
}

pub async fn get(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<CrewMember, Error> {
    repo::crew(&state.db, ctx.company_id, id).await?.ok_or(Error::NotFound("crew member"))
}

pub async fn list(
    state: &AppState,
    ctx: &AccessContext,
    filter: &CrewFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<CrewMember>, u64), Error> {
    Ok(repo::list_crew(&state.db, ctx.company_id, filter, offset, limit).await?)
}

pub async fn update(state: &AppState, ctx: &AccessContext, id: Uuid, patch: CrewPatch) -> Result<CrewMember, Error> {
    let before = get(state, ctx, id).await?;
    if let Some(user) = patch.user_id {
        check_user(state, ctx, user, Some(id)).await?;
    }
    let mut after = patched(&before, patch);
    after.updated_by = ctx.user_id;
    after.updated_at = state.clock.now();
    let txn = state.db.begin().await?;
    repo::update_crew(&txn, ctx.company_id, &after).await.map_err(user_taken)?;
    activity::record(&txn, ctx, Change::updated(after.updated_at, "crew", id, &before, &after)).await?;
    txn.commit().await?;
    Ok(after)
}

pub async fn delete(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<(), Error> {
    let before = get(state, ctx, id).await?;
    let txn = state.db.begin().await?;
    repo::lock_crew(&txn, ctx.company_id, id).await?;
    if crate::domains::shifts::repo::has_assignments(&txn, ctx.company_id, id).await? {
        return Err(Error::CrewAssigned("the crew member works shifts; unassign them first".to_owned()));
    }
    repo::delete_crew(&txn, ctx.company_id, id).await?;
    activity::record(&txn, ctx, Change::deleted(state.clock.now(), "crew", id, &before)).await?;
    txn.commit().await?;
    Ok(())
}
