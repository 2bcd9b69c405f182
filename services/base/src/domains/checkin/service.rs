//! Check-in lists and scans. A scan is answered once per nonce: a retry gets
//! `duplicate` with the first answer, and never counts twice. A ticket is let
//! in by one conditional update, so two gates scanning it at once admit it
//! once. A batch of offline scans is applied in the order they were made
//! (scan time, then gate, then nonce), so the same ticket scanned at two
//! gates is resolved the same way however the batch is ordered.

use marquee_guard::AccessContext;
use sea_orm::{ConnectionTrait, TransactionTrait};
use uuid::Uuid;

use super::keys;
use super::model::{CheckinList, CheckinListIn, Direction, ScanIn, ScanOut, ScanResult};
use super::repo::{self, ScanRecord};
use crate::domains::activity::{self, Change};
use crate::domains::events::repo as events;
use crate::domains::orders::model::TicketStatus;
use crate::domains::orders::repo as orders;
use crate::domains::ticketing::repo as ticket_types;
use crate::domains::webhooks;
use crate::error::Error;
use crate::state::AppState;

pub async fn create_list(
    state: &AppState,
    ctx: &AccessContext,
    event: Uuid,
    input: CheckinListIn,
) -> Result<CheckinList, Error> {
    let company = ctx.company_id;
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    events::find(&txn, company, event).await?.ok_or(Error::NotFound("event"))?;
    let types = ticket_types::ticket_types(&txn, company, event).await?;
    for id in &input.ticket_type_ids {
        if !types.iter().any(|t| t.id == *id) {
            return Err(Error::field("ticketTypeIds", format!("{id} is not a ticket type of this event")));
        }
    }
    let list = CheckinList {
        id: Uuid::now_v7(),
        event_id: event,
        name: input.name.trim().to_owned(),
        ticket_type_ids: input.ticket_type_ids,
        allow_reentry: input.allow_reentry,
        created_at: now,
    };
    repo::insert_list(&txn, company, &list, ctx.user_id).await?;
    activity::record(&txn, ctx, Change::created(now, "checkin_list", list.id, &list)).await?;
    txn.commit().await?;
    Ok(list)
}

pub async fn lists(state: &AppState, ctx: &AccessContext, event: Uuid) -> Result<Vec<CheckinList>, Error> {
    events::find(&state.db, ctx.company_id, event).await?.ok_or(Error::NotFound("event"))?;
    Ok(repo::lists(&state.db, ctx.company_id, event).await?)
}

fn answer(nonce: &str, result: ScanResult) -> ScanOut {
    ScanOut {
        nonce: nonce.to_owned(),
        result,
        original: None,
        ticket_id: None,
        ticket_type_id: None,
        attendee_name: None,
    }
}

/// Decides a scan in the caller's transaction, without recording it.
async fn decide(
    db: &impl ConnectionTrait,
    company: Uuid,
    list: &CheckinList,
    scan: &ScanIn,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<ScanOut, Error> {
    let mut out = answer(&scan.nonce, ScanResult::Unknown);
    let Some(claims) = keys::verify(db, company, scan.ticket.trim()).await? else { return Ok(out) };
    let on_list = list.ticket_type_ids.is_empty() || list.ticket_type_ids.contains(&claims.y);
    if claims.e != list.event_id || !on_list {
        return Ok(out);
    }
    let Some(ticket) = orders::ticket(db, company, claims.t).await? else { return Ok(out) };
    out.ticket_id = Some(ticket.id);
    out.ticket_type_id = Some(ticket.ticket_type_id);
    out.attendee_name = ticket.attendee_name.clone();
    out.result = match (ticket.status, scan.direction) {
        (TicketStatus::Refunded, _) => ScanResult::Refunded,
        (TicketStatus::Valid, Direction::In) => {
            if repo::admit(db, list.id, ticket.id, list.allow_reentry, now).await? {
                ScanResult::Accepted
            } else {
                ScanResult::AlreadyInside
            }
        }
        (TicketStatus::Valid, Direction::Out) => {
            if repo::release(db, list.id, ticket.id, now).await? {
                ScanResult::Accepted
            } else {
                ScanResult::NotInside
            }
        }
    };
    Ok(out)
}

async fn duplicate(db: &impl ConnectionTrait, list: Uuid, nonce: &str) -> Result<Option<ScanOut>, Error> {
    Ok(repo::scan_by_nonce(db, list, nonce).await?.map(|(original, ticket)| ScanOut {
        original: Some(original),
        ticket_id: ticket,
        ..answer(nonce, ScanResult::Duplicate)
    }))
}

/// One scan, in its own transaction. A nonce recorded meanwhile by a retry
/// racing this one makes this one the duplicate.
async fn scan_one(state: &AppState, company: Uuid, list: &CheckinList, scan: &ScanIn) -> Result<ScanOut, Error> {
    let nonce = scan.nonce.trim();
    if let Some(seen) = duplicate(&state.db, list.id, nonce).await? {
        return Ok(seen);
    }
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    let out = decide(&txn, company, list, scan, now).await?;
    let record = ScanRecord {
        company,
        list: list.id,
        nonce,
        ticket: out.ticket_id,
        direction: scan.direction,
        scanned_at: scan.scanned_at,
        gate: scan.gate.trim(),
        result: out.result,
        at: now,
    };
    let admitted = (out.result == ScanResult::Accepted && scan.direction == Direction::In)
        .then(|| serde_json::json!({"ticketId": out.ticket_id, "ticketTypeId": out.ticket_type_id, "checkinListId": list.id, "eventId": list.event_id, "gate": scan.gate.trim(), "scannedAt": scan.scanned_at}));
    let recorded = match repo::insert_scan(&txn, record).await {
        Ok(()) => match admitted {
            Some(data) => match webhooks::enqueue(&txn, company, "ticket.checked_in", &data, now).await {
                Ok(()) => txn.commit().await,
                Err(e) => Err(e),
            },
            None => txn.commit().await,
        },
        Err(e) => {
            drop(txn);
            Err(e)
        }
    };
    if let Err(e) = recorded {
        return match duplicate(&state.db, list.id, nonce).await? {
            Some(seen) => Ok(seen),
            None => Err(e.into()),
        };
    }
    Ok(out)
}

async fn list_of(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<CheckinList, Error> {
    repo::list(&state.db, ctx.company_id, id).await?.ok_or(Error::NotFound("check-in list"))
}

pub async fn scan(state: &AppState, ctx: &AccessContext, list: Uuid, input: ScanIn) -> Result<ScanOut, Error> {
    let list = list_of(state, ctx, list).await?;
    scan_one(state, ctx.company_id, &list, &input).await
}

/// Scans made offline, answered in the order given, applied in the order
/// they were made.
pub async fn batch(
    state: &AppState,
    ctx: &AccessContext,
    list: Uuid,
    scans: Vec<ScanIn>,
) -> Result<Vec<ScanOut>, Error> {
    let list = list_of(state, ctx, list).await?;
    let mut order: Vec<usize> = (0..scans.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&scans[a], &scans[b]);
        (a.scanned_at, a.gate.trim(), a.nonce.trim()).cmp(&(b.scanned_at, b.gate.trim(), b.nonce.trim()))
    });
    let mut answers: Vec<Option<ScanOut>> = vec![None; scans.len()];
    for n in order {
        answers[n] = Some(scan_one(state, ctx.company_id, &list, &scans[n]).await?);
    }
    Ok(answers.into_iter().flatten().collect())
}
