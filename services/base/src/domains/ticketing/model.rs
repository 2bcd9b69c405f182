use chrono::{DateTime, Utc};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domains::artists::model::{check_currency, check_email};

pub const MAX_CAPACITY: u32 = 1_000_000;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TicketType {
    pub id: Uuid,
    pub event_id: Uuid,
    pub name: String,
    pub price_minor: i64,
    pub currency: String,
    pub capacity: u32,
    /// Seats given away, and seats taken off sale: neither is sold.
    pub comps: u32,
    pub kills: u32,
    pub sold: u32,
    /// Seats held by open reservations and by vouchers' blocks.
    pub held: u32,
    pub per_order_max: u32,
    pub sale_starts_at: Option<DateTime<Utc>>,
    pub sale_ends_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl TicketType {
    /// Seats for sale: the capacity less comps and kills.
    pub fn sellable(&self) -> u32 {
        self.capacity.saturating_sub(self.comps).saturating_sub(self.kills)
    }
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TicketTypeIn {
    pub name: String,
    pub price_minor: i64,
    pub currency: String,
    pub capacity: u32,
    /// Of the capacity, seats given away (comps) and seats taken off sale
    /// (kills, such as a blocked sightline): the rest is for sale.
    #[serde(default)]
    pub comps: u32,
    #[serde(default)]
    pub kills: u32,
    #[serde(default = "one")]
    pub per_order_max: u32,
    pub sale_starts_at: Option<DateTime<Utc>>,
    pub sale_ends_at: Option<DateTime<Utc>>,
}

fn one() -> u32 {
    10
}

impl Validate for TicketTypeIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.text("name", &self.name, 200);
        issues.check((0..=100_000_000_000).contains(&self.price_minor), "priceMinor", "must be 0 or more minor units");
        check_currency(&mut issues, "currency", &self.currency);
        issues.check(
            (1..=MAX_CAPACITY).contains(&self.capacity),
            "capacity",
            format!("must be between 1 and {MAX_CAPACITY}"),
        );
        issues.check(
            u64::from(self.comps) + u64::from(self.kills) < u64::from(self.capacity),
            "kills",
            "comps and kills leave at least one seat of the capacity for sale",
        );
        issues.check((1..=100).contains(&self.per_order_max), "perOrderMax", "must be between 1 and 100");
        if let (Some(s), Some(e)) = (self.sale_starts_at, self.sale_ends_at) {
            issues.check(e > s, "saleEndsAt", "must be after saleStartsAt");
        }
        issues.finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Confirmed,
    Waitlisted,
    Canceled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Waitlisted => "waitlisted",
            Self::Canceled => "canceled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Confirmed, Self::Waitlisted, Self::Canceled].into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    pub id: Uuid,
    pub event_id: Uuid,
    pub ticket_type_id: Uuid,
    pub attendee_name: String,
    pub attendee_email: String,
    pub quantity: u32,
    pub status: Status,
    pub idempotency_key: Option<String>,
    /// Shown to confirmed attendees; presented at the door.
    pub check_in_code: Option<String>,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistrationIn {
    pub ticket_type_id: Uuid,
    pub attendee_name: String,
    pub attendee_email: String,
    pub quantity: u32,
    pub idempotency_key: Option<String>,
}

impl Validate for RegistrationIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.text("attendeeName", &self.attendee_name, 200);
        check_email(&mut issues, "attendeeEmail", &self.attendee_email);
        issues.check((1..=100).contains(&self.quantity), "quantity", "must be between 1 and 100");
        if let Some(k) = &self.idempotency_key {
            issues.key("idempotencyKey", k, 200);
        }
        issues.finish()
    }
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckInIn {
    pub code: String,
}

impl Validate for CheckInIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.text("code", &self.code, 32);
        issues.finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationFilter {
    pub status: Option<Status>,
    pub ticket_type_id: Option<Uuid>,
}

impl Validate for RegistrationFilter {}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Sales {
    pub ticket_type_id: Uuid,
    pub name: String,
    pub capacity: u32,
    pub sold: u32,
    pub waitlisted: u32,
    pub revenue_minor: i64,
    pub currency: String,
}
