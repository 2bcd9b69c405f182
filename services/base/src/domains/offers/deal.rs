//! The deal an offer carries: how the artist is paid from the show's figures.
//! base checks and keeps it; financial settles on it.

use marquee_kit::extract::Issues;
use marquee_proto::financial::v1 as pb;
use serde::{Deserialize, Serialize};

/// Minor units a deal's amounts stay within.
const MAX_MINOR: i64 = 1_000_000_000_000;
const WHOLE: u32 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DealKind {
    /// The guarantee, whatever is sold.
    Flat,
    /// A percentage of the basis, from the first ticket; no guarantee.
    Door,
    /// The guarantee plus a percentage of the net gross above the split point.
    Plus,
    /// The greater of the guarantee and a percentage of the basis.
    Versus,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The net gross: ticket sales less refunds, fees per ticket and included tax.
    #[default]
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
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Bonus {
    pub kind: BonusKind,
    /// Tickets sold, or minor units of gross (sales less refunds), that earn it.
    pub threshold: i64,
    pub amount_minor: i64,
}

/// Shares are basis points: 10000 is the whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Deal {
    pub kind: DealKind,
    /// The guarantee (0 for a door deal).
    #[serde(default)]
    pub guarantee_minor: i64,
    /// The artist's percentage (0 for a flat deal).
    #[serde(default)]
    pub percent_bps: u32,
    #[serde(default)]
    pub basis: Basis,
    /// The promoter's profit on expenses and guarantees, part of the split point.
    #[serde(default)]
    pub promoter_profit_bps: u32,
    #[serde(default)]
    pub bonuses: Vec<Bonus>,
    /// Off the top, per ticket sold: the venue's facility fee, the ticketing fee.
    #[serde(default)]
    pub facility_fee_minor: i64,
    #[serde(default)]
    pub ticketing_fee_minor: i64,
    /// Sales tax included in ticket prices.
    #[serde(default)]
    pub sales_tax_bps: u32,
}

impl Deal {
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

    pub fn check(&self, issues: &mut Issues) {
        let minor = |v: i64| (0..=MAX_MINOR).contains(&v);
        match self.kind {
            DealKind::Door => {
                issues.check(self.guarantee_minor == 0, "deal.guaranteeMinor", "a door deal has no guarantee");
            }
            _ => issues.check(
                (1..=MAX_MINOR).contains(&self.guarantee_minor),
                "deal.guaranteeMinor",
                "must be positive minor units",
            ),
        }
        match self.kind {
            DealKind::Flat => issues.check(self.percent_bps == 0, "deal.percentBps", "a flat deal pays no percentage"),
            _ => issues.check(
                (1..=WHOLE).contains(&self.percent_bps),
                "deal.percentBps",
                "between 1 and 10000 basis points",
            ),
        }
        issues.check(self.promoter_profit_bps <= WHOLE, "deal.promoterProfitBps", "at most 10000 basis points");
        issues.check(self.sales_tax_bps <= WHOLE, "deal.salesTaxBps", "at most 10000 basis points");
        issues.check(minor(self.facility_fee_minor), "deal.facilityFeeMinor", "must be 0 or more minor units");
        issues.check(minor(self.ticketing_fee_minor), "deal.ticketingFeeMinor", "must be 0 or more minor units");
        issues.check(self.bonuses.len() <= 20, "deal.bonuses", "at most 20 bonuses");
        for (i, b) in self.bonuses.iter().enumerate() {
            issues.check(
                (1..=MAX_MINOR).contains(&b.threshold),
                &format!("deal.bonuses[{i}].threshold"),
                "must be positive",
            );
            issues.check(
                (1..=MAX_MINOR).contains(&b.amount_minor),
                &format!("deal.bonuses[{i}].amountMinor"),
                "must be positive minor units",
            );
        }
    }

    pub fn to_proto(&self) -> pb::Deal {
        pb::Deal {
            kind: match self.kind {
                DealKind::Flat => pb::DealKind::Flat,
                DealKind::Door => pb::DealKind::Door,
                DealKind::Plus => pb::DealKind::Plus,
                DealKind::Versus => pb::DealKind::Versus,
            } as i32,
            guarantee_minor: self.guarantee_minor,
            percent_bps: self.percent_bps,
            basis: match self.basis {
                Basis::Gross => pb::DealBasis::Gross,
                Basis::Net => pb::DealBasis::Net,
            } as i32,
            promoter_profit_bps: self.promoter_profit_bps,
            bonuses: self
                .bonuses
                .iter()
                .map(|b| pb::Bonus {
                    kind: match b.kind {
                        BonusKind::TicketsSold => pb::BonusKind::TicketsSold,
                        BonusKind::GrossReached => pb::BonusKind::GrossReached,
                    } as i32,
                    threshold: b.threshold,
                    amount_minor: b.amount_minor,
                })
                .collect(),
            facility_fee_minor: self.facility_fee_minor,
            ticketing_fee_minor: self.ticketing_fee_minor,
            sales_tax_bps: self.sales_tax_bps,
        }
    }
}
