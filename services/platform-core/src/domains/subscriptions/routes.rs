use crate::domains::operators::Operator;
use axum::extract::State;
use axum::http::Method;
use marquee_kit::openapi::DocRouter;
use marquee_kit::{ApiError, Data, Json, PageParams, Paginated, Path, Query};
use uuid::Uuid;

use super::model::{SetSubscription, Subscription, SubscriptionChange};
use super::{Entitlements, service};
use crate::state::AppState;

pub fn router() -> DocRouter<AppState> {
    DocRouter::new()
        .route(Method::GET, "/v1/companies/{id}/subscription", show)
        .route(Method::PUT, "/v1/companies/{id}/subscription", set)
        .route(Method::GET, "/v1/companies/{id}/subscription/history", history)
        .route(Method::GET, "/v1/companies/{id}/entitlements", entitlements)
}

async fn show(
    _operator: Operator,
    State(state): State<AppState>,
    Path(company): Path<Uuid>,
) -> Result<Data<Subscription>, ApiError> {
    let subscription = service::get(&state, company).await?.ok_or_else(|| ApiError::not_found("subscription"))?;
    Ok(Data(subscription))
}

async fn set(
    Operator(operator): Operator,
    State(state): State<AppState>,
    Path(company): Path<Uuid>,
    Json(body): Json<SetSubscription>,
) -> Result<Data<Subscription>, ApiError> {
    Ok(Data(service::set(&state, company, body, operator.sub.to_string()).await?))
}

async fn history(
    _operator: Operator,
    State(state): State<AppState>,
    Path(company): Path<Uuid>,
    Query(page): Query<PageParams>,
) -> Result<Paginated<SubscriptionChange>, ApiError> {
    let (items, total) = service::history(&state, company, page).await?;
    Ok(Paginated { items, page, total })
}

async fn entitlements(
    _operator: Operator,
    State(state): State<AppState>,
    Path(company): Path<Uuid>,
) -> Result<Data<Entitlements>, ApiError> {
    Ok(Data(service::entitlements(&state, company).await?))
}
