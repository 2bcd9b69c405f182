use crate::domains::operators::Operator;
use axum::extract::State;
use axum::http::Method;
use marquee_kit::openapi::DocRouter;

use crate::state::AppState;

pub fn router() -> DocRouter<AppState> {
    DocRouter::new().route(Method::GET, "/v1/modules", list)
}

async fn list(_operator: Operator, State(state): State<AppState>) -> marquee_kit::Data<Vec<super::Module>> {
    marquee_kit::Data(state.catalog.modules().to_vec())
}
