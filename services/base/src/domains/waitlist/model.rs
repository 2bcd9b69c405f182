use chrono::{DateTime, Utc};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domains::artists::model::check_email;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    /// Waiting for seats.
    Waiting,
    /// Offered a reservation (`orderId`) until it runs out.
    Offered,
    /// The offer was paid.
    Used,
    /// The offer ran out unused.
    Expired,
    /// The offer was canceled.
    Declined,
}

impl EntryStatus {
    pub const ALL: [Self; 5] = [Self::Waiting, Self::Offered, Self::Used, Self::Expired, Self::Declined];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Offered => "offered",
            Self::Used => "used",
            Self::Expired => "expired",
            Self::Declined => "declined",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: Uuid,
    pub event_id: Uuid,
    pub ticket_type_id: Uuid,
    pub email: String,
    pub name: Option<String>,
    pub quantity: u32,
    pub status: EntryStatus,
    /// The reservation offered.
    pub order_id: Option<Uuid>,
    pub offered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EntryIn {
    pub email: String,
    pub name: Option<String>,
    pub ticket_type_id: Uuid,
    pub quantity: u32,
}

impl Validate for EntryIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        check_email(&mut issues, "email", &self.email);
        if let Some(name) = &self.name {
            issues.text("name", name, 200);
        }
        issues.check((1..=10).contains(&self.quantity), "quantity", "must be between 1 and 10");
        issues.finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntryFilter {
    pub status: Option<EntryStatus>,
}

impl Validate for EntryFilter {}
