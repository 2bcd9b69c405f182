use std::sync::Arc;

use axum::extract::FromRef;
use marquee_bus::Bus;
use marquee_guard::TokenValidator;
use marquee_kit::Clock;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::config::Config;
use crate::domains::catalog::Catalog;
use crate::domains::plans::model::Plan;

marquee_service::app_state!(Shared);

/// Everything a request or a gRPC call needs, built once at start.
pub struct Shared {
    pub db: DatabaseConnection,
    /// Reads outside any transaction (beside SQLite's one writer;
    /// PostgreSQL's pool itself).
    pub reads: DatabaseConnection,
    pub catalog: Arc<Catalog>,
    pub tokens: TokenValidator,
    pub bus: Bus,
    pub clock: Clock,
    pub config: Arc<Config>,
    /// Plan versions by id. A version is never changed once written (a
    /// revision is a new version), so what is kept here is never stale.
    pub plans: moka::sync::Cache<Uuid, Plan>,
}

impl FromRef<AppState> for TokenValidator {
    fn from_ref(state: &AppState) -> Self {
        state.tokens.clone()
    }
}
