//! The rules of ticketing.

use std::collections::BTreeMap;

use marquee_guard::AccessContext;
use sea_orm::{ConnectionTrait, TransactionTrait};
use uuid::Uuid;

use super::model::{
    CheckInIn, Registration, RegistrationFilter, RegistrationIn, Sales, Status, TicketType, TicketTypeIn,
};
use super::repo;
use crate::domains::activity::{self, Change};
use crate::domains::events::model::Status as EventStatus;
use crate::domains::events::repo as events;
use crate::domains::orders::seats::{self, Bucket, Taken};
use crate::error::Error;
use crate::outbox::{self, Fact};
use crate::state::AppState;

/// Tells financial about a sale or a refund (in the caller's transaction).
async fn report(
    db: &impl ConnectionTrait,
    company: Uuid,
    t: &TicketType,
    r: &Registration,
    refund: bool,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), Error> {
    let amount = t.price_minor.saturating_mul(i64::from(r.quantity));
    if amount == 0 {
        return Ok(());
    }
    let fact = Fact::TicketSale {
        event_id: r.event_id,
        registration_id: r.id,
        refund,
        amount_minor: amount,
        currency: t.currency.clone(),
        quantity: r.quantity,
        at,
    };
    let source = format!("registration:{}:{}", r.id, if refund { "refund" } else { "sale" });
    outbox::enqueue(db, company, source, &fact, at).await?;
    Ok(())
}

fn check_in_code() -> String {
    // The random tail of a UUIDv7: 40 bits, shown as 10 characters.
    Uuid::now_v7().simple().to_string()[22..].to_uppercase()
}

async fn live_event(
    db: &impl ConnectionTrait,
    company: Uuid,
    event: Uuid,
) -> Result<crate::domains::events::model::Event, Error> {
    events::find(db, company, event).await?.ok_or(Error::NotFound("event"))
}

pub async fn create_type(
    state: &AppState,
    ctx: &AccessContext,
    event: Uuid,
    input: TicketTypeIn,
) -> Result<TicketType, Error> {
    let e = live_event(&state.db, ctx.company_id, event).await?;
    if matches!(e.status, EventStatus::Completed | EventStatus::Canceled) {
        return Err(Error::EventClosed(format!("a {} event sells no tickets", e.status.as_str())));
    }
    let t = TicketType {
        id: Uuid::now_v7(),
        event_id: event,
        name: input.name.trim().to_owned(),
        price_minor: input.price_minor,
        currency: input.currency,
        capacity: input.capacity,
        comps: input.comps,
        kills: input.kills,
        sold: 0,
        held: 0,
        per_order_max: input.per_order_max,
        sale_starts_at: input.sale_starts_at,
        sale_ends_at: input.sale_ends_at,
        created_at: state.clock.now(),
    };
    let txn = state.db.begin().await?;
    // Under the company's lock: two types added at once count to two revisions.
    events::lock_company(&txn, ctx.company_id).await?;
    repo::insert_type(&txn, ctx.company_id, &t, ctx.user_id).await?;
    // The manifest only grows (types are added, never removed), so its
    // length is a revision that rises with it.
    let types = repo::ticket_types(&txn, ctx.company_id, event).await?;
    let revision = i64::try_from(types.len()).unwrap_or(i64::MAX);
    let lines = types
        .into_iter()
        .map(|t| outbox::ManifestLine {
            ticket_type_id: t.id,
            name: t.name,
            price_minor: t.price_minor,
            currency: t.currency,
            capacity: t.capacity,
            comps: t.comps,
            kills: t.kills,
        })
        .collect();
    let fact = Fact::TicketManifest { event_id: event, revision, lines };
    outbox::enqueue(&txn, ctx.company_id, format!("event:{event}:manifest:{revision}"), &fact, t.created_at).await?;
    let after = serde_json::to_value(&t).unwrap_or_default();
    activity::record(
        &txn,
        ctx,
        Change {
            at: t.created_at,
            entity: "ticket_type",
            entity_id: t.id,
            action: "created",
            before: serde_json::Value::Null,
            after,
        },
    )
    .await?;
    txn.commit().await?;
    state.outbox.wake();
    Ok(t)
}

pub async fn types(state: &AppState, ctx: &AccessContext, event: Uuid) -> Result<Vec<TicketType>, Error> {
    live_event(&state.db, ctx.company_id, event).await?;
    Ok(repo::ticket_types(&state.db, ctx.company_id, event).await?)
}

