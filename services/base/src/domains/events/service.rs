//! The rules of events: a known venue, a lineup of known artists, no overlap at
//! a venue, the company's `maxEvents`, and only allowed status moves. Bookings
//! are decided under the company's and the venue's locks, so two racing
//! requests cannot both win.

use marquee_guard::AccessContext;
use sea_orm::{ConnectionTrait, TransactionTrait};
use uuid::Uuid;

use super::model::{Action, Event, EventFilter, EventIn, EventPatch, Slot, Status, check_lineup, check_times};
use super::repo;
use crate::domains::activity::{self, Change};
use crate::domains::webhooks;
use crate::domains::{artists, venues};
use crate::error::Error;
use crate::patch::patched;
use crate::state::AppState;

async fn check_artists(db: &impl ConnectionTrait, company: Uuid, lineup: &[Slot]) -> Result<(), Error> {
    for (i, slot) in lineup.iter().enumerate() {
        if artists::repo::find(db, company, slot.artist_id).await?.is_none() {
            return Err(Error::field(&format!("lineup[{i}].artistId"), "no such artist in this company"));
        }
    }
    Ok(())
}

/// Locks the venue and refuses an overlapping booking.
async fn book(db: &impl ConnectionTrait, company: Uuid, venue: Uuid, event: &Event) -> Result<(), Error> {
    if !venues::repo::lock(db, company, venue).await? {
        return Err(Error::field("venueId", "no such venue in this company"));
    }
    let clashes = repo::overlapping(db, company, venue, event.starts_at, event.ends_at, Some(event.id)).await?;
    if let Some(clash) = clashes.first() {
        return Err(Error::VenueDoubleBooked(format!(
            "the venue is booked for \"{}\" from {} to {}",
            clash.name,
            clash.starts_at.to_rfc3339(),
            clash.ends_at.to_rfc3339()
        )));
    }
    Ok(())
}

pub async fn create(state: &AppState, ctx: &AccessContext, input: EventIn) -> Result<Event, Error> {
    let txn = state.db.begin().await?;
    repo::lock_company(&txn, ctx.company_id).await?;
    let event = create_within(&txn, ctx, input, state.clock.now()).await?;
    txn.commit().await?;
    Ok(event)
}

