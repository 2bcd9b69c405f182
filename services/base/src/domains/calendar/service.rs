use marquee_guard::AccessContext;

use super::{Hold, HoldIn, Item, Kind, Range, flag_conflicts, holds, repo};
use crate::domains::events;
use crate::domains::events::model::EventFilter;
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
            rank: None,
            challenge: None,
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
        rank: h.rank,
        challenge: h.challenge,
        conflicts: Vec::new(),
    }
}

/// Places a hold and answers it as the calendar shows it, with its conflicts.
pub async fn hold(state: &AppState, ctx: &AccessContext, input: HoldIn) -> Result<Item, Error> {
    let hold = holds::place(state, ctx, input).await?;
    let range = Range { from: hold.starts_at, to: hold.ends_at };
    let items = calendar(state, ctx, &range).await?;
    Ok(items.into_iter().find(|i| i.id == hold.id).unwrap_or_else(|| hold_item(hold)))
}
