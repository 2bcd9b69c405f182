//! The calendar: events and date holds (tentative claims on a venue or an
//! artist, until they expire) in a date range, with conflicts flagged.

pub mod repo;
pub mod routes;
pub mod service;

use chrono::{DateTime, Utc};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Hold {
    pub id: Uuid,
    pub venue_id: Option<Uuid>,
    pub artist_id: Option<Uuid>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub note: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HoldIn {
    pub venue_id: Option<Uuid>,
    pub artist_id: Option<Uuid>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[serde(default)]
    pub note: String,
}

impl Validate for HoldIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.check(
            self.venue_id.is_some() || self.artist_id.is_some(),
            "venueId",
            "a hold is on a venue, an artist, or both",
        );
        crate::domains::events::model::check_times(&mut issues, self.starts_at, self.ends_at);
        issues.check(self.expires_at <= self.starts_at, "expiresAt", "must be no later than startsAt");
        issues.check(self.note.chars().count() <= 1000, "note", "at most 1000 characters");
        issues.finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Event,
    Hold,
}

/// One entry of the calendar.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub kind: Kind,
    pub id: Uuid,
    pub title: String,
    pub venue_id: Option<Uuid>,
    pub artist_ids: Vec<Uuid>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: String,
    pub expires_at: Option<DateTime<Utc>>,
    /// Other entries that overlap this one on the same venue or artist.
    pub conflicts: Vec<Uuid>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
pub struct Range {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

pub const MAX_RANGE_DAYS: i64 = 366;

impl Validate for Range {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.check(self.to > self.from, "to", "must be after from");
        issues.check(
            self.to - self.from <= chrono::Duration::days(MAX_RANGE_DAYS),
            "to",
            format!("a range spans at most {MAX_RANGE_DAYS} days"),
        );
        issues.finish()
    }
}

/// Marks every pair of entries that overlap in time and share a venue or an artist.
pub fn flag_conflicts(items: &mut [Item]) {
    let n = items.len();
    for i in 0..n {
        for j in (i + 1)..n {
            let (a, b) = (&items[i], &items[j]);
            let overlap = a.starts_at < b.ends_at && b.starts_at < a.ends_at;
            let shared = (a.venue_id.is_some() && a.venue_id == b.venue_id)
                || a.artist_ids.iter().any(|x| b.artist_ids.contains(x));
            if overlap && shared {
                let (ida, idb) = (a.id, b.id);
                items[i].conflicts.push(idb);
                items[j].conflicts.push(ida);
            }
        }
    }
}
