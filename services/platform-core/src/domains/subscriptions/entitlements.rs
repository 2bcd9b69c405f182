//! What a subscription entitles: the package version's modules, permissions
//! and limits, extended by its add-ons, while the subscription entitles at
//! all. A permission counts only if its module is enabled. Add-on limits add
//! to the package's.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::model::Subscription;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entitlements {
    pub company_id: Uuid,
    pub entitled: bool,
    pub subscription_status: Option<&'static str>,
    pub package_code: Option<String>,
    pub package_version: Option<u32>,
    pub addon_codes: Vec<String>,
    pub modules: BTreeSet<String>,
    pub permissions: BTreeSet<String>,
    pub limits: BTreeMap<String, i64>,
    pub revision: u64,
    pub valid_until: Option<DateTime<Utc>>,
}

impl Entitlements {
    /// A company without a subscription: nothing.
    pub fn none(company_id: Uuid) -> Self {
        Self {
            company_id,
            entitled: false,
            subscription_status: None,
            package_code: None,
            package_version: None,
            addon_codes: Vec::new(),
            modules: BTreeSet::new(),
            permissions: BTreeSet::new(),
            limits: BTreeMap::new(),
            revision: 0,
            valid_until: None,
        }
    }

    pub fn of(subscription: &Subscription, module_of: impl Fn(&str) -> Option<String>, now: DateTime<Utc>) -> Self {
        let (entitled, valid_until) = subscription.entitles_at(now);
        let mut out = Self {
            entitled,
            subscription_status: Some(subscription.status.as_str()),
            package_code: Some(subscription.package.code.clone()),
            package_version: Some(subscription.package.version),
            addon_codes: subscription.addons.iter().map(|a| a.code.clone()).collect(),
            revision: subscription.revision,
            valid_until,
            ..Self::none(subscription.company_id)
        };
        if !entitled {
            return out;
        }
        let plans = std::iter::once(&subscription.package).chain(&subscription.addons);
        for plan in plans.clone() {
            out.modules.extend(plan.modules.iter().cloned());
            for (name, value) in &plan.limits {
                let total = out.limits.entry(name.clone()).or_insert(0);
                *total = total.saturating_add(*value);
            }
        }
        out.permissions = plans
            .flat_map(|p| p.permissions.iter())
            .filter(|perm| module_of(perm).is_some_and(|m| out.modules.contains(&m)))
            .cloned()
            .collect();
        out
    }
}
