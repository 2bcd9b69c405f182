//! The rules of the waiting list.

use std::collections::{BTreeMap, HashSet};

use marquee_guard::AccessContext;
use marquee_kit::tokens::{random_token, token_hash};
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::model::{Entry, EntryFilter, EntryIn, EntryStatus};
use super::repo;
use crate::domains::activity::{self, Change};
use crate::domains::events::model::Status as EventStatus;
use crate::domains::events::repo as events;
use crate::domains::orders::model::Order;
use crate::domains::orders::service as orders;
use crate::domains::ticketing::repo as ticket_types;
use crate::error::Error;
use crate::state::AppState;

pub async fn join(state: &AppState, ctx: &AccessContext, event: Uuid, input: EntryIn) -> Result<Entry, Error> {
    let company = ctx.company_id;
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    let e = events::find(&txn, company, event).await?.ok_or(Error::NotFound("event"))?;
    if !matches!(e.status, EventStatus::Announced | EventStatus::OnSale | EventStatus::SoldOut) {
        return Err(Error::SalesClosed(format!("a {} event keeps no waiting list", e.status.as_str())));
    }
    ticket_types::ticket_type(&txn, company, event, input.ticket_type_id)
        .await?
        .ok_or_else(|| Error::field("ticketTypeId", "no such ticket type for this event"))?;
    let email = input.email.trim().to_lowercase();
    if repo::is_waiting(&txn, company, input.ticket_type_id, &email).await? {
        return Err(Error::AlreadyWaiting(format!("{email} is already on the waiting list for this ticket type")));
    }
    let entry = Entry {
        id: Uuid::now_v7(),
        event_id: event,
        ticket_type_id: input.ticket_type_id,
        email,
        name: input.name.map(|n| n.trim().to_owned()),
        quantity: input.quantity,
        status: EntryStatus::Waiting,
        order_id: None,
        offered_at: None,
        created_at: now,
    };
    repo::insert(&txn, company, &entry, ctx.user_id).await?;
    activity::record(&txn, ctx, Change::created(now, "waitlist_entry", entry.id, &entry)).await?;
    txn.commit().await?;
    // Seats may be free already (the list is for when they are not).
    offer_freed(state, company, event).await?;
    Ok(repo::entry(&state.db, company, entry.id).await?.unwrap_or(entry))
}

pub async fn list(
    state: &AppState,
    ctx: &AccessContext,
    event: Uuid,
    filter: &EntryFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Entry>, u64), Error> {
    events::find(&state.db, ctx.company_id, event).await?.ok_or(Error::NotFound("event"))?;
    Ok(repo::entries(&state.db, ctx.company_id, event, filter, offset, limit).await?)
}

/// Offers freed seats of an event to its waiting list, first come first
/// served per ticket type: an entry too large for what is free keeps its
/// place and holds back the entries behind it for that type only. Each offer
/// is a reservation and a mailed one-time link, in one transaction.
pub async fn offer_freed(state: &AppState, company: Uuid, event: Uuid) -> Result<usize, Error> {
    let now = state.clock.now();
    let Some(e) = events::find(&state.db, company, event).await? else { return Ok(0) };
    if !matches!(e.status, EventStatus::OnSale | EventStatus::SoldOut) {
        return Ok(0);
    }
    let waiting = repo::waiting(&state.db, company, event, 200).await?;
    if waiting.is_empty() {
        return Ok(0);
    }
    let types: BTreeMap<Uuid, _> =
        ticket_types::ticket_types(&state.db, company, event).await?.into_iter().map(|t| (t.id, t)).collect();
    let hold = chrono::Duration::hours(i64::from(state.config.waitlist_offer_hours));
    let mut held_back = HashSet::new();
    let mut offered = 0;
    for entry in waiting {
        let Some(t) = types.get(&entry.ticket_type_id) else { continue };
        if held_back.contains(&t.id) {
            continue;
        }
        let txn = state.db.begin().await?;
        let reservation = orders::reserve_offer(&txn, company, t, &entry, now + hold, now).await?;
        let Some(order) = reservation else {
            held_back.insert(t.id);
            continue;
        };
        let token = random_token();
        if !repo::offer(&txn, entry.id, order.id, &token_hash(&token), now).await? {
            continue;
        }
        let link = state.config.mail.link(&format!("/waitlist-offer?token={token}"));
        let body = format!(
            "Seats for {} are free, and {} of them are held for you until {}.\n\nOpen this link to buy them (it works once):\n\n{link}\n",
            e.name,
            entry.quantity,
            order.expires_at.format("%Y-%m-%d %H:%M UTC"),
        );
        marquee_mail::Outbox::enqueue(&txn, now, &entry.email, &format!("Your seats for {}", e.name), body).await?;
        txn.commit().await?;
        offered += 1;
    }
    if offered > 0 {
        state.mail.wake();
    }
    Ok(offered)
}

/// The reservation a one-time link offers, while the offer is open.
pub async fn offer(state: &AppState, ctx: &AccessContext, token: &str) -> Result<Order, Error> {
    let entry =
        repo::by_token(&state.db, ctx.company_id, &token_hash(token.trim())).await?.ok_or(Error::NotFound("offer"))?;
    let order = entry.order_id.ok_or(Error::NotFound("offer"))?;
    orders::show(state, ctx, order).await
}

/// Runs the offers of every event with a waiting list now and then, so that
/// an offer that could not be made at the moment seats freed is made later.
pub async fn offer_everywhere(state: &AppState) -> Result<usize, Error> {
    let mut offered = 0;
    for (company, event) in repo::events_waiting(&state.db, 100).await? {
        offered += offer_freed(state, company, event).await?;
    }
    Ok(offered)
}
