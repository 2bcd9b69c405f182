//! Effective access: what a member may do in a company, computed only here as
//! `entitlements(company) ∩ grants(member)`, with the reason for any answer.

pub mod routes;
pub mod service;

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

/// Grants per (company, user, company revision): a change of revision is a
/// different key, so no write can leave a stale entry behind.
#[derive(Clone)]
pub struct GrantsCache(moka::future::Cache<(Uuid, Uuid, u64), Arc<service::Grants>>);

impl Default for GrantsCache {
    fn default() -> Self {
        Self(moka::future::Cache::builder().max_capacity(200_000).time_to_live(Duration::from_secs(300)).build())
    }
}
