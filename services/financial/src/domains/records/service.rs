//! The rules of expense and income records, and the facts base reports.

use std::collections::{BTreeMap, HashMap};

use marquee_db::{BatchFailed, Batching, GroupCommit};
use marquee_guard::AccessContext;
use marquee_kit::Clock;
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use serde::Serialize;
use uuid::Uuid;

use super::model::{
    Change, DecisionIn, Edit, Kind, ParkedFact, Record, RecordFilter, RecordIn, Status, SubmitIn, SystemCategory,
    Transition,
};
use super::repo;
use crate::domains::ledger::model::{Account, Direction, EntryIn, PostingIn, System};
use crate::domains::ledger::service::{GroupEntry, Poster, post_group_within, post_within, system_account};
use crate::error::Error;
use crate::state::AppState;

/// The ledger movement of a record reaching `status`: (debit, credit) system accounts.
fn movement(kind: Kind, status: Status, category: &str) -> Option<(System, System)> {
    // Ticket money moves at once: it never was a payable or a receivable.
    let category = SystemCategory::of(category);
    match (kind, status) {
        (Kind::Expense, Status::Approved) => Some((System::Expenses, System::Payables)),
        (Kind::Expense, Status::Paid) if category == Some(SystemCategory::TicketRefund) => {
            Some((System::Income, System::Cash))
        }
        (Kind::Expense, Status::Paid) => Some((System::Payables, System::Cash)),
        (Kind::Income, Status::Approved) => Some((System::Receivables, System::Income)),
        (Kind::Income, Status::Paid) if category == Some(SystemCategory::TicketSale) => {
            Some((System::Cash, System::Income))
        }
        (Kind::Income, Status::Paid) => Some((System::Cash, System::Receivables)),
        _ => None,
    }
}

/// Posts the record's movement for its new status, in `txn`.
async fn post_movement(
    clock: &Clock,
    txn: &DatabaseTransaction,
    poster: Poster,
    record: &mut Record,
) -> Result<(), Error> {
    let Some((debit, credit)) = movement(record.kind, record.status, &record.category) else {
        return Ok(());
    };
    let now = clock.now();
    let d = system_account(txn, poster.company_id, debit, &record.currency, now).await?;
    let c = system_account(txn, poster.company_id, credit, &record.currency, now).await?;
    let entry = movement_entry(record, &d, &c, now);
    let posted = post_within(clock, poster, txn, entry).await?;
    record.entry_ids.push(posted.id);
    Ok(())
}

