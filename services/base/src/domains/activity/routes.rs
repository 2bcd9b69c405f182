use axum::extract::State;
use marquee_guard::Ctx;
use marquee_kit::extract::Validate;
use marquee_kit::{ApiError, PageParams, Paginated, Query};
use serde::Deserialize;

use super::{ActivityEntry, repo};
use crate::error::Error;
use crate::state::AppState;

#[derive(Deserialize, schemars::JsonSchema)]
pub struct Filter {
    /// Only entries of this area (artist, venue, vendor, event, ticket_type,
    /// registration, offer, hold, board, task, media, crew, shift).
    entity: Option<String>,
}

impl Validate for Filter {}

pub async fn list(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Query(page): Query<PageParams>,
    Query(filter): Query<Filter>,
) -> Result<Paginated<ActivityEntry>, ApiError> {
    let areas = super::visible_areas(&ctx);
    let (items, total) =
        repo::list(&state.db, ctx.company_id, &areas, filter.entity.as_deref(), page.offset(), page.limit())
            .await
            .map_err(Error::from)?;
    Ok(Paginated { items, page, total })
}
