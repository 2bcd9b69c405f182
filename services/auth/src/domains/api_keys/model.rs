use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What every secret starts with, so it is recognised (and caught by secret
/// scanners) wherever it leaks.
pub const SECRET_PREFIX: &str = "mqk_";
/// Characters of the secret shown in listings: `mqk_` and eight more.
pub const VISIBLE: usize = 12;
/// Keys a company may hold that are neither revoked nor expired.
pub const MAX_LIVE_KEYS: u64 = 100;
/// The furthest expiry a key may be given.
pub const MAX_LIFETIME_DAYS: i64 = 3 * 366;

/// A stored key (its secret is never kept, only its hash).
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: Uuid,
    pub company_id: Uuid,
    pub name: String,
    pub prefix: String,
    pub permissions: BTreeSet<String>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    Active,
    Expired,
    Revoked,
}

impl ApiKey {
    pub fn status(&self, now: DateTime<Utc>) -> KeyStatus {
        if self.revoked_at.is_some() {
            KeyStatus::Revoked
        } else if self.expires_at.is_some_and(|at| at <= now) {
            KeyStatus::Expired
        } else {
            KeyStatus::Active
        }
    }

    pub fn usable(&self, now: DateTime<Utc>) -> bool {
        self.status(now) == KeyStatus::Active
    }

    pub fn view(&self, now: DateTime<Utc>) -> ApiKeyOut {
        ApiKeyOut {
            id: self.id,
            name: self.name.clone(),
            prefix: self.prefix.clone(),
            permissions: self.permissions.iter().cloned().collect(),
            status: self.status(now),
            created_by: self.created_by,
            created_at: self.created_at,
            expires_at: self.expires_at,
            last_used_at: self.last_used_at,
            revoked_at: self.revoked_at,
            revoked_by: self.revoked_by,
        }
    }
}

/// A key as its company's admins see it. `id` is the client id of the
/// client-credentials grant.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyOut {
    pub id: Uuid,
    pub name: String,
    /// The secret's first characters, to tell keys apart.
    pub prefix: String,
    pub permissions: Vec<String>,
    pub status: KeyStatus,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<Uuid>,
}

/// A new key, with its secret: the only time the secret is shown.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKeyOut,
    /// Shown once; only its hash is kept.
    pub secret: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewApiKey {
    pub name: String,
    /// Exact permission names from the catalog, each one the creator holds.
    pub permissions: BTreeSet<String>,
    /// When the key stops working; none: until revoked.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

impl Validate for NewApiKey {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.text("name", &self.name, 100);
        issues.check(!self.permissions.is_empty(), "permissions", "name at least one permission");
        issues.check(self.permissions.len() <= 500, "permissions", "at most 500 permissions");
        for p in &self.permissions {
            issues.check(
                !p.is_empty() && p.len() <= 128 && !p.contains('*'),
                "permissions",
                "exact permission names of 1 to 128 characters (no patterns)",
            );
        }
        issues.finish()
    }
}

/// The client-credentials grant (RFC 6749 §4.4): the key's id and secret.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenRequest {
    /// `client_credentials`.
    pub grant_type: String,
    /// The key's id.
    pub client_id: String,
    /// The key's secret.
    pub client_secret: String,
}

impl Validate for TokenRequest {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.check(self.grant_type == "client_credentials", "grantType", "only client_credentials is supported");
        issues.check(self.client_id.len() <= 64, "clientId", "at most 64 characters");
        issues.check(self.client_secret.len() <= 256, "clientSecret", "at most 256 characters");
        issues.finish()
    }
}

/// A short-lived access token for a key. There is no refresh token: the
/// integration asks again with its secret.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientToken {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u64,
    /// The company the key acts in (send it as `x-org`).
    pub company_id: Uuid,
    /// The permissions the key names (what it may do is also bounded by the
    /// company's plan and by what its creator still holds).
    pub permissions: Vec<String>,
}
