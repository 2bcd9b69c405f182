//! The rules of the ledger. An entry's postings balance per currency and match
//! their accounts' currencies; every balance moves in the same transaction as
//! the entry, each by one atomic update that holds the account's row lock, in
//! account order (so concurrent entries neither lose updates nor deadlock);
//! a guarded account never goes below zero; a key replays its first entry.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use marquee_db::{BatchFailed, Batching, GroupCommit};
use marquee_guard::AccessContext;
use marquee_kit::{Clock, FieldIssue};
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::model::{
    Account, CurrencyTotals, Entry, EntryIn, NewAccount, Posting, ReverseIn, StatementLine, System, TrialBalance,
    reserved_code,
};
use super::repo;
use crate::error::Error;
use crate::state::AppState;

pub async fn create_account(state: &AppState, ctx: &AccessContext, input: NewAccount) -> Result<Account, Error> {
    if reserved_code(&input.code) {
        return Err(Error::ReservedCode(format!(
            "account codes starting with {} are kept for the ledger's own accounts",
            reserved_prefix(&input.code)
        )));
    }
    let account = Account {
        id: Uuid::now_v7(),
        code: input.code,
        name: input.name.trim().to_owned(),
        kind: input.kind,
        currency: input.currency,
        no_negative: input.no_negative,
        balance: 0,
        created_at: state.clock.now(),
    };
    match repo::insert_account(&state.db, ctx.company_id, &account, ctx.user_id).await.map_err(Error::from) {
        Err(Error::Db(marquee_db::DbError::Conflict { .. })) => {
            Err(Error::AccountCodeTaken(format!("an account with code {} exists", account.code)))
        }
        other => other.map(|()| account),
    }
}

pub async fn account(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<Account, Error> {
    repo::account(&state.reads, ctx.company_id, id).await?.ok_or(Error::NotFound("account"))
}

pub async fn accounts(
    state: &AppState,
    ctx: &AccessContext,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Account>, u64), Error> {
    Ok(repo::accounts(&state.reads, ctx.company_id, offset, limit).await?)
}

fn request_hash(input: &EntryIn) -> String {
    let canonical = serde_json::to_vec(input).unwrap_or_default();
    Sha256::digest(&canonical).iter().map(|b| format!("{b:02x}")).collect()
}

/// Posts an entry, or replays the one recorded under its idempotency key.
/// Answers the entry and whether it is a replay. The key is looked up only
/// when the write is refused (its key taken, or a rule that refuses it now),
/// so a first post pays no extra read and a replay is answered with the
/// original whatever would refuse it today.
pub async fn post(state: &AppState, ctx: &AccessContext, input: EntryIn) -> Result<(Entry, bool), Error> {
    let hash = request_hash(&input);
    let key = input.idempotency_key.clone();
    let job = Pending { poster: Poster::from(ctx), input, hash: hash.clone() };
    let written = state.ledger.submit(job).await.unwrap_or_else(|| {
        Err(Error::Db(marquee_db::DbError::Unavailable("the entry's group commit failed".to_owned())))
    });
    match written {
        Ok(entry) => Ok((entry, false)),
        Err(refused) => match key {
            Some(key) => replay(state, ctx, &key, &hash).await?.map(|e| (e, true)).ok_or(refused),
            None => Err(refused),
        },
    }
}

/// An entry on its way to the group commit.
pub struct Pending {
    poster: Poster,
    input: EntryIn,
    hash: String,
}

/// The queue every posted entry goes through (see [`marquee_db::GroupCommit`]).
pub type Writer = GroupCommit<Pending, Result<Entry, Error>>;

/// Entries committed together at most: enough for every writer a replica
/// serves at once, few enough that a batch stays one short transaction.
const BATCH: usize = 64;

/// Crowded: entries share accounts, and smaller batches mean more commits
/// (measured: on PostgreSQL, four lanes made about 40 % fewer entries per
/// second than one).
pub fn writer(db: DatabaseConnection, clock: Clock) -> Writer {
    GroupCommit::start("ledger_entries", Batching::serial(BATCH, &db), move |jobs| {
        let (db, clock) = (db.clone(), clock.clone());
        async move { write_batch(&db, &clock, jobs).await }
    })
}

/// Writes the waiting entries in one transaction: the accounts they touch
/// are locked once, in id order; each entry is checked on its own against
/// the balances its predecessors in the batch left, and only the accepted
/// ones are written ([`post_group_within`]).
async fn write_batch(db: &DatabaseConnection, clock: &Clock, jobs: Vec<Pending>) -> Vec<Result<Entry, Error>> {
    let outcome = try_batch(db, clock, &jobs).await;
    marquee_db::settle("ledger_entries", jobs, outcome, |job| write_alone(db, clock, job)).await
}

async fn write_alone(db: &DatabaseConnection, clock: &Clock, job: Pending) -> Result<Entry, Error> {
    let txn = db.begin().await?;
    let entry = record(clock, job.poster, &txn, job.input, Some(job.hash), None).await?;
    txn.commit().await?;
    Ok(entry)
}

async fn try_batch(
    db: &DatabaseConnection,
    clock: &Clock,
    jobs: &[Pending],
) -> Result<Vec<Result<Entry, Error>>, BatchFailed> {
    let txn = marquee_db::begin_batch(db).await?;
    let group: Vec<GroupEntry<'_>> =
        jobs.iter().map(|j| GroupEntry { poster: j.poster, input: &j.input, hash: Some(j.hash.clone()) }).collect();
    let answers = post_group_within(&txn, clock.now(), &group).await?;
    marquee_db::commit_batch("ledger_entries", txn).await?;
    Ok(answers)
}

/// One entry of a group written by [`post_group_within`].
pub struct GroupEntry<'a> {
    pub poster: Poster,
    pub input: &'a EntryIn,
    /// The request's hash, kept beside an idempotency key.
    pub hash: Option<String>,
}

