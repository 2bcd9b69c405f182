//! Venues: where events happen, their address, timezone, capacity and spaces.

pub mod repo;
pub mod routes;
pub mod service;

use crate::patch::Patch;
use chrono::{DateTime, Utc};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Address {
    pub line1: String,
    #[serde(default)]
    pub line2: Option<String>,
    pub city: String,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    /// ISO-3166 alpha-2.
    pub country: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Space {
    pub name: String,
    pub capacity: u32,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Venue {
    pub id: Uuid,
    pub name: String,
    pub address: Address,
    pub timezone: String,
    pub capacity: u32,
    pub spaces: Vec<Space>,
    pub created_by: Uuid,
    pub updated_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VenueIn {
    pub name: String,
    pub address: Address,
    pub timezone: String,
    pub capacity: u32,
    #[serde(default)]
    pub spaces: Vec<Space>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VenuePatch {
    pub name: Option<String>,
    pub address: Option<Address>,
    pub timezone: Option<String>,
    pub capacity: Option<u32>,
    pub spaces: Option<Vec<Space>>,
}

pub const MAX_CAPACITY: u32 = 1_000_000;

/// An IANA zone name such as `Europe/Lisbon`, or `UTC`.
pub fn valid_timezone(tz: &str) -> bool {
    tz == "UTC"
        || (tz.len() <= 64
            && tz.contains('/')
            && tz.split('/').all(|part| {
                !part.is_empty()
                    && part.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                    && part.chars().all(|c| c.is_ascii_alphanumeric() || "_-+".contains(c))
            }))
}

fn check_address(issues: &mut Issues, a: &Address) {
    issues.text("address.line1", &a.line1, 200);
    issues.text("address.city", &a.city, 100);
    issues.check(
        a.country.len() == 2 && a.country.chars().all(|c| c.is_ascii_uppercase()),
        "address.country",
        "must be an ISO-3166 code such as PT",
    );
    for (field, value) in
        [("address.line2", &a.line2), ("address.region", &a.region), ("address.postalCode", &a.postal_code)]
    {
        if let Some(v) = value {
            issues.check(v.chars().count() <= 100, field, "at most 100 characters");
        }
    }
}

fn check_spaces(issues: &mut Issues, spaces: &[Space], capacity: Option<u32>) {
    issues.check(spaces.len() <= 50, "spaces", "at most 50 spaces");
    for (i, s) in spaces.iter().enumerate() {
        issues.text(&format!("spaces[{i}].name"), &s.name, 100);
        issues.check(
            capacity.is_none_or(|c| s.capacity <= c),
            &format!("spaces[{i}].capacity"),
            "cannot exceed the venue's capacity",
        );
    }
}

impl Validate for VenueIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.text("name", &self.name, 200);
        check_address(&mut issues, &self.address);
        issues.check(valid_timezone(&self.timezone), "timezone", "must be an IANA time zone such as Europe/Lisbon");
        issues.check(self.capacity <= MAX_CAPACITY, "capacity", format!("must be at most {MAX_CAPACITY}"));
        check_spaces(&mut issues, &self.spaces, Some(self.capacity));
        issues.finish()
    }
}

impl Validate for VenuePatch {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Some(name) = &self.name {
            issues.text("name", name, 200);
        }
        if let Some(a) = &self.address {
            check_address(&mut issues, a);
        }
        if let Some(tz) = &self.timezone {
            issues.check(valid_timezone(tz), "timezone", "must be an IANA time zone such as Europe/Lisbon");
        }
        if let Some(c) = self.capacity {
            issues.check(c <= MAX_CAPACITY, "capacity", format!("must be at most {MAX_CAPACITY}"));
        }
        if let Some(spaces) = &self.spaces {
            check_spaces(&mut issues, spaces, self.capacity);
        }
        issues.finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
pub struct VenueFilter {
    pub q: Option<String>,
    pub city: Option<String>,
    #[serde(default)]
    pub sort: crate::listing::Sort,
}

impl Validate for VenueFilter {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        for (field, value) in [("q", &self.q), ("city", &self.city)] {
            if let Some(v) = value {
                issues.check(v.chars().count() <= 100, field, "at most 100 characters");
            }
        }
        issues.finish()
    }
}

impl Patch<Venue> for VenuePatch {
    fn apply(self, target: &mut Venue) {
        if let Some(name) = self.name {
            target.name = name.trim().to_owned();
        }
        if let Some(address) = self.address {
            target.address = address;
        }
        if let Some(tz) = self.timezone {
            target.timezone = tz;
        }
        if let Some(capacity) = self.capacity {
            target.capacity = capacity;
        }
        if let Some(spaces) = self.spaces {
            target.spaces = spaces;
        }
    }
}
