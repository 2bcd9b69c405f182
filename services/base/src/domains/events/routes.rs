use axum::extract::State;
use marquee_guard::Ctx;
use marquee_kit::{ApiError, Created, Data, Deleted, IfMatch, Json, PageParams, Paginated, Path, Query};
use uuid::Uuid;

use super::model::{Action, Event, EventFilter, EventIn, EventPatch};
use super::service;
use crate::error::Error;
use crate::state::AppState;

pub async fn list(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Query(page): Query<PageParams>,
    Query(filter): Query<EventFilter>,
) -> Result<Paginated<Event>, ApiError> {
    let (items, total) = service::list(&state, &ctx, &filter, page.offset(), page.limit()).await?;
    Ok(Paginated { items, page, total })
}

pub async fn create(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Json(body): Json<EventIn>,
) -> Result<Created<Event>, ApiError> {
    Ok(Created(service::create(&state, &ctx, body).await?))
}

pub async fn show(Ctx(ctx): Ctx, State(state): State<AppState>, Path(id): Path<Uuid>) -> Result<Data<Event>, ApiError> {
    Ok(Data(service::get(&state, &ctx, id).await?))
}

pub async fn update(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<EventPatch>,
) -> Result<Data<Event>, ApiError> {
    Ok(Data(service::update(&state, &ctx, id, body, if_match.0).await?))
}

pub async fn delete(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Deleted>, ApiError> {
    service::delete(&state, &ctx, id).await?;
    Ok(Deleted::YES)
}

/// `POST /v1/events/{id}/{action}`: announce, start-sales, sell-out, reopen-sales, complete, cancel.
pub async fn act(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path((id, action)): Path<(Uuid, String)>,
    if_match: IfMatch,
) -> Result<Data<Event>, ApiError> {
    let action = Action::parse(&action).ok_or(Error::NotFound("action"))?;
    Ok(Data(service::transition(&state, &ctx, id, action, if_match.0).await?))
}
