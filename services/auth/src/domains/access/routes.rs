use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::Method;
use marquee_kit::extract::{Issues, Validate};
use marquee_kit::openapi::DocRouter;
use marquee_kit::{ApiError, Data, FieldIssue, Path, Query};
use serde::Deserialize;
use uuid::Uuid;

use super::service::{self, Access, Explanation};
use crate::domains::sessions::SignedIn;
use crate::error::Error;
use crate::state::AppState;

pub fn router() -> DocRouter<AppState> {
    DocRouter::new().route(Method::GET, "/v1/me/access", my_access).route(
        Method::GET,
        "/v1/companies/{id}/access/explain",
        explain,
    )
}

/// The company named by `x-org`: 400 when missing or not a UUID.
pub fn org(headers: &HeaderMap) -> Result<Uuid, ApiError> {
    let raw = headers
        .get("x-org")
        .ok_or_else(|| ApiError::bad_request("MISSING_ORG", "the x-org header must name the company"))?;
    raw.to_str()
        .ok()
        .and_then(|s| Uuid::parse_str(s.trim()).ok())
        .ok_or_else(|| ApiError::bad_request("MALFORMED_ORG", "x-org must be a company id (UUID)"))
}

/// `x-access-revision`, when the client asks to read its own write.
pub fn min_revision(headers: &HeaderMap) -> Result<u64, ApiError> {
    match headers.get("x-access-revision") {
        None => Ok(0),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| ApiError::field("x-access-revision", "must be a whole number")),
    }
}

async fn my_access(me: SignedIn, State(state): State<AppState>, headers: HeaderMap) -> Result<Data<Access>, ApiError> {
    let company = org(&headers)?;
    let access = service::resolve(&state, company, me.claims.sub, min_revision(&headers)?).await?;
    Ok(Data(access))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ExplainQuery {
    user_id: Uuid,
    permission: String,
}

impl Validate for ExplainQuery {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.text("permission", &self.permission, 128);
        issues.finish()
    }
}

async fn explain(
    me: SignedIn,
    State(state): State<AppState>,
    Path(company): Path<Uuid>,
    Query(q): Query<ExplainQuery>,
) -> Result<Data<Explanation>, ApiError> {
    let asker = service::grants(&state, &state.db, company, me.claims.sub).await?;
    if !asker.active() {
        return Err(Error::NoCompany.into());
    }
    if !asker.is_admin() {
        return Err(Error::TenantAdminRequired.into());
    }
    Ok(Data(service::explain(&state, company, q.user_id, &q.permission).await?))
}
