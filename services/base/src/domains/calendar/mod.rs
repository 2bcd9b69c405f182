//! The calendar: events and date holds (tentative claims on a venue or an
//! artist, until they expire) in a date range, with conflicts flagged.

pub mod holds;
pub mod repo;
pub mod routes;
pub mod service;

use chrono::{DateTime, NaiveDate, Utc};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HoldStatus {
    /// In force, ranked in its lane when on a venue.
    Held,
    /// Confirmed as 1st: the date is booked and `eventId` is its event.
    Booked,
    /// Let go by a member.
    Released,
    /// Ran past `expiresAt`.
    Expired,
    /// Challenged and not confirmed by the deadline.
    Lapsed,
    /// Released because another hold booked the date.
    Superseded,
}

impl HoldStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Booked => "booked",
            Self::Released => "released",
            Self::Expired => "expired",
            Self::Lapsed => "lapsed",
            Self::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Held, Self::Booked, Self::Released, Self::Expired, Self::Lapsed, Self::Superseded]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// A lower hold asked the holds above it to confirm or release by `deadline`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Challenge {
    pub by_hold_id: Uuid,
    pub deadline: DateTime<Utc>,
}

/// A tentative claim on a date. Holds on a venue are ranked per lane (the
/// venue, or one of its spaces, on one date): 1st, 2nd, 3rd… with no two of
/// a rank, and the ranks below move up when one leaves.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Hold {
    pub id: Uuid,
    pub venue_id: Option<Uuid>,
    /// A space of the venue, or none for the whole venue.
    pub space: Option<String>,
    pub artist_id: Option<Uuid>,
    /// The date of the lane (ranked holds only).
    pub date: Option<NaiveDate>,
    /// 1 is first; none once no longer held, or for a hold on an artist only.
    pub rank: Option<u32>,
    /// The member who answers for the hold and is mailed about it.
    pub owner_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub note: String,
    pub status: HoldStatus,
    pub challenge: Option<Challenge>,
    /// The event a confirmed hold booked.
    pub event_id: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Hold {
    /// The lane a ranked hold stands in.
    pub fn lane(&self) -> Option<Lane> {
        match (self.venue_id, self.date) {
            (Some(venue), Some(date)) => Some(Lane { venue, space: self.space.clone().unwrap_or_default(), date }),
            _ => None,
        }
    }
}

/// A venue (or one of its spaces) on one date: where ranks are counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lane {
    pub venue: Uuid,
    /// Empty for the whole venue.
    pub space: String,
    pub date: NaiveDate,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HoldIn {
    pub venue_id: Option<Uuid>,
    /// One of the venue's spaces, by name; the whole venue without it.
    pub space: Option<String>,
    pub artist_id: Option<Uuid>,
    /// The show's date, for the lane; the date of `startsAt` (UTC) without it.
    pub date: Option<NaiveDate>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[serde(default)]
    pub note: String,
    /// A member of the company; the caller without it.
    pub owner_id: Option<Uuid>,
}

impl Validate for HoldIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.check(
            self.venue_id.is_some() || self.artist_id.is_some(),
            "venueId",
            "a hold is on a venue, an artist, or both",
        );
        issues.check(self.space.is_none() || self.venue_id.is_some(), "space", "a space is one of a venue's");
        issues.check(
            self.date.is_none() || self.venue_id.is_some(),
            "date",
            "only holds on a venue are ranked by date",
        );
        crate::domains::events::model::check_times(&mut issues, self.starts_at, self.ends_at);
        issues.check(self.expires_at <= self.starts_at, "expiresAt", "must be no later than startsAt");
        issues.check(self.note.chars().count() <= 1000, "note", "at most 1000 characters");
        issues.finish()
    }
}

/// `POST /v1/calendar/holds/{id}/confirm`: books the date on an event, new or
/// existing.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfirmIn {
    /// An event of the company at the hold's venue to link; without it, a
    /// draft event is created for the hold's times.
    pub event_id: Option<Uuid>,
    /// The new event's name; the hold's note, or "Show", without it.
    pub name: Option<String>,
}

impl Validate for ConfirmIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Some(name) = &self.name {
            issues.text("name", name, 200);
        }
        issues.check(self.event_id.is_none() || self.name.is_none(), "name", "a linked event keeps its name");
        issues.finish()
    }
}

/// A company's booking rules.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BookingSettings {
    /// How long a challenged hold has to confirm or release, in hours.
    pub challenge_hours: u32,
}

pub const DEFAULT_CHALLENGE_HOURS: u32 = 48;

impl Validate for BookingSettings {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.check((1..=720).contains(&self.challenge_hours), "challengeHours", "between 1 and 720 hours");
        issues.finish()
    }
}

