use axum::Router;
use axum::extract::State;
use axum::routing::get;
use marquee_guard::PlatformAdmin;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/modules", get(list))
}

async fn list(_operator: PlatformAdmin, State(state): State<AppState>) -> marquee_kit::Ok<Vec<super::Module>> {
    marquee_kit::Ok(state.catalog.modules().to_vec())
}
