//! Vendors: the suppliers of a show (catering, sound, lighting, security, ...).

pub mod repo;
pub mod routes;
pub mod service;

use crate::patch::Patch;
use chrono::{DateTime, Utc};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domains::artists::model::{Contact, check_contacts};

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Vendor {
    pub id: Uuid,
    pub name: String,
    pub category: String,
    pub contacts: Vec<Contact>,
    pub services: Vec<String>,
    pub created_by: Uuid,
    pub updated_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VendorIn {
    pub name: String,
    pub category: String,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub services: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VendorPatch {
    pub name: Option<String>,
    pub category: Option<String>,
    pub contacts: Option<Vec<Contact>>,
    pub services: Option<Vec<String>>,
}

fn check_services(issues: &mut Issues, services: &[String]) {
    issues.check(services.len() <= 50, "services", "at most 50 services");
    for (i, s) in services.iter().enumerate() {
        issues.text(&format!("services[{i}]"), s, 100);
    }
}

impl Validate for VendorIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.text("name", &self.name, 200);
        issues.text("category", &self.category, 50);
        check_contacts(&mut issues, &self.contacts);
        check_services(&mut issues, &self.services);
        issues.finish()
    }
}

impl Validate for VendorPatch {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Some(name) = &self.name {
            issues.text("name", name, 200);
        }
        if let Some(c) = &self.category {
            issues.text("category", c, 50);
        }
        if let Some(contacts) = &self.contacts {
            check_contacts(&mut issues, contacts);
        }
        if let Some(services) = &self.services {
            check_services(&mut issues, services);
        }
        issues.finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
pub struct VendorFilter {
    pub q: Option<String>,
    pub category: Option<String>,
    #[serde(default)]
    pub sort: crate::listing::Sort,
}

impl Validate for VendorFilter {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        for (field, value) in [("q", &self.q), ("category", &self.category)] {
            if let Some(v) = value {
                issues.check(v.chars().count() <= 100, field, "at most 100 characters");
            }
        }
        issues.finish()
    }
}

impl Patch<Vendor> for VendorPatch {
    fn apply(self, target: &mut Vendor) {
        if let Some(name) = self.name {
            target.name = name.trim().to_owned();
        }
        if let Some(category) = self.category {
            target.category = category.trim().to_owned();
        }
        if let Some(contacts) = self.contacts {
            target.contacts = contacts;
        }
        if let Some(services) = self.services {
            target.services = services;
        }
    }
}
