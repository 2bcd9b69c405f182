//! The rules of settlements and payouts.

use marquee_guard::AccessContext;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::model::{
    ARTIST_PARTY, Allocation, Figures, Payout, PayoutIn, ROUNDING_RULE, Settlement, SettlementIn, Status, allocate,
};
use super::repo::{self, Stored};
use crate::domains::deals;
use crate::domains::ledger::model::{Direction, EntryIn, PostingIn, ReverseIn, System};
use crate::domains::ledger::repo as ledger;
use crate::domains::ledger::service::{Poster, post_within, reverse_within, system_account};
use crate::error::Error;
use crate::state::AppState;

/// The event's figures from its recorded facts and records, in one currency:
/// its sheet, each artist's due under the deal, and the rest split by the
/// settlement's parties.
async fn figures(db: &impl sea_orm::ConnectionTrait, company: Uuid, stored: &Stored) -> Result<Figures, Error> {
    let (show, booked) = deals::service::show_and_booked(db, company, stored.event_id, &stored.currency).await?;
    let sheet = deals::sheet::compute(&show);
    let mut f = Figures {
        ticket_sales: booked.ticket_sales,
        refunds: booked.refunds,
        gross: sheet.gross,
        costs: sheet.expenses,
        artist_fee: booked.artist_fees,
        net: sheet.promoter_share,
        allocations: Vec::new(),
        rounding: ROUNDING_RULE.to_owned(),
        sheet: None,
    };
    // One allocation per artist, however many of its offers the show holds.
    let mut dues: std::collections::BTreeMap<Uuid, i64> = std::collections::BTreeMap::new();
    for a in sheet.artists.iter().filter(|a| a.due > 0) {
        let due = dues.entry(a.artist_id).or_default();
        *due = due.saturating_add(a.due);
    }
    f.allocations = dues
        .into_iter()
        .map(|(artist, amount)| Allocation { party: format!("{ARTIST_PARTY}{artist}"), share_bps: 0, amount })
        .chain(stored.splits.iter().zip(allocate(f.net, &stored.splits)).map(|(s, amount)| Allocation {
            party: s.party.clone(),
            share_bps: s.share_bps,
            amount,
        }))
        .collect();
    f.sheet = Some(sheet);
    Ok(f)
}

async fn view(state: &AppState, company: Uuid, stored: Stored) -> Result<Settlement, Error> {
    let figures = match stored.figures.clone() {
        Some(frozen) => frozen,
        None => figures(&state.reads, company, &stored).await?,
    };
    Ok(Settlement {
        id: stored.id,
        event_id: stored.event_id,
        currency: stored.currency,
        status: stored.status,
        splits: stored.splits,
        figures,
        entry_id: stored.entry_id,
        created_by: stored.created_by,
        created_at: stored.created_at,
        finalized_by: stored.finalized_by,
        finalized_at: stored.finalized_at,
        voided_by: stored.voided_by,
        voided_at: stored.voided_at,
        void_entry_id: stored.void_entry_id,
    })
}

/// Opens the settlement of an event in a currency: at most one is live (draft
/// or final) per event and currency; the database holds the rule, so two
/// creations at once cannot both win.
pub async fn create(state: &AppState, ctx: &AccessContext, input: SettlementIn) -> Result<Settlement, Error> {
    let stored = Stored {
        id: Uuid::now_v7(),
        event_id: input.event_id,
        currency: input.currency,
        status: Status::Draft,
        splits: input.splits,
        figures: None,
        entry_id: None,
        created_by: ctx.user_id,
        created_at: state.clock.now(),
        finalized_by: None,
        finalized_at: None,
        holds_slot: true,
        voided_by: None,
        voided_at: None,
        void_entry_id: None,
    };
    match repo::insert(&state.db, ctx.company_id, &stored).await.map_err(Error::from) {
        Err(Error::Db(marquee_db::DbError::Conflict { .. })) => {
            return Err(Error::SettlementExists(format!(
                "event {} already has a settlement in {}; void it before making another",
                stored.event_id, stored.currency
            )));
        }
        other => other?,
    }
    view(state, ctx.company_id, stored).await
}

