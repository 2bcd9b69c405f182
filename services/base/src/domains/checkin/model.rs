use chrono::{DateTime, Utc};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One public ticket key, as a JSON Web Key (RFC 8037).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TicketKey {
    /// Always `OKP`.
    pub kty: String,
    /// Always `Ed25519`.
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    pub kid: String,
    /// Always `EdDSA`.
    pub alg: String,
    #[serde(rename = "use")]
    pub use_: String,
}

/// The keys a scanner checks ticket signatures with, offline.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TicketKeys {
    pub keys: Vec<TicketKey>,
}

/// What a ticket's token says: ticket, event and ticket type.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TicketClaims {
    /// The ticket.
    pub t: Uuid,
    /// Its event.
    pub e: Uuid,
    /// Its ticket type.
    pub y: Uuid,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckinList {
    pub id: Uuid,
    pub event_id: Uuid,
    pub name: String,
    /// The ticket types it admits; every type of the event when empty.
    pub ticket_type_ids: Vec<Uuid>,
    /// Whether a ticket that left may come in again.
    pub allow_reentry: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckinListIn {
    pub name: String,
    #[serde(default)]
    pub ticket_type_ids: Vec<Uuid>,
    #[serde(default)]
    pub allow_reentry: bool,
}

impl Validate for CheckinListIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.text("name", &self.name, 200);
        issues.check(self.ticket_type_ids.len() <= 50, "ticketTypeIds", "must name at most 50 ticket types");
        let mut seen = std::collections::HashSet::new();
        issues.check(
            self.ticket_type_ids.iter().all(|t| seen.insert(*t)),
            "ticketTypeIds",
            "must not name a type twice",
        );
        issues.finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    In,
    Out,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::In => "in",
            Self::Out => "out",
        }
    }
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScanIn {
    /// The ticket's token, as scanned.
    pub ticket: String,
    /// Chosen by the scanner for this scan; a retry sends the same one.
    pub nonce: String,
    #[serde(default)]
    pub direction: Direction,
    /// When the scanner saw the ticket (its own clock).
    pub scanned_at: DateTime<Utc>,
    pub gate: String,
}

impl ScanIn {
    pub fn check(&self, issues: &mut Issues, at: &str) {
        issues.text(&format!("{at}ticket"), &self.ticket, 4096);
        issues.text(&format!("{at}nonce"), &self.nonce, 100);
        issues.text(&format!("{at}gate"), &self.gate, 100);
    }
}

impl Validate for ScanIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        self.check(&mut issues, "");
        issues.finish()
    }
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScanBatchIn {
    pub scans: Vec<ScanIn>,
}

impl Validate for ScanBatchIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.check((1..=500).contains(&self.scans.len()), "scans", "must hold 1 to 500 scans");
        for (n, scan) in self.scans.iter().enumerate() {
            scan.check(&mut issues, &format!("scans[{n}]."));
        }
        issues.finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScanResult {
    /// In (or out) through this gate.
    Accepted,
    /// This nonce was answered before: `original` says how.
    Duplicate,
    /// Already inside, or already used on a list without re-entry.
    AlreadyInside,
    /// Leaving without being inside.
    NotInside,
    /// The ticket was refunded.
    Refunded,
    /// Not a ticket of this list: forged, of another event or type, or unknown.
    Unknown,
}

impl ScanResult {
    pub const ALL: [Self; 6] =
        [Self::Accepted, Self::Duplicate, Self::AlreadyInside, Self::NotInside, Self::Refunded, Self::Unknown];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Duplicate => "duplicate",
            Self::AlreadyInside => "already_inside",
            Self::NotInside => "not_inside",
            Self::Refunded => "refunded",
            Self::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScanOut {
    pub nonce: String,
    pub result: ScanResult,
    /// How the nonce was first answered, for a duplicate.
    pub original: Option<ScanResult>,
    pub ticket_id: Option<Uuid>,
    pub ticket_type_id: Option<Uuid>,
    pub attendee_name: Option<String>,
}
