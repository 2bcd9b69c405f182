use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use marquee_guard::Ctx;
use marquee_kit::{ApiError, Created, Data, Deleted, Json, PageParams, Paginated, Path, Query};
use uuid::Uuid;

use super::model::{ConfirmIn, Order, OrderFilter, OrderIn, Quota, QuotaIn, RefundIn, Voucher, VoucherIn};
use super::{quotas, service, vouchers};
use crate::state::AppState;

pub async fn quotas(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(event): Path<Uuid>,
) -> Result<Data<Vec<Quota>>, ApiError> {
    Ok(Data(quotas::list(&state, &ctx, event).await?))
}

pub async fn create_quota(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(event): Path<Uuid>,
    Json(body): Json<QuotaIn>,
) -> Result<Created<Quota>, ApiError> {
    Ok(Created(quotas::create(&state, &ctx, event, body).await?))
}

pub async fn vouchers(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(event): Path<Uuid>,
) -> Result<Data<Vec<Voucher>>, ApiError> {
    Ok(Data(vouchers::list(&state, &ctx, event).await?))
}

pub async fn create_voucher(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(event): Path<Uuid>,
    Json(body): Json<VoucherIn>,
) -> Result<Created<Voucher>, ApiError> {
    Ok(Created(vouchers::create(&state, &ctx, event, body).await?))
}

pub async fn delete_voucher(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Deleted>, ApiError> {
    vouchers::delete(&state, &ctx, id).await?;
    Ok(Deleted::YES)
}

/// 201 with a new reservation; 200 with the original for a replayed key.
pub async fn reserve(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(event): Path<Uuid>,
    Json(body): Json<OrderIn>,
) -> Result<Response, ApiError> {
    let (order, replayed) = service::reserve(&state, &ctx, event, body).await?;
    Ok(if replayed { (StatusCode::OK, Data(order)).into_response() } else { Created(order).into_response() })
}

pub async fn list(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(event): Path<Uuid>,
    Query(page): Query<PageParams>,
    Query(filter): Query<OrderFilter>,
) -> Result<Paginated<Order>, ApiError> {
    let (items, total) = service::list(&state, &ctx, event, &filter, page.offset(), page.limit()).await?;
    Ok(Paginated { items, page, total })
}

pub async fn show(Ctx(ctx): Ctx, State(state): State<AppState>, Path(id): Path<Uuid>) -> Result<Data<Order>, ApiError> {
    Ok(Data(service::show(&state, &ctx, id).await?))
}

pub async fn confirm(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(body): Json<ConfirmIn>,
) -> Result<Data<Order>, ApiError> {
    Ok(Data(service::confirm(&state, &ctx, id, body).await?))
}

pub async fn cancel(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Order>, ApiError> {
    Ok(Data(service::cancel(&state, &ctx, id).await?))
}

pub async fn refund(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(body): Json<RefundIn>,
) -> Result<Data<Order>, ApiError> {
    Ok(Data(service::refund(&state, &ctx, id, body).await?))
}
