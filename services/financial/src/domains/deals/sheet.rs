//! The settlement sheet of a show, computed from its figures and its deals.
//!
//! Rounding: every percentage and the tax division is rounded once, half up,
//! to the minor unit, on the line where it happens; the lines below use the
//! rounded figure. The sums are exact: the promoter's share is what is left.

use serde::Serialize;
use uuid::Uuid;

use super::model::{Basis, BonusKind, Deal, DealKind, ManifestLine};

pub const ROUNDING_RULE: &str = "half-up to the minor unit, once per line";

const WHOLE: i128 = 10_000;

/// `amount × bps / 10000`, half up; nothing of a negative amount.
pub fn share(amount: i64, bps: u32) -> i64 {
    if amount <= 0 {
        return 0;
    }
    let scaled = i128::from(amount) * i128::from(bps);
    narrow((scaled + WHOLE / 2) / WHOLE)
}

/// The amount before a sales tax of `bps` was included in it, half up.
pub fn without_tax(amount: i64, bps: u32) -> i64 {
    let divisor = WHOLE + i128::from(bps);
    let scaled = i128::from(amount) * WHOLE;
    let half = if scaled >= 0 { divisor / 2 } else { -(divisor / 2) };
    narrow((scaled + half) / divisor)
}

fn total(amounts: impl Iterator<Item = i64>) -> i64 {
    amounts.fold(0i64, i64::saturating_add)
}

