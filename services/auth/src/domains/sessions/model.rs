use std::time::Duration;

use chrono::{DateTime, Utc};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domains::users::model::{Email, MAX_PASSWORD_BYTES};

#[derive(Debug, Clone)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

impl Session {
    /// Not revoked, within its absolute lifetime, and used recently enough.
    pub fn is_live(&self, now: DateTime<Utc>, idle_timeout: Duration) -> bool {
        let idle = chrono::Duration::from_std(idle_timeout).unwrap_or(chrono::Duration::MAX);
        self.revoked_at.is_none() && now < self.expires_at && now < self.last_seen_at + idle
    }
}

/// What a user sees of their sessions.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionOut {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub current: bool,
}

/// Tokens handed to a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    pub expires_in: u64,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginIn {
    pub email: String,
    pub password: String,
}

impl LoginIn {
    pub fn email(&self) -> Result<Email, FieldIssue> {
        Email::parse(&self.email).map_err(|e| FieldIssue::new("email", e))
    }
}

impl Validate for LoginIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Err(issue) = self.email() {
            issues.add(&issue.field, issue.issue);
        }
        issues.check(!self.password.is_empty(), "password", "is required");
        issues.check(self.password.len() <= MAX_PASSWORD_BYTES, "password", "is too long");
        issues.finish()
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshIn {
    pub refresh_token: String,
}

impl Validate for RefreshIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.check(!self.refresh_token.is_empty() && self.refresh_token.len() <= 200, "refreshToken", "is required");
        issues.finish()
    }
}

/// Why a session ended.
#[derive(Debug, Clone, Copy)]
pub enum RevokeReason {
    Logout,
    ReuseDetected,
    PasswordChanged,
    PasswordReset,
    UserRevoked,
    AdminDisabled,
}

impl RevokeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::ReuseDetected => "refresh_reuse_detected",
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::UserRevoked => "revoked_by_user",
            Self::AdminDisabled => "account_disabled",
        }
    }
}
