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
    #[error("no such company")]
    NoCompany,
    #[error("only the company's owners and admins may do this")]
    TenantAdminRequired,
    #[error("only owners may change owners")]
    OwnerRequired,
    #[error("the company must keep at least one active owner")]
    LastOwner,
    #[error("you cannot grant {0}: it is more than you have yourself")]
    Escalation(String),
    #[error("the company has reached its member limit ({0})")]
    CompanyFull(i64),
    #[error("already a member of this company")]
    AlreadyMember,
    #[error("system roles cannot be changed")]
    SystemRole,
    #[error("a role with this name already exists")]
    RoleExists,
    #[error("the invitation is not valid: {0}")]
    InvitationInvalid(&'static str),
    #[error("verify your email address before accepting invitations")]
    EmailNotVerified,
    #[error("this invitation was sent to another email address")]
    InvitationEmailMismatch,
    #[error("the client id or secret is wrong, or the key no longer works")]
    InvalidClient,
    #[error("the company already has {0} working API keys; revoke one first")]
    TooManyKeys(u64),
    #[error("an API key's token cannot be used here; sign in as a person")]
    KeyNotAllowed,
    #[error("platform-core is unavailable")]
    PlatformUnavailable(String),
    #[error("the company has never reached access revision {0}")]
    RevisionNotReached(u64),
    #[error("counters unavailable: {0}")]
    CountersUnavailable(String),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Db(#[from] DbError),
}

marquee_db::service_error!(Error);

impl From<crate::platform::PlatformError> for Error {
    fn from(e: crate::platform::PlatformError) -> Self {
        Self::PlatformUnavailable(e.to_string())
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
            Error::LockedOut { retry_after_secs } => ApiError::too_many("ACCOUNT_LOCKED", message, retry_after_secs),
            Error::RateLimited { retry_after_secs } => ApiError::too_many("RATE_LIMITED", message, retry_after_secs),
            Error::AccountDisabled => ApiError::forbidden("ACCOUNT_DISABLED", message),
            Error::InvalidRefreshToken => ApiError::unauthorized("INVALID_REFRESH_TOKEN", message),
            Error::RefreshTokenReused => ApiError::unauthorized("REFRESH_TOKEN_REUSED", message),
            Error::SessionEnded => ApiError::unauthorized("SESSION_REVOKED", message),
            Error::InvalidOneTimeToken => ApiError::bad_request("INVALID_TOKEN", message),
            Error::WrongCurrentPassword => ApiError::new(StatusCode::FORBIDDEN, "WRONG_PASSWORD", message),
            Error::NoCompany => ApiError::not_found("company"),
            Error::TenantAdminRequired => ApiError::forbidden("TENANT_ADMIN_REQUIRED", message),
            Error::OwnerRequired => ApiError::forbidden("OWNER_REQUIRED", message),
            Error::LastOwner => ApiError::conflict("LAST_OWNER", message),
            Error::Escalation(_) => ApiError::forbidden("ESCALATION_REFUSED", message),
            Error::CompanyFull(_) => ApiError::conflict("COMPANY_FULL", message),
            Error::AlreadyMember => ApiError::conflict("ALREADY_MEMBER", message),
            Error::SystemRole => ApiError::conflict("SYSTEM_ROLE", message),
            Error::RoleExists => ApiError::conflict("ROLE_EXISTS", message),
            Error::InvitationInvalid(_) => ApiError::bad_request("INVITATION_INVALID", message),
            Error::EmailNotVerified => ApiError::forbidden("EMAIL_NOT_VERIFIED", message),
            Error::InvitationEmailMismatch => ApiError::forbidden("INVITATION_EMAIL_MISMATCH", message),
            Error::InvalidClient => ApiError::unauthorized("INVALID_CLIENT", message),
            Error::TooManyKeys(_) => ApiError::conflict("TOO_MANY_KEYS", message),
            Error::KeyNotAllowed => ApiError::forbidden("API_KEY_NOT_ALLOWED", message),
            Error::PlatformUnavailable(ref reason) => {
                tracing::warn!(%reason, "platform-core unavailable");
                ApiError::unavailable("ACCESS_UNAVAILABLE", "entitlements cannot be read right now", 2)
            }
            Error::RevisionNotReached(_) => ApiError::conflict("REVISION_NOT_REACHED", message),
            Error::CountersUnavailable(ref reason) => {
                tracing::warn!(%reason, "rate-limit store unavailable; refusing");
                ApiError::unavailable("RATE_LIMIT_UNAVAILABLE", "sign-in is temporarily unavailable", 2)
            }
            Error::Crypto(CryptoError::Busy) => {
                ApiError::unavailable("BUSY", "too many sign-ins at once; try again in a moment", 1)
            }
            Error::Crypto(ref cause) => ApiError::internal(cause),
            Error::Db(e) => e.into(),
        }
    }
}

impl From<Error> for tonic::Status {
    fn from(e: Error) -> Self {
        ApiError::from(e).to_grpc_status()
    }
}