async fn replay(
    state: &AppState,
    ctx: &AccessContext,
    key: &str,
    input: &RegistrationIn,
) -> Result<Option<Registration>, Error> {
    match repo::by_idempotency_key(&state.db, ctx.company_id, key).await? {
        None => Ok(None),
        Some(r)
            if r.ticket_type_id == input.ticket_type_id
                && r.quantity == input.quantity
                && r.attendee_email == input.attendee_email =>
        {
            Ok(Some(r))
        }
        Some(_) => {
            Err(Error::IdempotencyKeyReused("this idempotency key was used for a different registration".to_owned()))
        }
    }
}

/// Registers attendees: confirmed while seats remain, waitlisted after.
/// Answers the registration and whether it is a replay. The idempotency key
/// is looked up only when the write is refused (its key taken, or a rule that
/// refuses it now), so a first request pays no extra read and a replay is
/// answered with the original whatever would refuse it today.
pub async fn register(
    state: &AppState,
    ctx: &AccessContext,
    event: Uuid,
    input: RegistrationIn,
) -> Result<(Registration, bool), Error> {
    match write_registration(state, ctx, event, &input).await {
        Ok(registration) => Ok((registration, false)),
        Err(refused) => match &input.idempotency_key {
            Some(key) => replay(state, ctx, key, &input).await?.map(|r| (r, true)).ok_or(refused),
            None => Err(refused),
        },
    }
}

async fn write_registration(
    state: &AppState,
    ctx: &AccessContext,
    event: Uuid,
    input: &RegistrationIn,
) -> Result<Registration, Error> {
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    let e = live_event(&txn, ctx.company_id, event).await?;
    if !matches!(e.status, EventStatus::OnSale | EventStatus::SoldOut) {
        return Err(Error::SalesClosed(format!("a {} event does not take registrations", e.status.as_str())));
    }
    let t = repo::ticket_type(&txn, ctx.company_id, event, input.ticket_type_id)
        .await?
        .ok_or_else(|| Error::field("ticketTypeId", "no such ticket type for this event"))?;
    if t.sale_starts_at.is_some_and(|s| now < s) || t.sale_ends_at.is_some_and(|e| now >= e) {
        return Err(Error::SalesClosed("this ticket type is not on sale now".to_owned()));
    }
    if input.quantity > t.per_order_max {
        return Err(Error::field("quantity", format!("at most {} per order", t.per_order_max)));
    }
    let wants = BTreeMap::from([(t.id, input.quantity)]);
    let taken = seats::take(&txn, ctx.company_id, &wants, Bucket::Sold).await?;
    let confirmed = taken != Taken::No;
    let registration = Registration {
        id: Uuid::now_v7(),
        event_id: event,
        ticket_type_id: t.id,
        attendee_name: input.attendee_name.trim().to_owned(),
        attendee_email: input.attendee_email.trim().to_lowercase(),
        quantity: input.quantity,
        status: if confirmed { Status::Confirmed } else { Status::Waitlisted },
        idempotency_key: input.idempotency_key.clone(),
        check_in_code: confirmed.then(check_in_code),
        checked_in_at: None,
        created_at: now,
    };
    repo::insert_registration(&txn, ctx.company_id, &registration, ctx.user_id).await?;
    if confirmed {
        // Only the claim that took a type's last seat can make the event full.
        if taken == (Taken::Yes { filled: true }) {
            sold_out_if_full(&txn, ctx.company_id, event, now).await?;
        }
        report(&txn, ctx.company_id, &t, &registration, false, now).await?;
    }
    let after =
        serde_json::json!({"status": registration.status, "quantity": registration.quantity, "ticketTypeId": t.id});
    activity::record(
        &txn,
        ctx,
        Change {
            at: now,
            entity: "registration",
            entity_id: registration.id,
            action: registration.status.as_str(),
            before: serde_json::Value::Null,
            after,
        },
    )
    .await?;
    txn.commit().await?;
    state.outbox.wake();
    Ok(registration)
}

/// An event whose every ticket type can sell no more is sold out.
pub async fn sold_out_if_full(
    db: &impl ConnectionTrait,
    company: Uuid,
    event: Uuid,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), Error> {
    let types = repo::ticket_types(db, company, event).await?;
    if seats::all_sold(db, company, &types).await? {
        events::set_status(db, company, event, EventStatus::OnSale, EventStatus::SoldOut, at).await?;
    }
    Ok(())
}

/// A sold-out event with a seat back on sale is on sale again.
pub async fn reopen_if_room(
    db: &impl ConnectionTrait,
    company: Uuid,
    event: Uuid,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), Error> {
    let types = repo::ticket_types(db, company, event).await?;
    if !seats::all_sold(db, company, &types).await? {
        events::set_status(db, company, event, EventStatus::SoldOut, EventStatus::OnSale, at).await?;
    }
    Ok(())
}

