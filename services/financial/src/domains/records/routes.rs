//! `/v1/expenses` and `/v1/incomes`: the same shape, one per kind.

use axum::extract::State;
use marquee_guard::Ctx;
use marquee_kit::{ApiError, Created, Data, Json, PageParams, Paginated, Path, Query};
use serde::Serialize;
use uuid::Uuid;

use super::model::{DecisionIn, Edit, Kind, ParkedFact, Record, RecordFilter, RecordIn, SubmitIn, Transition};
use super::service;
use crate::state::AppState;

const fn kind(expense: bool) -> Kind {
    if expense { Kind::Expense } else { Kind::Income }
}

#[derive(Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WithHistory {
    #[serde(flatten)]
    record: Record,
    history: Vec<Transition>,
    /// Every edit of the draft: who, when, each changed field before and after.
    edits: Vec<Edit>,
}

pub async fn list<const E: bool>(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Query(page): Query<PageParams>,
    Query(filter): Query<RecordFilter>,
) -> Result<Paginated<Record>, ApiError> {
    let (items, total) = service::list(&state, &ctx, kind(E), &filter, page.offset(), page.limit()).await?;
    Ok(Paginated { items, page, total })
}

pub async fn create<const E: bool>(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Json(body): Json<RecordIn>,
) -> Result<Created<Record>, ApiError> {
    Ok(Created(service::create(&state, &ctx, kind(E), body).await?))
}

pub async fn show<const E: bool>(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<WithHistory>, ApiError> {
    let (record, history, edits) = service::get(&state, &ctx, kind(E), id).await?;
    Ok(Data(WithHistory { record, history, edits }))
}

pub async fn update<const E: bool>(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(body): Json<RecordIn>,
) -> Result<Data<Record>, ApiError> {
    Ok(Data(service::update(&state, &ctx, kind(E), id, body).await?))
}

pub async fn submit<const E: bool>(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(body): Json<SubmitIn>,
) -> Result<Data<Record>, ApiError> {
    Ok(Data(service::submit(&state, &ctx, kind(E), id, body).await?))
}

pub async fn approve<const E: bool>(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(body): Json<DecisionIn>,
) -> Result<Data<Record>, ApiError> {
    Ok(Data(service::decide(&state, &ctx, kind(E), id, true, body).await?))
}

pub async fn reject<const E: bool>(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(body): Json<DecisionIn>,
) -> Result<Data<Record>, ApiError> {
    Ok(Data(service::decide(&state, &ctx, kind(E), id, false, body).await?))
}

pub async fn pay<const E: bool>(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Record>, ApiError> {
    Ok(Data(service::pay(&state, &ctx, kind(E), id).await?))
}

/// Facts from base that could not be recorded, with why.
pub async fn parked(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Query(page): Query<PageParams>,
) -> Result<Paginated<ParkedFact>, ApiError> {
    let (items, total) = service::parked(&state, &ctx, page.offset(), page.limit()).await?;
    Ok(Paginated { items, page, total })
}
