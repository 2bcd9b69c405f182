use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DealKind {
    /// The guarantee, whatever is sold.
    Flat,
    /// A percentage of the basis, no guarantee.
    Door,
    /// The guarantee plus a percentage of the net gross above the split point.
    Plus,
    /// The greater of the guarantee and a percentage of the basis.
    Versus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The net gross, from the first ticket.
    Gross,
    /// The net gross less the show's expenses.
    Net,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BonusKind {
    TicketsSold,
    GrossReached,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Bonus {
    pub kind: BonusKind,
    /// Tickets sold, or minor units of gross, at which the bonus is earned.
    pub threshold: i64,
    pub amount_minor: i64,
}

/// The terms of an accepted offer. Shares are basis points (10000 is the whole).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Deal {
    pub kind: DealKind,
    pub guarantee_minor: i64,
    pub percent_bps: u32,
    pub basis: Basis,
    pub promoter_profit_bps: u32,
    pub bonuses: Vec<Bonus>,
    pub facility_fee_minor: i64,
    pub ticketing_fee_minor: i64,
    pub sales_tax_bps: u32,
}

impl Deal {
    /// What an offer accepted before deals existed stands for.
    pub fn flat(guarantee_minor: i64) -> Self {
        Self {
            kind: DealKind::Flat,
            guarantee_minor,
            percent_bps: 0,
            basis: Basis::Gross,
            promoter_profit_bps: 0,
            bonuses: Vec::new(),
            facility_fee_minor: 0,
            ticketing_fee_minor: 0,
            sales_tax_bps: 0,
        }
    }
}

/// An accepted offer's deal, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDeal {
    pub offer_id: Uuid,
    pub event_id: Uuid,
    pub artist_id: Uuid,
    pub currency: String,
    pub deal: Deal,
    pub accepted_at: chrono::DateTime<chrono::Utc>,
}

/// One ticket type of an event, as base last reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ManifestLine {
    pub ticket_type_id: Uuid,
    pub name: String,
    pub price_minor: i64,
    pub currency: String,
    pub capacity: u32,
    pub comps: u32,
    pub kills: u32,
}

impl ManifestLine {
    pub fn sellable(&self) -> i64 {
        i64::from(self.capacity) - i64::from(self.comps) - i64::from(self.kills)
    }
}
