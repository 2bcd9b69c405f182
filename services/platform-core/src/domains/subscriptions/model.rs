use chrono::{DateTime, Duration, Utc};
use marquee_kit::Validate;
use marquee_kit::extract::Issues;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domains::plans::Plan;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Trialing,
    Active,
    PastDue,
    Canceled,
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trialing => "trialing",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Canceled => "canceled",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Trialing, Self::Active, Self::PastDue, Self::Canceled, Self::Expired]
            .into_iter()
            .find(|status| status.as_str() == s)
    }

    /// Whether `self → to` may happen, and whether it needs a new period.
    pub fn transition(from: Option<Self>, to: Self) -> Transition {
        use Status::*;
        match (from, to) {
            (None, Trialing | Active) => Transition::Allowed,
            (None, PastDue | Canceled | Expired) => Transition::Refused,
            (Some(Trialing), Trialing | Active | Canceled | Expired) => Transition::Allowed,
            (Some(Trialing), PastDue) => Transition::Refused,
            (Some(Active), Active | PastDue | Canceled | Expired) => Transition::Allowed,
            (Some(Active), Trialing) => Transition::Refused,
            (Some(PastDue), PastDue | Active | Canceled | Expired) => Transition::Allowed,
            (Some(PastDue), Trialing) => Transition::Refused,
            (Some(Canceled), Canceled | Expired) => Transition::Allowed,
            (Some(Canceled | Expired), Trialing | Active) => Transition::NeedsNewPeriod,
            (Some(Expired), Expired) => Transition::Allowed,
            (Some(Canceled | Expired), PastDue) | (Some(Expired), Canceled) => Transition::Refused,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Allowed,
    NeedsNewPeriod,
    Refused,
}

/// A company's subscription.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub company_id: Uuid,
    pub status: Status,
    pub package: Plan,
    pub addons: Vec<Plan>,
    pub current_period_start: DateTime<Utc>,
    pub current_period_end: DateTime<Utc>,
    pub trial_ends_at: Option<DateTime<Utc>>,
    pub past_due_since: Option<DateTime<Utc>>,
    pub grace_days: u32,
    pub revision: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

impl Subscription {
    /// Whether the subscription entitles anything at `now`, and until when
    /// that stays true by the passing of time alone.
    pub fn entitles_at(&self, now: DateTime<Utc>) -> (bool, Option<DateTime<Utc>>) {
        match self.status {
            Status::Active => (true, None),
            Status::Trialing => match self.trial_ends_at {
                Some(end) => (now < end, (now < end).then_some(end)),
                None => (true, None),
            },
            Status::PastDue => {
                let since = self.past_due_since.unwrap_or(self.updated_at);
                let grace_end = since + Duration::days(i64::from(self.grace_days));
                (now < grace_end, (now < grace_end).then_some(grace_end))
            }
            Status::Canceled | Status::Expired => (false, None),
        }
    }
}

/// One recorded change of a subscription.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionChange {
    pub id: Uuid,
    pub company_id: Uuid,
    pub revision: u64,
    pub from_status: Option<Status>,
    pub to_status: Status,
    pub package_id: Uuid,
    pub addon_ids: Vec<Uuid>,
    pub actor: String,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// `PUT /v1/companies/{id}/subscription`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetSubscription {
    pub package_code: String,
    /// Omitted: the version the company is on, or the latest for a new package.
    pub package_version: Option<u32>,
    #[serde(default)]
    pub addon_codes: Vec<String>,
    pub status: Status,
    pub current_period_start: Option<DateTime<Utc>>,
    pub current_period_end: Option<DateTime<Utc>>,
    pub trial_ends_at: Option<DateTime<Utc>>,
    pub grace_days: Option<u32>,
    pub note: Option<String>,
}

impl Validate for SetSubscription {
    fn validate(&self) -> Result<(), Vec<marquee_kit::FieldIssue>> {
        let mut issues = Issues::new();
        issues.text("packageCode", &self.package_code, 64);
        issues.check(self.package_version != Some(0), "packageVersion", "versions start at 1");
        issues.check(self.addon_codes.len() <= 32, "addonCodes", "at most 32 add-ons");
        for (i, code) in self.addon_codes.iter().enumerate() {
            issues.check(
                !code.trim().is_empty() && code.len() <= 64,
                &format!("addonCodes[{i}]"),
                "must be an add-on code",
            );
        }
        if let (Some(start), Some(end)) = (self.current_period_start, self.current_period_end) {
            issues.check(end > start, "currentPeriodEnd", "must be after currentPeriodStart");
        }
        issues.check(self.grace_days.is_none_or(|d| d <= 90), "graceDays", "must be between 0 and 90");
        if let Some(note) = &self.note {
            issues.check(note.chars().count() <= 1000, "note", "must be at most 1000 characters");
        }
        issues.finish()
    }
}