/// `GET /v1/calendar/holds`: a lane's holds, or every hold in force.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HoldFilter {
    pub venue_id: Option<Uuid>,
    pub date: Option<NaiveDate>,
    pub status: Option<HoldStatus>,
}

impl Validate for HoldFilter {}

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
    /// A hold's rank in its lane (1 is first).
    pub rank: Option<u32>,
    /// A hold's running challenge.
    pub challenge: Option<Challenge>,
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

/// Conflicts listed on one entry at most; the calendar stays bounded however
/// crowded a date gets.
pub const MAX_CONFLICTS_SHOWN: usize = 50;

/// A venue's or an artist's entries: conflicts only arise within one lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Track {
    Venue(Uuid),
    Artist(Uuid),
}

/// Marks entries that overlap in time and share a venue or an artist. Each
/// lane is swept in start order keeping only the entries still running, so
/// the work follows the overlaps, not the square of the entries. `items` must
/// be sorted by start.
pub fn flag_conflicts(items: &mut [Item]) {
    let mut lanes: std::collections::HashMap<Track, Vec<usize>> = std::collections::HashMap::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(venue) = item.venue_id {
            lanes.entry(Track::Venue(venue)).or_default().push(i);
        }
        for artist in &item.artist_ids {
            lanes.entry(Track::Artist(*artist)).or_default().push(i);
        }
    }
    let mut pairs = std::collections::BTreeSet::new();
    for lane in lanes.values() {
        let mut running: Vec<usize> = Vec::new();
        for &i in lane {
            running.retain(|&j| items[j].ends_at > items[i].starts_at);
            for &j in &running {
                if items[j].starts_at < items[i].ends_at {
                    pairs.insert((j.min(i), j.max(i)));
                }
            }
            running.push(i);
        }
    }
    for (a, b) in pairs {
        let (ida, idb) = (items[a].id, items[b].id);
        if items[a].conflicts.len() < MAX_CONFLICTS_SHOWN {
            items[a].conflicts.push(idb);
        }
        if items[b].conflicts.len() < MAX_CONFLICTS_SHOWN {
            items[b].conflicts.push(ida);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;

    fn item(start_h: i64, end_h: i64, venue: Option<Uuid>, artists: &[Uuid]) -> Item {
        let day = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        Item {
            kind: Kind::Hold,
            id: Uuid::now_v7(),
            title: String::new(),
            venue_id: venue,
            artist_ids: artists.to_vec(),
            starts_at: day + Duration::hours(start_h),
            ends_at: day + Duration::hours(end_h),
            status: "held".into(),
            expires_at: None,
            rank: None,
            challenge: None,
            conflicts: Vec::new(),
        }
    }

    /// The sweep finds exactly the pairs a comparison of every pair finds.
    #[test]
    fn the_sweep_agrees_with_comparing_every_pair() {
        let venues = [Uuid::now_v7(), Uuid::now_v7()];
        let artists = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
        let mut seed = 7u64;
        let mut next = |m: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % m
        };
        let mut items = Vec::new();
        for _ in 0..300 {
            let start = next(400) as i64;
            let len = 1 + next(12) as i64;
            let venue = (next(3) < 2).then(|| venues[next(2) as usize]);
            let who: Vec<Uuid> = artists.iter().copied().filter(|_| next(4) == 0).collect();
            items.push(item(start, start + len, venue, &who));
        }
        items.sort_by_key(|i| (i.starts_at, i.id));
        let mut swept = items.clone();
        flag_conflicts(&mut swept);
        for (i, a) in items.iter().enumerate() {
            let mut expected: Vec<Uuid> = items
                .iter()
                .enumerate()
                .filter(|(j, b)| {
                    *j != i
                        && a.starts_at < b.ends_at
                        && b.starts_at < a.ends_at
                        && ((a.venue_id.is_some() && a.venue_id == b.venue_id)
                            || a.artist_ids.iter().any(|x| b.artist_ids.contains(x)))
                })
                .map(|(_, b)| b.id)
                .collect();
            assert!(expected.len() < MAX_CONFLICTS_SHOWN, "the case stays below the cap");
            let mut found = swept[i].conflicts.clone();
            expected.sort();
            found.sort();
            assert_eq!(found, expected, "entry {i}");
        }
    }

    #[test]
    fn a_crowded_date_lists_at_most_the_cap() {
        let venue = Uuid::now_v7();
        let mut items: Vec<Item> = (0..200).map(|_| item(0, 5, Some(venue), &[])).collect();
        items.sort_by_key(|i| (i.starts_at, i.id));
        flag_conflicts(&mut items);
        assert!(items.iter().all(|i| i.conflicts.len() == MAX_CONFLICTS_SHOWN));
    }
}