/// Writes a group of entries inside `txn`: the accounts they touch are
/// locked once, in id order; each entry is checked on its own against the
/// balances its predecessors in the group left, and only the accepted ones
/// are written with the balances they moved (on PostgreSQL in one statement,
/// [`repo::write_group`]). Each entry gets its own answer; only a database
/// failure fails the group.
pub async fn post_group_within(
    txn: &DatabaseTransaction,
    now: chrono::DateTime<chrono::Utc>,
    group: &[GroupEntry<'_>],
) -> Result<Vec<Result<Entry, Error>>, sea_orm::DbErr> {
    let named: BTreeSet<(Uuid, Uuid)> =
        group.iter().flat_map(|g| g.input.postings.iter().map(|p| (g.poster.company_id, p.account_id))).collect();
    let named: Vec<(Uuid, Uuid)> = named.into_iter().collect();
    let mut locked: BTreeMap<Uuid, repo::Locked> =
        repo::lock_accounts(txn, &named).await?.into_iter().map(|l| (l.account.id, l)).collect();
    let keys: Vec<(Uuid, String)> =
        group.iter().filter_map(|g| g.input.idempotency_key.clone().map(|k| (g.poster.company_id, k))).collect();
    let mut taken = repo::taken_keys(txn, &keys).await?;
    let answers: Vec<Result<Entry, Error>> =
        group.iter().map(|g| accept(g.poster, g.input, &mut locked, &mut taken, now)).collect();
    let rows: Vec<(Uuid, &Entry, Option<String>)> = group
        .iter()
        .zip(&answers)
        .filter_map(|(g, answer)| answer.as_ref().ok().map(|e| (g.poster.company_id, e, g.hash.clone())))
        .collect();
    let moved: Vec<(Uuid, i64)> = locked.values().filter(|l| l.moved).map(|l| (l.account.id, l.stored)).collect();
    // Two references checked per posting: not planned again for each. The
    // balances' update goes with the inserts: keyed by one JSON parameter,
    // its plan does not depend on the values.
    marquee_db::plan_as_usual(txn).await?;
    repo::write_group(txn, &moved, &rows).await?;
    Ok(answers)
}

/// Checks one entry of a batch against the balances as the batch left them
/// so far, and moves them when it is accepted.
fn accept(
    poster: Poster,
    input: &EntryIn,
    locked: &mut BTreeMap<Uuid, repo::Locked>,
    taken: &mut HashSet<(Uuid, String)>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Entry, Error> {
    let company = poster.company_id;
    if let Some(key) = &input.idempotency_key
        && taken.contains(&(company, key.clone()))
    {
        // As a refused insert would be: `post` answers the original.
        return Err(Error::Db(marquee_db::DbError::Conflict {
            constraint: "journal_entries_idempotency_key".to_owned(),
        }));
    }
    let deltas = movements(input, |id| locked.get(id).filter(|l| l.company_id == company).map(|l| &l.account))?;
    let mut after = Vec::with_capacity(deltas.len());
    for (id, delta) in &deltas {
        let Some(l) = locked.get(id) else { continue };
        let stored = l.stored.checked_add(*delta).ok_or_else(|| Error::field("postings", "amounts are too large"))?;
        if !allows(&l.account, stored) {
            return Err(Error::InsufficientFunds(format!("account {} may not go below zero", l.account.code)));
        }
        after.push((*id, stored));
    }
    for (id, stored) in after {
        if let Some(l) = locked.get_mut(&id) {
            l.stored = stored;
            l.moved = true;
        }
    }
    if let Some(key) = &input.idempotency_key {
        taken.insert((company, key.clone()));
    }
    Ok(entry_of(poster, input.clone(), None, now))
}

/// Whether an account may hold this (stored, debit-positive) balance: a
/// guarded one never goes below zero on its natural side. The same rule as
/// [`repo::apply`]'s condition, for balances moved in memory.
fn allows(account: &Account, stored: i64) -> bool {
    !account.no_negative || if account.kind.debit_normal() { stored >= 0 } else { stored <= 0 }
}

async fn replay(state: &AppState, ctx: &AccessContext, key: &str, hash: &str) -> Result<Option<Entry>, Error> {
    match repo::by_idempotency_key(&state.db, ctx.company_id, key).await? {
        None => Ok(None),
        Some((entry, stored)) if stored.as_deref() == Some(hash) => Ok(Some(entry)),
        Some(_) => Err(Error::IdempotencyKeyReused("this idempotency key was used for a different entry".to_owned())),
    }
}

/// Who posts, in which company.
#[derive(Debug, Clone, Copy)]
pub struct Poster {
    pub company_id: Uuid,
    pub user_id: Uuid,
}

impl From<&AccessContext> for Poster {
    fn from(ctx: &AccessContext) -> Self {
        Self { company_id: ctx.company_id, user_id: ctx.user_id }
    }
}

/// Posts an entry inside the caller's transaction (records and facts move
/// money in the same transaction as their own change).
pub async fn post_within(
    clock: &Clock,
    poster: Poster,
    txn: &DatabaseTransaction,
    input: EntryIn,
) -> Result<Entry, Error> {
    record(clock, poster, txn, input, None, None).await
}

fn reserved_prefix(code: &str) -> String {
    code.split_once(':').map_or_else(String::new, |(prefix, _)| format!("'{prefix}:'"))
}

/// The company's system account `{name}:{CURRENCY}`, made on first use. An
/// account under that code that does not fit (another kind, a guard against
/// going negative: made before the family was reserved) is refused, never
/// posted to.
pub async fn system_account(
    txn: &DatabaseTransaction,
    company: Uuid,
    system: System,
    currency: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Account, Error> {
    let code = system.code(currency);
    let found = match repo::account_by_code(txn, company, &code).await? {
        Some(found) => found,
        None => {
            let account = Account {
                id: Uuid::now_v7(),
                code: code.clone(),
                name: system.name().to_owned(),
                kind: system.kind(),
                currency: currency.to_owned(),
                no_negative: false,
                balance: 0,
                created_at: at,
            };
            repo::insert_account_if_absent(txn, company, &account).await?;
            repo::account_by_code(txn, company, &code).await?.ok_or(Error::NotFound("account"))?
        }
    };
    if found.kind != system.kind() || found.currency != currency || found.no_negative {
        return Err(Error::SystemAccountTaken(format!(
            "account {code} is not the ledger's own {} account in {currency}; it was created by hand before the code was reserved",
            system.kind().as_str()
        )));
    }
    Ok(found)
}

/// The net movement of every account an entry posts to (debit-positive), or
/// why the entry does not fit the accounts it names.
fn movements<'a>(
    input: &EntryIn,
    account: impl Fn(&Uuid) -> Option<&'a Account>,
) -> Result<BTreeMap<Uuid, i64>, Error> {
    let mut issues = Vec::new();
    for (i, p) in input.postings.iter().enumerate() {
        match account(&p.account_id) {
            None => issues.push(FieldIssue::new(format!("postings[{i}].accountId"), "no such account in this company")),
            Some(a) if a.currency != p.currency => issues.push(FieldIssue::new(
                format!("postings[{i}].currency"),
                format!("account {} is in {}", a.code, a.currency),
            )),
            Some(_) => {}
        }
    }
    if !issues.is_empty() {
        return Err(Error::Invalid(issues));
    }
    let mut deltas: BTreeMap<Uuid, i64> = BTreeMap::new();
    for p in &input.postings {
        let d = deltas.entry(p.account_id).or_default();
        *d = d.checked_add(p.signed()).ok_or_else(|| Error::field("postings", "amounts are too large"))?;
    }
    deltas.retain(|_, d| *d != 0);
    Ok(deltas)
}

fn entry_of(poster: Poster, input: EntryIn, reverses: Option<Uuid>, now: chrono::DateTime<chrono::Utc>) -> Entry {
    Entry {
        id: Uuid::now_v7(),
        description: input.description.trim().to_owned(),
        effective_date: input.effective_date,
        reference: input.reference,
        idempotency_key: input.idempotency_key,
        reverses_id: reverses,
        reversed_by_id: None,
        postings: input
            .postings
            .into_iter()
            .map(|p| Posting {
                account_id: p.account_id,
                direction: p.direction,
                amount: p.amount,
                currency: p.currency,
            })
            .collect(),
        created_by: poster.user_id,
        created_at: now,
    }
}

/// Checks and writes an entry inside `txn`, moving every balance by one
/// atomic update each, in account order.
async fn record(
    clock: &Clock,
    ctx: Poster,
    txn: &DatabaseTransaction,
    input: EntryIn,
    hash: Option<String>,
    reverses: Option<Uuid>,
) -> Result<Entry, Error> {
    let ids: Vec<Uuid> = input.postings.iter().map(|p| p.account_id).collect();
    let accounts: BTreeMap<Uuid, Account> =
        repo::accounts_by_ids(txn, ctx.company_id, &ids).await?.into_iter().map(|a| (a.id, a)).collect();
    let deltas = movements(&input, |id| accounts.get(id))?;
    for (id, delta) in &deltas {
        let Some(account) = accounts.get(id) else { continue };
        if !repo::apply(txn, ctx.company_id, account, *delta).await? {
            return Err(Error::InsufficientFunds(format!("account {} may not go below zero", account.code)));
        }
    }
    let entry = entry_of(ctx, input, reverses, clock.now());
    repo::insert_entry(txn, ctx.company_id, &entry, hash).await?;
    Ok(entry)
}

pub async fn entry(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<Entry, Error> {
    repo::entry(&state.reads, ctx.company_id, id).await?.ok_or(Error::NotFound("entry"))
}

pub async fn entries(
    state: &AppState,
    ctx: &AccessContext,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Entry>, u64), Error> {
    Ok(repo::entries(&state.reads, ctx.company_id, offset, limit).await?)
}

/// Entries are never changed: a correction is a reversing entry, once.
pub async fn reverse(state: &AppState, ctx: &AccessContext, id: Uuid, input: ReverseIn) -> Result<Entry, Error> {
    let txn = state.db.begin().await?;
    let reversal = reverse_within(state, Poster::from(ctx), &txn, id, input).await?;
    txn.commit().await?;
    Ok(reversal)
}

/// Reverses an entry inside the caller's transaction (a voided settlement
/// takes back what it booked in the same transaction as its own change).
pub async fn reverse_within(
    state: &AppState,
    poster: Poster,
    txn: &DatabaseTransaction,
    id: Uuid,
    input: ReverseIn,
) -> Result<Entry, Error> {
    let original = repo::entry(txn, poster.company_id, id).await?.ok_or(Error::NotFound("entry"))?;
    if original.reverses_id.is_some() {
        return Err(Error::ReversalOfReversal("a reversal is not reversed; post a new entry".to_owned()));
    }
    if original.reversed_by_id.is_some() {
        return Err(Error::AlreadyReversed("the entry was already reversed".to_owned()));
    }
    let postings = original
        .postings
        .iter()
        .map(|p| super::model::PostingIn {
            account_id: p.account_id,
            direction: match p.direction {
                super::model::Direction::Debit => super::model::Direction::Credit,
                super::model::Direction::Credit => super::model::Direction::Debit,
            },
            amount: p.amount,
            currency: p.currency.clone(),
        })
        .collect();
    let input = EntryIn {
        description: input.description.unwrap_or_else(|| format!("Reversal of: {}", original.description)),
        effective_date: input.effective_date.unwrap_or(original.effective_date),
        reference: original.reference.clone(),
        idempotency_key: None,
        postings,
    };
    let reversal = record(&state.clock, poster, txn, input, None, Some(original.id)).await?;
    if !repo::mark_reversed(txn, poster.company_id, original.id, reversal.id).await? {
        return Err(Error::AlreadyReversed("the entry was already reversed".to_owned()));
    }
    Ok(reversal)
}

pub async fn balance_at(
    state: &AppState,
    ctx: &AccessContext,
    id: Uuid,
    at: Option<chrono::NaiveDate>,
) -> Result<serde_json::Value, Error> {
    let account = account(state, ctx, id).await?;
    let (at, balance) = match at {
        None => (None, account.balance),
        Some(at) => (Some(at), account.kind.natural(repo::balance_at(&state.reads, ctx.company_id, id, at).await?)),
    };
    Ok(serde_json::json!({"accountId": id, "currency": account.currency, "at": at, "balance": balance}))
}

pub async fn statement(
    state: &AppState,
    ctx: &AccessContext,
    id: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<StatementLine>, u64), Error> {
    let account = account(state, ctx, id).await?;
    let (opening, rows, total) = repo::statement(&state.reads, ctx.company_id, id, offset, limit).await?;
    let mut running = opening;
    let lines = rows
        .into_iter()
        .map(|(p, description)| {
            running = running.saturating_add(p.amount);
            let (direction, amount) = if p.amount >= 0 {
                (super::model::Direction::Debit, p.amount)
            } else {
                (super::model::Direction::Credit, -p.amount)
            };
            StatementLine {
                entry_id: p.entry_id,
                effective_date: p.effective_date,
                description,
                direction,
                amount,
                balance: account.kind.natural(running),
            }
        })
        .collect();
    Ok((lines, total))
}

/// Every account with its balance, and per currency the debit and credit
/// balances, which match in a consistent ledger.
pub async fn trial_balance(state: &AppState, ctx: &AccessContext) -> Result<TrialBalance, Error> {
    let accounts = repo::all_accounts(&state.reads, ctx.company_id).await?;
    let mut totals: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for a in &accounts {
        let debit_positive = a.kind.natural(a.balance);
        let t = totals.entry(a.currency.clone()).or_default();
        if debit_positive >= 0 {
            t.0 = t.0.saturating_add(debit_positive);
        } else {
            t.1 = t.1.saturating_add(debit_positive.saturating_neg());
        }
    }
    let totals = totals
        .into_iter()
        .map(|(currency, (debits, credits))| CurrencyTotals { currency, debits, credits, difference: debits - credits })
        .collect();
    Ok(TrialBalance { accounts, totals })
}
