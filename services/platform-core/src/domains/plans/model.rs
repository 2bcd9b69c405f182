use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use marquee_kit::Validate;
use marquee_kit::extract::Issues;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanKind {
    Package,
    Addon,
}

impl PlanKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Package => "package",
            Self::Addon => "addon",
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            Self::Package => "package",
            Self::Addon => "add-on",
        }
    }
}

/// One version of a package or add-on.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub id: Uuid,
    #[serde(skip)]
    pub kind: Option<PlanKind>,
    pub code: String,
    pub version: u32,
    pub name: String,
    pub description: String,
    pub modules: BTreeSet<String>,
    pub permissions: BTreeSet<String>,
    pub limits: BTreeMap<String, i64>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// A new package or add-on (its first version).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewPlan {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub modules: BTreeSet<String>,
    #[serde(default)]
    pub permissions: Option<BTreeSet<String>>,
    #[serde(default)]
    pub limits: BTreeMap<String, i64>,
}

impl NewPlan {
    pub fn split(self) -> (String, PlanContents) {
        (
            self.code,
            PlanContents {
                name: self.name,
                description: self.description,
                modules: self.modules,
                permissions: self.permissions,
                limits: self.limits,
            },
        )
    }
}

/// What a version holds; a revision sends all of it.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanContents {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub modules: BTreeSet<String>,
    /// Omitted: every permission of the listed modules.
    #[serde(default)]
    pub permissions: Option<BTreeSet<String>>,
    #[serde(default)]
    pub limits: BTreeMap<String, i64>,
}

pub const MAX_LIMIT_VALUE: i64 = 1 << 50;

fn valid_code(code: &str) -> bool {
    let mut chars = code.chars();
    (2..=64).contains(&code.len())
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn valid_limit_name(name: &str) -> bool {
    let mut chars = name.chars();
    (1..=64).contains(&name.len())
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric())
}

impl PlanContents {
    fn check(&self, issues: &mut Issues) {
        issues.text("name", &self.name, 200);
        issues.check(self.description.chars().count() <= 2000, "description", "must be at most 2000 characters");
        issues.check(self.modules.len() <= 64, "modules", "at most 64 modules");
        if let Some(p) = &self.permissions {
            issues.check(p.len() <= 1000, "permissions", "at most 1000 permissions");
        }
        issues.check(self.limits.len() <= 64, "limits", "at most 64 limits");
        for (name, value) in &self.limits {
            if !valid_limit_name(name) {
                issues.add(&format!("limits.{name}"), "must be a camelCase name of letters and digits");
            } else if !(0..=MAX_LIMIT_VALUE).contains(value) {
                issues.add(&format!("limits.{name}"), format!("must be between 0 and {MAX_LIMIT_VALUE}"));
            }
        }
    }
}

impl Validate for PlanContents {
    fn validate(&self) -> Result<(), Vec<marquee_kit::FieldIssue>> {
        let mut issues = Issues::new();
        self.check(&mut issues);
        issues.finish()
    }
}

impl Validate for NewPlan {
    fn validate(&self) -> Result<(), Vec<marquee_kit::FieldIssue>> {
        let mut issues = Issues::new();
        issues.check(
            valid_code(&self.code),
            "code",
            "must be 2 to 64 lowercase letters, digits, '-' or '_', starting with a letter",
        );
        self.clone().split().1.check(&mut issues);
        issues.finish()
    }
}
