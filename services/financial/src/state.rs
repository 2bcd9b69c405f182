use std::sync::Arc;

use marquee_guard::Guard;
use marquee_kit::Clock;
use sea_orm::DatabaseConnection;

use crate::config::Config;

marquee_service::app_state!(Shared);

/// Everything a request needs, built once at start.
pub struct Shared {
    pub db: DatabaseConnection,
    /// Reads outside any transaction (beside SQLite's one writer;
    /// PostgreSQL's pool itself).
    pub reads: DatabaseConnection,
    pub clock: Clock,
    pub config: Arc<Config>,
    pub guard: Guard,
    /// Posted entries go through it (group commit).
    pub ledger: crate::domains::ledger::service::Writer,
    /// Facts from base go through it (group commit).
    pub facts: crate::domains::records::service::FactWriter,
}