/// The entry moving a record's amount from `credit` to `debit`.
fn movement_entry(record: &Record, debit: &Account, credit: &Account, now: chrono::DateTime<chrono::Utc>) -> EntryIn {
    let (d, c) = (debit, credit);
    EntryIn {
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
    }
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
        quantity: 0,
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

async fn find(state: &AppState, ctx: &AccessContext, kind: Kind, id: Uuid) -> Result<Record, Error> {
    repo::find(&state.reads, ctx.company_id, kind, id).await?.ok_or(Error::NotFound(kind.noun()))
}

/// A record with its status history and the edits of its draft.
pub async fn get(
    state: &AppState,
    ctx: &AccessContext,
    kind: Kind,
    id: Uuid,
) -> Result<(Record, Vec<Transition>, Vec<Edit>), Error> {
    let record = find(state, ctx, kind, id).await?;
    let history = repo::transitions(&state.reads, ctx.company_id, id).await?;
    let edits = repo::edits(&state.reads, ctx.company_id, id).await?;
    Ok((record, history, edits))
}

pub async fn list(
    state: &AppState,
    ctx: &AccessContext,
    kind: Kind,
    filter: &RecordFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Record>, u64), Error> {
    Ok(repo::list(&state.reads, ctx.company_id, kind, filter, offset, limit).await?)
}

fn author_only(record: &Record, ctx: &AccessContext, what: &str) -> Result<(), Error> {
    if record.created_by != ctx.user_id {
        return Err(Error::NotTheAuthor(format!("only the author of a draft {} {what} it", record.kind.noun())));
    }
    Ok(())
}

fn change<T: Serialize + PartialEq>(changes: &mut BTreeMap<String, Change>, field: &str, before: &T, after: &T) {
    if before != after {
        let json = |v: &T| serde_json::to_value(v).unwrap_or(serde_json::Value::Null);
        changes.insert(field.to_owned(), Change { before: json(before), after: json(after) });
    }
}

/// Drafts may be edited, by their author only; anything later is history.
/// Every edit is kept: who, when, each changed field before and after.
pub async fn update(
    state: &AppState,
    ctx: &AccessContext,
    kind: Kind,
    id: Uuid,
    input: RecordIn,
) -> Result<Record, Error> {
    let before = find(state, ctx, kind, id).await?;
    if before.status != Status::Draft {
        return Err(Error::NotADraft(format!("a {} {} cannot be edited", before.status.as_str(), kind.noun())));
    }
    author_only(&before, ctx, "edits")?;
    let mut record = before.clone();
    record.amount = input.amount;
    record.currency = input.currency;
    record.category = input.category.trim().to_owned();
    record.counterparty = input.counterparty.trim().to_owned();
    record.event_id = input.event_id;
    record.receipt_ref = input.receipt_ref;
    record.description = input.description;
    let mut changes = BTreeMap::new();
    change(&mut changes, "amount", &before.amount, &record.amount);
    change(&mut changes, "currency", &before.currency, &record.currency);
    change(&mut changes, "category", &before.category, &record.category);
    change(&mut changes, "counterparty", &before.counterparty, &record.counterparty);
    change(&mut changes, "eventId", &before.event_id, &record.event_id);
    change(&mut changes, "receiptRef", &before.receipt_ref, &record.receipt_ref);
    change(&mut changes, "description", &before.description, &record.description);
    if changes.is_empty() {
        return Ok(before);
    }
    let now = state.clock.now();
    record.updated_at = now;
    let txn = state.db.begin().await?;
    if !repo::update_if(&txn, ctx.company_id, &record, Status::Draft).await? {
        return Err(Error::ConcurrentChange("the record changed meanwhile".to_owned()));
    }
    repo::insert_edit(&txn, ctx.company_id, id, &Edit { actor_id: ctx.user_id, at: now, changes }).await?;
    txn.commit().await?;
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
        return Err(Error::InvalidTransition(format!(
            "a {} {} cannot become {}",
            record.status.as_str(),
            record.kind.noun(),
            to.as_str()
        )));
    }
    let now = state.clock.now();
    record.status = to;
    record.updated_at = now;
    let txn = state.db.begin().await?;
    post_movement(&state.clock, &txn, Poster::from(ctx), &mut record).await?;
    if !repo::update_if(&txn, ctx.company_id, &record, from).await? {
        return Err(Error::ConcurrentChange("the record changed meanwhile".to_owned()));
    }
    repo::insert_transition(
        &txn,
        ctx.company_id,
        record.id,
        &Transition { from_status: Some(from), to_status: to, actor_id: ctx.user_id, note, at: now },
    )
    .await?;
    if to == Status::Approved && record.kind == Kind::Expense {
        marquee_webhooks::feed::record(&txn, ctx.company_id, "expense.approved", &record, now).await?;
    }
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
    let mut record = find(state, ctx, kind, id).await?;
    if record.status == Status::Draft {
        author_only(&record, ctx, "submits")?;
    }
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
    let record = find(state, ctx, kind, id).await?;
    if record.created_by == ctx.user_id {
        return Err(Error::SelfApproval("nobody approves their own records".to_owned()));
    }
    if record.reviewer_id.is_some_and(|r| r != ctx.user_id) {
        return Err(Error::NotTheReviewer("only the assigned reviewer decides".to_owned()));
    }
    let to = if approve { Status::Approved } else { Status::Rejected };
    advance(state, ctx, record, Status::Submitted, to, input.note).await
}

