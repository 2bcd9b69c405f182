//! The rules of orders: a reservation holds its seats (and its voucher's
//! uses) until it is paid, canceled or runs out; payment issues one ticket
//! per seat and tells financial; refunds give seats and money back.
//!
//! Locks are always taken in one order: the order row, the voucher, the
//! ticket types (by id), the quotas (by id).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use marquee_db::{BatchFailed, Batching, GroupCommit};
use marquee_guard::AccessContext;
use marquee_kit::Clock;
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use uuid::Uuid;

use super::model::{
    ConfirmIn, Order, OrderFilter, OrderIn, OrderItem, OrderStatus, RefundIn, Ticket, TicketStatus, Voucher,
};
use super::repo;
use super::seats::{self, Bucket, Taken, Wants};
use crate::domains::activity::{self, Change};
use crate::domains::checkin::keys;
use crate::domains::events::model::Status as EventStatus;
use crate::domains::events::repo as events;
use crate::domains::ticketing::model::TicketType;
use crate::domains::ticketing::{self, repo as ticket_types};
use crate::domains::waitlist::model::{Entry, EntryStatus};
use crate::domains::waitlist::repo as waitlist;
use crate::domains::webhooks;
use crate::error::Error;
use crate::outbox::{self, Fact};
use crate::state::AppState;

/// Who changes an order when Marquee does it itself (a reservation running out).
const MARQUEE: Uuid = Uuid::nil();

fn reservation_time(state: &AppState) -> Duration {
    Duration::minutes(i64::from(state.config.reservation_minutes))
}

/// Seats per ticket type that an order holds in the types' own counters:
/// all of them, less those its voucher's block still holds for it.
fn counted_seats(order: &Order, block_active: bool) -> Wants {
    let mut wants = BTreeMap::new();
    for item in &order.items {
        let from_block = if block_active { item.voucher_seats } else { 0 };
        let q = item.quantity - from_block;
        if q > 0 {
            *wants.entry(item.ticket_type_id).or_insert(0) += q;
        }
    }
    wants
}

fn all_seats(order: &Order) -> Wants {
    counted_seats(order, false)
}

fn voucher_seats(order: &Order) -> u32 {
    order.items.iter().map(|i| i.voucher_seats).sum()
}

/// The activity entry of an order's change.
fn changed<'a>(order: &Order, action: &'a str, before: OrderStatus, at: DateTime<Utc>) -> Change<'a> {
    Change::new(
        at,
        "order",
        order.id,
        action,
        serde_json::json!({"status": before}),
        serde_json::json!({"status": order.status, "totalMinor": order.total_minor, "refundedMinor": order.refunded_minor}),
    )
}

async fn change(
    db: &impl ConnectionTrait,
    company: Uuid,
    actor: Uuid,
    order: &Order,
    action: &str,
    before: OrderStatus,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    activity::record_as(db, company, actor, changed(order, action, before, at)).await?;
    let event_type = match action {
        "paid" => "order.paid",
        "refunded" => "order.refunded",
        // Canceling a paid order refunds all of it.
        "canceled" if before == OrderStatus::Paid => "order.refunded",
        _ => return Ok(()),
    };
    webhooks::enqueue(db, company, event_type, &without_admissions(order), at).await?;
    Ok(())
}

/// An order as webhooks tell it: its tickets without their signed tokens,
/// which admit at the door and are handed to the buyer alone.
fn without_admissions(order: &Order) -> serde_json::Value {
    let mut told = serde_json::to_value(order).unwrap_or_default();
    if let Some(tickets) = told.get_mut("tickets").and_then(serde_json::Value::as_array_mut) {
        for ticket in tickets.iter_mut().filter_map(serde_json::Value::as_object_mut) {
            ticket.remove("token");
        }
    }
    told
}