pub async fn get(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<Settlement, Error> {
    let stored = repo::find(&state.reads, ctx.company_id, id).await?.ok_or(Error::NotFound("settlement"))?;
    view(state, ctx.company_id, stored).await
}

pub async fn list(
    state: &AppState,
    ctx: &AccessContext,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Settlement>, u64), Error> {
    let (rows, total) = repo::list(&state.reads, ctx.company_id, offset, limit).await?;
    let mut items = Vec::new();
    for stored in rows {
        items.push(view(state, ctx.company_id, stored).await?);
    }
    Ok((items, total))
}

/// The settlement's sheet: live while a draft, frozen once final.
pub async fn sheet(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<deals::sheet::Sheet, Error> {
    get(state, ctx, id).await?.figures.sheet.ok_or(Error::NotFound("sheet"))
}

/// Freezes the figures and books what each party is owed.
pub async fn finalize(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<Settlement, Error> {
    let txn = state.db.begin().await?;
    repo::lock(&txn, ctx.company_id, id).await?;
    let stored = repo::find(&txn, ctx.company_id, id).await?.ok_or(Error::NotFound("settlement"))?;
    match stored.status {
        Status::Draft => {}
        Status::Finalized => {
            return Err(Error::AlreadyFinalized("the settlement is final".to_owned()));
        }
        Status::Voided => return Err(voided()),
    }
    let frozen = figures(&txn, ctx.company_id, &stored).await?;
    let now = state.clock.now();
    let owed: i64 = frozen.allocations.iter().map(|a| a.amount.max(0)).sum();
    let entry = if owed > 0 {
        let clearing = system_account(&txn, ctx.company_id, System::EventResults, &stored.currency, now).await?;
        let payables = system_account(&txn, ctx.company_id, System::SettlementPayables, &stored.currency, now).await?;
        let mut postings = vec![PostingIn {
            account_id: clearing.id,
            direction: Direction::Debit,
            amount: owed,
            currency: stored.currency.clone(),
        }];
        postings.extend(frozen.allocations.iter().filter(|a| a.amount > 0).map(|a| PostingIn {
            account_id: payables.id,
            direction: Direction::Credit,
            amount: a.amount,
            currency: stored.currency.clone(),
        }));
        let input = EntryIn {
            description: format!("Settlement of event {}", stored.event_id),
            effective_date: now.date_naive(),
            reference: Some(format!("settlement:{id}")),
            idempotency_key: None,
            postings,
        };
        Some(post_within(&state.clock, Poster::from(ctx), &txn, input).await?.id)
    } else {
        None
    };
    if !repo::finalize(&txn, ctx.company_id, id, &frozen, entry, ctx.user_id, now).await? {
        return Err(Error::AlreadyFinalized("the settlement is final".to_owned()));
    }
    let finalized = serde_json::json!({
        "settlementId": id,
        "eventId": stored.event_id,
        "currency": stored.currency,
        "ledgerEntryId": entry,
        "allocations": frozen.allocations,
        "finalizedBy": ctx.user_id,
    });
    marquee_webhooks::feed::record(&txn, ctx.company_id, "settlement.finalized", &finalized, now).await?;
    txn.commit().await?;
    get(state, ctx, id).await
}

/// Pays a party of a final settlement, never more than its allocation.
pub async fn payout(state: &AppState, ctx: &AccessContext, id: Uuid, input: PayoutIn) -> Result<Payout, Error> {
    let txn = state.db.begin().await?;
    repo::lock(&txn, ctx.company_id, id).await?;
    let stored = repo::find(&txn, ctx.company_id, id).await?.ok_or(Error::NotFound("settlement"))?;
    if stored.status == Status::Voided {
        return Err(voided());
    }
    let Some(figures) = stored.figures.as_ref().filter(|_| stored.status == Status::Finalized) else {
        return Err(Error::NotFinalized("payouts follow a final settlement".to_owned()));
    };
    if !stored.holds_slot {
        return Err(Error::DuplicateSettlement("another settlement is the live one for this event and currency; this one takes no payouts and awaits its void"
                .to_owned(),
        ));
    }
    let allocation = figures
        .allocations
        .iter()
        .find(|a| a.party == input.party)
        .ok_or_else(|| Error::field("party", "is not a party of this settlement"))?;
    let paid: i64 = repo::payouts(&txn, ctx.company_id, Some(id))
        .await?
        .iter()
        .filter(|p| p.party == input.party)
        .map(|p| p.amount)
        .sum();
    if paid + input.amount > allocation.amount {
        return Err(Error::Overpayment(format!(
            "{} is owed {}, already paid {}",
            input.party, allocation.amount, paid
        )));
    }
    let now = state.clock.now();
    let payables = system_account(&txn, ctx.company_id, System::SettlementPayables, &stored.currency, now).await?;
    let cash = system_account(&txn, ctx.company_id, System::Cash, &stored.currency, now).await?;
    let entry = post_within(
        &state.clock,
        Poster::from(ctx),
        &txn,
        EntryIn {
            description: format!("Payout to {} for settlement {id}", input.party),
            effective_date: now.date_naive(),
            reference: Some(format!("settlement:{id}")),
            idempotency_key: None,
            postings: vec![
                PostingIn {
                    account_id: payables.id,
                    direction: Direction::Debit,
                    amount: input.amount,
                    currency: stored.currency.clone(),
                },
                PostingIn {
                    account_id: cash.id,
                    direction: Direction::Credit,
                    amount: input.amount,
                    currency: stored.currency.clone(),
                },
            ],
        },
    )
    .await?;
    let payout = Payout {
        id: Uuid::now_v7(),
        settlement_id: id,
        party: input.party,
        amount: input.amount,
        currency: stored.currency.clone(),
        entry_id: entry.id,
        created_by: ctx.user_id,
        created_at: now,
    };
    repo::insert_payout(&txn, ctx.company_id, &payout).await?;
    txn.commit().await?;
    Ok(payout)
}

fn voided() -> Error {
    Error::SettlementVoided("the settlement was voided".to_owned())
}

/// Voids a settlement: what it booked when final is reversed (the ledger is
/// never edited), it takes no payouts, and its event and currency may be
/// settled anew. Once money was paid out against it, it stays: voiding would
/// let the same money leave again under a new settlement.
pub async fn void(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<Settlement, Error> {
    let txn = state.db.begin().await?;
    repo::lock(&txn, ctx.company_id, id).await?;
    let stored = repo::find(&txn, ctx.company_id, id).await?.ok_or(Error::NotFound("settlement"))?;
    if stored.status == Status::Voided {
        return Err(Error::AlreadyVoided("the settlement was already voided".to_owned()));
    }
    let paid = repo::payouts(&txn, ctx.company_id, Some(id)).await?;
    if !paid.is_empty() {
        return Err(Error::SettlementHasPayouts(format!(
            "{} payout(s) were made against this settlement; it cannot be voided",
            paid.len()
        )));
    }
    let reversal = match stored.entry_id {
        None => None,
        Some(entry) => {
            // Reversed by hand already: that reversal stands for the void.
            let booked = ledger::entry(&txn, ctx.company_id, entry).await?.ok_or(Error::NotFound("entry"))?;
            if let Some(done) = booked.reversed_by_id {
                return finish_void(state, ctx, txn, id, Some(done)).await;
            }
            let input = ReverseIn {
                description: Some(format!("Void of the settlement of event {}", stored.event_id)),
                effective_date: Some(state.clock.now().date_naive()),
            };
            Some(reverse_within(state, Poster::from(ctx), &txn, entry, input).await?.id)
        }
    };
    finish_void(state, ctx, txn, id, reversal).await
}

async fn finish_void(
    state: &AppState,
    ctx: &AccessContext,
    txn: sea_orm::DatabaseTransaction,
    id: Uuid,
    reversal: Option<Uuid>,
) -> Result<Settlement, Error> {
    if !repo::void(&txn, ctx.company_id, id, reversal, ctx.user_id, state.clock.now()).await? {
        return Err(Error::AlreadyVoided("the settlement was already voided".to_owned()));
    }
    txn.commit().await?;
    get(state, ctx, id).await
}

pub async fn payouts(state: &AppState, ctx: &AccessContext, settlement: Option<Uuid>) -> Result<Vec<Payout>, Error> {
    Ok(repo::payouts(&state.reads, ctx.company_id, settlement).await?)
}
