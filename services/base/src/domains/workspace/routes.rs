use axum::extract::State;
use marquee_guard::Ctx;
use marquee_kit::{ApiError, Created, Data, Deleted, Json, PageParams, Paginated, Path, Query};
use uuid::Uuid;

use super::model::{Board, BoardIn, BoardPatch, Comment, CommentIn, Task, TaskFilter, TaskIn, TaskPatch};
use super::service;
use crate::state::AppState;

pub async fn boards(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Query(page): Query<PageParams>,
) -> Result<Paginated<Board>, ApiError> {
    let (items, total) = service::boards(&state, &ctx, page.offset(), page.limit()).await?;
    Ok(Paginated { items, page, total })
}

pub async fn create_board(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Json(body): Json<BoardIn>,
) -> Result<Created<Board>, ApiError> {
    Ok(Created(service::create_board(&state, &ctx, body).await?))
}

pub async fn board(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Board>, ApiError> {
    Ok(Data(service::board(&state, &ctx, id).await?))
}

pub async fn update_board(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(body): Json<BoardPatch>,
) -> Result<Data<Board>, ApiError> {
    Ok(Data(service::update_board(&state, &ctx, id, body).await?))
}

pub async fn delete_board(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Deleted>, ApiError> {
    service::delete_board(&state, &ctx, id).await?;
    Ok(Deleted::YES)
}

pub async fn tasks(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Query(page): Query<PageParams>,
    Query(filter): Query<TaskFilter>,
) -> Result<Paginated<Task>, ApiError> {
    let (items, total) = service::tasks(&state, &ctx, &filter, page.offset(), page.limit()).await?;
    Ok(Paginated { items, page, total })
}

pub async fn create_task(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Json(body): Json<TaskIn>,
) -> Result<Created<Task>, ApiError> {
    Ok(Created(service::create_task(&state, &ctx, body).await?))
}

pub async fn task(Ctx(ctx): Ctx, State(state): State<AppState>, Path(id): Path<Uuid>) -> Result<Data<Task>, ApiError> {
    Ok(Data(service::task(&state, &ctx, id).await?))
}

pub async fn update_task(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(body): Json<TaskPatch>,
) -> Result<Data<Task>, ApiError> {
    Ok(Data(service::update_task(&state, &ctx, id, body).await?))
}

pub async fn delete_task(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Deleted>, ApiError> {
    service::delete_task(&state, &ctx, id).await?;
    Ok(Deleted::YES)
}

pub async fn comments(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Query(page): Query<PageParams>,
) -> Result<Paginated<Comment>, ApiError> {
    let (items, total) = service::comments(&state, &ctx, id, page.offset(), page.limit()).await?;
    Ok(Paginated { items, page, total })
}

pub async fn comment(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(body): Json<CommentIn>,
) -> Result<Created<Comment>, ApiError> {
    Ok(Created(service::comment(&state, &ctx, id, body).await?))
}
