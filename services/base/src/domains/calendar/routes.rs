use axum::extract::State;
use marquee_guard::Ctx;
use marquee_kit::{ApiError, Created, Data, Json, Path, Query};
use uuid::Uuid;

use super::{BookingSettings, ConfirmIn, Hold, HoldFilter, HoldIn, Item, Range, holds, service};
use crate::state::AppState;

pub async fn calendar(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Query(range): Query<Range>,
) -> Result<Data<Vec<Item>>, ApiError> {
    Ok(Data(service::calendar(&state, &ctx, &range).await?))
}

pub async fn hold(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Json(body): Json<HoldIn>,
) -> Result<Created<Item>, ApiError> {
    Ok(Created(service::hold(&state, &ctx, body).await?))
}

/// Holds held (or in `status`), by venue and date.
pub async fn holds(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Query(filter): Query<HoldFilter>,
) -> Result<Data<Vec<Hold>>, ApiError> {
    Ok(Data(holds::list(&state, &ctx, &filter).await?))
}

pub async fn show(Ctx(ctx): Ctx, State(state): State<AppState>, Path(id): Path<Uuid>) -> Result<Data<Hold>, ApiError> {
    Ok(Data(holds::get(&state, &ctx, id).await?))
}

pub async fn release(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Hold>, ApiError> {
    Ok(Data(holds::release(&state, &ctx, id).await?))
}

/// Asks every hold above this one to confirm or release by a deadline.
pub async fn challenge(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Hold>, ApiError> {
    Ok(Data(holds::challenge(&state, &ctx, id).await?))
}

/// The first hold books its date on an event.
pub async fn confirm(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(body): Json<ConfirmIn>,
) -> Result<Data<Hold>, ApiError> {
    Ok(Data(holds::confirm(&state, &ctx, id, body).await?))
}

pub async fn settings(Ctx(ctx): Ctx, State(state): State<AppState>) -> Result<Data<BookingSettings>, ApiError> {
    Ok(Data(holds::settings(&state, &ctx).await?))
}

pub async fn put_settings(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Json(body): Json<BookingSettings>,
) -> Result<Data<BookingSettings>, ApiError> {
    Ok(Data(holds::put_settings(&state, &ctx, body).await?))
}
