//! The one table from domain errors to answers (HTTP and gRPC).

use marquee_db::DbError;
use marquee_kit::{ApiError, FieldIssue};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid input")]
    Invalid(Vec<FieldIssue>),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("a {kind} with code {code} already exists")]
    PlanExists { kind: &'static str, code: String },
    #[error("{0}")]
    InvalidTransition(String),
    #[error("the subscription changed meanwhile; read it again and retry")]
    ConcurrentChange,
    #[error("the default package {0} does not exist")]
    DefaultPackageMissing(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

marquee_db::service_error!(Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(details) => ApiError::validation(details),
            Error::NotFound(what) => ApiError::not_found(what),
            Error::PlanExists { .. } => ApiError::conflict("PLAN_EXISTS", e.to_string()),
            Error::InvalidTransition(message) => ApiError::conflict("INVALID_TRANSITION", message),
            Error::ConcurrentChange => ApiError::conflict("CONCURRENT_CHANGE", e.to_string()),
            Error::DefaultPackageMissing(_) => {
                ApiError::new(axum::http::StatusCode::PRECONDITION_FAILED, "DEFAULT_PACKAGE_MISSING", e.to_string())
            }
            Error::Db(e) => e.into(),
        }
    }
}

impl From<Error> for tonic::Status {
    fn from(e: Error) -> Self {
        ApiError::from(e).to_grpc_status()
    }
}