/// Payment is made by someone other than the record's author.
pub async fn pay(state: &AppState, ctx: &AccessContext, kind: Kind, id: Uuid) -> Result<Record, Error> {
    let record = find(state, ctx, kind, id).await?;
    // (Only an approved record is payable; anything else is refused as such below.)
    if record.status == Status::Approved && record.created_by == ctx.user_id {
        return Err(Error::SelfPayment("nobody pays their own records".to_owned()));
    }
    advance(state, ctx, record, Status::Approved, Status::Paid, None).await
}

/// A fact from base, recorded once per `source_id`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fact {
    pub company_id: Uuid,
    pub source_id: String,
    /// What base calls it (`offer_accepted`, `ticket_sale`, `ticket_refund`).
    pub name: &'static str,
    pub kind: Kind,
    pub status: Status,
    /// The member whose action produced the fact (nil for the system's own).
    pub author: Uuid,
    pub amount: i64,
    pub currency: String,
    pub category: SystemCategory,
    pub counterparty: String,
    pub event_id: Option<Uuid>,
    pub description: String,
    /// Tickets, for ticket money; 0 otherwise.
    pub quantity: u32,
}

/// What became of a fact.
pub enum Outcome {
    /// Recorded now, or earlier (a replay).
    Recorded { record: Record, replayed: bool },
    /// Refused for a reason retrying will not cure: kept visible for the
    /// company, and acknowledged so base stops sending it.
    Parked(ParkedFact),
}

/// Records a fact; a business refusal parks it. Only a failure that may pass
/// (the database unreachable) is an error, so base's outbox retries it.
pub async fn receive_fact(state: &AppState, fact: Fact) -> Result<Outcome, Error> {
    let written = state.facts.submit(fact.clone()).await.unwrap_or_else(|| {
        Err(Error::Db(marquee_db::DbError::Unavailable("the fact's group commit failed".to_owned())))
    });
    let refusal = match written {
        Ok((record, replayed)) => return Ok(Outcome::Recorded { record, replayed }),
        Err(e) if e.is_refusal() => marquee_kit::ApiError::from(e),
        Err(e) => return Err(e),
    };
    let mut message = refusal.message.clone();
    if refusal.details.len() > 1 {
        let details: Vec<String> = refusal.details.iter().map(|d| format!("{}: {}", d.field, d.issue)).collect();
        message = details.join("; ");
    }
    tracing::warn!(source_id = %fact.source_id, code = refusal.code, %message, "fact parked");
    let parking = repo::Parking {
        source_id: &fact.source_id,
        kind: fact.name,
        payload: serde_json::to_value(&fact).unwrap_or(serde_json::Value::Null),
        error_code: refusal.code,
        error_message: message,
    };
    Ok(Outcome::Parked(repo::park(&state.db, fact.company_id, parking, state.clock.now()).await?))
}

/// The queue facts go through (see [`marquee_db::GroupCommit`]): a sale
/// arrives for every ticket sold, and the facts waiting together are
/// recorded in one transaction.
pub type FactWriter = GroupCommit<Fact, Result<(Record, bool), Error>>;

/// Facts recorded together at most (base's relay sends 64 at once).
const FACT_BATCH: usize = 64;

/// One batch in flight: a company's facts post to the same few system
/// accounts, so a second batch would wait on the first one's row locks.
pub fn fact_writer(db: DatabaseConnection, clock: Clock) -> FactWriter {
    GroupCommit::start("facts", Batching::new(FACT_BATCH, 1), move |facts| {
        let (db, clock) = (db.clone(), clock.clone());
        async move { record_facts(&db, &clock, facts).await }
    })
}

async fn record_facts(db: &DatabaseConnection, clock: &Clock, facts: Vec<Fact>) -> Vec<Result<(Record, bool), Error>> {
    let outcome = try_facts(db, clock, &facts).await;
    marquee_db::settle("facts", facts, outcome, |fact| async move { record_fact(db, clock, &fact).await }).await
}

