use chrono::{DateTime, Utc};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use marquee_webhooks::Secret;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Every event type an endpoint may subscribe to, and what it tells.
pub const EVENT_TYPES: [(&str, &str); 9] = [
    ("order.paid", "an order was paid; its tickets are issued"),
    ("order.refunded", "some or all of an order's tickets were refunded"),
    ("ticket.checked_in", "a ticket was admitted at a door"),
    ("event.status_changed", "an event was announced, put on sale, closed, canceled or completed"),
    ("offer.accepted", "a booking offer was accepted"),
    ("expense.approved", "an expense was approved by its reviewer (from financial)"),
    ("settlement.finalized", "an event's settlement was finalized (from financial)"),
    ("member.added", "someone joined the company (from auth)"),
    ("member.removed", "someone was removed from the company (from auth)"),
];

/// What a member must be able to see to subscribe to an event type: a
/// webhook never tells anyone more than they could read themselves.
pub fn permission_to_hear(event_type: &str) -> Option<&'static str> {
    match event_type {
        "order.paid" | "order.refunded" | "ticket.checked_in" => Some("basic.ticketing.view"),
        "event.status_changed" => Some("basic.event.view"),
        "offer.accepted" => Some("basic.offer.view"),
        "expense.approved" => Some("financial.expense.view"),
        "settlement.finalized" => Some("financial.settlement.view"),
        // Every member sees the company's members.
        _ => None,
    }
}

/// Endpoints a company may keep.
pub const MAX_ENDPOINTS: u64 = 20;

/// A receiver of the company's webhooks.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub id: Uuid,
    pub company_id: Uuid,
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub secret: Secret,
    /// The secret before the last rotation, still signing until then.
    pub previous: Option<(Secret, DateTime<Utc>)>,
    pub version: u64,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Endpoint {
    pub fn view(&self, now: DateTime<Utc>) -> EndpointOut {
        EndpointOut {
            id: self.id,
            url: self.url.clone(),
            description: self.description.clone(),
            event_types: self.event_types.clone(),
            enabled: self.enabled,
            disabled_reason: self.disabled_reason.clone(),
            previous_secret_until: self.previous.as_ref().map(|(_, until)| *until).filter(|until| *until > now),
            version: self.version,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// The secrets that sign at `now`: the current one, and the previous
    /// one while its overlap lasts.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&Secret> {
        let mut secrets = vec![&self.secret];
        if let Some((previous, until)) = &self.previous
            && *until > now
        {
            secrets.push(previous);
        }
        secrets
    }

    pub fn wants(&self, event_type: &str) -> bool {
        self.enabled && self.event_types.iter().any(|t| t == event_type)
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointOut {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Why Marquee disabled it (a 410 from the receiver), if it did.
    pub disabled_reason: Option<String>,
    /// While a rotation's overlap lasts, messages carry a signature by the
    /// previous secret too.
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub version: u64,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new endpoint, with its signing secret.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointCreated {
    #[serde(flatten)]
    pub endpoint: EndpointOut,
    /// `whsec_…`: give it to the receiver's verifier.
    pub secret: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretOut {
    pub secret: String,
    pub previous_secret_until: Option<DateTime<Utc>>,
}

fn check_types(issues: &mut Issues, types: &[String]) {
    issues.check(!types.is_empty(), "eventTypes", "name at least one event type");
    issues.check(types.len() <= EVENT_TYPES.len(), "eventTypes", "each event type once");
    for t in types {
        issues.check(
            EVENT_TYPES.iter().any(|(known, _)| known == t),
            "eventTypes",
            format!(
                "{} is not an event type; they are {}",
                t.chars().take(64).collect::<String>(),
                EVENT_TYPES.map(|(k, _)| k).join(", ")
            ),
        );
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EndpointIn {
    /// Where messages are POSTed: `https://…` (or `http://`).
    pub url: String,
    pub event_types: Vec<String>,
    #[serde(default)]
    pub description: String,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
}

impl Validate for EndpointIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Err(issue) = marquee_webhooks::check_url(&self.url) {
            issues.add("url", issue);
        }
        check_types(&mut issues, &self.event_types);
        issues.check(self.description.len() <= 500, "description", "at most 500 characters");
        issues.finish()
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EndpointEdit {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub description: Option<String>,
    /// Enabling again clears why it was disabled.
    pub enabled: Option<bool>,
}

impl Validate for EndpointEdit {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Some(url) = &self.url
            && let Err(issue) = marquee_webhooks::check_url(url)
        {
            issues.add("url", issue);
        }
        if let Some(types) = &self.event_types {
            check_types(&mut issues, types);
        }
        if let Some(d) = &self.description {
            issues.check(d.len() <= 500, "description", "at most 500 characters");
        }
        issues.check(
            self.url.is_some() || self.event_types.is_some() || self.description.is_some() || self.enabled.is_some(),
            "body",
            "change at least one of url, eventTypes, description, enabled",
        );
        issues.finish()
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RotateIn {
    /// How long the previous secret keeps signing beside the new one (0 to
    /// 168 hours; default 24).
    #[serde(default)]
    pub overlap_hours: Option<u32>,
}

impl Validate for RotateIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.check(self.overlap_hours.is_none_or(|h| h <= 168), "overlapHours", "0 to 168 hours");
        issues.finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    Succeeded,
    /// Out of attempts, refused by the receiver (410), or its endpoint disabled.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Self {
        match s {
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            _ => Self::Pending,
        }
    }
}

/// One message's delivery to one endpoint, as the log shows it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    /// The `webhook-id` every attempt carries (`msg_…`): de-duplicate on it.
    pub message_id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's status at the last attempt.
    pub last_status_code: Option<u16>,
    pub last_latency_ms: Option<i64>,
    /// The start of the receiver's last answer (at most 1 KiB).
    pub last_response: Option<String>,
    /// Why the last attempt got no answer.
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// An event type and what it tells.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventType {
    pub name: String,
    pub description: String,
}

pub fn message_id(id: Uuid) -> String {
    format!("msg_{}", id.simple())
}