/// Cancels a registration; freed seats go to the waitlist in order.
pub async fn cancel(state: &AppState, ctx: &AccessContext, event: Uuid, id: Uuid) -> Result<Registration, Error> {
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    let mut r = repo::registration(&txn, ctx.company_id, event, id).await?.ok_or(Error::NotFound("registration"))?;
    if r.status == Status::Canceled {
        return Err(Error::AlreadyCanceled("the registration is already canceled".to_owned()));
    }
    if !repo::set_status(&txn, id, r.status, Status::Canceled, None, now).await? {
        return Err(Error::ChangedMeanwhile("registration"));
    }
    let was = r.status;
    r.status = Status::Canceled;
    if was == Status::Confirmed {
        let t = repo::ticket_type(&txn, ctx.company_id, event, r.ticket_type_id)
            .await?
            .ok_or(Error::NotFound("ticket type"))?;
        report(&txn, ctx.company_id, &t, &r, true, now).await?;
        let freed = BTreeMap::from([(r.ticket_type_id, r.quantity)]);
        seats::give_back(&txn, ctx.company_id, &freed, Bucket::Sold).await?;
        for waiting in repo::waitlist(&txn, ctx.company_id, r.ticket_type_id).await? {
            let wanted = BTreeMap::from([(r.ticket_type_id, waiting.quantity)]);
            if seats::take(&txn, ctx.company_id, &wanted, Bucket::Sold).await? == Taken::No {
                break;
            }
            // A waiting registration canceled meanwhile keeps nothing: its
            // seats go back and the next in line is asked.
            if !repo::set_status(&txn, waiting.id, Status::Waitlisted, Status::Confirmed, Some(check_in_code()), now)
                .await?
            {
                seats::give_back(&txn, ctx.company_id, &wanted, Bucket::Sold).await?;
                continue;
            }
            report(&txn, ctx.company_id, &t, &waiting, false, now).await?;
            let change = Change {
                at: now,
                entity: "registration",
                entity_id: waiting.id,
                action: "promoted",
                before: serde_json::json!({"status": "waitlisted"}),
                after: serde_json::json!({"status": "confirmed"}),
            };
            activity::record(&txn, ctx, change).await?;
        }
        reopen_if_room(&txn, ctx.company_id, event, now).await?;
    }
    let change = Change {
        at: now,
        entity: "registration",
        entity_id: id,
        action: "canceled",
        before: serde_json::json!({"status": was}),
        after: serde_json::json!({"status": "canceled"}),
    };
    activity::record(&txn, ctx, change).await?;
    txn.commit().await?;
    state.outbox.wake();
    Ok(r)
}

pub async fn check_in(
    state: &AppState,
    ctx: &AccessContext,
    event: Uuid,
    id: Uuid,
    input: CheckInIn,
) -> Result<Registration, Error> {
    let r = repo::registration(&state.db, ctx.company_id, event, id).await?.ok_or(Error::NotFound("registration"))?;
    if r.status != Status::Confirmed || r.check_in_code.as_deref() != Some(input.code.trim()) {
        return Err(Error::field("code", "does not match a confirmed registration"));
    }
    let now = state.clock.now();
    if !repo::check_in(&state.db, id, now).await? {
        return Err(Error::AlreadyCheckedIn("this registration has already checked in".to_owned()));
    }
    repo::registration(&state.db, ctx.company_id, event, id).await?.ok_or(Error::NotFound("registration"))
}

pub async fn registrations(
    state: &AppState,
    ctx: &AccessContext,
    event: Uuid,
    filter: &RegistrationFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Registration>, u64), Error> {
    live_event(&state.db, ctx.company_id, event).await?;
    Ok(repo::registrations(&state.db, ctx.company_id, event, filter, offset, limit).await?)
}

pub async fn sales(state: &AppState, ctx: &AccessContext, event: Uuid) -> Result<Vec<Sales>, Error> {
    let mut out = Vec::new();
    for t in types(state, ctx, event).await? {
        let waitlisted = repo::waitlist(&state.db, ctx.company_id, t.id).await?.iter().map(|r| r.quantity).sum();
        out.push(Sales {
            ticket_type_id: t.id,
            name: t.name,
            capacity: t.capacity,
            sold: t.sold,
            waitlisted,
            revenue_minor: t.price_minor.saturating_mul(i64::from(t.sold)),
            currency: t.currency,
        });
    }
    Ok(out)
}
