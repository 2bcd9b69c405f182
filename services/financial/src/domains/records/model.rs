use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domains::ledger::model::{MAX_AMOUNT, valid_currency};

/// The categories the fleet itself writes (facts from base arrive under
/// them) and reads back: the ledger and settlements treat them apart. Any
/// other category is a member's own label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemCategory {
    ArtistFee,
    TicketSale,
    TicketRefund,
}

impl SystemCategory {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ArtistFee => "artist_fee",
            Self::TicketSale => "ticket_sale",
            Self::TicketRefund => "ticket_refund",
        }
    }

    /// The system category a record's category names, if any (the same
    /// names as the serialized form).
    pub fn of(category: &str) -> Option<Self> {
        [Self::ArtistFee, Self::TicketSale, Self::TicketRefund].into_iter().find(|c| c.as_str() == category)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Expense,
    Income,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Submitted,
    Approved,
    Rejected,
    Paid,
}

macro_rules! text_enum {
    ($t:ty { $($v:ident => $s:literal),* }) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),* }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some(Self::$v),)* _ => None }
            }
        }
    };
}

text_enum!(Kind { Expense => "expense", Income => "income" });
text_enum!(Status { Draft => "draft", Submitted => "submitted", Approved => "approved", Rejected => "rejected", Paid => "paid" });

impl Kind {
    pub fn noun(self) -> &'static str {
        match self {
            Self::Expense => "expense",
            Self::Income => "income",
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub id: Uuid,
    pub kind: Kind,
    pub amount: i64,
    pub currency: String,
    pub category: String,
    pub counterparty: String,
    pub event_id: Option<Uuid>,
    pub receipt_ref: Option<String>,
    pub description: String,
    pub status: Status,
    pub reviewer_id: Option<Uuid>,
    pub source_id: Option<String>,
    pub entry_ids: Vec<Uuid>,
    /// Tickets sold or refunded, for the facts of ticket money; 0 otherwise.
    pub quantity: u32,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Transition {
    pub from_status: Option<Status>,
    pub to_status: Status,
    pub actor_id: Uuid,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// One edit of a draft: who, when, and each changed field before and after.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Edit {
    pub actor_id: Uuid,
    pub at: DateTime<Utc>,
    /// Field name (as in the API) → its value before and after.
    pub changes: BTreeMap<String, Change>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Change {
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

/// A fact from base that could not be recorded for a reason retrying will not
/// cure (a business refusal): kept here, visible, and acknowledged to base so
/// its outbox stops sending it. A later replay that succeeds removes it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParkedFact {
    pub id: Uuid,
    pub source_id: String,
    pub kind: String,
    /// The fact as received.
    pub fact: serde_json::Value,
    pub error: String,
    pub message: String,
    /// How many times base sent it.
    pub attempts: i32,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecordIn {
    pub amount: i64,
    pub currency: String,
    pub category: String,
    pub counterparty: String,
    pub event_id: Option<Uuid>,
    /// A media reference for the receipt.
    pub receipt_ref: Option<String>,
    #[serde(default)]
    pub description: String,
}

impl Validate for RecordIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.check(
            (1..=MAX_AMOUNT).contains(&self.amount),
            "amount",
            format!("must be between 1 and {MAX_AMOUNT} minor units"),
        );
        issues.check(valid_currency(&self.currency), "currency", "must be an ISO-4217 code such as EUR");
        issues.text("category", &self.category, 64);
        issues.text("counterparty", &self.counterparty, 200);
        if let Some(r) = &self.receipt_ref {
            issues.text("receiptRef", r, 500);
        }
        issues.check(self.description.chars().count() <= 2000, "description", "at most 2000 characters");
        issues.finish()
    }
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubmitIn {
    pub reviewer_id: Uuid,
}

impl Validate for SubmitIn {}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecisionIn {
    #[serde(default)]
    pub note: Option<String>,
}

impl Validate for DecisionIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Some(n) = &self.note {
            issues.check(n.chars().count() <= 1000, "note", "at most 1000 characters");
        }
        issues.finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordFilter {
    pub status: Option<Status>,
    pub event_id: Option<Uuid>,
    pub category: Option<String>,
}

impl Validate for RecordFilter {}

/// How a summary groups booked records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryGroup {
    Category,
    Event,
    Month,
}

/// Records booked (approved or paid) in one group, currency and kind, summed
/// by the database. `amount` is exact: a sum of many large amounts can pass
/// what one amount may hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookedSum {
    /// The category, the event's id (`none` without one), or the month (`YYYY-MM`, UTC).
    pub group: String,
    pub currency: String,
    pub kind: Kind,
    pub amount: i128,
    pub quantity: i64,
}

#[cfg(test)]
mod tests {
    use super::SystemCategory;

    #[test]
    fn system_categories_read_back_what_they_write() {
        for category in [SystemCategory::ArtistFee, SystemCategory::TicketSale, SystemCategory::TicketRefund] {
            assert_eq!(SystemCategory::of(category.as_str()), Some(category));
            assert_eq!(serde_json::to_value(category).ok(), Some(serde_json::json!(category.as_str())));
        }
        assert_eq!(SystemCategory::of("catering"), None, "a member's own label is no system category");
    }
}
