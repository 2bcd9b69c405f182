//! The rules of ticketing.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use marquee_db::{BatchFailed, Batching, DbError, GroupCommit};
use marquee_guard::AccessContext;
use marquee_kit::Clock;
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use uuid::Uuid;

use super::model::{
    CheckInIn, Registration, RegistrationFilter, RegistrationIn, Sales, Status, TicketType, TicketTypeIn,
};
use super::repo;
use crate::domains::activity::{self, Change};
use crate::domains::events::model::{Event, Status as EventStatus};
use crate::domains::events::repo as events;
use crate::domains::orders::seats::{self, Bucket, Taken};
use crate::error::Error;
use crate::outbox::{self, Fact};
use crate::state::AppState;

/// The fact that tells financial about a sale or a refund, with its source
/// id; none for free tickets.
fn sale(t: &TicketType, r: &Registration, refund: bool, at: chrono::DateTime<chrono::Utc>) -> Option<(String, Fact)> {
    let amount = t.price_minor.saturating_mul(i64::from(r.quantity));
    if amount == 0 {
        return None;
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
    Some((format!("registration:{}:{}", r.id, if refund { "refund" } else { "sale" }), fact))
}

/// Tells financial about a sale or a refund (in the caller's transaction).
async fn report(
    db: &impl ConnectionTrait,
    company: Uuid,
    t: &TicketType,
    r: &Registration,
    refund: bool,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), Error> {
    if let Some((source, fact)) = sale(t, r, refund, at) {
        outbox::enqueue(db, company, source, &fact, at).await?;
    }
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
    let claim = Claim { company: ctx.company_id, user: ctx.user_id, event, input: input.clone() };
    let written = state.registrations.submit(claim).await.unwrap_or_else(|| {
        Err(Error::Db(DbError::Unavailable("the registration could not be written; try again".to_owned())))
    });
    match written {
        Ok(registration) => {
            state.outbox.wake();
            Ok((registration, false))
        }
        Err(refused) => match &input.idempotency_key {
            Some(key) => replay(state, ctx, key, &input).await?.map(|r| (r, true)).ok_or(refused),
            None => Err(refused),
        },
    }
}

/// A registration on its way to the group commit.
pub struct Claim {
    company: Uuid,
    user: Uuid,
    event: Uuid,
    input: RegistrationIn,
}

/// The queue every registration goes through (see [`marquee_db::GroupCommit`]).
pub type Claims = GroupCommit<Claim, Result<Registration, Error>>;

/// How much of a waiting list is read at a time.
const WAITLIST_PAGE: u64 = 32;

/// Registrations committed together at most.
const BATCH: usize = 64;

pub fn claims(db: DatabaseConnection, clock: Clock) -> Claims {
    GroupCommit::start("registrations", Batching::serial(BATCH, &db), move |jobs| {
        let (db, clock) = (db.clone(), clock.clone());
        async move { write_batch(&db, &clock, jobs).await }
    })
}

/// Writes the waiting registrations in one transaction: their ticket types
/// and quotas are locked once, in the fixed order; each claim is checked on
/// its own against the seats its predecessors in the batch left, and the
/// registrations, their sales and their activity are written with one
/// statement each.
async fn write_batch(db: &DatabaseConnection, clock: &Clock, jobs: Vec<Claim>) -> Vec<Result<Registration, Error>> {
    let outcome = try_batch(db, clock, &jobs).await;
    marquee_db::settle("registrations", jobs, outcome, |job| write_alone(db, clock, job)).await
}

/// What a batch has read and taken so far.
struct Batch {
    events: BTreeMap<(Uuid, Uuid), Option<Event>>,
    types: BTreeMap<Uuid, TicketType>,
    counters: seats::Counters,
    taken_keys: HashSet<(Uuid, String)>,
    now: chrono::DateTime<chrono::Utc>,
}

async fn try_batch(
    db: &DatabaseConnection,
    clock: &Clock,
    jobs: &[Claim],
) -> Result<Vec<Result<Registration, Error>>, BatchFailed> {
    let txn = marquee_db::begin_batch(db).await?;
    let events = events::find_each(&txn, &jobs.iter().map(|j| (j.company, j.event)).collect::<Vec<_>>()).await?;
    let named: BTreeSet<(Uuid, Uuid)> = jobs.iter().map(|j| (j.company, j.input.ticket_type_id)).collect();
    let (counters, types) = seats::lock(&txn, &named.into_iter().collect::<Vec<_>>()).await?;
    let keys: Vec<(Uuid, String)> =
        jobs.iter().filter_map(|j| j.input.idempotency_key.clone().map(|k| (j.company, k))).collect();
    let taken_keys = repo::taken_keys(&txn, &keys).await?;
    let types = types.into_iter().map(|t| (t.id, t)).collect();
    let mut batch = Batch { events, types, counters, taken_keys, now: clock.now() };
    let (mut answers, mut rows, mut facts, mut changes) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut filled = BTreeSet::new();
    for job in jobs {
        let answer = accept(job, &mut batch);
        if let Ok((r, full)) = &answer {
            let t = &batch.types[&r.ticket_type_id];
            if r.status == Status::Confirmed
                && let Some((source, fact)) = sale(t, r, false, batch.now)
            {
                facts.push((job.company, source, fact));
            }
            if *full {
                filled.insert((job.company, r.event_id));
            }
            changes.push((job.company, job.user, registered(r, batch.now)));
            rows.push((job.company, r.clone(), job.user));
        }
        answers.push(answer.map(|(r, _)| r));
    }
    batch.counters.store(&txn, Bucket::Sold).await?;
    // The rows below have their references checked one by one: not planned again for each.
    marquee_db::plan_as_usual(&txn).await?;
    repo::insert_registrations(&txn, &rows).await?;
    outbox::enqueue_many(&txn, facts, batch.now).await?;
    activity::record_many(&txn, changes).await?;
    for (company, event) in filled {
        sold_out_if_full(&txn, company, event, batch.now).await?;
    }
    marquee_db::commit_batch("registrations", txn).await?;
    Ok(answers)
}

/// Checks one claim of a batch against the seats as the batch left them so
/// far, and takes its seats when there are enough; answers the registration
/// and whether it filled a ticket type or a quota.
fn accept(job: &Claim, batch: &mut Batch) -> Result<(Registration, bool), Error> {
    let now = batch.now;
    let e = batch.events.get(&(job.company, job.event)).cloned().flatten().ok_or(Error::NotFound("event"))?;
    takes_registrations(&e)?;
    let t = batch
        .types
        .get(&job.input.ticket_type_id)
        .filter(|t| t.event_id == e.id)
        .ok_or_else(|| Error::field("ticketTypeId", "no such ticket type for this event"))?;
    check_sale(t, &job.input, now)?;
    if let Some(key) = &job.input.idempotency_key {
        // As a refused insert would be: `register` answers the original.
        if !batch.taken_keys.insert((job.company, key.clone())) {
            return Err(Error::Db(DbError::Conflict { constraint: "registrations_company_idempotency".to_owned() }));
        }
    }
    let taken = batch.counters.take(job.company, &BTreeMap::from([(t.id, job.input.quantity)]));
    let registration = registration_of(job.event, t.id, &job.input, taken != Taken::No, now);
    Ok((registration, taken == (Taken::Yes { filled: true })))
}

fn takes_registrations(e: &Event) -> Result<(), Error> {
    if matches!(e.status, EventStatus::OnSale | EventStatus::SoldOut) {
        Ok(())
    } else {
        Err(Error::SalesClosed(format!("a {} event does not take registrations", e.status.as_str())))
    }
}

/// Whether `input` may register for `t` now.
fn check_sale(t: &TicketType, input: &RegistrationIn, now: chrono::DateTime<chrono::Utc>) -> Result<(), Error> {
    if t.sale_starts_at.is_some_and(|s| now < s) || t.sale_ends_at.is_some_and(|e| now >= e) {
        return Err(Error::SalesClosed("this ticket type is not on sale now".to_owned()));
    }
    if input.quantity > t.per_order_max {
        return Err(Error::field("quantity", format!("at most {} per order", t.per_order_max)));
    }
    Ok(())
}

fn registration_of(
    event: Uuid,
    ticket_type: Uuid,
    input: &RegistrationIn,
    confirmed: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Registration {
    Registration {
        id: Uuid::now_v7(),
        event_id: event,
        ticket_type_id: ticket_type,
        attendee_name: input.attendee_name.trim().to_owned(),
        attendee_email: input.attendee_email.trim().to_lowercase(),
        quantity: input.quantity,
        status: if confirmed { Status::Confirmed } else { Status::Waitlisted },
        idempotency_key: input.idempotency_key.clone(),
        check_in_code: confirmed.then(check_in_code),
        checked_in_at: None,
        created_at: now,
    }
}

/// The activity entry of a new registration.
fn registered(r: &Registration, at: chrono::DateTime<chrono::Utc>) -> Change<'static> {
    let after = serde_json::json!({"status": r.status, "quantity": r.quantity, "ticketTypeId": r.ticket_type_id});
    Change {
        at,
        entity: "registration",
        entity_id: r.id,
        action: r.status.as_str(),
        before: serde_json::Value::Null,
        after,
    }
}

/// One registration in its own transaction: a batch's claims after a
/// conflict refused the batch (say, a key another replica took meanwhile).
async fn write_alone(db: &DatabaseConnection, clock: &Clock, job: Claim) -> Result<Registration, Error> {
    let now = clock.now();
    let txn = db.begin().await?;
    takes_registrations(&live_event(&txn, job.company, job.event).await?)?;
    let t = repo::ticket_type(&txn, job.company, job.event, job.input.ticket_type_id)
        .await?
        .ok_or_else(|| Error::field("ticketTypeId", "no such ticket type for this event"))?;
    check_sale(&t, &job.input, now)?;
    let wants = BTreeMap::from([(t.id, job.input.quantity)]);
    let taken = seats::take(&txn, job.company, &wants, Bucket::Sold).await?;
    let registration = registration_of(job.event, t.id, &job.input, taken != Taken::No, now);
    repo::insert_registration(&txn, job.company, &registration, job.user).await?;
    if registration.status == Status::Confirmed {
        // Only the claim that took a type's last seat can make the event full.
        if taken == (Taken::Yes { filled: true }) {
            sold_out_if_full(&txn, job.company, job.event, now).await?;
        }
        report(&txn, job.company, &t, &registration, false, now).await?;
    }
    activity::record_as(&txn, job.company, job.user, registered(&registration, now)).await?;
    txn.commit().await?;
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
        moved(db, company, event, EventStatus::OnSale, EventStatus::SoldOut, at).await?;
    }
    Ok(())
}

