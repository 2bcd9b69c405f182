//! The one table from base's domain errors to answers.

use axum::http::StatusCode;
use marquee_db::DbError;
use marquee_kit::{ApiError, FieldIssue};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid input")]
    Invalid(Vec<FieldIssue>),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{1}")]
    Conflict(&'static str, String),
    #[error("{1}")]
    LimitReached(&'static str, String),
    /// `If-Match` named another version than the stored one (its current
    /// version, when known).
    #[error("the resource is no longer at the version named")]
    VersionMismatch { current: Option<u64> },
    /// Another write changed the row between this one's read and its write.
    #[error("the {0} changed while this request ran")]
    ChangedMeanwhile(&'static str),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    UnsupportedType(String),
    #[error(transparent)]
    Storage(#[from] crate::domains::media::store::StoreError),
    /// A peer (auth) could not answer; carried as its answer.
    #[error("{0}")]
    Upstream(ApiError),
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

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(details) => ApiError::validation(details),
            Error::NotFound(what) => ApiError::not_found(what),
            Error::Conflict(code, message) => ApiError::conflict(code, message),
            Error::LimitReached(code, message) => ApiError::forbidden(code, message),
            Error::VersionMismatch { current } => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "VERSION_MISMATCH",
                match current {
                    Some(version) => format!("the resource has changed; it is now at version {version}"),
                    None => "the resource changed after the version named in If-Match".to_owned(),
                },
            ),
            Error::ChangedMeanwhile(what) => ApiError::conflict(
                "CHANGED_MEANWHILE",
                format!("the {what} changed while this request ran; read it again"),
            ),
            Error::TooLarge(message) => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", message),
            Error::UnsupportedType(message) => {
                ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", message)
            }
            Error::Storage(ref cause) => {
                tracing::warn!(error = %cause, "object storage failed");
                ApiError::unavailable("STORAGE_UNAVAILABLE", "the media store is unavailable", 2)
            }
            Error::Upstream(answer) => answer,
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