/// A fact of the batch on its way: its record, and what it moves.
struct Fresh {
    index: usize,
    record: Record,
    accounts: Option<(System, System)>,
    /// Refused here: recorded on its own after the batch.
    alone: bool,
}

/// Records a batch of facts in one transaction: the facts already recorded
/// (or sent twice in the batch) are replays; the others' records, entries,
/// balances and transitions are written with one statement each, their
/// system accounts locked once in id order. A fact the rules refuse (a
/// system account taken, a balance past what it can hold) is recorded alone
/// after the batch, so it fails only itself.
async fn try_facts(
    db: &DatabaseConnection,
    clock: &Clock,
    facts: &[Fact],
) -> Result<Vec<Result<(Record, bool), Error>>, BatchFailed> {
    let now = clock.now();
    let txn = marquee_db::begin_batch(db).await?;
    let sources: Vec<(Uuid, &str)> = facts.iter().map(|f| (f.company_id, f.source_id.as_str())).collect();
    let known: HashMap<(Uuid, String), Record> = repo::by_sources(&txn, &sources)
        .await?
        .into_iter()
        .filter_map(|(company, r)| r.source_id.clone().map(|source| ((company, source), r)))
        .collect();
    let mut answers: Vec<Option<Result<(Record, bool), Error>>> = facts.iter().map(|_| None).collect();
    let mut first_of: HashMap<(Uuid, &str), usize> = HashMap::new();
    let mut again: Vec<(usize, usize)> = Vec::new();
    let mut fresh: Vec<Fresh> = Vec::new();
    for (index, fact) in facts.iter().enumerate() {
        if let Some(existing) = known.get(&(fact.company_id, fact.source_id.clone())) {
            answers[index] = Some(Ok((existing.clone(), true)));
        } else if let Some(&first) = first_of.get(&(fact.company_id, fact.source_id.as_str())) {
            again.push((index, first));
        } else {
            first_of.insert((fact.company_id, fact.source_id.as_str()), index);
            let record = record_of_fact(fact, now);
            let accounts = movement(record.kind, record.status, &record.category);
            fresh.push(Fresh { index, record, accounts, alone: false });
        }
    }
    // The system accounts, made on first use; one that is taken leaves its
    // facts to be recorded alone (and parked) after the batch.
    let mut systems: BTreeMap<(Uuid, System, String), Option<Account>> = BTreeMap::new();
    for f in &fresh {
        let company = facts[f.index].company_id;
        for system in f.accounts.iter().flat_map(|(d, c)| [*d, *c]) {
            let key = (company, system, f.record.currency.clone());
            if systems.contains_key(&key) {
                continue;
            }
            let account = match system_account(&txn, company, system, &f.record.currency, now).await {
                Ok(account) => Some(account),
                Err(e) if e.is_refusal() => None,
                Err(Error::Db(e)) => return Err(e.into()),
                Err(_) => None,
            };
            systems.insert(key, account);
        }
    }
    let account = |f: &Fresh, system: System| {
        systems.get(&(facts[f.index].company_id, system, f.record.currency.clone())).cloned().flatten()
    };
    let mut moving: Vec<(usize, Poster, EntryIn)> = Vec::new();
    for (at, f) in fresh.iter_mut().enumerate() {
        let Some((debit, credit)) = f.accounts else { continue };
        match (account(f, debit), account(f, credit)) {
            (Some(d), Some(c)) => {
                let poster = Poster { company_id: facts[f.index].company_id, user_id: facts[f.index].author };
                moving.push((at, poster, movement_entry(&f.record, &d, &c, now)));
            }
            _ => f.alone = true,
        }
    }
    let group: Vec<GroupEntry<'_>> =
        moving.iter().map(|(_, poster, input)| GroupEntry { poster: *poster, input, hash: None }).collect();
    let posted = post_group_within(&txn, now, &group).await?;
    for ((at, _, _), entry) in moving.iter().zip(posted) {
        match entry {
            Ok(entry) => fresh[*at].record.entry_ids.push(entry.id),
            Err(_) => fresh[*at].alone = true,
        }
    }
    let written: Vec<(Uuid, &Record, Transition)> = fresh
        .iter()
        .filter(|f| !f.alone)
        .map(|f| {
            let fact = &facts[f.index];
            (fact.company_id, &f.record, first_transition(fact, f.record.status, now))
        })
        .collect();
    repo::insert_group(&txn, &written).await?;
    let recorded: Vec<(Uuid, &str)> =
        written.iter().filter_map(|(company, r, _)| r.source_id.as_deref().map(|source| (*company, source))).collect();
    // Parked earlier and recorded now: no longer waiting.
    repo::unpark_many(&txn, &recorded).await?;
    marquee_db::commit_batch("facts", txn).await?;
    for f in fresh.iter().filter(|f| !f.alone) {
        answers[f.index] = Some(Ok((f.record.clone(), false)));
    }
    for (index, first) in again {
        if let Some(Ok((record, _))) = &answers[first] {
            answers[index] = Some(Ok((record.clone(), true)));
        }
    }
    let mut results = Vec::with_capacity(facts.len());
    for (fact, answer) in facts.iter().zip(answers) {
        results.push(match answer {
            Some(answer) => answer,
            None => record_fact(db, clock, fact).await,
        });
    }
    Ok(results)
}

