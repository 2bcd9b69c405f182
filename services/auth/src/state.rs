use std::sync::Arc;

use axum::extract::FromRef;
use marquee_counters::{Budgets, Counters};
use marquee_guard::TokenValidator;
use marquee_kit::Clock;
use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::crypto::Passwords;
use crate::domains::access::GrantsCache;
use crate::domains::keys::KeyRing;
use crate::events::Events;
use crate::platform::Platform;
use marquee_mail::Outbox;

marquee_service::app_state!(Shared);

/// Everything a request or a gRPC call needs, built once at start.
pub struct Shared {
    pub db: DatabaseConnection,
    /// Reads outside any transaction (beside SQLite's one writer;
    /// PostgreSQL's pool itself): the hot paths' reads before their writes.
    pub reads: DatabaseConnection,
    pub clock: Clock,
    pub config: Arc<Config>,
    pub keys: KeyRing,
    pub passwords: Passwords,
    /// Exact counts: an account's budget and its failed sign-ins.
    pub counters: Counters,
    /// Per-address budgets, counted on this replica and shared in the
    /// background ([`Budgets`]): an address's budget costs a request no
    /// round trip to Redis.
    pub address_budgets: Budgets,
    pub outbox: Outbox,
    pub platform: Platform,
    pub events: Events,
    pub grants_cache: GrantsCache,
    /// Refresh rotations go through it (group commit).
    pub rotations: crate::domains::sessions::service::Rotations,
}

impl FromRef<AppState> for TokenValidator {
    fn from_ref(state: &AppState) -> Self {
        state.keys.validator()
    }
}
