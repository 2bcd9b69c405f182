use axum::extract::State;
use marquee_guard::Ctx;
use marquee_kit::{ApiError, Created, Data, Deleted, IfMatch, Json, Path};
use uuid::Uuid;

use super::model::{AssignIn, Shift, ShiftIn, ShiftPatch};
use super::service;
use crate::state::AppState;
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
) -> Result<Data<Deleted>, ApiError> {
    service::delete_shift(&state, &ctx, id).await?;
    Ok(Deleted::YES)
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
