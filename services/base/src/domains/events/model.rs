use crate::patch::Patch;
use chrono::{DateTime, Utc};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domains::venues::valid_timezone;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Announced,
    OnSale,
    SoldOut,
    Completed,
    Canceled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Announced => "announced",
            Self::OnSale => "on_sale",
            Self::SoldOut => "sold_out",
            Self::Completed => "completed",
            Self::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Draft, Self::Announced, Self::OnSale, Self::SoldOut, Self::Completed, Self::Canceled]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    /// Whether the event still takes its venue and counts against the limit.
    pub fn is_live(self) -> bool {
        self != Self::Canceled
    }
}

/// A state change, named as in `POST /v1/events/{id}/{action}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Announce,
    StartSales,
    SellOut,
    ReopenSales,
    Complete,
    Cancel,
}

impl Action {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "announce" => Self::Announce,
            "start-sales" => Self::StartSales,
            "sell-out" => Self::SellOut,
            "reopen-sales" => Self::ReopenSales,
            "complete" => Self::Complete,
            "cancel" => Self::Cancel,
            _ => return None,
        })
    }

    /// The status after this action from `from`, if the move is allowed.
    pub fn apply(self, from: Status) -> Option<Status> {
        use Status::*;
        match (self, from) {
            (Self::Announce, Draft) => Some(Announced),
            (Self::StartSales, Announced) => Some(OnSale),
            (Self::SellOut, OnSale) => Some(SoldOut),
            (Self::ReopenSales, SoldOut) => Some(OnSale),
            (Self::Complete, Announced | OnSale | SoldOut) => Some(Completed),
            (Self::Cancel, Draft | Announced | OnSale | SoldOut) => Some(Canceled),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Slot {
    pub artist_id: Uuid,
    #[serde(default)]
    pub set_start: Option<DateTime<Utc>>,
    #[serde(default)]
    pub set_end: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: Uuid,
    pub name: String,
    pub venue_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub timezone: String,
    pub status: Status,
    pub lineup: Vec<Slot>,
    pub description: String,
    pub created_by: Uuid,
    pub updated_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Raised by every change; send it back as `If-Match` to change only what you saw.
    pub version: u64,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventIn {
    pub name: String,
    pub venue_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Defaults to the venue's.
    pub timezone: Option<String>,
    #[serde(default)]
    pub lineup: Vec<Slot>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventPatch {
    pub name: Option<String>,
    pub venue_id: Option<Uuid>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub timezone: Option<String>,
    pub lineup: Option<Vec<Slot>>,
    pub description: Option<String>,
}

/// The lineup fits the event and each set ends after it starts.
pub fn check_lineup(issues: &mut Issues, lineup: &[Slot], starts: DateTime<Utc>, ends: DateTime<Utc>) {
    issues.check(lineup.len() <= 50, "lineup", "at most 50 slots");
    for (i, slot) in lineup.iter().enumerate() {
        if let Some(s) = slot.set_start {
            issues.check(s >= starts && s < ends, &format!("lineup[{i}].setStart"), "must be within the event");
        }
        if let Some(e) = slot.set_end {
            issues.check(e > starts && e <= ends, &format!("lineup[{i}].setEnd"), "must be within the event");
        }
        if let (Some(s), Some(e)) = (slot.set_start, slot.set_end) {
            issues.check(e > s, &format!("lineup[{i}].setEnd"), "must be after setStart");
        }
    }
}

const MAX_DURATION_DAYS: i64 = 31;

pub fn check_times(issues: &mut Issues, starts: DateTime<Utc>, ends: DateTime<Utc>) {
    issues.check(ends > starts, "endsAt", "must be after startsAt");
    issues.check(
        ends - starts <= chrono::Duration::days(MAX_DURATION_DAYS),
        "endsAt",
        format!("an event lasts at most {MAX_DURATION_DAYS} days"),
    );
}

impl Validate for EventIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.text("name", &self.name, 200);
        check_times(&mut issues, self.starts_at, self.ends_at);
        if let Some(tz) = &self.timezone {
            issues.check(valid_timezone(tz), "timezone", "must be an IANA time zone such as Europe/Lisbon");
        }
        check_lineup(&mut issues, &self.lineup, self.starts_at, self.ends_at);
        issues.check(self.description.chars().count() <= 10_000, "description", "at most 10000 characters");
        issues.finish()
    }
}

impl Validate for EventPatch {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Some(name) = &self.name {
            issues.text("name", name, 200);
        }
        if let Some(tz) = &self.timezone {
            issues.check(valid_timezone(tz), "timezone", "must be an IANA time zone such as Europe/Lisbon");
        }
        if let Some(d) = &self.description {
            issues.check(d.chars().count() <= 10_000, "description", "at most 10000 characters");
        }
        issues.finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventFilter {
    pub q: Option<String>,
    pub status: Option<Status>,
    pub venue_id: Option<Uuid>,
    /// Events ending after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Events starting before this instant.
    pub to: Option<DateTime<Utc>>,
}

impl Validate for EventFilter {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Some(q) = &self.q {
            issues.check(q.chars().count() <= 100, "q", "at most 100 characters");
        }
        if let (Some(from), Some(to)) = (self.from, self.to) {
            issues.check(to > from, "to", "must be after from");
        }
        issues.finish()
    }
}

impl Patch<Event> for EventPatch {
    fn apply(self, target: &mut Event) {
        if let Some(name) = self.name {
            target.name = name.trim().to_owned();
        }
        if let Some(venue) = self.venue_id {
            target.venue_id = venue;
        }
        if let Some(s) = self.starts_at {
            target.starts_at = s;
        }
        if let Some(e) = self.ends_at {
            target.ends_at = e;
        }
        if let Some(tz) = self.timezone {
            target.timezone = tz;
        }
        if let Some(lineup) = self.lineup {
            target.lineup = lineup;
        }
        if let Some(d) = self.description {
            target.description = d;
        }
    }
}
