//! The rules of shifts: they belong to the company's events; an assignment
//! is refused, with its reason, when the person is unavailable, lacks a
//! required skill, already works an overlapping shift, or the shift is full.
//! Assignments of one person are decided one at a time.

use marquee_guard::AccessContext;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::model::{AssignIn, Shift, ShiftIn, ShiftPatch};
use super::repo;
use crate::domains::activity::{self, Change};
use crate::domains::crew::model::{CrewMember, covers, normalise_skills};
use crate::domains::crew::repo as crew_repo;
use crate::domains::events;
use crate::error::Error;
use crate::patch::patched;
use crate::state::AppState;
pub async fn create_shift(state: &AppState, ctx: &AccessContext, event: Uuid, input: ShiftIn) -> Result<Shift, Error> {
    if events::repo::find(&state.db, ctx.company_id, event).await?.is_none() {
        return Err(Error::NotFound("event"));
    }
    let now = state.clock.now();
    let shift = Shift {
        id: Uuid::now_v7(),
        event_id: event,
        name: input.name.trim().to_owned(),
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        required_skills: normalise_skills(&input.required_skills),
        headcount: input.headcount,
        filled: 0,
        assigned: Vec::new(),
        created_by: ctx.user_id,
        updated_by: ctx.user_id,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let txn = state.db.begin().await?;
    repo::insert_shift(&txn, ctx.company_id, &shift).await?;
    activity::record(&txn, ctx, Change::created(now, "shift", shift.id, &shift)).await?;
    txn.commit().await?;
    Ok(shift)
}

pub async fn shift(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<Shift, Error> {
    repo::shift(&state.db, ctx.company_id, id).await?.ok_or(Error::NotFound("shift"))
}

pub async fn shifts(state: &AppState, ctx: &AccessContext, event: Uuid) -> Result<Vec<Shift>, Error> {
    if events::repo::find(&state.db, ctx.company_id, event).await?.is_none() {
        return Err(Error::NotFound("event"));
    }
    Ok(repo::shifts_of_event(&state.db, ctx.company_id, event).await?)
}

pub async fn update_shift(
    state: &AppState,
    ctx: &AccessContext,
    id: Uuid,
    patch: ShiftPatch,
    expected: Option<u64>,
) -> Result<Shift, Error> {
    let txn = state.db.begin().await?;
    // The shift's lock first, as assignments take it: the checks below see
    // every assignment that came before.
    if !repo::lock_shift(&txn, ctx.company_id, id).await? {
        return Err(Error::NotFound("shift"));
    }
    let before = repo::shift(&txn, ctx.company_id, id).await?.ok_or(Error::NotFound("shift"))?;
    if expected.is_some_and(|v| v != before.version) {
        return Err(Error::VersionMismatch { current: Some(before.version) });
    }
    let moves = patch.starts_at.is_some() || patch.ends_at.is_some();
    let mut after = patched(&before, patch);
    if moves {
        if before.filled > 0 {
            return Err(Error::ShiftHasAssignments(
                "the shift's times cannot move while people are assigned".to_owned(),
            ));
        }
        if after.ends_at <= after.starts_at || after.ends_at - after.starts_at > chrono::Duration::hours(24) {
            return Err(Error::field("endsAt", "must be after startsAt, at most 24 hours later"));
        }
    }
    if after.headcount < before.filled {
        return Err(Error::field("headcount", format!("{} people are already assigned", before.filled)));
    }
    after.updated_by = ctx.user_id;
    after.updated_at = state.clock.now();
    after.version = before.version + 1;
    // Only over what was read (held by the lock; the version says so too).
    if !repo::update_shift(&txn, ctx.company_id, &after, before.version).await? {
        return Err(Error::ChangedMeanwhile("shift"));
    }
    activity::record(&txn, ctx, Change::updated(after.updated_at, "shift", id, &before, &after)).await?;
    txn.commit().await?;
    Ok(after)
}

pub async fn delete_shift(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<(), Error> {
    let before = shift(state, ctx, id).await?;
    let txn = state.db.begin().await?;
    repo::delete_shift(&txn, ctx.company_id, id).await?;
    activity::record(&txn, ctx, Change::deleted(state.clock.now(), "shift", id, &before)).await?;
    txn.commit().await?;
    Ok(())
}

/// Why `person` cannot work `shift`, if they cannot.
fn refusal(person: &CrewMember, shift: &Shift, overlaps: &[Shift]) -> Option<Error> {
    if shift.assigned.contains(&person.id) {
        return Some(Error::AlreadyAssigned(format!("{} already works this shift", person.name)));
    }
    let missing: Vec<&str> =
        shift.required_skills.iter().filter(|s| !person.skills.contains(s)).map(String::as_str).collect();
    if !missing.is_empty() {
        return Some(Error::MissingSkill(format!(
            "{} lacks the required skill(s): {}",
            person.name,
            missing.join(", ")
        )));
    }
    if !covers(&person.availability, shift.starts_at, shift.ends_at) {
        return Some(Error::CrewUnavailable(format!(
            "{} is not available from {} to {}",
            person.name,
            shift.starts_at.to_rfc3339(),
            shift.ends_at.to_rfc3339()
        )));
    }
    overlaps.first().map(|other| {
        Error::OverlappingShift(format!(
            "{} already works \"{}\" ({}) from {} to {}",
            person.name,
            other.name,
            other.id,
            other.starts_at.to_rfc3339(),
            other.ends_at.to_rfc3339()
        ))
    })
}

pub async fn assign(state: &AppState, ctx: &AccessContext, shift_id: Uuid, input: AssignIn) -> Result<Shift, Error> {
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    // A shift of another company is not found, whoever is named for it.
    if repo::shift(&txn, ctx.company_id, shift_id).await?.is_none() {
        return Err(Error::NotFound("shift"));
    }
    // The person's lock first: a second assignment of them waits for this one's answer.
    if !crew_repo::lock_crew(&txn, ctx.company_id, input.crew_id).await? {
        return Err(Error::field("crewId", "no such crew member in this company"));
    }
    // Then the shift's: an edit of its times waits, or is seen, never skipped.
    if !repo::lock_shift(&txn, ctx.company_id, shift_id).await? {
        return Err(Error::NotFound("shift"));
    }
    let shift = repo::shift(&txn, ctx.company_id, shift_id).await?.ok_or(Error::NotFound("shift"))?;
    let person = crew_repo::crew(&txn, ctx.company_id, input.crew_id).await?.ok_or(Error::NotFound("crew member"))?;
    let overlaps = repo::overlapping(&txn, ctx.company_id, person.id, shift.starts_at, shift.ends_at).await?;
    if let Some(refused) = refusal(&person, &shift, &overlaps) {
        return Err(refused);
    }
    if !repo::take_place(&txn, ctx.company_id, shift_id).await? {
        return Err(Error::ShiftFull(format!("the shift already has its {} people", shift.headcount)));
    }
    repo::insert_assignment(&txn, ctx.company_id, shift_id, person.id, ctx.user_id, now).await?;
    let after = repo::shift(&txn, ctx.company_id, shift_id).await?.ok_or(Error::NotFound("shift"))?;
    let what = serde_json::json!({"crewId": person.id, "name": person.name});
    activity::record(&txn, ctx, Change::new(now, "shift", shift_id, "assigned", serde_json::Value::Null, what)).await?;
    txn.commit().await?;
    Ok(after)
}

pub async fn unassign(state: &AppState, ctx: &AccessContext, shift_id: Uuid, crew_id: Uuid) -> Result<Shift, Error> {
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    if !repo::remove_assignment(&txn, ctx.company_id, shift_id, crew_id).await? {
        return Err(Error::NotFound("assignment"));
    }
    let after = repo::shift(&txn, ctx.company_id, shift_id).await?.ok_or(Error::NotFound("shift"))?;
    let what = serde_json::json!({"crewId": crew_id});
    activity::record(&txn, ctx, Change::new(now, "shift", shift_id, "unassigned", what, serde_json::Value::Null))
        .await?;
    txn.commit().await?;
    Ok(after)
}
