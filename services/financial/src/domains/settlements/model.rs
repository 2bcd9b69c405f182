use chrono::{DateTime, Utc};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domains::ledger::model::{MAX_AMOUNT, valid_currency};

/// The prefix of the parties a settlement adds for artists' dues; the
/// settlement's own parties cannot take it.
pub const ARTIST_PARTY: &str = "artist:";

/// Shares are basis points: 10 000 is the whole.
pub const WHOLE: u32 = 10_000;

/// How remainders are placed: floors first, then one minor unit at a time to
/// the largest fractional parts (ties to the earlier party), so allocations
/// always add up to the net exactly.
pub const ROUNDING_RULE: &str = "largest-remainder";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Split {
    pub party: String,
    pub share_bps: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Allocation {
    pub party: String,
    pub share_bps: u32,
    pub amount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    pub ticket_sales: i64,
    pub refunds: i64,
    pub gross: i64,
    pub costs: i64,
    pub artist_fee: i64,
    /// What the parties of `splits` share: the promoter's share of the sheet.
    pub net: i64,
    /// Each artist's due under the deal (party `artist:{id}`), then the
    /// parties' shares of `net`.
    pub allocations: Vec<Allocation>,
    pub rounding: String,
    /// The show's settlement sheet (absent from settlements finalized before sheets).
    #[serde(default)]
    pub sheet: Option<crate::domains::deals::sheet::Sheet>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Finalized,
    /// Cancelled: what it booked is reversed, it takes no payouts, and a new
    /// settlement may be made for its event and currency.
    Voided,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Finalized => "finalized",
            Self::Voided => "voided",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Draft, Self::Finalized, Self::Voided].into_iter().find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Settlement {
    pub id: Uuid,
    pub event_id: Uuid,
    pub currency: String,
    pub status: Status,
    pub splits: Vec<Split>,
    /// Recomputed on every read while a draft; frozen once finalized.
    pub figures: Figures,
    pub entry_id: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub finalized_by: Option<Uuid>,
    pub finalized_at: Option<DateTime<Utc>>,
    pub voided_by: Option<Uuid>,
    pub voided_at: Option<DateTime<Utc>>,
    /// The entry reversing what the settlement booked when final.
    pub void_entry_id: Option<Uuid>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettlementIn {
    pub event_id: Uuid,
    pub currency: String,
    pub splits: Vec<Split>,
}

impl Validate for SettlementIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.check(valid_currency(&self.currency), "currency", "must be an ISO-4217 code such as EUR");
        issues.check((1..=20).contains(&self.splits.len()), "splits", "1 to 20 parties");
        for (i, s) in self.splits.iter().enumerate() {
            issues.text(&format!("splits[{i}].party"), &s.party, 200);
            issues.check(
                !s.party.starts_with(ARTIST_PARTY),
                &format!("splits[{i}].party"),
                "`artist:` names the artists' dues, which the deal decides",
            );
            issues.check(s.share_bps <= WHOLE, &format!("splits[{i}].shareBps"), "at most 10000 (the whole)");
        }
        let total: u64 = self.splits.iter().map(|s| u64::from(s.share_bps)).sum();
        issues.check(
            total == u64::from(WHOLE),
            "splits",
            format!("shares must add up to {WHOLE} basis points, not {total}"),
        );
        issues.finish()
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Payout {
    pub id: Uuid,
    pub settlement_id: Uuid,
    pub party: String,
    pub amount: i64,
    pub currency: String,
    pub entry_id: Uuid,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PayoutIn {
    pub party: String,
    pub amount: i64,
}

impl Validate for PayoutIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.text("party", &self.party, 200);
        issues.check((1..=MAX_AMOUNT).contains(&self.amount), "amount", "must be positive minor units");
        issues.finish()
    }
}

/// Splits `net` by basis points, exactly: the parts always add up to `net`.
/// A net of zero or less allocates nothing (the loss stays with the company).
pub fn allocate(net: i64, splits: &[Split]) -> Vec<i64> {
    if net <= 0 {
        return vec![0; splits.len()];
    }
    let whole = i128::from(WHOLE);
    let exact: Vec<(i128, i128)> = splits
        .iter()
        .map(|s| {
            let scaled = i128::from(net) * i128::from(s.share_bps);
            (scaled / whole, scaled % whole)
        })
        .collect();
    let mut amounts: Vec<i128> = exact.iter().map(|(floor, _)| *floor).collect();
    let mut left = i128::from(net) - amounts.iter().sum::<i128>();
    let mut order: Vec<usize> = (0..splits.len()).collect();
    order.sort_by(|a, b| exact[*b].1.cmp(&exact[*a].1).then(a.cmp(b)));
    for i in order.into_iter().cycle() {
        if left <= 0 {
            break;
        }
        amounts[i] += 1;
        left -= 1;
    }
    amounts.into_iter().map(|a| i64::try_from(a).unwrap_or(i64::MAX)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn splits(bps: &[u32]) -> Vec<Split> {
        bps.iter().enumerate().map(|(i, b)| Split { party: format!("p{i}"), share_bps: *b }).collect()
    }

    #[test]
    fn allocations_add_up_exactly() {
        assert_eq!(allocate(100, &splits(&[3334, 3333, 3333])), [34, 33, 33]);
        assert_eq!(allocate(101, &splits(&[5000, 5000])), [51, 50], "ties go to the earlier party");
        assert_eq!(allocate(1, &splits(&[3333, 3333, 3334])), [0, 0, 1], "the largest remainder wins");
        assert_eq!(allocate(-50, &splits(&[5000, 5000])), [0, 0]);
        for net in [1, 7, 99, 1_000_003, i64::MAX / 10_001] {
            let parts = allocate(net, &splits(&[1, 2999, 7000]));
            assert_eq!(parts.iter().sum::<i64>(), net, "{net}");
        }
    }
}
