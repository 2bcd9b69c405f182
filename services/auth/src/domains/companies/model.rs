use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const OWNER: &str = "owner";
pub const ADMIN: &str = "admin";
pub const MEMBER: &str = "member";

/// The system roles every company starts with: name, description, permission patterns.
pub const SYSTEM_ROLES: [(&str, &str, &[&str]); 3] = [
    (OWNER, "Owns the company: everything, including its owners", &["*"]),
    (ADMIN, "Runs the company: everything but its owners", &["*"]),
    (MEMBER, "Sees everything, changes nothing", &["*.*.view"]),
];

/// Whether a permission pattern (`*`, `basic.*`, `*.*.view`, or an exact
/// name) covers a permission.
pub fn pattern_matches(pattern: &str, permission: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let mut p = pattern.split('.');
    let mut q = permission.split('.');
    loop {
        match (p.next(), q.next()) {
            (None, None) => return true,
            (Some("*"), Some(_)) => {
                // A trailing `*` covers the rest (`basic.*`).
                if pattern.ends_with(".*") && p.clone().next().is_none() {
                    return true;
                }
            }
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    Active,
    Suspended,
}

impl MemberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }
    pub fn parse(s: &str) -> Self {
        if s == "suspended" { Self::Suspended } else { Self::Active }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Company {
    pub id: Uuid,
    pub name: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub revision: u64,
    pub subscription_ready: bool,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub system: bool,
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleRef {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Membership {
    pub id: Uuid,
    pub company_id: Uuid,
    pub user_id: Uuid,
    pub status: MemberStatus,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub status: MemberStatus,
    pub roles: Vec<RoleRef>,
    pub grants: Vec<String>,
    pub joined_at: DateTime<Utc>,
}

/// A company as one of its members sees it in their list.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MyCompany {
    #[serde(flatten)]
    pub company: Company,
    pub membership_status: MemberStatus,
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }
    pub fn parse(s: &str) -> Self {
        match s {
            "accepted" => Self::Accepted,
            "revoked" => Self::Revoked,
            "expired" => Self::Expired,
            _ => Self::Pending,
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub id: Uuid,
    pub company_id: Uuid,
    pub email: String,
    pub role_ids: Vec<Uuid>,
    pub status: InvitationStatus,
    pub invited_by: Uuid,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    /// Only in the answer that created or re-sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantAuditEntry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_user_id: Uuid,
    pub action: String,
    pub target: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

// ---- inputs ----

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewCompany {
    pub name: String,
}

impl Validate for NewCompany {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.text("name", &self.name, 200);
        issues.finish()
    }
}

fn check_roles(issues: &mut Issues, field: &str, roles: &[Uuid]) {
    issues.check(roles.len() <= 20, field, "at most 20 roles");
}

fn check_grants(issues: &mut Issues, field: &str, grants: &BTreeSet<String>) {
    issues.check(grants.len() <= 500, field, "at most 500 permissions");
    for g in grants {
        issues.check(!g.is_empty() && g.len() <= 128, field, "permission names are 1 to 128 characters");
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddMember {
    pub email: String,
    #[serde(default)]
    pub role_ids: Vec<Uuid>,
}

impl Validate for AddMember {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Err(e) = crate::domains::users::model::Email::parse(&self.email) {
            issues.add("email", e);
        }
        check_roles(&mut issues, "roleIds", &self.role_ids);
        issues.finish()
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateMember {
    pub status: Option<MemberStatus>,
    pub role_ids: Option<Vec<Uuid>>,
    pub grants: Option<BTreeSet<String>>,
}

impl Validate for UpdateMember {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Some(r) = &self.role_ids {
            check_roles(&mut issues, "roleIds", r);
        }
        if let Some(g) = &self.grants {
            check_grants(&mut issues, "grants", g);
        }
        issues.check(
            self.status.is_some() || self.role_ids.is_some() || self.grants.is_some(),
            "body",
            "change at least one of status, roleIds, grants",
        );
        issues.finish()
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleIn {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub permissions: BTreeSet<String>,
}

impl Validate for RoleIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.text("name", &self.name, 100);
        issues.check(self.description.chars().count() <= 1000, "description", "at most 1000 characters");
        check_grants(&mut issues, "permissions", &self.permissions);
        issues.finish()
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleEdit {
    pub name: Option<String>,
    pub description: Option<String>,
    pub permissions: Option<BTreeSet<String>>,
}

impl Validate for RoleEdit {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Some(name) = &self.name {
            issues.text("name", name, 100);
        }
        if let Some(d) = &self.description {
            issues.check(d.chars().count() <= 1000, "description", "at most 1000 characters");
        }
        if let Some(p) = &self.permissions {
            check_grants(&mut issues, "permissions", p);
        }
        issues.finish()
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvitationIn {
    pub email: String,
    #[serde(default)]
    pub role_ids: Vec<Uuid>,
}

impl Validate for InvitationIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Err(e) = crate::domains::users::model::Email::parse(&self.email) {
            issues.add("email", e);
        }
        check_roles(&mut issues, "roleIds", &self.role_ids);
        issues.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::pattern_matches;

    #[test]
    fn patterns_cover_what_they_say() {
        assert!(pattern_matches("*", "basic.event.create"));
        assert!(pattern_matches("*.*.view", "financial.ledger.view"));
        assert!(!pattern_matches("*.*.view", "financial.ledger.post"));
        assert!(pattern_matches("basic.*", "basic.event.create"));
        assert!(!pattern_matches("basic.*", "financial.ledger.view"));
        assert!(pattern_matches("basic.event.create", "basic.event.create"));
        assert!(!pattern_matches("basic.event", "basic.event.create"));
        assert!(!pattern_matches("basic.event.create.x", "basic.event.create"));
    }
}