pub async fn reserve(
    state: &AppState,
    ctx: &AccessContext,
    event: Uuid,
    input: OrderIn,
) -> Result<(Order, bool), Error> {
    let mut placed = place(state, ctx, event, &input).await;
    // Seats held by reservations that ran out are free: a buyer is never
    // told "sold out" because the sweeper has not come by yet.
    if matches!(placed, Err(Error::SoldOut(_))) && expire_overdue_of(state, ctx.company_id, event).await? > 0 {
        placed = place(state, ctx, event, &input).await;
    }
    match placed {
        Ok(order) => Ok((order, false)),
        Err(refused) => match repo::order_by_key(&state.db, ctx.company_id, input.idempotency_key.trim()).await? {
            None => Err(refused),
            Some(order) if order.event_id == event && same_items(&order, &input) => {
                let order = fresh(state, ctx.company_id, order).await?;
                Ok((answer(state, ctx.company_id, order).await?, true))
            }
            Some(_) => {
                Err(Error::IdempotencyKeyReused("this idempotency key was used for a different order".to_owned()))
            }
        },
    }
}

fn same_items(order: &Order, input: &OrderIn) -> bool {
    let mut stored: Vec<(Uuid, u32)> = order.items.iter().map(|i| (i.ticket_type_id, i.quantity)).collect();
    let mut asked: Vec<(Uuid, u32)> = input.items.iter().map(|i| (i.ticket_type_id, i.quantity)).collect();
    stored.sort();
    asked.sort();
    stored == asked && order.voucher_id.is_some() == input.voucher_code.is_some()
}

