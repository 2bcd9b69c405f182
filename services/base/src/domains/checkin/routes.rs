use axum::extract::State;
use marquee_guard::Ctx;
use marquee_kit::{ApiError, Created, Data, Json, Path};
use uuid::Uuid;

use super::model::{CheckinList, CheckinListIn, ScanBatchIn, ScanIn, ScanOut, TicketKeys};
use super::{keys, service};
use crate::domains::events::repo as events;
use crate::error::Error;
use crate::state::AppState;

pub async fn ticket_keys(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(event): Path<Uuid>,
) -> Result<Data<TicketKeys>, ApiError> {
    events::find(&state.db, ctx.company_id, event).await.map_err(Error::from)?.ok_or(Error::NotFound("event"))?;
    Ok(Data(keys::published(&state, ctx.company_id).await?))
}

pub async fn lists(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(event): Path<Uuid>,
) -> Result<Data<Vec<CheckinList>>, ApiError> {
    Ok(Data(service::lists(&state, &ctx, event).await?))
}

pub async fn create_list(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(event): Path<Uuid>,
    Json(body): Json<CheckinListIn>,
) -> Result<Created<CheckinList>, ApiError> {
    Ok(Created(service::create_list(&state, &ctx, event, body).await?))
}

/// One scan; its answer is data (a refused ticket is still a 200).
pub async fn scan(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(list): Path<Uuid>,
    Json(body): Json<ScanIn>,
) -> Result<Data<ScanOut>, ApiError> {
    Ok(Data(service::scan(&state, &ctx, list, body).await?))
}

pub async fn batch(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(list): Path<Uuid>,
    Json(body): Json<ScanBatchIn>,
) -> Result<Data<Vec<ScanOut>>, ApiError> {
    Ok(Data(service::batch(&state, &ctx, list, body.scans).await?))
}
