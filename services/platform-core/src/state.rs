use std::sync::Arc;

use axum::extract::FromRef;
use marquee_bus::Bus;
use marquee_guard::TokenValidator;
use marquee_kit::Clock;
use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::domains::catalog::Catalog;

/// Everything a request or a gRPC call needs, built once at start.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub catalog: Arc<Catalog>,
    pub tokens: TokenValidator,
    pub bus: Bus,
    pub clock: Clock,
    pub config: Arc<Config>,
}

impl FromRef<AppState> for TokenValidator {
    fn from_ref(state: &AppState) -> Self {
        state.tokens.clone()
    }
}
