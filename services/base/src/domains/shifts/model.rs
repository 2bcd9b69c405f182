//! Shifts and their assignments, as the API shows and takes them.

use chrono::{DateTime, Duration, Utc};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domains::crew::model::check_skills;

pub const MAX_HEADCOUNT: u32 = 1_000;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Shift {
    pub id: Uuid,
    pub event_id: Uuid,
    pub name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub required_skills: Vec<String>,
    pub headcount: u32,
    pub filled: u32,
    /// The crew members assigned, in the order they were assigned.
    pub assigned: Vec<Uuid>,
    pub created_by: Uuid,
    pub updated_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Raised by every change and assignment; send it back as `If-Match`.
    pub version: u64,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShiftIn {
    pub name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[serde(default)]
    pub required_skills: Vec<String>,
    pub headcount: u32,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShiftPatch {
    pub name: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub required_skills: Option<Vec<String>>,
    pub headcount: Option<u32>,
}

impl crate::patch::Patch<Shift> for ShiftPatch {
    fn apply(self, target: &mut Shift) {
        if let Some(name) = self.name {
            target.name = name.trim().to_owned();
        }
        if let Some(starts_at) = self.starts_at {
            target.starts_at = starts_at;
        }
        if let Some(ends_at) = self.ends_at {
            target.ends_at = ends_at;
        }
        if let Some(skills) = self.required_skills {
            target.required_skills = crate::domains::crew::model::normalise_skills(&skills);
        }
        if let Some(headcount) = self.headcount {
            target.headcount = headcount;
        }
    }
}

fn check_times(issues: &mut Issues, start: DateTime<Utc>, end: DateTime<Utc>) {
    issues.check(end > start, "endsAt", "must be after startsAt");
    issues.check(end - start <= Duration::hours(24), "endsAt", "a shift lasts at most 24 hours");
}

fn check_headcount(issues: &mut Issues, headcount: u32) {
    issues.check(
        (1..=MAX_HEADCOUNT).contains(&headcount),
        "headcount",
        format!("must be between 1 and {MAX_HEADCOUNT}"),
    );
}

impl Validate for ShiftIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.text("name", &self.name, 200);
        check_times(&mut issues, self.starts_at, self.ends_at);
        check_skills(&mut issues, "requiredSkills", &self.required_skills);
        check_headcount(&mut issues, self.headcount);
        issues.finish()
    }
}

impl Validate for ShiftPatch {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Some(n) = &self.name {
            issues.text("name", n, 200);
        }
        if let (Some(s), Some(e)) = (self.starts_at, self.ends_at) {
            check_times(&mut issues, s, e);
        }
        if let Some(s) = &self.required_skills {
            check_skills(&mut issues, "requiredSkills", s);
        }
        if let Some(h) = self.headcount {
            check_headcount(&mut issues, h);
        }
        issues.finish()
    }
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssignIn {
    pub crew_id: Uuid,
}

impl Validate for AssignIn {}
