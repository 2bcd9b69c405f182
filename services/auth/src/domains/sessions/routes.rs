use axum::extract::State;
use axum::http::Method;
use marquee_kit::openapi::DocRouter;
use marquee_kit::{ApiError, ChecksCredentials, Json, Ok, Path};
use serde_json::{Value, json};
use uuid::Uuid;

use super::model::{LoginIn, RefreshIn, RevokeReason, SessionOut, TokenPair};
use super::{SignedIn, service};
use crate::client::ClientMeta;
use crate::error::Error;
use crate::state::AppState;

pub fn router() -> DocRouter<AppState> {
    DocRouter::new()
        .route(Method::POST, "/v1/auth/login", login)
        .route(Method::POST, "/v1/auth/refresh", refresh)
        .route(Method::POST, "/v1/auth/logout", logout)
        .route(Method::GET, "/v1/auth/sessions", list)
        .route(Method::DELETE, "/v1/auth/sessions", revoke_all)
        .route(Method::DELETE, "/v1/auth/sessions/{id}", revoke_one)
}

async fn login(
    _checks: ChecksCredentials,
    State(state): State<AppState>,
    client: ClientMeta,
    Json(body): Json<LoginIn>,
) -> Result<Ok<TokenPair>, ApiError> {
    Result::Ok(Ok(service::login(&state, body, &client).await?))
}

async fn refresh(
    _checks: ChecksCredentials,
    State(state): State<AppState>,
    client: ClientMeta,
    Json(body): Json<RefreshIn>,
) -> Result<Ok<TokenPair>, ApiError> {
    Result::Ok(Ok(service::refresh(&state, &body.refresh_token, &client).await?))
}

async fn logout(me: SignedIn, State(state): State<AppState>, client: ClientMeta) -> Result<Ok<Value>, ApiError> {
    service::revoke(&state, me.claims.sub, me.claims.sid, RevokeReason::Logout, None, &client).await?;
    Result::Ok(Ok(json!({"revoked": true})))
}

async fn list(me: SignedIn, State(state): State<AppState>) -> Result<Ok<Vec<SessionOut>>, ApiError> {
    Result::Ok(Ok(service::list(&state, me.claims.sub, me.claims.sid).await?))
}

async fn revoke_one(
    me: SignedIn,
    State(state): State<AppState>,
    client: ClientMeta,
    Path(id): Path<Uuid>,
) -> Result<Ok<Value>, ApiError> {
    if !service::revoke(&state, me.claims.sub, id, RevokeReason::UserRevoked, None, &client).await? {
        return Err(Error::NotFound("session").into());
    }
    Result::Ok(Ok(json!({"revoked": true})))
}

/// Ends every session of the caller, the current one included.
async fn revoke_all(me: SignedIn, State(state): State<AppState>) -> Result<Ok<Value>, ApiError> {
    let now = state.clock.now();
    let revoked = service::revoke_all(&state.db, me.claims.sub, None, RevokeReason::UserRevoked, now).await?;
    service::announce(&state, me.claims.sub, &revoked).await;
    Result::Ok(Ok(json!({"revoked": revoked.len()})))
}
