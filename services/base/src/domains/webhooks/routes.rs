use axum::extract::State;
use marquee_guard::Ctx;
use marquee_kit::{ApiError, Created, Data, Deleted, IfMatch, Json, PageParams, Paginated, Path, Query};
use uuid::Uuid;

use super::model::{Delivery, EndpointCreated, EndpointEdit, EndpointIn, EndpointOut, EventType, RotateIn, SecretOut};
use super::service;
use crate::state::AppState;

pub async fn event_types(Ctx(_ctx): Ctx) -> Result<Data<Vec<EventType>>, ApiError> {
    Ok(Data(service::event_types()))
}

pub async fn list(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Query(page): Query<PageParams>,
) -> Result<Paginated<EndpointOut>, ApiError> {
    let (items, total) = service::list(&state, &ctx, &page).await?;
    Ok(Paginated { items, page, total })
}

pub async fn create(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Json(body): Json<EndpointIn>,
) -> Result<Created<EndpointCreated>, ApiError> {
    Ok(Created(service::create(&state, &ctx, body).await?))
}

pub async fn show(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<EndpointOut>, ApiError> {
    Ok(Data(service::get(&state, &ctx, id).await?))
}

pub async fn update(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<EndpointEdit>,
) -> Result<Data<EndpointOut>, ApiError> {
    Ok(Data(service::update(&state, &ctx, id, if_match.0, body).await?))
}

pub async fn delete(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Deleted>, ApiError> {
    service::delete(&state, &ctx, id).await?;
    Ok(Deleted::YES)
}

pub async fn secret(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<SecretOut>, ApiError> {
    Ok(Data(service::secret(&state, &ctx, id).await?))
}

pub async fn rotate(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(body): Json<RotateIn>,
) -> Result<Data<SecretOut>, ApiError> {
    Ok(Data(service::rotate(&state, &ctx, id, body).await?))
}

pub async fn deliveries(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Query(page): Query<PageParams>,
) -> Result<Paginated<Delivery>, ApiError> {
    let (items, total) = service::deliveries(&state, &ctx, id, &page).await?;
    Ok(Paginated { items, page, total })
}

pub async fn redeliver(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Delivery>, ApiError> {
    Ok(Data(service::redeliver(&state, &ctx, id).await?))
}
