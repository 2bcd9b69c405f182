use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use marquee_guard::Ctx;
use marquee_kit::{ApiError, Created, Data, Json, PageParams, Paginated, Path, Query};
use uuid::Uuid;

use super::model::{CheckInIn, Registration, RegistrationFilter, RegistrationIn, Sales, TicketType, TicketTypeIn};
use super::service;
use crate::state::AppState;

pub async fn types(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(event): Path<Uuid>,
) -> Result<Data<Vec<TicketType>>, ApiError> {
    Ok(Data(service::types(&state, &ctx, event).await?))
}

pub async fn create_type(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(event): Path<Uuid>,
    Json(body): Json<TicketTypeIn>,
) -> Result<Created<TicketType>, ApiError> {
    Ok(Created(service::create_type(&state, &ctx, event, body).await?))
}

/// 201 for a new registration; 200 with the original for a replayed key.
pub async fn register(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(event): Path<Uuid>,
    Json(body): Json<RegistrationIn>,
) -> Result<Response, ApiError> {
    let (registration, replayed) = service::register(&state, &ctx, event, body).await?;
    Ok(if replayed {
        (StatusCode::OK, Data(registration)).into_response()
    } else {
        Created(registration).into_response()
    })
}

pub async fn registrations(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(event): Path<Uuid>,
    Query(page): Query<PageParams>,
    Query(filter): Query<RegistrationFilter>,
) -> Result<Paginated<Registration>, ApiError> {
    let (items, total) = service::registrations(&state, &ctx, event, &filter, page.offset(), page.limit()).await?;
    Ok(Paginated { items, page, total })
}

pub async fn cancel(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path((event, id)): Path<(Uuid, Uuid)>,
) -> Result<Data<Registration>, ApiError> {
    Ok(Data(service::cancel(&state, &ctx, event, id).await?))
}

pub async fn check_in(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path((event, id)): Path<(Uuid, Uuid)>,
    Json(body): Json<CheckInIn>,
) -> Result<Data<Registration>, ApiError> {
    Ok(Data(service::check_in(&state, &ctx, event, id, body).await?))
}

pub async fn sales(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(event): Path<Uuid>,
) -> Result<Data<Vec<Sales>>, ApiError> {
    Ok(Data(service::sales(&state, &ctx, event).await?))
}
