//! Receiving deals and manifests, and building a show's sheet from
//! financial's own records.

use std::collections::HashMap;

use marquee_guard::AccessContext;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::model::{Deal, ManifestLine, StoredDeal};
use super::repo;
use super::sheet::{self, Booking, Sheet, Show};
use crate::domains::records::model::{Kind, Status, SystemCategory};
use crate::domains::records::repo as records;
use crate::error::Error;
use crate::state::AppState;

/// Keeps an accepted offer's deal; false on a replay.
pub async fn record_deal(state: &AppState, company: Uuid, deal: &StoredDeal) -> Result<bool, Error> {
    Ok(repo::insert_deal(&state.db, company, deal).await?)
}

/// Keeps an event's ticket manifest unless a later one is already kept.
pub async fn record_manifest(
    state: &AppState,
    company: Uuid,
    event: Uuid,
    revision: i64,
    lines: &[ManifestLine],
) -> Result<(), Error> {
    Ok(repo::put_manifest(&state.db, company, event, revision, lines, state.clock.now()).await?)
}

fn add(total: &mut i64, amount: i64) -> Result<(), Error> {
    *total = total.checked_add(amount).ok_or_else(|| Error::field("eventId", "amounts are too large"))?;
    Ok(())
}

/// The approved (or paid) records of an event's system categories, summed
/// as they were booked: what a settlement lists beside its sheet.
#[derive(Debug, Clone, Copy, Default)]
pub struct Booked {
    pub ticket_sales: i64,
    pub refunds: i64,
    pub artist_fees: i64,
}

/// What the event sold and spent in `currency`, with its deals.
pub async fn show(db: &impl ConnectionTrait, company: Uuid, event: Uuid, currency: &str) -> Result<Show, Error> {
    Ok(show_and_booked(db, company, event, currency).await?.0)
}

/// [`show`], and the sums as booked, from one read of the event's records.
pub async fn show_and_booked(
    db: &impl ConnectionTrait,
    company: Uuid,
    event: Uuid,
    currency: &str,
) -> Result<(Show, Booked), Error> {
    let deals = repo::deals(db, company, event, currency).await?;
    let mut booked: HashMap<String, i64> = HashMap::new();
    let mut legacy = Vec::new();
    let mut show = Show::default();
    let mut sums = Booked::default();
    // Ticket money, the event's thousands of rows, is summed by the database.
    let ((sales, sold), (refunds, refunded)) = records::ticket_sums(db, company, event, currency).await?;
    let fit = |n: i128| i64::try_from(n).map_err(|_| Error::field("eventId", "amounts are too large"));
    sums.ticket_sales = fit(sales)?;
    sums.refunds = fit(refunds)?;
    show.gross = fit(sales - refunds)?;
    show.tickets_sold = sold - refunded;
    for r in records::all_but_ticket_money(db, company, event).await? {
        if r.currency != currency {
            continue;
        }
        let counts = matches!(r.status, Status::Approved | Status::Paid);
        match (r.kind, SystemCategory::of(&r.category)) {
            (Kind::Expense, Some(SystemCategory::ArtistFee)) => {
                if counts {
                    add(&mut sums.artist_fees, r.amount)?;
                }
                let source = r.source_id.clone().unwrap_or_default();
                let has_deal = deals.iter().any(|d| source == format!("offer:{}:accepted", d.offer_id));
                if has_deal && r.status != Status::Rejected {
                    // The guarantee's record books it, approved now or later.
                    add(booked.entry(source).or_default(), r.amount)?;
                } else if !has_deal && counts {
                    // An offer accepted before deals travelled: its fee, flat.
                    let artist = r.counterparty.strip_prefix("artist:").and_then(|a| Uuid::parse_str(a).ok());
                    legacy.push(Booking {
                        offer_id: None,
                        artist_id: artist.unwrap_or_default(),
                        deal: Deal::flat(r.amount),
                        booked: r.amount,
                    });
                }
            }
            (Kind::Expense, _) if counts => add(&mut show.expenses, r.amount)?,
            _ => {}
        }
    }
    show.bookings = deals
        .into_iter()
        .map(|d| Booking {
            offer_id: Some(d.offer_id),
            artist_id: d.artist_id,
            booked: booked.get(&format!("offer:{}:accepted", d.offer_id)).copied().unwrap_or(0),
            deal: d.deal,
        })
        .chain(legacy)
        .collect();
    show.manifest = repo::manifest(db, company, event)
        .await?
        .map(|lines| lines.into_iter().filter(|l| l.currency == currency).collect());
    Ok((show, sums))
}

/// The sheet an event would settle on now, before any settlement exists.
pub async fn preview(state: &AppState, ctx: &AccessContext, event: Uuid, currency: &str) -> Result<Sheet, Error> {
    Ok(sheet::compute(&show(&state.reads, ctx.company_id, event, currency).await?))
}
