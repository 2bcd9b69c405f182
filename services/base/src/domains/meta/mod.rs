//! What clients and auditors may ask about the service itself.

use axum::extract::State;
use marquee_guard::RoutePermission;

use crate::state::AppState;

/// Every protected route and the permission it needs.
pub async fn permissions(State(state): State<AppState>) -> marquee_kit::Ok<Vec<RoutePermission>> {
    marquee_kit::Ok(state.routes.as_ref().clone())
}
