//! Quotas: seats shared by several ticket types of an event.

use marquee_guard::AccessContext;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::model::{Quota, QuotaIn};
use super::repo;
use crate::domains::activity::{self, Change};
use crate::domains::events::repo as events;
use crate::domains::ticketing::repo as ticket_types;
use crate::error::Error;
use crate::state::AppState;

/// A new quota starts with the seats its ticket types have already sold or
/// hold; it cannot be smaller than that.
pub async fn create(state: &AppState, ctx: &AccessContext, event: Uuid, input: QuotaIn) -> Result<Quota, Error> {
    let company = ctx.company_id;
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    events::find(&txn, company, event).await?.ok_or(Error::NotFound("event"))?;
    ticket_types::lock(&txn, company, &input.ticket_type_ids).await?;
    let types = ticket_types::ticket_types(&txn, company, event).await?;
    let (mut sold, mut held) = (0u32, 0u32);
    for id in &input.ticket_type_ids {
        let t = types
            .iter()
            .find(|t| t.id == *id)
            .ok_or_else(|| Error::field("ticketTypeIds", format!("{id} is not a ticket type of this event")))?;
        sold += t.sold;
        held += t.held;
    }
    if sold + held > input.size {
        return Err(Error::field("size", format!("these ticket types already sold or hold {} seats", sold + held)));
    }
    let quota = Quota {
        id: Uuid::now_v7(),
        event_id: event,
        name: input.name.trim().to_owned(),
        size: input.size,
        sold,
        held,
        ticket_type_ids: input.ticket_type_ids,
        created_at: now,
    };
    repo::insert_quota(&txn, company, &quota, ctx.user_id).await?;
    activity::record(&txn, ctx, Change::created(now, "quota", quota.id, &quota)).await?;
    txn.commit().await?;
    Ok(quota)
}

pub async fn list(state: &AppState, ctx: &AccessContext, event: Uuid) -> Result<Vec<Quota>, Error> {
    events::find(&state.db, ctx.company_id, event).await?.ok_or(Error::NotFound("event"))?;
    Ok(repo::quotas(&state.db, ctx.company_id, event).await?)
}