async fn find_voucher(
    db: &impl ConnectionTrait,
    company: Uuid,
    event: Uuid,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Voucher, Error> {
    let v = repo::voucher_by_code(db, company, event, &code.trim().to_uppercase())
        .await?
        .ok_or_else(|| Error::field("voucherCode", "no such voucher for this event"))?;
    if v.valid_until.is_some_and(|until| now >= until) {
        return Err(Error::VoucherUnavailable("the voucher is no longer valid".to_owned()));
    }
    Ok(v)
}

/// The order `input` asks for, priced from the event's ticket types (and
/// the voucher's discount), held for `hold` from `now`: checked, not stored.
fn priced(
    event: Uuid,
    types: &BTreeMap<Uuid, TicketType>,
    voucher: Option<&Voucher>,
    input: &OrderIn,
    now: DateTime<Utc>,
    hold: Duration,
) -> Result<Order, Error> {
    let mut items = Vec::new();
    let mut currency = None;
    for (n, item) in input.items.iter().enumerate() {
        let t = types
            .get(&item.ticket_type_id)
            .filter(|t| t.event_id == event)
            .ok_or_else(|| Error::field(&format!("items[{n}].ticketTypeId"), "no such ticket type for this event"))?;
        if t.sale_starts_at.is_some_and(|s| now < s) || t.sale_ends_at.is_some_and(|e| now >= e) {
            return Err(Error::SalesClosed(format!("{} is not on sale now", t.name)));
        }
        if item.quantity > t.per_order_max {
            return Err(Error::field(
                &format!("items[{n}].quantity"),
                format!("at most {} per order", t.per_order_max),
            ));
        }
        if currency.get_or_insert_with(|| t.currency.clone()) != &t.currency {
            return Err(Error::field("items", "every item of an order must be in one currency"));
        }
        let eligible = voucher.is_some_and(|v| v.ticket_type_ids.is_empty() || v.ticket_type_ids.contains(&t.id));
        let discount = match (voucher, eligible) {
            (Some(v), true) => v.discount_kind.off(v.discount_value, t.price_minor),
            _ => 0,
        };
        items.push(OrderItem {
            ticket_type_id: t.id,
            quantity: item.quantity,
            unit_price_minor: t.price_minor,
            discount_minor: discount,
            voucher_seats: if eligible { item.quantity } else { 0 },
            attendees: item.attendees.clone().unwrap_or_default(),
        });
    }
    let subtotal: i64 = items.iter().map(|i| i.unit_price_minor * i64::from(i.quantity)).sum();
    let discount: i64 = items.iter().map(|i| i.discount_minor * i64::from(i.voucher_seats)).sum();
    Ok(Order {
        id: Uuid::now_v7(),
        event_id: event,
        status: OrderStatus::Reserved,
        buyer_name: input.buyer_name.as_ref().map(|n| n.trim().to_owned()),
        buyer_email: input.buyer_email.as_ref().map(|e| e.trim().to_lowercase()),
        items,
        currency: currency.unwrap_or_default(),
        subtotal_minor: subtotal,
        discount_minor: discount,
        total_minor: subtotal - discount,
        refunded_minor: 0,
        voucher_id: voucher.map(|v| v.id),
        idempotency_key: input.idempotency_key.trim().to_owned(),
        expires_at: now + hold,
        payment_ref: None,
        paid_at: None,
        tickets: Vec::new(),
        created_at: now,
    })
}

fn takes_orders(e: &crate::domains::events::model::Event) -> Result<(), Error> {
    if matches!(e.status, EventStatus::OnSale | EventStatus::SoldOut) {
        Ok(())
    } else {
        Err(Error::SalesClosed(format!("a {} event takes no orders", e.status.as_str())))
    }
}

fn sold_out() -> Error {
    Error::SoldOut("too few seats are left for this order".to_owned())
}

/// Places an order: through the group commit, or alone when it names a
/// voucher (whose uses are locked before the seats).
async fn place(state: &AppState, ctx: &AccessContext, event: Uuid, input: &OrderIn) -> Result<Order, Error> {
    if input.voucher_code.is_some() {
        return place_alone(
            &state.db,
            &state.clock,
            reservation_time(state),
            ctx.company_id,
            ctx.user_id,
            event,
            input,
        )
        .await;
    }
    let job = Reservation { company: ctx.company_id, user: ctx.user_id, event, input: input.clone() };
    state.reservations.submit(job).await.unwrap_or_else(|| {
        Err(Error::Db(marquee_db::DbError::Unavailable("the order could not be written; try again".to_owned())))
    })
}

async fn place_alone(
    db: &DatabaseConnection,
    clock: &Clock,
    hold: Duration,
    company: Uuid,
    user: Uuid,
    event: Uuid,
    input: &OrderIn,
) -> Result<Order, Error> {
    let now = clock.now();
    let txn = db.begin().await?;
    let e = events::find(&txn, company, event).await?.ok_or(Error::NotFound("event"))?;
    takes_orders(&e)?;
    let types: BTreeMap<Uuid, _> =
        ticket_types::ticket_types(&txn, company, event).await?.into_iter().map(|t| (t.id, t)).collect();
    let voucher = match &input.voucher_code {
        Some(code) => Some(find_voucher(&txn, company, event, code, now).await?),
        None => None,
    };
    let order = priced(event, &types, voucher.as_ref(), input, now, hold)?;
    let mut block_active = false;
    if let Some(v) = &voucher {
        let seats = voucher_seats(&order);
        if seats == 0 {
            return Err(Error::field("voucherCode", "the voucher applies to none of these ticket types"));
        }
        if !repo::use_voucher(&txn, v.id, seats).await? {
            return Err(Error::VoucherUnavailable(format!("the voucher has fewer than {seats} uses left")));
        }
        block_active = v.block_quota;
    }
    if seats::take(&txn, company, &counted_seats(&order, block_active), Bucket::Held).await? == Taken::No {
        return Err(sold_out());
    }
    repo::insert_orders(&txn, &[(company, order.clone(), user)]).await?;
    change(&txn, company, user, &order, "reserved", OrderStatus::Reserved, now).await?;
    txn.commit().await?;
    Ok(order)
}

/// An order without a voucher on its way to the group commit.
pub struct Reservation {
    company: Uuid,
    user: Uuid,
    event: Uuid,
    input: OrderIn,
}

/// The queue every order without a voucher goes through (see
/// [`marquee_db::GroupCommit`]).
pub type Reservations = GroupCommit<Reservation, Result<Order, Error>>;

/// Orders committed together at most.
const BATCH: usize = 64;

pub fn reservations(db: DatabaseConnection, clock: Clock, hold: Duration) -> Reservations {
    GroupCommit::start("order_reservations", Batching::serial(BATCH, &db), move |jobs| {
        let (db, clock) = (db.clone(), clock.clone());
        async move {
            let outcome = reserve_batch(&db, &clock, hold, &jobs).await;
            marquee_db::settle("order_reservations", jobs, outcome, |job| {
                let (db, clock) = (&db, &clock);
                async move { place_alone(db, clock, hold, job.company, job.user, job.event, &job.input).await }
            })
            .await
        }
    })
}

/// Writes the waiting orders in one transaction: their ticket types and
/// quotas are locked once, in the fixed order; each order is checked on its
/// own against the seats its predecessors in the batch left; the orders,
/// their items and their activity are written with one statement each.
async fn reserve_batch(
    db: &DatabaseConnection,
    clock: &Clock,
    hold: Duration,
    jobs: &[Reservation],
) -> Result<Vec<Result<Order, Error>>, BatchFailed> {
    let txn = marquee_db::begin_batch(db).await?;
    let found = events::find_each(&txn, &jobs.iter().map(|j| (j.company, j.event)).collect::<Vec<_>>()).await?;
    let named: BTreeSet<(Uuid, Uuid)> =
        jobs.iter().flat_map(|j| j.input.items.iter().map(|i| (j.company, i.ticket_type_id))).collect();
    let (mut counters, types) = seats::lock(&txn, &named.into_iter().collect::<Vec<_>>()).await?;
    let types: BTreeMap<Uuid, TicketType> = types.into_iter().map(|t| (t.id, t)).collect();
    let keys: Vec<(Uuid, String)> =
        jobs.iter().map(|j| (j.company, j.input.idempotency_key.trim().to_owned())).collect();
    let mut taken_keys = repo::taken_order_keys(&txn, &keys).await?;
    let now = clock.now();
    let (mut answers, mut rows, mut changes) = (Vec::new(), Vec::new(), Vec::new());
    for job in jobs {
        let answer = (|| {
            let e = found.get(&(job.company, job.event)).cloned().flatten().ok_or(Error::NotFound("event"))?;
            takes_orders(&e)?;
            let order = priced(e.id, &types, None, &job.input, now, hold)?;
            let key = (job.company, order.idempotency_key.clone());
            if taken_keys.contains(&key) {
                // As a refused insert would be: `reserve` answers the original.
                return Err(Error::Db(marquee_db::DbError::Conflict {
                    constraint: "orders_company_idempotency".to_owned(),
                }));
            }
            // The key is taken only by an order that got its seats: a twin
            // refused for want of seats is refused the same way.
            if counters.take(job.company, &counted_seats(&order, false)) == Taken::No {
                return Err(sold_out());
            }
            taken_keys.insert(key);
            Ok(order)
        })();
        if let Ok(order) = &answer {
            changes.push((job.company, job.user, changed(order, "reserved", OrderStatus::Reserved, now)));
            rows.push((job.company, order.clone(), job.user));
        }
        answers.push(answer);
    }
    counters.store(&txn, Bucket::Held).await?;
    // The rows below have their references checked one by one: not planned again for each.
    marquee_db::plan_as_usual(&txn).await?;
    repo::insert_orders(&txn, &rows).await?;
    activity::record_many(&txn, changes).await?;
    marquee_db::commit_batch("order_reservations", txn).await?;
    Ok(answers)
}

/// A reservation for a waiting-list offer: the entry's seats of one type at
/// its price, held until `expires_at`; None when they are not free.
pub async fn reserve_offer(
    db: &impl ConnectionTrait,
    company: Uuid,
    ticket_type: &TicketType,
    entry: &Entry,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<Order>, Error> {
    let wants = BTreeMap::from([(ticket_type.id, entry.quantity)]);
    if seats::take(db, company, &wants, Bucket::Held).await? == Taken::No {
        return Ok(None);
    }
    let subtotal = ticket_type.price_minor * i64::from(entry.quantity);
    let order = Order {
        id: Uuid::now_v7(),
        event_id: entry.event_id,
        status: OrderStatus::Reserved,
        buyer_name: entry.name.clone(),
        buyer_email: Some(entry.email.clone()),
        items: vec![OrderItem {
            ticket_type_id: ticket_type.id,
            quantity: entry.quantity,
            unit_price_minor: ticket_type.price_minor,
            discount_minor: 0,
            voucher_seats: 0,
            attendees: Vec::new(),
        }],
        currency: ticket_type.currency.clone(),
        subtotal_minor: subtotal,
        discount_minor: 0,
        total_minor: subtotal,
        refunded_minor: 0,
        voucher_id: None,
        idempotency_key: format!("waitlist:{}", entry.id),
        expires_at,
        payment_ref: None,
        paid_at: None,
        tickets: Vec::new(),
        created_at: now,
    };
    repo::insert_order(db, company, &order, MARQUEE).await?;
    change(db, company, MARQUEE, &order, "offered", OrderStatus::Reserved, now).await?;
    Ok(Some(order))
}

/// Gives back what a reservation holds: its seats, and its voucher's uses
/// (seats from a voucher's block go back to the block).
async fn let_go(db: &impl ConnectionTrait, company: Uuid, order: &Order) -> Result<(), Error> {
    let mut block_active = false;
    if let Some(voucher) = order.voucher_id {
        block_active = repo::unuse_voucher(db, voucher, voucher_seats(order)).await?;
    }
    seats::give_back(db, company, &counted_seats(order, block_active), Bucket::Held).await?;
    Ok(())
}

/// Ends a reservation whose time is up, in the caller's transaction; false
/// when it was no longer reserved.
async fn expire_in(
    db: &impl ConnectionTrait,
    company: Uuid,
    order: &mut Order,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    if !repo::set_status(db, order.id, OrderStatus::Reserved, OrderStatus::Expired, now).await? {
        return Ok(false);
    }
    let_go(db, company, order).await?;
    waitlist::settle(db, order.id, EntryStatus::Expired, now).await?;
    order.status = OrderStatus::Expired;
    change(db, company, MARQUEE, order, "expired", OrderStatus::Reserved, now).await?;
    Ok(true)
}

/// Expires one reservation if its time is up (the sweeper, and every read).
pub async fn expire(state: &AppState, company: Uuid, id: Uuid) -> Result<bool, Error> {
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    let Some(mut order) = repo::order(&txn, company, id).await? else { return Ok(false) };
    if order.status != OrderStatus::Reserved || order.expires_at > now {
        return Ok(false);
    }
    let expired = expire_in(&txn, company, &mut order, now).await?;
    txn.commit().await?;
    if expired {
        offer_to_waitlist(state, company, order.event_id).await;
    }
    Ok(expired)
}

/// Offers freed seats to the waiting list; the change that freed them has
/// landed, so a failure here is only logged (the sweeper offers them later).
pub async fn offer_to_waitlist(state: &AppState, company: Uuid, event: Uuid) {
    if let Err(e) = crate::domains::waitlist::service::offer_freed(state, company, event).await {
        tracing::warn!(error = %e, %event, "freed seats could not be offered to the waiting list yet");
    }
}

async fn expire_overdue_of(state: &AppState, company: Uuid, event: Uuid) -> Result<usize, Error> {
    let mut expired = 0;
    for id in repo::overdue_of_event(&state.db, company, event, state.clock.now(), 500).await? {
        if expire(state, company, id).await? {
            expired += 1;
        }
    }
    Ok(expired)
}

/// Expires every reservation whose time is up and ends the blocks of
/// vouchers past their validity; how many of each.
pub async fn sweep(state: &AppState) -> Result<(usize, usize), Error> {
    let now = state.clock.now();
    let mut expired = 0;
    for (company, id) in repo::overdue(&state.db, now, 200).await? {
        if expire(state, company, id).await? {
            expired += 1;
        }
    }
    let mut released = 0;
    for (company, id) in repo::lapsed_blocks(&state.db, now, 200).await? {
        if super::vouchers::release(state, company, id).await? {
            released += 1;
        }
    }
    Ok((expired, released))
}

/// Puts the signed token on each valid ticket of these orders.
async fn signed(state: &AppState, company: Uuid, mut orders: Vec<Order>) -> Result<Vec<Order>, Error> {
    if orders.iter().all(|o| o.tickets.is_empty()) {
        return Ok(orders);
    }
    let signer = keys::signer(state, company).await?;
    for ticket in orders.iter_mut().flat_map(|o| o.tickets.iter_mut()) {
        if ticket.status == TicketStatus::Valid {
            ticket.token = Some(signer.token(ticket)?);
        }
    }
    Ok(orders)
}

async fn answer(state: &AppState, company: Uuid, order: Order) -> Result<Order, Error> {
    signed(state, company, vec![order]).await?.pop().ok_or(Error::NotFound("order"))
}

async fn reread(state: &AppState, company: Uuid, id: Uuid) -> Result<Order, Error> {
    let order = repo::order(&state.db, company, id).await?.ok_or(Error::NotFound("order"))?;
    answer(state, company, order).await
}

/// An order as it is now: a reservation whose time is up is expired first.
async fn fresh(state: &AppState, company: Uuid, order: Order) -> Result<Order, Error> {
    if order.status == OrderStatus::Reserved && order.expires_at <= state.clock.now() {
        expire(state, company, order.id).await?;
        return repo::order(&state.db, company, order.id).await?.ok_or(Error::NotFound("order"));
    }
    Ok(order)
}

pub async fn show(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<Order, Error> {
    let order = repo::order(&state.db, ctx.company_id, id).await?.ok_or(Error::NotFound("order"))?;
    let order = fresh(state, ctx.company_id, order).await?;
    answer(state, ctx.company_id, order).await
}

pub async fn list(
    state: &AppState,
    ctx: &AccessContext,
    event: Uuid,
    filter: &OrderFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Order>, u64), Error> {
    events::find(&state.db, ctx.company_id, event).await?.ok_or(Error::NotFound("event"))?;
    let now = state.clock.now();
    let (orders, total) = repo::orders(&state.db, ctx.company_id, event, filter, offset, limit).await?;
    if orders.iter().any(|o| o.status == OrderStatus::Reserved && o.expires_at <= now) {
        for o in &orders {
            if o.status == OrderStatus::Reserved && o.expires_at <= now {
                expire(state, ctx.company_id, o.id).await?;
            }
        }
        let (orders, total) = repo::orders(&state.db, ctx.company_id, event, filter, offset, limit).await?;
        return Ok((signed(state, ctx.company_id, orders).await?, total));
    }
    Ok((signed(state, ctx.company_id, orders).await?, total))
}

/// Takes the seats (and voucher uses) of a reservation that ran out again,
/// if they are still free.
async fn reclaim(db: &impl ConnectionTrait, company: Uuid, order: &Order) -> Result<bool, Error> {
    let mut block_active = false;
    if let Some(id) = order.voucher_id {
        let Some(v) = repo::voucher(db, company, id).await? else { return Ok(false) };
        if !repo::use_voucher(db, v.id, voucher_seats(order)).await? {
            return Ok(false);
        }
        block_active = v.block_quota;
    }
    if seats::take(db, company, &counted_seats(order, block_active), Bucket::Held).await? == Taken::No {
        if let Some(id) = order.voucher_id {
            repo::unuse_voucher(db, id, voucher_seats(order)).await?;
        }
        return Ok(false);
    }
    Ok(true)
}

fn tickets_of(order: &Order, now: DateTime<Utc>) -> Vec<Ticket> {
    let mut tickets = Vec::new();
    for item in &order.items {
        for seat in 0..item.quantity {
            let attendee = item.attendees.get(seat as usize);
            let discount = if seat < item.voucher_seats { item.discount_minor } else { 0 };
            tickets.push(Ticket {
                id: Uuid::now_v7(),
                order_id: order.id,
                event_id: order.event_id,
                ticket_type_id: item.ticket_type_id,
                attendee_name: attendee.map(|a| a.name.trim().to_owned()),
                attendee_email: attendee.and_then(|a| a.email.as_ref()).map(|e| e.trim().to_lowercase()),
                price_minor: item.unit_price_minor - discount,
                status: TicketStatus::Valid,
                token: None,
                created_at: now,
            });
        }
    }
    tickets
}

/// Pays a reservation: its held seats become sold, one ticket per seat is
/// issued and the sale goes to financial. Confirming again with the same
/// payment reference answers the paid order; after the reservation ran out
/// it is paid only if its seats are still free.
pub async fn confirm(state: &AppState, ctx: &AccessContext, id: Uuid, input: ConfirmIn) -> Result<Order, Error> {
    match confirm_once(state, ctx, id, &input).await {
        // The same payment confirmed at the same moment: the other request
        // paid it, and this one answers the paid order too.
        Err(Error::ChangedMeanwhile(what)) => {
            let order = repo::order(&state.db, ctx.company_id, id).await?.ok_or(Error::NotFound("order"))?;
            if order.status == OrderStatus::Paid && order.payment_ref.as_deref() == Some(input.payment_ref.trim()) {
                return answer(state, ctx.company_id, order).await;
            }
            Err(Error::ChangedMeanwhile(what))
        }
        other => other,
    }
}

async fn confirm_once(state: &AppState, ctx: &AccessContext, id: Uuid, input: &ConfirmIn) -> Result<Order, Error> {
    let now = state.clock.now();
    let company = ctx.company_id;
    let payment_ref = input.payment_ref.trim();
    let txn = state.db.begin().await?;
    let mut order = repo::order(&txn, company, id).await?.ok_or(Error::NotFound("order"))?;
    let from = order.status;
    match from {
        OrderStatus::Paid if order.payment_ref.as_deref() == Some(payment_ref) => {
            // The transaction ends first: signing reads the company's key.
            drop(txn);
            return answer(state, company, order).await;
        }
        OrderStatus::Paid => {
            return Err(Error::AlreadyPaid("the order is paid with another payment reference".to_owned()));
        }
        OrderStatus::Canceled | OrderStatus::Refunded => {
            return Err(Error::OrderClosed(format!("a {} order cannot be paid", from.as_str())));
        }
        OrderStatus::Reserved if order.expires_at > now => {}
        OrderStatus::Reserved | OrderStatus::Expired => {
            if from == OrderStatus::Reserved && !expire_in(&txn, company, &mut order, now).await? {
                return Err(Error::ChangedMeanwhile("order"));
            }
            if !reclaim(&txn, company, &order).await? {
                txn.commit().await?;
                return Err(Error::ReservationExpired(
                    "the reservation ran out and its seats are no longer free".to_owned(),
                ));
            }
        }
    }
    if !repo::mark_paid(&txn, id, order.status, payment_ref, now).await? {
        return Err(Error::ChangedMeanwhile("order"));
    }
    waitlist::settle(&txn, order.id, EntryStatus::Used, now).await?;
    let tickets = tickets_of(&order, now);
    repo::insert_tickets(&txn, company, &tickets).await?;
    let before = order.status;
    order.status = OrderStatus::Paid;
    order.payment_ref = Some(payment_ref.to_owned());
    order.paid_at = Some(now);
    order.tickets = tickets;
    if order.total_minor > 0 {
        let fact = Fact::OrderPayment {
            event_id: order.event_id,
            order_id: order.id,
            refund: false,
            amount_minor: order.total_minor,
            currency: order.currency.clone(),
            quantity: u32::try_from(order.tickets.len()).unwrap_or(u32::MAX),
            at: now,
        };
        outbox::enqueue(&txn, company, format!("order:{}:sale", order.id), &fact, now).await?;
    }
    change(&txn, company, ctx.user_id, &order, "paid", before, now).await?;
    // The ticket type's counter is the row every buyer of the type shares:
    // it is moved last, so its lock is held only until the commit.
    if seats::sell_held(&txn, company, &all_seats(&order)).await? {
        ticketing::service::sold_out_if_full(&txn, company, order.event_id, now).await?;
    }
    txn.commit().await?;
    state.outbox.wake();
    reread(state, company, id).await
}

/// Cancels an order: a reservation lets its seats go; a paid order is
/// refunded in full and its seats go back on sale.
pub async fn cancel(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<Order, Error> {
    let now = state.clock.now();
    let company = ctx.company_id;
    let txn = state.db.begin().await?;
    let mut order = repo::order(&txn, company, id).await?.ok_or(Error::NotFound("order"))?;
    let before = order.status;
    match before {
        OrderStatus::Reserved => {
            if !repo::set_status(&txn, id, OrderStatus::Reserved, OrderStatus::Canceled, now).await? {
                return Err(Error::ChangedMeanwhile("order"));
            }
            let_go(&txn, company, &order).await?;
            waitlist::settle(&txn, order.id, EntryStatus::Declined, now).await?;
        }
        OrderStatus::Paid => {
            let valid: Vec<Uuid> =
                order.tickets.iter().filter(|t| t.status == TicketStatus::Valid).map(|t| t.id).collect();
            refund_in(&txn, ctx, &mut order, &valid, 0, now).await?;
            if !repo::set_status(&txn, id, order.status, OrderStatus::Canceled, now).await? {
                return Err(Error::ChangedMeanwhile("order"));
            }
        }
        OrderStatus::Canceled | OrderStatus::Expired | OrderStatus::Refunded => {
            return Err(Error::AlreadyCanceled(format!("the order is already {}", before.as_str())));
        }
    }
    order.status = OrderStatus::Canceled;
    change(&txn, company, ctx.user_id, &order, "canceled", before, now).await?;
    txn.commit().await?;
    state.outbox.wake();
    offer_to_waitlist(state, company, order.event_id).await;
    reread(state, company, id).await
}

/// Refunds tickets of a paid order (all that are left when none are named),
/// less a fee: their seats go back on sale and the refund goes to financial.
pub async fn refund(state: &AppState, ctx: &AccessContext, id: Uuid, input: RefundIn) -> Result<Order, Error> {
    let now = state.clock.now();
    let company = ctx.company_id;
    let txn = state.db.begin().await?;
    let mut order = repo::order(&txn, company, id).await?.ok_or(Error::NotFound("order"))?;
    if order.status != OrderStatus::Paid {
        return Err(Error::NotPaid(format!("a {} order has nothing to refund", order.status.as_str())));
    }
    let chosen = match &input.ticket_ids {
        None => order.tickets.iter().filter(|t| t.status == TicketStatus::Valid).map(|t| t.id).collect(),
        Some(ids) => {
            for ticket in ids {
                match order.tickets.iter().find(|t| t.id == *ticket) {
                    None => return Err(Error::field("ticketIds", format!("ticket {ticket} is not in this order"))),
                    Some(t) if t.status == TicketStatus::Refunded => {
                        return Err(Error::AlreadyRefunded(format!("ticket {ticket} is already refunded")));
                    }
                    Some(_) => {}
                }
            }
            ids.clone()
        }
    };
    let before = order.status;
    refund_in(&txn, ctx, &mut order, &chosen, input.fee_minor, now).await?;
    change(&txn, company, ctx.user_id, &order, "refunded", before, now).await?;
    txn.commit().await?;
    state.outbox.wake();
    offer_to_waitlist(state, company, order.event_id).await;
    reread(state, company, id).await
}

async fn refund_in(
    db: &impl ConnectionTrait,
    ctx: &AccessContext,
    order: &mut Order,
    tickets: &[Uuid],
    fee: i64,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let company = ctx.company_id;
    let chosen: Vec<&Ticket> = order.tickets.iter().filter(|t| tickets.contains(&t.id)).collect();
    let amount: i64 = chosen.iter().map(|t| t.price_minor).sum();
    if fee > amount {
        return Err(Error::field("feeMinor", format!("must not exceed the refund's {amount} minor units")));
    }
    let mut wants: Wants = BTreeMap::new();
    for t in &chosen {
        *wants.entry(t.ticket_type_id).or_insert(0) += 1;
    }
    let count = u32::try_from(chosen.len()).unwrap_or(u32::MAX);
    if count == 0 {
        return Err(Error::AlreadyRefunded("every ticket of this order is already refunded".to_owned()));
    }
    if repo::refund_tickets(db, order.id, tickets, now).await? != u64::from(count) {
        return Err(Error::ChangedMeanwhile("order"));
    }
    seats::give_back(db, company, &wants, Bucket::Sold).await?;
    let left = order.tickets.iter().filter(|t| t.status == TicketStatus::Valid).count() - chosen.len();
    let refund_id = Uuid::now_v7();
    repo::record_refund(db, company, order.id, (refund_id, amount - fee, fee, count), left == 0, ctx.user_id, now)
        .await?;
    if amount - fee > 0 {
        let fact = Fact::OrderPayment {
            event_id: order.event_id,
            order_id: order.id,
            refund: true,
            amount_minor: amount - fee,
            currency: order.currency.clone(),
            quantity: count,
            at: now,
        };
        outbox::enqueue(db, company, format!("order:{}:refund:{refund_id}", order.id), &fact, now).await?;
    }
    ticketing::service::reopen_if_room(db, company, order.event_id, now).await?;
    order.refunded_minor += amount - fee;
    if left == 0 {
        order.status = OrderStatus::Refunded;
    }
    Ok(())
}