/// Moves an event's status on the seats' word, and tells the company's webhooks.
async fn moved(
    db: &impl ConnectionTrait,
    company: Uuid,
    event: Uuid,
    from: EventStatus,
    to: EventStatus,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), Error> {
    if events::set_status(db, company, event, from, to, at).await? {
        let changed = serde_json::json!({"eventId": event, "from": from, "to": to});
        crate::domains::webhooks::enqueue(db, company, "event.status_changed", &changed, at).await?;
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
        moved(db, company, event, EventStatus::SoldOut, EventStatus::OnSale, at).await?;
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
        // Read a page at a time: a long waiting list is never loaded whole
        // to fill the few seats a cancellation frees.
        let mut after = None;
        'promote: loop {
            let page = repo::waitlist(&txn, ctx.company_id, r.ticket_type_id, after, WAITLIST_PAGE).await?;
            let last_page = page.len() < WAITLIST_PAGE as usize;
            for waiting in page {
                after = Some((waiting.created_at, waiting.id));
                let wanted = BTreeMap::from([(r.ticket_type_id, waiting.quantity)]);
                if seats::take(&txn, ctx.company_id, &wanted, Bucket::Sold).await? == Taken::No {
                    break 'promote;
                }
                // A waiting registration canceled meanwhile keeps nothing: its
                // seats go back and the next in line is asked.
                if !repo::set_status(
                    &txn,
                    waiting.id,
                    Status::Waitlisted,
                    Status::Confirmed,
                    Some(check_in_code()),
                    now,
                )
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
            if last_page {
                break;
            }
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
    let types = types(state, ctx, event).await?;
    let ids: Vec<Uuid> = types.iter().map(|t| t.id).collect();
    let waiting = repo::waiting_seats(&state.db, ctx.company_id, &ids).await?;
    let mut out = Vec::new();
    for t in types {
        let waitlisted = waiting.get(&t.id).copied().unwrap_or(0);
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
