use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use marquee_guard::Ctx;
use marquee_kit::{ApiError, Created, Data, Json, PageParams, Paginated, Path, Query};

use super::model::{Account, AtDate, Entry, EntryIn, NewAccount, ReverseIn, StatementLine, TrialBalance};
use super::service;
use crate::state::AppState;
use uuid::Uuid;

pub async fn accounts(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Query(page): Query<PageParams>,
) -> Result<Paginated<Account>, ApiError> {
    let (items, total) = service::accounts(&state, &ctx, page.offset(), page.limit()).await?;
    Ok(Paginated { items, page, total })
}

pub async fn create_account(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Json(body): Json<NewAccount>,
) -> Result<Created<Account>, ApiError> {
    Ok(Created(service::create_account(&state, &ctx, body).await?))
}

pub async fn account(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Account>, ApiError> {
    Ok(Data(service::account(&state, &ctx, id).await?))
}

pub async fn balance(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Query(q): Query<AtDate>,
) -> Result<Data<serde_json::Value>, ApiError> {
    Ok(Data(service::balance_at(&state, &ctx, id, q.at).await?))
}

pub async fn statement(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Query(page): Query<PageParams>,
) -> Result<Paginated<StatementLine>, ApiError> {
    let (items, total) = service::statement(&state, &ctx, id, page.offset(), page.limit()).await?;
    Ok(Paginated { items, page, total })
}

/// 201 for a new entry; 200 with the original for a replay of its key.
pub async fn post(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Json(body): Json<EntryIn>,
) -> Result<Response, ApiError> {
    let (entry, replayed) = service::post(&state, &ctx, body).await?;
    Ok(if replayed { (StatusCode::OK, Data(entry)).into_response() } else { Created(entry).into_response() })
}

pub async fn entries(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Query(page): Query<PageParams>,
) -> Result<Paginated<Entry>, ApiError> {
    let (items, total) = service::entries(&state, &ctx, page.offset(), page.limit()).await?;
    Ok(Paginated { items, page, total })
}

pub async fn entry(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Entry>, ApiError> {
    Ok(Data(service::entry(&state, &ctx, id).await?))
}

pub async fn reverse(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(input): Json<ReverseIn>,
) -> Result<Created<Entry>, ApiError> {
    Ok(Created(service::reverse(&state, &ctx, id, input).await?))
}

pub async fn trial_balance(Ctx(ctx): Ctx, State(state): State<AppState>) -> Result<Data<TrialBalance>, ApiError> {
    Ok(Data(service::trial_balance(&state, &ctx).await?))
}
