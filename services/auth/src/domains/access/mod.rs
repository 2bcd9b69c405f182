//! Effective access: what a member may do in a company, computed only here as
//! `entitlements(company) ∩ grants(member)`, with the reason for any answer.

pub mod routes;
pub mod service;

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

/// Grants per (company, user, company revision): a change of revision is a
/// different key, so no write can leave a stale entry behind. Beside them,
/// what each member's grants last gave under the company's entitlements.
#[derive(Clone)]
pub struct GrantsCache {
    grants: moka::future::Cache<(Uuid, Uuid, u64), Arc<service::Grants>>,
    effective: moka::sync::Cache<(Uuid, Uuid), Arc<service::Effective>>,
}

impl Default for GrantsCache {
    fn default() -> Self {
        Self {
            grants: moka::future::Cache::builder().max_capacity(200_000).time_to_live(Duration::from_secs(300)).build(),
            effective: moka::sync::Cache::builder().max_capacity(20_000).time_to_idle(Duration::from_secs(300)).build(),
        }
    }
}
