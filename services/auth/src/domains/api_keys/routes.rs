use axum::extract::State;
use axum::http::Method;
use marquee_kit::openapi::DocRouter;
use marquee_kit::{ApiError, ChecksCredentials, Created, Data, Json, PageParams, Paginated, Path, Query};
use uuid::Uuid;

use super::model::{ApiKeyOut, ClientToken, CreatedApiKey, NewApiKey, TokenRequest};
use super::service;
use crate::client::ClientMeta;
use crate::domains::sessions::SignedIn;
use crate::state::AppState;

pub fn router() -> DocRouter<AppState> {
    DocRouter::new()
        .route(Method::GET, "/v1/companies/{id}/api-keys", list)
        .route(Method::POST, "/v1/companies/{id}/api-keys", create)
        .route(Method::GET, "/v1/companies/{id}/api-keys/{key_id}", get)
        .route(Method::DELETE, "/v1/companies/{id}/api-keys/{key_id}", revoke)
        .route(Method::POST, "/v1/auth/token", token)
}

async fn create(
    me: SignedIn,
    State(state): State<AppState>,
    Path(company): Path<Uuid>,
    Json(body): Json<NewApiKey>,
) -> Result<Created<CreatedApiKey>, ApiError> {
    Ok(Created(service::create(&state, company, me.claims.sub, body).await?))
}

async fn list(
    me: SignedIn,
    State(state): State<AppState>,
    Path(company): Path<Uuid>,
    Query(page): Query<PageParams>,
) -> Result<Paginated<ApiKeyOut>, ApiError> {
    let (items, total) = service::list(&state, company, me.claims.sub, &page).await?;
    Ok(Paginated { items, page, total })
}

async fn get(
    me: SignedIn,
    State(state): State<AppState>,
    Path((company, key)): Path<(Uuid, Uuid)>,
) -> Result<Data<ApiKeyOut>, ApiError> {
    Ok(Data(service::get(&state, company, me.claims.sub, key).await?))
}

async fn revoke(
    me: SignedIn,
    State(state): State<AppState>,
    Path((company, key)): Path<(Uuid, Uuid)>,
) -> Result<Data<ApiKeyOut>, ApiError> {
    Ok(Data(service::revoke(&state, company, me.claims.sub, key).await?))
}

/// The client-credentials grant: an API key's id and secret for a
/// short-lived access token.
async fn token(
    _checks: ChecksCredentials,
    State(state): State<AppState>,
    client: ClientMeta,
    Json(body): Json<TokenRequest>,
) -> Result<Data<ClientToken>, ApiError> {
    Ok(Data(service::grant(&state, body, &client).await?))
}
