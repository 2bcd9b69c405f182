//! Booking offers to artists: `draft → sent → accepted | declined | expired |
//! withdrawn`. Past its deadline a sent offer expires (a background job); an
//! accepted offer becomes a payable in financial exactly once, through the outbox.

pub mod deal;
pub mod repo;
pub mod routes;
pub mod service;

use chrono::{DateTime, Utc};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use deal::Deal;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Sent,
    Accepted,
    Declined,
    Expired,
    Withdrawn,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Sent => "sent",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Expired => "expired",
            Self::Withdrawn => "withdrawn",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Draft, Self::Sent, Self::Accepted, Self::Declined, Self::Expired, Self::Withdrawn]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// `POST /v1/offers/{id}/{action}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Send,
    Accept,
    Decline,
    Withdraw,
}

impl Action {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "send" => Self::Send,
            "accept" => Self::Accept,
            "decline" => Self::Decline,
            "withdraw" => Self::Withdraw,
            _ => return None,
        })
    }

    pub fn apply(self, from: Status) -> Option<Status> {
        match (self, from) {
            (Self::Send, Status::Draft) => Some(Status::Sent),
            (Self::Accept, Status::Sent) => Some(Status::Accepted),
            (Self::Decline, Status::Sent) => Some(Status::Declined),
            (Self::Withdraw, Status::Draft | Status::Sent) => Some(Status::Withdrawn),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    pub id: Uuid,
    pub event_id: Uuid,
    pub artist_id: Uuid,
    /// The guarantee (0 under a door deal).
    pub fee_minor: i64,
    pub currency: String,
    pub terms: String,
    pub deal: Deal,
    pub deadline: DateTime<Utc>,
    pub status: Status,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OfferIn {
    pub event_id: Uuid,
    pub artist_id: Uuid,
    /// The guarantee: required without a deal (a flat deal of it), and equal
    /// to the deal's guarantee with one.
    pub fee_minor: Option<i64>,
    pub currency: String,
    #[serde(default)]
    pub terms: String,
    pub deal: Option<Deal>,
    pub deadline: DateTime<Utc>,
}

impl OfferIn {
    /// The deal the offer carries.
    pub fn deal(&self) -> Deal {
        self.deal.clone().unwrap_or_else(|| Deal::flat(self.fee_minor.unwrap_or(0)))
    }
}

impl Validate for OfferIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        match (&self.deal, self.fee_minor) {
            (None, fee) => issues.check(
                fee.is_some_and(|f| (1..=1_000_000_000_000).contains(&f)),
                "feeMinor",
                "must be positive minor units",
            ),
            (Some(deal), fee) => {
                deal.check(&mut issues);
                issues.check(
                    fee.is_none_or(|f| f == deal.guarantee_minor),
                    "feeMinor",
                    "must equal deal.guaranteeMinor (or be left out)",
                );
            }
        }
        crate::domains::artists::model::check_currency(&mut issues, "currency", &self.currency);
        issues.check(self.terms.chars().count() <= 10_000, "terms", "at most 10000 characters");
        issues.finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfferFilter {
    pub status: Option<Status>,
    pub event_id: Option<Uuid>,
    pub artist_id: Option<Uuid>,
}

impl Validate for OfferFilter {}
