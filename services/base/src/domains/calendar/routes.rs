use axum::extract::State;
use marquee_guard::Ctx;
use marquee_kit::{ApiError, Created, Data, Json, Path, Query};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{HoldIn, Item, Range, service};
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

pub async fn release(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Value>, ApiError> {
    service::release(&state, &ctx, id).await?;
    Ok(Data(json!({"released": true})))
}
