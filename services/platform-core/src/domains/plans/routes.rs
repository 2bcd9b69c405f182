//! `/v1/packages` and `/v1/addons`: the same shape, one per kind.

use crate::domains::operators::Operator;
use axum::extract::State;
use axum::http::Method;
use marquee_kit::openapi::DocRouter;
use marquee_kit::{ApiError, Created, Data, Json, PageParams, Paginated, Path, Query};
use serde::Serialize;

use super::model::{NewPlan, Plan, PlanContents, PlanKind};
use super::service;
use crate::state::AppState;

pub fn router() -> DocRouter<AppState> {
    DocRouter::new()
        .route(Method::GET, "/v1/packages", list::<true>)
        .route(Method::POST, "/v1/packages", create::<true>)
        .route(Method::GET, "/v1/packages/{code}", show::<true>)
        .route(Method::PUT, "/v1/packages/{code}", revise::<true>)
        .route(Method::GET, "/v1/packages/{code}/versions/{version}", version::<true>)
        .route(Method::GET, "/v1/addons", list::<false>)
        .route(Method::POST, "/v1/addons", create::<false>)
        .route(Method::GET, "/v1/addons/{code}", show::<false>)
        .route(Method::PUT, "/v1/addons/{code}", revise::<false>)
        .route(Method::GET, "/v1/addons/{code}/versions/{version}", version::<false>)
}

const fn kind(package: bool) -> PlanKind {
    if package { PlanKind::Package } else { PlanKind::Addon }
}

async fn list<const PACKAGE: bool>(
    _operator: Operator,
    State(state): State<AppState>,
    Query(page): Query<PageParams>,
) -> Result<Paginated<Plan>, ApiError> {
    let (items, total) = service::list_latest(&state, kind(PACKAGE), page).await?;
    Ok(Paginated { items, page, total })
}

async fn create<const PACKAGE: bool>(
    Operator(operator): Operator,
    State(state): State<AppState>,
    Json(body): Json<NewPlan>,
) -> Result<Created<Plan>, ApiError> {
    Ok(Created(service::create(&state, kind(PACKAGE), body, operator.sub).await?))
}

#[derive(Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct PlanWithVersions {
    #[serde(flatten)]
    latest: Plan,
    versions: Vec<u32>,
}

async fn show<const PACKAGE: bool>(
    _operator: Operator,
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Data<PlanWithVersions>, ApiError> {
    let mut versions = service::versions(&state, kind(PACKAGE), &code).await?;
    let numbers = versions.iter().map(|p| p.version).collect();
    let latest = versions.remove(0);
    Ok(Data(PlanWithVersions { latest, versions: numbers }))
}

async fn revise<const PACKAGE: bool>(
    Operator(operator): Operator,
    State(state): State<AppState>,
    Path(code): Path<String>,
    Json(body): Json<PlanContents>,
) -> Result<Created<Plan>, ApiError> {
    Ok(Created(service::revise(&state, kind(PACKAGE), &code, body, operator.sub).await?))
}

async fn version<const PACKAGE: bool>(
    _operator: Operator,
    State(state): State<AppState>,
    Path((code, version)): Path<(String, u32)>,
) -> Result<Data<Plan>, ApiError> {
    Ok(Data(service::get(&state, kind(PACKAGE), &code, Some(version)).await?))
}
