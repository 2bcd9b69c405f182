//! The rules of offers.

use marquee_guard::AccessContext;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::{Action, Offer, OfferFilter, OfferIn, Status, repo};
use crate::domains::activity::{self, Change};
use crate::domains::webhooks;
use crate::domains::{artists, events};
use crate::error::Error;
use crate::outbox::{self, Fact};
use crate::state::AppState;

pub async fn create(state: &AppState, ctx: &AccessContext, input: OfferIn) -> Result<Offer, Error> {
    let now = state.clock.now();
    if input.deadline <= now {
        return Err(Error::field("deadline", "must be in the future"));
    }
    if events::repo::find(&state.db, ctx.company_id, input.event_id).await?.is_none() {
        return Err(Error::field("eventId", "no such event in this company"));
    }
    if artists::repo::find(&state.db, ctx.company_id, input.artist_id).await?.is_none() {
        return Err(Error::field("artistId", "no such artist in this company"));
    }
    let offer = Offer {
        id: Uuid::now_v7(),
        event_id: input.event_id,
        artist_id: input.artist_id,
        fee_minor: input.deal().guarantee_minor,
        deal: input.deal(),
        currency: input.currency,
        terms: input.terms,
        deadline: input.deadline,
        status: Status::Draft,
        created_by: ctx.user_id,
        created_at: now,
        updated_at: now,
    };
    let txn = state.db.begin().await?;
    repo::insert(&txn, ctx.company_id, &offer).await?;
    let after = serde_json::to_value(&offer).unwrap_or_default();
    activity::record(
        &txn,
        ctx,
        Change {
            at: now,
            entity: "offer",
            entity_id: offer.id,
            action: "created",
            before: serde_json::Value::Null,
            after,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(offer)
}

pub async fn get(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<Offer, Error> {
    repo::find(&state.db, ctx.company_id, id).await?.ok_or(Error::NotFound("offer"))
}

pub async fn list(
    state: &AppState,
    ctx: &AccessContext,
    filter: &OfferFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Offer>, u64), Error> {
    Ok(repo::list(&state.db, ctx.company_id, filter, offset, limit).await?)
}

/// A state change. Accepting records the payable fact in the same transaction.
pub async fn act(state: &AppState, ctx: &AccessContext, id: Uuid, action: Action) -> Result<Offer, Error> {
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    let mut offer = repo::find(&txn, ctx.company_id, id).await?.ok_or(Error::NotFound("offer"))?;
    let to = action
        .apply(offer.status)
        .ok_or_else(|| Error::InvalidTransition(format!("a {} offer cannot do that", offer.status.as_str())))?;
    if action == Action::Send && offer.deadline <= now {
        return Err(Error::DeadlinePassed("the offer's deadline has passed".to_owned()));
    }
    if action == Action::Accept && offer.deadline <= now {
        return Err(Error::DeadlinePassed("the offer expired".to_owned()));
    }
    if !repo::set_status(&txn, ctx.company_id, id, offer.status, to, ctx.user_id, now).await? {
        return Err(Error::ConcurrentChange("the offer changed meanwhile".to_owned()));
    }
    if to == Status::Accepted {
        let fact = Fact::OfferAccepted {
            offer_id: offer.id,
            event_id: offer.event_id,
            artist_id: offer.artist_id,
            fee_minor: offer.fee_minor,
            currency: offer.currency.clone(),
            at: now,
            accepted_by: Some(ctx.user_id),
            deal: Some(offer.deal.clone()),
        };
        outbox::enqueue(&txn, ctx.company_id, format!("offer:{}:accepted", offer.id), &fact, now).await?;
        let accepted = Offer { status: to, ..offer.clone() };
        webhooks::enqueue(&txn, ctx.company_id, "offer.accepted", &accepted, now).await?;
    }
    let change = Change {
        at: now,
        entity: "offer",
        entity_id: id,
        action: to.as_str(),
        before: serde_json::json!({"status": offer.status}),
        after: serde_json::json!({"status": to}),
    };
    activity::record(&txn, ctx, change).await?;
    txn.commit().await?;
    if to == Status::Accepted {
        state.outbox.wake();
    }
    offer.status = to;
    offer.updated_at = now;
    Ok(offer)
}

/// Expires sent offers past their deadline (the background job).
pub async fn expire_overdue(state: &AppState) -> Result<usize, Error> {
    let now = state.clock.now();
    let mut expired = 0;
    for (company, id) in repo::overdue(&state.db, now).await? {
        if repo::set_status(&state.db, company, id, Status::Sent, Status::Expired, Uuid::nil(), now).await? {
            expired += 1;
        }
    }
    Ok(expired)
}
