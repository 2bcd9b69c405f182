//! The one table from financial's domain errors to answers.

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
    Forbidden(&'static str, String),
    /// A peer (auth) could not answer; carried as its answer.
    #[error("{0}")]
    Upstream(ApiError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl Error {
    /// A refusal by the rules, which asking again will not change (as opposed
    /// to a peer or the database failing, which may pass).
    pub fn is_refusal(&self) -> bool {
        match self {
            Self::Invalid(_) | Self::NotFound(_) | Self::Conflict(..) | Self::Forbidden(..) => true,
            Self::Upstream(_) | Self::Db(_) => false,
        }
    }

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
            Error::Forbidden(code, message) => ApiError::forbidden(code, message),
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
