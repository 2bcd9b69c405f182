//! The one table of financial's protected routes and their permissions.

use axum::http::Method;
use marquee_guard::{Guard, RouteTable};

use crate::domains::ledger::routes as ledger;
use crate::state::AppState;

pub fn table(guard: Guard) -> RouteTable<AppState> {
    RouteTable::new(guard)
        .route(Method::GET, "/v1/ledger/accounts", "financial.ledger.view", ledger::accounts)
        .route(Method::POST, "/v1/ledger/accounts", "financial.ledger.post", ledger::create_account)
        .route(Method::GET, "/v1/ledger/accounts/{id}", "financial.ledger.view", ledger::account)
        .route(Method::GET, "/v1/ledger/accounts/{id}/balance", "financial.ledger.view", ledger::balance)
        .route(Method::GET, "/v1/ledger/accounts/{id}/statement", "financial.ledger.view", ledger::statement)
        .route(Method::GET, "/v1/ledger/entries", "financial.ledger.view", ledger::entries)
        .route(Method::POST, "/v1/ledger/entries", "financial.ledger.post", ledger::post)
        .route(Method::GET, "/v1/ledger/entries/{id}", "financial.ledger.view", ledger::entry)
        .route(Method::POST, "/v1/ledger/entries/{id}/reverse", "financial.ledger.post", ledger::reverse)
        .route(Method::GET, "/v1/ledger/trial-balance", "financial.ledger.view", ledger::trial_balance)
}