/// Creates an event in the caller's transaction, which holds the company's lock.
pub async fn create_within(
    txn: &sea_orm::DatabaseTransaction,
    ctx: &AccessContext,
    input: EventIn,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Event, Error> {
    if let Some(max) = ctx.limit("maxEvents") {
        let live = repo::count_live(txn, ctx.company_id).await?;
        if i64::try_from(live).unwrap_or(i64::MAX) >= max {
            return Err(Error::EventLimitReached(format!("the company's plan allows {max} events")));
        }
    }
    let venue = venues::repo::find(txn, ctx.company_id, input.venue_id)
        .await?
        .ok_or_else(|| Error::field("venueId", "no such venue in this company"))?;
    check_artists(txn, ctx.company_id, &input.lineup).await?;
    let event = Event {
        id: Uuid::now_v7(),
        name: input.name.trim().to_owned(),
        venue_id: venue.id,
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        timezone: input.timezone.unwrap_or(venue.timezone),
        status: Status::Draft,
        lineup: input.lineup,
        description: input.description,
        created_by: ctx.user_id,
        updated_by: ctx.user_id,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    book(txn, ctx.company_id, venue.id, &event).await?;
    repo::insert(txn, ctx.company_id, &event).await?;
    activity::record(txn, ctx, Change::created(now, "event", event.id, &event)).await?;
    Ok(event)
}

pub async fn get(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<Event, Error> {
    repo::find(&state.reads, ctx.company_id, id).await?.ok_or(Error::NotFound("event"))
}

pub async fn list(
    state: &AppState,
    ctx: &AccessContext,
    filter: &EventFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Event>, u64), Error> {
    Ok(repo::list(&state.reads, ctx.company_id, filter, offset, limit).await?)
}

/// The event as read for a change: refused (412) if the caller expects
/// another version than the one stored.
async fn read_for_change(
    db: &impl sea_orm::ConnectionTrait,
    ctx: &AccessContext,
    id: Uuid,
    expected: Option<u64>,
) -> Result<Event, Error> {
    let event = repo::find(db, ctx.company_id, id).await?.ok_or(Error::NotFound("event"))?;
    match expected {
        Some(version) if version != event.version => Err(Error::VersionMismatch { current: Some(event.version) }),
        _ => Ok(event),
    }
}

/// Writes `after` only over the version `before` was read at: a change that
/// lands in between (a status move above all) is never overwritten.
async fn write_over(
    db: &impl sea_orm::ConnectionTrait,
    ctx: &AccessContext,
    before: &Event,
    after: &mut Event,
) -> Result<(), Error> {
    after.version = before.version + 1;
    if !repo::update(db, ctx.company_id, after, before.version).await? {
        return Err(Error::ChangedMeanwhile("event"));
    }
    Ok(())
}

/// Runs a change again from a fresh read when another write landed between
/// its read and its write, unless the caller named the version it saw (then
/// the change is refused, as they asked). Each attempt checks every rule anew.
async fn retried<Fut>(expected: Option<u64>, mut attempt: impl FnMut() -> Fut) -> Result<Event, Error>
where
    Fut: std::future::Future<Output = Result<Event, Error>>,
{
    const ATTEMPTS: usize = 3;
    for _ in 1..ATTEMPTS {
        match attempt().await {
            Err(Error::ChangedMeanwhile(_)) if expected.is_none() => continue,
            // The caller's precondition no longer holds: 412, as for a stale version.
            Err(Error::ChangedMeanwhile(_)) => return Err(Error::VersionMismatch { current: None }),
            other => return other,
        }
    }
    attempt().await
}

pub async fn update(
    state: &AppState,
    ctx: &AccessContext,
    id: Uuid,
    patch: EventPatch,
    expected: Option<u64>,
) -> Result<Event, Error> {
    retried(expected, || update_once(state, ctx, id, patch.clone(), expected)).await
}

async fn update_once(
    state: &AppState,
    ctx: &AccessContext,
    id: Uuid,
    patch: EventPatch,
    expected: Option<u64>,
) -> Result<Event, Error> {
    let txn = state.db.begin().await?;
    let before = read_for_change(&txn, ctx, id, expected).await?;
    if matches!(before.status, Status::Completed | Status::Canceled) {
        return Err(Error::EventClosed(format!("a {} event cannot be edited", before.status.as_str())));
    }
    let mut after = patched(&before, patch);
    let mut issues = marquee_kit::extract::Issues::new();
    check_times(&mut issues, after.starts_at, after.ends_at);
    check_lineup(&mut issues, &after.lineup, after.starts_at, after.ends_at);
    issues.finish().map_err(Error::Invalid)?;
    check_artists(&txn, ctx.company_id, &after.lineup).await?;
    if after.venue_id != before.venue_id || after.starts_at != before.starts_at || after.ends_at != before.ends_at {
        book(&txn, ctx.company_id, after.venue_id, &after).await?;
    }
    after.updated_by = ctx.user_id;
    after.updated_at = state.clock.now();
    write_over(&txn, ctx, &before, &mut after).await?;
    activity::record(&txn, ctx, Change::updated(after.updated_at, "event", id, &before, &after)).await?;
    txn.commit().await?;
    Ok(after)
}

/// A status move; refused (409) when the event's status does not allow it.
pub async fn transition(
    state: &AppState,
    ctx: &AccessContext,
    id: Uuid,
    action: Action,
    expected: Option<u64>,
) -> Result<Event, Error> {
    retried(expected, || transition_once(state, ctx, id, action, expected)).await
}

async fn transition_once(
    state: &AppState,
    ctx: &AccessContext,
    id: Uuid,
    action: Action,
    expected: Option<u64>,
) -> Result<Event, Error> {
    let txn = state.db.begin().await?;
    let before = read_for_change(&txn, ctx, id, expected).await?;
    let to = action
        .apply(before.status)
        .ok_or_else(|| Error::InvalidTransition(format!("a {} event cannot do that", before.status.as_str())))?;
    let mut after = before.clone();
    after.status = to;
    after.updated_by = ctx.user_id;
    after.updated_at = state.clock.now();
    write_over(&txn, ctx, &before, &mut after).await?;
    activity::record(
        &txn,
        ctx,
        Change::new(
            after.updated_at,
            "event",
            id,
            to.as_str(),
            serde_json::json!({"status": before.status}),
            serde_json::json!({"status": to}),
        ),
    )
    .await?;
    let changed = serde_json::json!({"eventId": id, "from": before.status, "to": to, "event": &after});
    webhooks::enqueue(&txn, ctx.company_id, "event.status_changed", &changed, after.updated_at).await?;
    txn.commit().await?;
    Ok(after)
}

/// Drafts and canceled events may be deleted; others are canceled first.
pub async fn delete(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<(), Error> {
    let txn = state.db.begin().await?;
    let before = repo::find(&txn, ctx.company_id, id).await?.ok_or(Error::NotFound("event"))?;
    if !matches!(before.status, Status::Draft | Status::Canceled) {
        return Err(Error::EventNotDeletable(
            "only draft or canceled events can be deleted; cancel it first".to_owned(),
        ));
    }
    repo::delete(&txn, ctx.company_id, id).await?;
    activity::record(&txn, ctx, Change::deleted(state.clock.now(), "event", id, &before)).await?;
    txn.commit().await?;
    Ok(())
}
