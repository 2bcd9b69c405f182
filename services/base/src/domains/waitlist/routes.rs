use axum::extract::State;
use marquee_guard::Ctx;
use marquee_kit::{ApiError, Created, Data, Json, PageParams, Paginated, Path, Query};
use uuid::Uuid;

use super::model::{Entry, EntryFilter, EntryIn};
use super::service;
use crate::domains::orders::model::Order;
use crate::error::Error;
use crate::state::AppState;

pub async fn join(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(event): Path<Uuid>,
    Json(body): Json<EntryIn>,
) -> Result<Created<Entry>, ApiError> {
    Ok(Created(service::join(&state, &ctx, event, body).await?))
}

pub async fn list(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(event): Path<Uuid>,
    Query(page): Query<PageParams>,
    Query(filter): Query<EntryFilter>,
) -> Result<Paginated<Entry>, ApiError> {
    let (items, total) = service::list(&state, &ctx, event, &filter, page.offset(), page.limit()).await?;
    Ok(Paginated { items, page, total })
}

/// The reservation a waiting-list offer's one-time link holds.
pub async fn offer(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Data<Order>, ApiError> {
    if token.len() > 100 {
        return Err(Error::NotFound("offer").into());
    }
    Ok(Data(service::offer(&state, &ctx, &token).await?))
}
