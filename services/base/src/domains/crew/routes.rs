use axum::extract::State;
use marquee_guard::Ctx;
use marquee_kit::{ApiError, Created, Data, IfMatch, Json, PageParams, Paginated, Path, Query};
use serde_json::{Value, json};
use uuid::Uuid;

use super::model::{AssignIn, CrewFilter, CrewIn, CrewMember, CrewPatch, Shift, ShiftIn, ShiftPatch};
use super::service;
use crate::state::AppState;

pub async fn list(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Query(page): Query<PageParams>,
    Query(filter): Query<CrewFilter>,
) -> Result<Paginated<CrewMember>, ApiError> {
    let (items, total) = service::list(&state, &ctx, &filter, page.offset(), page.limit()).await?;
    Ok(Paginated { items, page, total })
}

pub async fn create(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Json(body): Json<CrewIn>,
) -> Result<Created<CrewMember>, ApiError> {
    Ok(Created(service::create(&state, &ctx, body).await?))
}

pub async fn show(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<CrewMember>, ApiError> {
    Ok(Data(service::get(&state, &ctx, id).await?))
}

pub async fn update(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(body): Json<CrewPatch>,
) -> Result<Data<CrewMember>, ApiError> {
    Ok(Data(service::update(&state, &ctx, id, body).await?))
}

pub async fn delete(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Value>, ApiError> {
    service::delete(&state, &ctx, id).await?;
    Ok(Data(json!({"deleted": true})))
}

pub async fn shifts(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(event): Path<Uuid>,
) -> Result<Data<Vec<Shift>>, ApiError> {
    Ok(Data(service::shifts(&state, &ctx, event).await?))
}

pub async fn create_shift(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(event): Path<Uuid>,
    Json(body): Json<ShiftIn>,
) -> Result<Created<Shift>, ApiError> {
    Ok(Created(service::create_shift(&state, &ctx, event, body).await?))
}

pub async fn shift(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Shift>, ApiError> {
    Ok(Data(service::shift(&state, &ctx, id).await?))
}

pub async fn update_shift(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<ShiftPatch>,
) -> Result<Data<Shift>, ApiError> {
    Ok(Data(service::update_shift(&state, &ctx, id, body, if_match.0).await?))
}

pub async fn delete_shift(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Value>, ApiError> {
    service::delete_shift(&state, &ctx, id).await?;
    Ok(Data(json!({"deleted": true})))
}

pub async fn assign(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(body): Json<AssignIn>,
) -> Result<Data<Shift>, ApiError> {
    Ok(Data(service::assign(&state, &ctx, id, body).await?))
}

pub async fn unassign(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path((id, crew)): Path<(Uuid, Uuid)>,
) -> Result<Data<Shift>, ApiError> {
    Ok(Data(service::unassign(&state, &ctx, id, crew).await?))
}
