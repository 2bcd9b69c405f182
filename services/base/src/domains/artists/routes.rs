use axum::extract::State;
use marquee_guard::Ctx;
use marquee_kit::{ApiError, Created, Data, Deleted, Json, PageParams, Paginated, Path, Query};
use uuid::Uuid;

use super::model::{Artist, ArtistFilter, ArtistIn, ArtistPatch};
use super::service;
use crate::state::AppState;

pub async fn list(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Query(page): Query<PageParams>,
    Query(filter): Query<ArtistFilter>,
) -> Result<Paginated<Artist>, ApiError> {
    let (items, total) = service::list(&state, &ctx, &filter, page.offset(), page.limit()).await?;
    Ok(Paginated { items, page, total })
}

pub async fn create(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Json(body): Json<ArtistIn>,
) -> Result<Created<Artist>, ApiError> {
    Ok(Created(service::create(&state, &ctx, body).await?))
}

pub async fn show(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Artist>, ApiError> {
    Ok(Data(service::get(&state, &ctx, id).await?))
}

pub async fn update(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(body): Json<ArtistPatch>,
) -> Result<Data<Artist>, ApiError> {
    Ok(Data(service::update(&state, &ctx, id, body).await?))
}

pub async fn delete(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Deleted>, ApiError> {
    service::delete(&state, &ctx, id).await?;
    Ok(Deleted::YES)
}
