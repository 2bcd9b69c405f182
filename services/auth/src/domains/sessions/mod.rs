//! Sessions and the tokens that carry them: login, refresh rotation with reuse
//! detection (and an idempotent retry grace), logout, listing and revoking.

pub mod model;
pub mod repo;
pub mod routes;
pub mod service;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use marquee_guard::{AccessClaims, Authenticated};
use marquee_kit::ApiError;

use crate::error::Error;
use crate::state::AppState;

/// A caller whose access token is valid and whose session is still live.
pub struct SignedIn {
    pub claims: AccessClaims,
}

impl<S> FromRequestParts<S> for SignedIn
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let Authenticated(claims) = Authenticated::from_request_parts(parts, &state).await?;
        if claims.role == crate::domains::api_keys::API_KEY_ROLE {
            return Err(Error::KeyNotAllowed.into());
        }
        let live = repo::by_id(&state.db, claims.sid).await.map_err(Error::from)?.is_some_and(|s| {
            s.user_id == claims.sub && s.is_live(state.clock.now(), state.config.session_idle_timeout)
        });
        if !live {
            return Err(Error::SessionEnded.into());
        }
        Ok(Self { claims })
    }
}

/// A signed-in platform operator.
pub struct SignedInAdmin {
    pub claims: AccessClaims,
}

impl<S> FromRequestParts<S> for SignedInAdmin
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let SignedIn { claims } = SignedIn::from_request_parts(parts, state).await?;
        if claims.role != marquee_guard::PLATFORM_ADMIN_ROLE {
            return Err(ApiError::forbidden("PLATFORM_ADMIN_REQUIRED", "only platform operators may do this"));
        }
        Ok(Self { claims })
    }
}

impl marquee_kit::openapi::DocArg for SignedIn {
    fn describe(op: &mut marquee_kit::openapi::Operation, _generator: &mut schemars::SchemaGenerator) {
        op.authenticated = true;
    }
}

impl marquee_kit::openapi::DocArg for SignedInAdmin {
    fn describe(op: &mut marquee_kit::openapi::Operation, _generator: &mut schemars::SchemaGenerator) {
        op.authenticated = true;
    }
}