fn record_of_fact(fact: &Fact, now: chrono::DateTime<chrono::Utc>) -> Record {
    Record {
        id: Uuid::now_v7(),
        kind: fact.kind,
        amount: fact.amount,
        currency: fact.currency.clone(),
        category: fact.category.as_str().to_owned(),
        counterparty: fact.counterparty.clone(),
        event_id: fact.event_id,
        receipt_ref: None,
        description: fact.description.clone(),
        status: fact.status,
        reviewer_id: None,
        source_id: Some(fact.source_id.clone()),
        entry_ids: Vec::new(),
        quantity: fact.quantity,
        created_by: fact.author,
        created_at: now,
        updated_at: now,
    }
}

fn first_transition(fact: &Fact, status: Status, now: chrono::DateTime<chrono::Utc>) -> Transition {
    Transition {
        from_status: None,
        to_status: status,
        actor_id: fact.author,
        note: Some(format!("fact {}", fact.source_id)),
        at: now,
    }
}

/// One fact in its own transaction (a batch that a constraint refused, or
/// a fact the rules refuse).
async fn record_fact(db: &DatabaseConnection, clock: &Clock, fact: &Fact) -> Result<(Record, bool), Error> {
    if let Some(existing) = repo::by_source(db, fact.company_id, &fact.source_id).await? {
        return Ok((existing, true));
    }
    let now = clock.now();
    let poster = Poster { company_id: fact.company_id, user_id: fact.author };
    let mut record = record_of_fact(fact, now);
    let txn = db.begin().await?;
    post_movement(clock, &txn, poster, &mut record).await?;
    match repo::insert(&txn, fact.company_id, &record).await.map_err(Error::from) {
        // The same fact arrived twice at once: the other one recorded it.
        Err(Error::Db(marquee_db::DbError::Conflict { .. })) => {
            drop(txn);
            let existing =
                repo::by_source(db, fact.company_id, &fact.source_id).await?.ok_or(Error::NotFound("record"))?;
            return Ok((existing, true));
        }
        other => other?,
    }
    repo::insert_transition(&txn, fact.company_id, record.id, &first_transition(fact, record.status, now)).await?;
    // Parked earlier and recorded now: no longer waiting.
    repo::unpark(&txn, fact.company_id, &fact.source_id).await?;
    txn.commit().await?;
    Ok((record, false))
}

pub async fn parked(
    state: &AppState,
    ctx: &AccessContext,
    offset: u64,
    limit: u64,
) -> Result<(Vec<ParkedFact>, u64), Error> {
    Ok(repo::parked(&state.reads, ctx.company_id, offset, limit).await?)
}
