//! Platform operators: who may use platform-core's REST edge. A valid access
//! token with the `platform_admin` base role, whose session auth has not
//! ended (auth tells this service of every operator session it ends, so a
//! logged-out operator is refused at once, not when the token expires).

pub mod repo;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use marquee_guard::{AccessClaims, PlatformAdmin};
use marquee_kit::ApiError;
use uuid::Uuid;

use crate::error::Error;
use crate::state::AppState;

/// A platform operator whose session still stands.
pub struct Operator(pub AccessClaims);

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let PlatformAdmin(claims) = PlatformAdmin::from_request_parts(parts, state).await?;
        if repo::is_ended(&state.reads, claims.sid, state.clock.now()).await.map_err(Error::from)? {
            return Err(ApiError::unauthorized("SESSION_REVOKED", "the session has ended"));
        }
        Ok(Operator(claims))
    }
}

impl marquee_kit::openapi::DocArg for Operator {
    fn describe(op: &mut marquee_kit::openapi::Operation, _generator: &mut schemars::SchemaGenerator) {
        op.authenticated = true;
    }
}

/// Records sessions auth has ended, each refused until its `until`; what has
/// passed its `until` is forgotten on the way.
pub async fn end_sessions(state: &AppState, sessions: &[(Uuid, DateTime<Utc>)]) -> Result<(), Error> {
    repo::end(&state.db, sessions, state.clock.now()).await?;
    Ok(())
}
