//! The activity log: every business change (who, what, when, and before/after
//! for edits), per company.

pub mod repo;
pub mod routes;

use chrono::{DateTime, Utc};
use marquee_guard::AccessContext;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivityEntry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_user_id: Uuid,
    pub entity: String,
    pub entity_id: Uuid,
    pub action: String,
    pub before: Value,
    pub after: Value,
}

/// Each area of the log and the permission needed to see its entries: the
/// log shows a viewer only what the areas' own routes would show them.
const AREAS: [(&str, &str); 18] = [
    ("artist", "basic.artist.view"),
    ("venue", "basic.venue.view"),
    ("vendor", "basic.vendor.view"),
    ("event", "basic.event.view"),
    ("ticket_type", "basic.ticketing.view"),
    ("registration", "basic.ticketing.view"),
    ("order", "basic.ticketing.view"),
    ("quota", "basic.ticketing.view"),
    ("voucher", "basic.ticketing.view"),
    ("checkin_list", "basic.ticketing.view"),
    ("waitlist_entry", "basic.ticketing.view"),
    ("offer", "basic.offer.view"),
    ("hold", "basic.calendar.view"),
    ("board", "basic.workspace.view"),
    ("task", "basic.workspace.view"),
    ("media", "basic.media.view"),
    ("crew", "basic.crew.view"),
    ("shift", "basic.crew.view"),
];

/// The areas whose entries `ctx` may see; an area not listed above is shown
/// to no one.
pub fn visible_areas(ctx: &AccessContext) -> Vec<&'static str> {
    AREAS.iter().filter(|(_, permission)| ctx.can(permission)).map(|(area, _)| *area).collect()
}

/// One business change.
pub struct Change<'a> {
    pub at: DateTime<Utc>,
    pub entity: &'a str,
    pub entity_id: Uuid,
    pub action: &'a str,
    pub before: Value,
    pub after: Value,
}

impl<'a> Change<'a> {
    pub fn new(
        at: DateTime<Utc>,
        entity: &'a str,
        entity_id: Uuid,
        action: &'a str,
        before: Value,
        after: Value,
    ) -> Self {
        Self { at, entity, entity_id, action, before, after }
    }

    /// `entity` came to be: nothing before, all of it after.
    pub fn created(at: DateTime<Utc>, entity: &'a str, entity_id: Uuid, after: &impl serde::Serialize) -> Self {
        Self::new(at, entity, entity_id, "created", Value::Null, snapshot(after))
    }

    /// `entity` changed from `before` to `after`.
    pub fn updated(
        at: DateTime<Utc>,
        entity: &'a str,
        entity_id: Uuid,
        before: &impl serde::Serialize,
        after: &impl serde::Serialize,
    ) -> Self {
        Self::new(at, entity, entity_id, "updated", snapshot(before), snapshot(after))
    }

    /// `entity` is gone: what it was before, nothing after.
    pub fn deleted(at: DateTime<Utc>, entity: &'a str, entity_id: Uuid, before: &impl serde::Serialize) -> Self {
        Self::new(at, entity, entity_id, "deleted", snapshot(before), Value::Null)
    }
}

/// A value as the activity log keeps it.
pub fn snapshot(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or_default()
}

/// Records a change in the caller's transaction.
pub async fn record(
    db: &impl sea_orm::ConnectionTrait,
    ctx: &AccessContext,
    change: Change<'_>,
) -> Result<(), sea_orm::DbErr> {
    record_as(db, ctx.company_id, ctx.user_id, change).await
}

/// One change made by `actor` (the nil id for Marquee itself, as when a
/// reservation runs out).
pub async fn record_as(
    db: &impl sea_orm::ConnectionTrait,
    company: Uuid,
    actor: Uuid,
    change: Change<'_>,
) -> Result<(), sea_orm::DbErr> {
    repo::insert(db, company, &entry_of(actor, change)).await
}

fn entry_of(actor: Uuid, change: Change<'_>) -> ActivityEntry {
    ActivityEntry {
        id: Uuid::now_v7(),
        at: change.at,
        actor_user_id: actor,
        entity: change.entity.to_owned(),
        entity_id: change.entity_id,
        action: change.action.to_owned(),
        before: change.before,
        after: change.after,
    }
}

/// Records many changes, each (company, actor, change), in few statements.
pub async fn record_many(
    db: &impl sea_orm::ConnectionTrait,
    changes: Vec<(Uuid, Uuid, Change<'_>)>,
) -> Result<(), sea_orm::DbErr> {
    let entries: Vec<(Uuid, ActivityEntry)> =
        changes.into_iter().map(|(company, actor, change)| (company, entry_of(actor, change))).collect();
    repo::insert_many(db, &entries).await
}
