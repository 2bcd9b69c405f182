use crate::domains::sessions::SignedInAdmin;
use axum::extract::State;
use axum::http::Method;
use marquee_kit::extract::Validate;
use marquee_kit::openapi::DocRouter;
use marquee_kit::{ApiError, PageParams, Paginated, Query};
use serde::Deserialize;
use uuid::Uuid;

use super::{AuditEntry, repo};
use crate::error::Error;
use crate::state::AppState;

pub fn router() -> DocRouter<AppState> {
    DocRouter::new().route(Method::GET, "/v1/admin/audit", list)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Filter {
    user_id: Option<Uuid>,
    action: Option<String>,
}

impl Validate for Filter {}

async fn list(
    _operator: SignedInAdmin,
    State(state): State<AppState>,
    Query(page): Query<PageParams>,
    Query(filter): Query<Filter>,
) -> Result<Paginated<AuditEntry>, ApiError> {
    let (items, total) = repo::list(&state.db, filter.user_id, filter.action.as_deref(), page.offset(), page.limit())
        .await
        .map_err(Error::from)?;
    Ok(Paginated { items, page, total })
}
