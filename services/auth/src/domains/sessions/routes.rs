use axum::extract::State;
use axum::http::Method;
use marquee_kit::openapi::DocRouter;
use marquee_kit::{ApiError, ChecksCredentials, Data, Json, Path};
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
) -> Result<Data<TokenPair>, ApiError> {
    Ok(Data(service::login(&state, body, &client).await?))
}

async fn refresh(
    _checks: ChecksCredentials,
    State(state): State<AppState>,
    client: ClientMeta,
    Json(body): Json<RefreshIn>,
) -> Result<Data<TokenPair>, ApiError> {
    Ok(Data(service::refresh(&state, &body.refresh_token, &client).await?))
}

async fn logout(me: SignedIn, State(state): State<AppState>, client: ClientMeta) -> Result<Data<Value>, ApiError> {
    service::revoke(&state, me.claims.sub, me.claims.sid, RevokeReason::Logout, None, &client).await?;
    Ok(Data(json!({"revoked": true})))
}

async fn list(me: SignedIn, State(state): State<AppState>) -> Result<Data<Vec<SessionOut>>, ApiError> {
    Ok(Data(service::list(&state, me.claims.sub, me.claims.sid).await?))
}

async fn revoke_one(
    me: SignedIn,
    State(state): State<AppState>,
    client: ClientMeta,
    Path(id): Path<Uuid>,
) -> Result<Data<Value>, ApiError> {
    if !service::revoke(&state, me.claims.sub, id, RevokeReason::UserRevoked, None, &client).await? {
        return Err(Error::NotFound("session").into());
    }
    Ok(Data(json!({"revoked": true})))
}

/// Ends every session of the caller, the current one included.
async fn revoke_all(me: SignedIn, State(state): State<AppState>) -> Result<Data<Value>, ApiError> {
    let now = state.clock.now();
    let revoked = service::revoke_all(&state.db, me.claims.sub, None, RevokeReason::UserRevoked, now).await?;
    service::announce(&state, me.claims.sub, &revoked).await;
    Ok(Data(json!({"revoked": revoked.len()})))
}