fn narrow(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// One accepted offer on the show.
#[derive(Debug, Clone)]
pub struct Booking {
    pub offer_id: Option<Uuid>,
    pub artist_id: Uuid,
    pub deal: Deal,
    /// The guarantee already booked as the artist's fee record.
    pub booked: i64,
}

/// What the show sold and spent, in one currency.
#[derive(Debug, Clone, Default)]
pub struct Show {
    pub tickets_sold: i64,
    pub gross: i64,
    pub expenses: i64,
    /// The event's ticket types in the sheet's currency, when base reported them.
    pub manifest: Option<Vec<ManifestLine>>,
    pub bookings: Vec<Booking>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArtistLine {
    pub offer_id: Option<Uuid>,
    pub artist_id: Uuid,
    pub deal: Deal,
    /// Expenses, the other artists' guarantees, this guarantee and the promoter's profit.
    pub split_point: i64,
    /// What the deal pays before bonuses.
    pub earned: i64,
    pub bonuses: i64,
    /// earned + bonuses.
    pub payout: i64,
    /// The guarantee already booked as the artist's fee.
    pub already_booked: i64,
    /// What the settlement books for the artist: payout less already booked.
    pub due: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Sheet {
    /// Sellable tickets (capacity less comps and kills) × price; absent until
    /// base has reported the event's ticket types.
    pub gross_potential: Option<i64>,
    pub sellable_tickets: Option<i64>,
    /// Tickets sold less tickets refunded.
    pub tickets_sold: i64,
    /// Ticket sales less refunds.
    pub gross: i64,
    pub facility_fees: i64,
    pub ticketing_fees: i64,
    /// Gross less the per-ticket fees.
    pub adjusted_gross: i64,
    /// The sales tax included in the adjusted gross.
    pub sales_tax: i64,
    /// Adjusted gross less the included tax: what the deals divide.
    pub net_gross: i64,
    /// Approved expenses of the event, artists' fees aside.
    pub expenses: i64,
    pub guarantees: i64,
    /// The first deal's promoter profit on expenses and guarantees.
    pub promoter_profit: i64,
    /// Expenses + guarantees + the promoter's profit.
    pub split_point: i64,
    pub artists: Vec<ArtistLine>,
    pub artist_payout: i64,
    /// Net gross less expenses less the artists' payouts: negative is a loss.
    pub promoter_share: i64,
    pub rounding: String,
}

/// The sheet. The deductions off the top (fees per ticket, included tax) are
/// the show's, taken from its first deal; each deal's percentage applies to
/// the net gross they leave.
pub fn compute(show: &Show) -> Sheet {
    let first = show.bookings.first().map(|b| &b.deal);
    // Saturating throughout: amounts are bounded where they enter, and a sheet
    // of absurd figures shows the bound rather than wrapping.
    let per_ticket = |fee: i64| show.tickets_sold.max(0).saturating_mul(fee);
    let facility_fees = first.map_or(0, |d| per_ticket(d.facility_fee_minor));
    let ticketing_fees = first.map_or(0, |d| per_ticket(d.ticketing_fee_minor));
    let adjusted_gross = show.gross.saturating_sub(facility_fees).saturating_sub(ticketing_fees);
    let net_gross = without_tax(adjusted_gross, first.map_or(0, |d| d.sales_tax_bps));
    let guarantees = total(show.bookings.iter().map(|b| b.deal.guarantee_minor));
    let profit_on = |bps| share(show.expenses.saturating_add(guarantees), bps);
    let promoter_profit = first.map_or(0, |d| profit_on(d.promoter_profit_bps));

    let artists: Vec<ArtistLine> = show
        .bookings
        .iter()
        .map(|b| {
            let d = &b.deal;
            let others = guarantees.saturating_sub(d.guarantee_minor);
            let split_point = show.expenses.saturating_add(guarantees).saturating_add(profit_on(d.promoter_profit_bps));
            let basis = match d.basis {
                Basis::Gross => net_gross,
                Basis::Net => net_gross.saturating_sub(show.expenses).saturating_sub(others),
            };
            let earned = match d.kind {
                DealKind::Flat => d.guarantee_minor,
                DealKind::Door => share(basis, d.percent_bps),
                DealKind::Plus => {
                    d.guarantee_minor.saturating_add(share(net_gross.saturating_sub(split_point), d.percent_bps))
                }
                DealKind::Versus => d.guarantee_minor.max(share(basis, d.percent_bps)),
            };
            let bonuses = total(
                d.bonuses
                    .iter()
                    .filter(|bonus| match bonus.kind {
                        BonusKind::TicketsSold => show.tickets_sold >= bonus.threshold,
                        BonusKind::GrossReached => show.gross >= bonus.threshold,
                    })
                    .map(|bonus| bonus.amount_minor),
            );
            let payout = earned.saturating_add(bonuses);
            ArtistLine {
                offer_id: b.offer_id,
                artist_id: b.artist_id,
                deal: d.clone(),
                split_point,
                earned,
                bonuses,
                payout,
                already_booked: b.booked,
                due: payout.saturating_sub(b.booked).max(0),
            }
        })
        .collect();
    let artist_payout = total(artists.iter().map(|a| a.payout));
    let manifest = show.manifest.as_deref();
    Sheet {
        gross_potential: manifest
            .map(|lines| total(lines.iter().map(|l| l.sellable().max(0).saturating_mul(l.price_minor)))),
        sellable_tickets: manifest.map(|lines| total(lines.iter().map(|l| l.sellable().max(0)))),
        tickets_sold: show.tickets_sold,
        gross: show.gross,
        facility_fees,
        ticketing_fees,
        adjusted_gross,
        sales_tax: adjusted_gross.saturating_sub(net_gross),
        net_gross,
        expenses: show.expenses,
        guarantees,
        promoter_profit,
        split_point: show.expenses.saturating_add(guarantees).saturating_add(promoter_profit),
        artists,
        artist_payout,
        promoter_share: net_gross.saturating_sub(show.expenses).saturating_sub(artist_payout),
        rounding: ROUNDING_RULE.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domains::deals::model::Bonus;

    fn deal(kind: DealKind, guarantee: i64, percent_bps: u32, basis: Basis) -> Deal {
        Deal { kind, guarantee_minor: guarantee, percent_bps, basis, ..Deal::flat(0) }
    }

    fn show(gross: i64, tickets: i64, expenses: i64, deals: &[Deal]) -> Show {
        Show {
            tickets_sold: tickets,
            gross,
            expenses,
            manifest: None,
            bookings: deals
                .iter()
                .map(|d| Booking { offer_id: None, artist_id: Uuid::nil(), deal: d.clone(), booked: 0 })
                .collect(),
        }
    }

    #[test]
    fn a_guarantee_versus_sixty_percent_of_the_gross_pays_the_greater() {
        let sheet = compute(&show(1_000_000, 500, 0, &[deal(DealKind::Versus, 500_000, 6_000, Basis::Gross)]));
        assert_eq!(sheet.artist_payout, 600_000);
        let sheet = compute(&show(700_000, 350, 0, &[deal(DealKind::Versus, 500_000, 6_000, Basis::Gross)]));
        assert_eq!(sheet.artist_payout, 500_000, "60 % of 7,000 is below the guarantee");
    }

    #[test]
    fn fees_per_ticket_and_included_tax_come_off_the_top() {
        let mut terms = deal(DealKind::Flat, 100_000, 0, Basis::Gross);
        terms.facility_fee_minor = 100;
        terms.sales_tax_bps = 650;
        // 500 × 20.00 + 500 × 25.00
        let sheet = compute(&show(500 * 2_000 + 500 * 2_500, 1_000, 0, &[terms]));
        assert_eq!(sheet.gross, 2_250_000);
        assert_eq!(sheet.facility_fees, 100_000);
        assert_eq!(sheet.adjusted_gross, 2_150_000);
        assert_eq!(sheet.net_gross, 2_018_779, "21,500.00 / 1.065 = 20,187.79");
        assert_eq!(sheet.sales_tax, 131_221);
    }

    /// A table of deals over one show: 10,000.00 gross, 400 tickets, 3,000.00
    /// of expenses, nothing off the top.
    #[test]
    fn every_kind_of_deal_pays_what_it_says() {
        let (gross, tickets, expenses) = (1_000_000, 400, 300_000);
        let mut plus = deal(DealKind::Plus, 200_000, 8_500, Basis::Net);
        plus.promoter_profit_bps = 1_500;
        let mut bonus = deal(DealKind::Flat, 200_000, 0, Basis::Gross);
        bonus.bonuses = vec![
            Bonus { kind: BonusKind::TicketsSold, threshold: 400, amount_minor: 10_000 },
            Bonus { kind: BonusKind::TicketsSold, threshold: 401, amount_minor: 99_999 },
            Bonus { kind: BonusKind::GrossReached, threshold: 1_000_000, amount_minor: 5_000 },
        ];
        let cases: Vec<(&str, Deal, i64)> = vec![
            ("flat", deal(DealKind::Flat, 250_000, 0, Basis::Gross), 250_000),
            ("door of the gross", deal(DealKind::Door, 0, 7_000, Basis::Gross), 700_000),
            ("door of the net", deal(DealKind::Door, 0, 7_000, Basis::Net), 490_000),
            // split point: 3,000 + 2,000 + 15 % of 5,000 = 5,750; 85 % of 4,250 = 3,612.50
            ("plus", plus, 200_000 + 361_250),
            ("versus the net, guarantee wins", deal(DealKind::Versus, 400_000, 5_000, Basis::Net), 400_000),
            ("versus the net, percentage wins", deal(DealKind::Versus, 300_000, 5_000, Basis::Net), 350_000),
            ("versus the gross", deal(DealKind::Versus, 500_000, 6_000, Basis::Gross), 600_000),
            ("bonuses reached, one not", bonus, 215_000),
            ("door of the net at half", deal(DealKind::Door, 0, 5_000, Basis::Net), 350_000),
        ];
        for (name, terms, expected) in cases {
            let sheet = compute(&show(gross, tickets, expenses, &[terms]));
            assert_eq!(sheet.artist_payout, expected, "{name}");
            assert_eq!(sheet.promoter_share, gross - expenses - expected, "{name}: the rest is the promoter's");
        }
        let sheet = compute(&show(200_000, 80, 300_000, &[deal(DealKind::Door, 0, 5_000, Basis::Net)]));
        assert_eq!(sheet.artist_payout, 0, "a percentage of a loss is nothing");
        assert_eq!(sheet.promoter_share, -100_000);
    }

    #[test]
    fn a_support_act_s_guarantee_is_an_expense_of_the_headliner_s_net() {
        let headliner = deal(DealKind::Door, 0, 5_000, Basis::Net);
        let support = deal(DealKind::Flat, 100_000, 0, Basis::Gross);
        let sheet = compute(&show(1_000_000, 400, 300_000, &[headliner, support]));
        assert_eq!(sheet.artists[0].payout, 300_000, "50 % of 10,000 − 3,000 − 1,000");
        assert_eq!(sheet.artists[1].payout, 100_000);
        assert_eq!(sheet.promoter_share, 1_000_000 - 300_000 - 400_000);
    }

    #[test]
    fn gross_potential_counts_sellable_seats_only() {
        let line = |price, capacity, comps, kills| ManifestLine {
            ticket_type_id: Uuid::nil(),
            name: "GA".into(),
            price_minor: price,
            currency: "EUR".into(),
            capacity,
            comps,
            kills,
        };
        let mut s = show(0, 0, 0, &[]);
        s.manifest = Some(vec![line(2_000, 520, 10, 10), line(2_500, 500, 0, 0)]);
        let sheet = compute(&s);
        assert_eq!(sheet.sellable_tickets, Some(1_000));
        assert_eq!(sheet.gross_potential, Some(2_250_000));
    }

    #[test]
    fn rounding_is_half_up_once_per_line() {
        assert_eq!(share(1, 5_000), 1, "0.5 rounds up");
        assert_eq!(share(3, 3_333), 1);
        assert_eq!(share(-10, 5_000), 0);
        assert_eq!(without_tax(1_065, 650), 1_000);
        assert_eq!(without_tax(-1_065, 650), -1_000);
        assert_eq!(share(i64::MAX, 10_000), i64::MAX);
    }

    #[test]
    fn absurd_figures_saturate_instead_of_wrapping() {
        let mut terms = deal(DealKind::Plus, i64::MAX, 10_000, Basis::Net);
        terms.facility_fee_minor = i64::MAX;
        terms.bonuses = vec![Bonus { kind: BonusKind::TicketsSold, threshold: 1, amount_minor: i64::MAX }];
        let mut s = show(i64::MAX, i64::MAX, i64::MAX, &[terms.clone(), terms]);
        s.manifest = Some(vec![ManifestLine {
            ticket_type_id: Uuid::nil(),
            name: "GA".into(),
            price_minor: i64::MAX,
            currency: "EUR".into(),
            capacity: u32::MAX,
            comps: 0,
            kills: 0,
        }]);
        let sheet = compute(&s);
        assert_eq!(sheet.gross_potential, Some(i64::MAX));
        assert_eq!(sheet.artist_payout, i64::MAX);
    }
}
