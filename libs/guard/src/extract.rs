//! Axum extractors: `Authenticated` (a valid access token) and
//! `PlatformAdmin` (a valid token whose user is a platform operator).

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use marquee_kit::ApiError;

use crate::token::{AccessClaims, PLATFORM_ADMIN_ROLE, TokenError, TokenValidator};

/// The bearer token of a request, if there is one.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    bearer_in(&parts.headers)
}

/// The same, from a request's headers.
pub fn bearer_in(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::KeysUnavailable => {
                ApiError::unavailable("ACCESS_UNAVAILABLE", "the token cannot be verified right now", 2)
            }
            TokenError::Malformed
            | TokenError::AlgorithmRejected
            | TokenError::UnknownKey
            | TokenError::BadSignature
            | TokenError::Expired
            | TokenError::NotYetValid
            | TokenError::WrongIssuer
            | TokenError::WrongAudience
            | TokenError::WrongType => ApiError::unauthorized("INVALID_TOKEN", e.to_string()),
        }
    }
}

/// A caller with a valid access token.
pub struct Authenticated(pub AccessClaims);

impl<S> FromRequestParts<S> for Authenticated
where
    TokenValidator: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts)
            .ok_or_else(|| ApiError::unauthorized("MISSING_TOKEN", "an Authorization: Bearer token is required"))?;
        let claims = TokenValidator::from_ref(state).validate(token).await?;
        tracing::Span::current().record("user_id", tracing::field::display(claims.sub));
        Ok(Authenticated(Arc::unwrap_or_clone(claims)))
    }
}

/// A platform operator: a valid token whose base role is `platform_admin`.
pub struct PlatformAdmin(pub AccessClaims);

impl<S> FromRequestParts<S> for PlatformAdmin
where
    TokenValidator: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Authenticated(claims) = Authenticated::from_request_parts(parts, state).await?;
        if claims.role != PLATFORM_ADMIN_ROLE {
            return Err(ApiError::forbidden("PLATFORM_ADMIN_REQUIRED", "only platform operators may do this"));
        }
        Ok(PlatformAdmin(claims))
    }
}

impl marquee_kit::openapi::DocArg for Authenticated {
    fn describe(op: &mut marquee_kit::openapi::Operation, _generator: &mut schemars::SchemaGenerator) {
        op.authenticated = true;
    }
}

impl marquee_kit::openapi::DocArg for PlatformAdmin {
    fn describe(op: &mut marquee_kit::openapi::Operation, _generator: &mut schemars::SchemaGenerator) {
        op.authenticated = true;
    }
}
