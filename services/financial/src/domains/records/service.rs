//! The rules of expense and income records, and the facts base reports.

use marquee_guard::AccessContext;
use sea_orm::{DatabaseTransaction, TransactionTrait};
use uuid::Uuid;

use super::model::{DecisionIn, Kind, Record, RecordFilter, RecordIn, Status, SubmitIn, Transition};
use super::repo;
use crate::domains::ledger::model::{Direction, EntryIn, Kind as AccountKind, PostingIn};
use crate::domains::ledger::service::{Poster, post_within, system_account};
use crate::error::Error;
use crate::state::AppState;

/// A system account: its name (the code is `{name}:{CURRENCY}`) and kind.
type SystemAccount = (&'static str, AccountKind);

/// The ledger movement of a record reaching `status`: (debit, credit) system accounts.
fn movement(kind: Kind, status: Status, category: &str) -> Option<(SystemAccount, SystemAccount)> {
    let cash = ("cash", AccountKind::Asset);
    match (kind, status) {
        (Kind::Expense, Status::Approved) => {
            Some((("expenses", AccountKind::Expense), ("payables", AccountKind::Liability)))
        }
        (Kind::Expense, Status::Paid) if category == "ticket_refund" => Some((("income", AccountKind::Income), cash)),
        (Kind::Expense, Status::Paid) => Some((("payables", AccountKind::Liability), cash)),
        (Kind::Income, Status::Approved) => {
            Some((("receivables", AccountKind::Asset), ("income", AccountKind::Income)))
        }
        (Kind::Income, Status::Paid) if category == "ticket_sale" => Some((cash, ("income", AccountKind::Income))),
        (Kind::Income, Status::Paid) => Some((cash, ("receivables", AccountKind::Asset))),
        _ => None,
    }
}

/// Posts the record's movement for its new status, in `txn`.
async fn post_movement(
    state: &AppState,
    txn: &DatabaseTransaction,
    poster: Poster,
    record: &mut Record,
) -> Result<(), Error> {
    let Some(((debit, debit_kind), (credit, credit_kind))) = movement(record.kind, record.status, &record.category)
    else {
        return Ok(());
    };
    let now = state.clock.now();
    let d = system_account(txn, poster.company_id, debit, debit_kind, &record.currency, now).await?;
    let c = system_account(txn, poster.company_id, credit, credit_kind, &record.currency, now).await?;
    let entry = EntryIn {
        description: format!(
            "{} {} ({}): {}",
            record.kind.noun(),
            record.status.as_str(),
            record.category,
            record.counterparty
        ),
        effective_date: now.date_naive(),
        reference: Some(format!("{}:{}", record.kind.noun(), record.id)),
        idempotency_key: None,
        postings: vec![
            PostingIn {
                account_id: d.id,
                direction: Direction::Debit,
                amount: record.amount,
                currency: record.currency.clone(),
            },
            PostingIn {
                account_id: c.id,
                direction: Direction::Credit,
                amount: record.amount,
                currency: record.currency.clone(),
            },
        ],
    };
    let posted = post_within(state, poster, txn, entry).await?;
    record.entry_ids.push(posted.id);
    Ok(())
}

pub async fn create(state: &AppState, ctx: &AccessContext, kind: Kind, input: RecordIn) -> Result<Record, Error> {
    let now = state.clock.now();
    let record = Record {
        id: Uuid::now_v7(),
        kind,
        amount: input.amount,
        currency: input.currency,
        category: input.category.trim().to_owned(),
        counterparty: input.counterparty.trim().to_owned(),
        event_id: input.event_id,
        receipt_ref: input.receipt_ref,
        description: input.description,
        status: Status::Draft,
        reviewer_id: None,
        source_id: None,
        entry_ids: Vec::new(),
        created_by: ctx.user_id,
        created_at: now,
        updated_at: now,
    };
    let txn = state.db.begin().await?;
    repo::insert(&txn, ctx.company_id, &record).await?;
    repo::insert_transition(
        &txn,
        ctx.company_id,
        record.id,
        &Transition { from_status: None, to_status: Status::Draft, actor_id: ctx.user_id, note: None, at: now },
    )
    .await?;
    txn.commit().await?;
    Ok(record)
}

pub async fn get(
    state: &AppState,
    ctx: &AccessContext,
    kind: Kind,
    id: Uuid,
) -> Result<(Record, Vec<Transition>), Error> {
    let record = repo::find(&state.db, ctx.company_id, kind, id).await?.ok_or(Error::NotFound(kind.noun()))?;
    let history = repo::transitions(&state.db, ctx.company_id, id).await?;
    Ok((record, history))
}

pub async fn list(
    state: &AppState,
    ctx: &AccessContext,
    kind: Kind,
    filter: &RecordFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Record>, u64), Error> {
    Ok(repo::list(&state.db, ctx.company_id, kind, filter, offset, limit).await?)
}

/// Drafts may be edited; anything later is history.
pub async fn update(
    state: &AppState,
    ctx: &AccessContext,
    kind: Kind,
    id: Uuid,
    input: RecordIn,
) -> Result<Record, Error> {
    let (mut record, _) = get(state, ctx, kind, id).await?;
    if record.status != Status::Draft {
        return Err(Error::Conflict(
            "NOT_A_DRAFT",
            format!("a {} {} cannot be edited", record.status.as_str(), kind.noun()),
        ));
    }
    record.amount = input.amount;
    record.currency = input.currency;
    record.category = input.category.trim().to_owned();
    record.counterparty = input.counterparty.trim().to_owned();
    record.event_id = input.event_id;
    record.receipt_ref = input.receipt_ref;
    record.description = input.description;
    record.updated_at = state.clock.now();
    if !repo::update_if(&state.db, ctx.company_id, &record, Status::Draft).await? {
        return Err(Error::Conflict("CONCURRENT_CHANGE", "the record changed meanwhile".to_owned()));
    }
    Ok(record)
}

/// Moves a record from `from` to `to`, recording who and posting the movement.
async fn advance(
    state: &AppState,
    ctx: &AccessContext,
    mut record: Record,
    from: Status,
    to: Status,
    note: Option<String>,
) -> Result<Record, Error> {
    if record.status != from {
        return Err(Error::Conflict(
            "INVALID_TRANSITION",
            format!("a {} {} cannot become {}", record.status.as_str(), record.kind.noun(), to.as_str()),
        ));
    }
    let now = state.clock.now();
    record.status = to;
    record.updated_at = now;
    let txn = state.db.begin().await?;
    post_movement(state, &txn, Poster::from(ctx), &mut record).await?;
    if !repo::update_if(&txn, ctx.company_id, &record, from).await? {
        return Err(Error::Conflict("CONCURRENT_CHANGE", "the record changed meanwhile".to_owned()));
    }
    repo::insert_transition(
        &txn,
        ctx.company_id,
        record.id,
        &Transition { from_status: Some(from), to_status: to, actor_id: ctx.user_id, note, at: now },
    )
    .await?;
    txn.commit().await?;
    Ok(record)
}

pub async fn submit(
    state: &AppState,
    ctx: &AccessContext,
    kind: Kind,
    id: Uuid,
    input: SubmitIn,
) -> Result<Record, Error> {
    let (mut record, _) = get(state, ctx, kind, id).await?;
    if input.reviewer_id == record.created_by {
        return Err(Error::field("reviewerId", "the reviewer must be someone other than the author"));
    }
    let members = state.guard.active_members(ctx.company_id, &[input.reviewer_id]).await.map_err(Error::Upstream)?;
    if !members.contains(&input.reviewer_id) {
        return Err(Error::field("reviewerId", "is not an active member of this company"));
    }
    record.reviewer_id = Some(input.reviewer_id);
    advance(state, ctx, record, Status::Draft, Status::Submitted, None).await
}

/// Only the assigned reviewer decides, and never on their own record.
pub async fn decide(
    state: &AppState,
    ctx: &AccessContext,
    kind: Kind,
    id: Uuid,
    approve: bool,
    input: DecisionIn,
) -> Result<Record, Error> {
    let (record, _) = get(state, ctx, kind, id).await?;
    if record.created_by == ctx.user_id {
        return Err(Error::Forbidden("SELF_APPROVAL", "nobody approves their own records".to_owned()));
    }
    if record.reviewer_id.is_some_and(|r| r != ctx.user_id) {
        return Err(Error::Forbidden("NOT_THE_REVIEWER", "only the assigned reviewer decides".to_owned()));
    }
    let to = if approve { Status::Approved } else { Status::Rejected };
    advance(state, ctx, record, Status::Submitted, to, input.note).await
}

pub async fn pay(state: &AppState, ctx: &AccessContext, kind: Kind, id: Uuid) -> Result<Record, Error> {
    let (record, _) = get(state, ctx, kind, id).await?;
    advance(state, ctx, record, Status::Approved, Status::Paid, None).await
}

/// A fact from base, recorded once per `source_id`: answers the record and
/// whether this was a replay.
pub struct Fact {
    pub company_id: Uuid,
    pub source_id: String,
    pub kind: Kind,
    pub status: Status,
    pub amount: i64,
    pub currency: String,
    pub category: &'static str,
    pub counterparty: String,
    pub event_id: Option<Uuid>,
    pub description: String,
}

pub async fn record_fact(state: &AppState, fact: Fact) -> Result<(Record, bool), Error> {
    if let Some(existing) = repo::by_source(&state.db, fact.company_id, &fact.source_id).await? {
        return Ok((existing, true));
    }
    let now = state.clock.now();
    let poster = Poster { company_id: fact.company_id, user_id: Uuid::nil() };
    let mut record = Record {
        id: Uuid::now_v7(),
        kind: fact.kind,
        amount: fact.amount,
        currency: fact.currency,
        category: fact.category.to_owned(),
        counterparty: fact.counterparty,
        event_id: fact.event_id,
        receipt_ref: None,
        description: fact.description,
        status: fact.status,
        reviewer_id: None,
        source_id: Some(fact.source_id.clone()),
        entry_ids: Vec::new(),
        created_by: Uuid::nil(),
        created_at: now,
        updated_at: now,
    };
    let txn = state.db.begin().await?;
    post_movement(state, &txn, poster, &mut record).await?;
    match repo::insert(&txn, fact.company_id, &record).await.map_err(Error::from) {
        // The same fact arrived twice at once: the other one recorded it.
        Err(Error::Db(marquee_db::DbError::Conflict { .. })) => {
            drop(txn);
            let existing =
                repo::by_source(&state.db, fact.company_id, &fact.source_id).await?.ok_or(Error::NotFound("record"))?;
            return Ok((existing, true));
        }
        other => other?,
    }
    let t = Transition {
        from_status: None,
        to_status: record.status,
        actor_id: Uuid::nil(),
        note: Some(format!("fact {}", fact.source_id)),
        at: now,
    };
    repo::insert_transition(&txn, fact.company_id, record.id, &t).await?;
    txn.commit().await?;
    Ok((record, false))
}
