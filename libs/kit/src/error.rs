//! The error body of DESIGN §8 and the one type that knows HTTP status codes.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A field that failed validation and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldIssue {
    pub field: String,
    pub issue: String,
}

impl FieldIssue {
    pub fn new(field: impl Into<String>, issue: impl Into<String>) -> Self {
        Self { field: field.into(), issue: issue.into() }
    }
}

/// An error answer: status, stable machine code, human message, field details.
/// A 5xx never carries the cause; the cause goes to the log.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<FieldIssue>,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), details: Vec::new(), retry_after_secs: None }
    }

    pub fn validation(details: Vec<FieldIssue>) -> Self {
        let message = match details.as_slice() {
            [one] => format!("{}: {}", one.field, one.issue),
            _ => "the request has invalid fields".to_owned(),
        };
        Self { details, ..Self::new(StatusCode::BAD_REQUEST, "VALIDATION_FAILED", message) }
    }

    pub fn field(field: impl Into<String>, issue: impl Into<String>) -> Self {
        Self::validation(vec![FieldIssue::new(field, issue)])
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", format!("{what} not found"))
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn too_many(code: &'static str, message: impl Into<String>, retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, code, message)
        }
    }

    pub fn unavailable(code: &'static str, message: impl Into<String>, retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
        }
    }

    /// An unexpected failure: logged with its whole cause chain, answered as
    /// "internal error" with nothing of the cause.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        let mut chain = cause.to_string();
        let mut source = cause.source();
        while let Some(s) = source {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        tracing::error!(error = %chain, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "internal error")
    }

    /// The answer for a bare status produced outside our handlers (router, layers).
    pub fn from_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("NOT_FOUND", "no such resource"),
            StatusCode::METHOD_NOT_ALLOWED => ("METHOD_NOT_ALLOWED", "method not allowed on this resource"),
            StatusCode::PAYLOAD_TOO_LARGE => ("PAYLOAD_TOO_LARGE", "the request body is too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ("UNSUPPORTED_MEDIA_TYPE", "expected content-type application/json"),
            StatusCode::REQUEST_TIMEOUT => ("TIMEOUT", "the request took too long"),
            StatusCode::TOO_MANY_REQUESTS => ("RATE_LIMITED", "too many requests"),
            StatusCode::UNAUTHORIZED => ("UNAUTHORIZED", "authentication required"),
            StatusCode::FORBIDDEN => ("FORBIDDEN", "not allowed"),
            StatusCode::SERVICE_UNAVAILABLE => ("UNAVAILABLE", "temporarily unavailable"),
            s if s.is_client_error() => ("BAD_REQUEST", "the request is not valid"),
            _ => ("INTERNAL", "internal error"),
        };
        Self::new(status, code, message)
    }

    /// The same decision for a gRPC caller.
    pub fn to_grpc_status(&self) -> tonic::Status {
        let code = match self.status.as_u16() {
            400 | 413 | 415 => tonic::Code::InvalidArgument,
            401 => tonic::Code::Unauthenticated,
            403 => tonic::Code::PermissionDenied,
            404 => tonic::Code::NotFound,
            409 => tonic::Code::AlreadyExists,
            412 => tonic::Code::FailedPrecondition,
            429 => tonic::Code::ResourceExhausted,
            503 => tonic::Code::Unavailable,
            504 => tonic::Code::DeadlineExceeded,
            _ => tonic::Code::Internal,
        };
        tonic::Status::new(code, format!("{}: {}", self.code, self.message))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody<'a> {
    success: bool,
    error: &'a str,
    message: &'a str,
    status_code: u16,
    details: &'a [FieldIssue],
    request_id: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            success: false,
            error: self.code,
            message: &self.message,
            status_code: self.status.as_u16(),
            details: &self.details,
            request_id: crate::http::current_request_id(),
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
