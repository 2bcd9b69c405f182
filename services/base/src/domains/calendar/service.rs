use marquee_guard::AccessContext;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::{Hold, HoldIn, Item, Kind, Range, flag_conflicts, repo};
use crate::domains::activity::{self, Change};
use crate::domains::events::model::EventFilter;
use crate::domains::{artists, events, venues};
use crate::error::Error;
use crate::state::AppState;

/// Events and holds in force in the range, each with its conflicts.
pub async fn calendar(state: &AppState, ctx: &AccessContext, range: &Range) -> Result<Vec<Item>, Error> {
    let filter = EventFilter { from: Some(range.from), to: Some(range.to), ..EventFilter::default() };
    let (events, _) = events::repo::list(&state.db, ctx.company_id, &filter, 0, 10_000).await?;
    let mut items: Vec<Item> = events
        .into_iter()
        .filter(|e| e.status.is_live())
        .map(|e| Item {
            kind: Kind::Event,
            id: e.id,
            title: e.name,
            venue_id: Some(e.venue_id),
            artist_ids: e.lineup.iter().map(|s| s.artist_id).collect(),
            starts_at: e.starts_at,
            ends_at: e.ends_at,
            status: e.status.as_str().to_owned(),
            expires_at: None,
            conflicts: Vec::new(),
        })
        .collect();
    let holds = repo::active_between(&state.db, ctx.company_id, range.from, range.to, state.clock.now()).await?;
    items.extend(holds.into_iter().map(hold_item));
    items.sort_by_key(|i| (i.starts_at, i.id));
    flag_conflicts(&mut items);
    Ok(items)
}

fn hold_item(h: Hold) -> Item {
    Item {
        kind: Kind::Hold,
        id: h.id,
        title: if h.note.is_empty() { "Hold".to_owned() } else { h.note },
        venue_id: h.venue_id,
        artist_ids: h.artist_id.into_iter().collect(),
        starts_at: h.starts_at,
        ends_at: h.ends_at,
        status: "held".to_owned(),
        expires_at: Some(h.expires_at),
        conflicts: Vec::new(),
    }
}

/// Places a hold (tentative: overlaps are reported, not refused).
pub async fn hold(state: &AppState, ctx: &AccessContext, input: HoldIn) -> Result<Item, Error> {
    let now = state.clock.now();
    if input.expires_at <= now {
        return Err(Error::field("expiresAt", "must be in the future"));
    }
    if let Some(v) = input.venue_id
        && venues::repo::find(&state.db, ctx.company_id, v).await?.is_none()
    {
        return Err(Error::field("venueId", "no such venue in this company"));
    }
    if let Some(a) = input.artist_id
        && artists::repo::find(&state.db, ctx.company_id, a).await?.is_none()
    {
        return Err(Error::field("artistId", "no such artist in this company"));
    }
    let hold = Hold {
        id: Uuid::now_v7(),
        venue_id: input.venue_id,
        artist_id: input.artist_id,
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        expires_at: input.expires_at,
        note: input.note.trim().to_owned(),
        created_by: ctx.user_id,
        created_at: now,
    };
    let txn = state.db.begin().await?;
    // Under the company's lock, so racing holds cannot pass the bound together.
    events::repo::lock_company(&txn, ctx.company_id).await?;
    let max = state.config.max_active_holds;
    if repo::count_active(&txn, ctx.company_id, now).await? >= max {
        return Err(Error::HoldLimitReached(format!("a company keeps at most {max} holds in force")));
    }
    repo::insert(&txn, ctx.company_id, &hold).await?;
    let after = serde_json::to_value(&hold).unwrap_or_default();
    activity::record(
        &txn,
        ctx,
        Change {
            at: now,
            entity: "hold",
            entity_id: hold.id,
            action: "created",
            before: serde_json::Value::Null,
            after,
        },
    )
    .await?;
    txn.commit().await?;
    let range = Range { from: hold.starts_at, to: hold.ends_at };
    let items = calendar(state, ctx, &range).await?;
    Ok(items.into_iter().find(|i| i.id == hold.id).unwrap_or_else(|| hold_item(hold)))
}

pub async fn release(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<(), Error> {
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    let released = repo::release(&txn, ctx.company_id, id, ctx.user_id, now).await?.ok_or(Error::NotFound("hold"))?;
    let before = serde_json::to_value(&released).unwrap_or_default();
    activity::record(
        &txn,
        ctx,
        Change { at: now, entity: "hold", entity_id: id, action: "released", before, after: serde_json::Value::Null },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
