use axum::extract::State;
use marquee_guard::Ctx;
use marquee_kit::extract::Validate;
use marquee_kit::{ApiError, Created, Data, Json, PageParams, Paginated, Path, Query};
use serde::Deserialize;
use uuid::Uuid;

use super::model::{Payout, PayoutIn, Settlement, SettlementIn};
use super::service;
use crate::domains::deals;
use crate::domains::deals::sheet::Sheet;
use crate::domains::ledger::model::valid_currency;
use crate::state::AppState;

pub async fn list(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Query(page): Query<PageParams>,
) -> Result<Paginated<Settlement>, ApiError> {
    let (items, total) = service::list(&state, &ctx, page.offset(), page.limit()).await?;
    Ok(Paginated { items, page, total })
}

pub async fn create(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Json(body): Json<SettlementIn>,
) -> Result<Created<Settlement>, ApiError> {
    Ok(Created(service::create(&state, &ctx, body).await?))
}

pub async fn show(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Settlement>, ApiError> {
    Ok(Data(service::get(&state, &ctx, id).await?))
}

/// The settlement's sheet: live while a draft, frozen once final.
pub async fn sheet(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Sheet>, ApiError> {
    Ok(Data(service::sheet(&state, &ctx, id).await?))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreviewQuery {
    event_id: Uuid,
    currency: String,
}

impl Validate for PreviewQuery {
    fn validate(&self) -> Result<(), Vec<marquee_kit::FieldIssue>> {
        let mut issues = marquee_kit::extract::Issues::new();
        issues.check(valid_currency(&self.currency), "currency", "must be an ISO-4217 code such as EUR");
        issues.finish()
    }
}

/// The sheet an event would settle on now, before any settlement exists.
pub async fn preview(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Query(query): Query<PreviewQuery>,
) -> Result<Data<Sheet>, ApiError> {
    Ok(Data(deals::service::preview(&state, &ctx, query.event_id, &query.currency).await?))
}

pub async fn finalize(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Settlement>, ApiError> {
    Ok(Data(service::finalize(&state, &ctx, id).await?))
}

/// Voids the settlement; a final one has its booking reversed.
pub async fn void(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Settlement>, ApiError> {
    Ok(Data(service::void(&state, &ctx, id).await?))
}

pub async fn pay(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(body): Json<PayoutIn>,
) -> Result<Created<Payout>, ApiError> {
    Ok(Created(service::payout(&state, &ctx, id, body).await?))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PayoutFilter {
    settlement_id: Option<Uuid>,
}

impl Validate for PayoutFilter {}

pub async fn payouts(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Query(filter): Query<PayoutFilter>,
) -> Result<Data<Vec<Payout>>, ApiError> {
    Ok(Data(service::payouts(&state, &ctx, filter.settlement_id).await?))
}
