//! The one table from auth's domain errors to answers (HTTP and gRPC).

use axum::http::StatusCode;
use marquee_db::DbError;
use marquee_kit::{ApiError, FieldIssue};

use crate::crypto::CryptoError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid input")]
    Invalid(Vec<FieldIssue>),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("the email or password is wrong")]
    BadCredentials,
    #[error("too many failed sign-ins; try again later")]
    LockedOut { retry_after_secs: u64 },
    #[error("too many requests; slow down")]
    RateLimited { retry_after_secs: u64 },
    #[error("the account is disabled")]
    AccountDisabled,
    #[error("the refresh token is not valid")]
    InvalidRefreshToken,
    #[error("the refresh token was already used; the session has been revoked")]
    RefreshTokenReused,
    #[error("the session has ended")]
    SessionEnded,
    #[error("the link is invalid or has expired")]
    InvalidOneTimeToken,
    #[error("the current password is wrong")]
    WrongCurrentPassword,
    #[error("counters unavailable: {0}")]
    CountersUnavailable(String),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl Error {
    pub fn field(field: &str, issue: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldIssue::new(field, issue)])
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Db(marquee_db::classify(e))
    }
}

impl From<marquee_counters::CounterError> for Error {
    fn from(e: marquee_counters::CounterError) -> Self {
        Self::CountersUnavailable(e.to_string())
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        match e {
            Error::Invalid(details) => ApiError::validation(details),
            Error::NotFound(what) => ApiError::not_found(what),
            Error::EmailTaken => ApiError::conflict("EMAIL_TAKEN", message),
            Error::BadCredentials => ApiError::unauthorized("INVALID_CREDENTIALS", message),
            Error::LockedOut { retry_after_secs } => {
                ApiError::too_many("ACCOUNT_LOCKED", message, retry_after_secs)
            }
            Error::RateLimited { retry_after_secs } => {
                ApiError::too_many("RATE_LIMITED", message, retry_after_secs)
            }
            Error::AccountDisabled => ApiError::forbidden("ACCOUNT_DISABLED", message),
            Error::InvalidRefreshToken => ApiError::unauthorized("INVALID_REFRESH_TOKEN", message),
            Error::RefreshTokenReused => ApiError::unauthorized("REFRESH_TOKEN_REUSED", message),
            Error::SessionEnded => ApiError::unauthorized("SESSION_REVOKED", message),
            Error::InvalidOneTimeToken => ApiError::bad_request("INVALID_TOKEN", message),
            Error::WrongCurrentPassword => {
                ApiError::new(StatusCode::FORBIDDEN, "WRONG_PASSWORD", message)
            }
            Error::CountersUnavailable(ref reason) => {
                tracing::warn!(%reason, "rate-limit store unavailable; refusing");
                ApiError::unavailable(
                    "RATE_LIMIT_UNAVAILABLE",
                    "sign-in is temporarily unavailable",
                    2,
                )
            }
            Error::Crypto(ref cause) => ApiError::internal(cause),
            Error::Db(DbError::Conflict { .. }) => {
                ApiError::conflict("CONFLICT", "the change conflicts with existing data")
            }
            Error::Db(DbError::Unavailable(ref reason)) => {
                tracing::warn!(%reason, "database unavailable");
                ApiError::unavailable("DATABASE_UNAVAILABLE", "the database is unavailable", 2)
            }
            Error::Db(DbError::Unexpected(ref cause)) => ApiError::internal(cause),
        }
    }
}

impl From<Error> for tonic::Status {
    fn from(e: Error) -> Self {
        ApiError::from(e).to_grpc_status()
    }
}
