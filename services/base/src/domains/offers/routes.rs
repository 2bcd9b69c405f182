use axum::extract::State;
use marquee_guard::Ctx;
use marquee_kit::{ApiError, Created, Data, Json, PageParams, Paginated, Path, Query};
use uuid::Uuid;

use super::{Action, Offer, OfferFilter, OfferIn, service};
use crate::error::Error;
use crate::state::AppState;

pub async fn list(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Query(page): Query<PageParams>,
    Query(filter): Query<OfferFilter>,
) -> Result<Paginated<Offer>, ApiError> {
    let (items, total) = service::list(&state, &ctx, &filter, page.offset(), page.limit()).await?;
    Ok(Paginated { items, page, total })
}

pub async fn create(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Json(body): Json<OfferIn>,
) -> Result<Created<Offer>, ApiError> {
    Ok(Created(service::create(&state, &ctx, body).await?))
}

pub async fn show(Ctx(ctx): Ctx, State(state): State<AppState>, Path(id): Path<Uuid>) -> Result<Data<Offer>, ApiError> {
    Ok(Data(service::get(&state, &ctx, id).await?))
}

/// `POST /v1/offers/{id}/{action}`: send, accept, decline, withdraw.
pub async fn act(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path((id, action)): Path<(Uuid, String)>,
) -> Result<Data<Offer>, ApiError> {
    let action = Action::parse(&action).ok_or(Error::NotFound("action"))?;
    Ok(Data(service::act(&state, &ctx, id, action).await?))
}
