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
    #[error("{0}")]
    HoldLimitReached(String),
    /// The company's ticket key cannot be used (sealed with another key).
    #[error("{0}")]
    TicketSigningUnavailable(String),
    #[error("{0}")]
    HoldNotHeld(String),
    #[error("{0}")]
    NotFirstHold(String),
    #[error("{0}")]
    NothingToChallenge(String),
    #[error("{0}")]
    ChallengeRunning(String),
    #[error("{0}")]
    CrewUserTaken(String),
    #[error("{0}")]
    CrewAssigned(String),
    #[error("{0}")]
    ShiftHasAssignments(String),
    #[error("{0}")]
    AlreadyAssigned(String),
    #[error("{0}")]
    MissingSkill(String),
    /// The crew member said they cannot work then.
    #[error("{0}")]
    CrewUnavailable(String),
    #[error("{0}")]
    OverlappingShift(String),
    #[error("{0}")]
    ShiftFull(String),
    #[error("{0}")]
    VenueDoubleBooked(String),
    #[error("{0}")]
    EventLimitReached(String),
    #[error("{0}")]
    EventClosed(String),
    #[error("{0}")]
    InvalidTransition(String),
    #[error("{0}")]
    EventNotDeletable(String),
    #[error("{0}")]
    StorageLimitReached(String),
    #[error("{0}")]
    DeadlinePassed(String),
    #[error("{0}")]
    ConcurrentChange(String),
    #[error("{0}")]
    IdempotencyKeyReused(String),
    #[error("{0}")]
    SalesClosed(String),
    #[error("{0}")]
    AlreadyCanceled(String),
    #[error("{0}")]
    AlreadyCheckedIn(String),
    #[error("{0}")]
    VenueInUse(String),
    #[error("{0}")]
    SoldOut(String),
    #[error("{0}")]
    VoucherUnavailable(String),
    #[error("{0}")]
    VoucherCodeTaken(String),
    #[error("{0}")]
    VoucherInUse(String),
    #[error("{0}")]
    ReservationExpired(String),
    #[error("{0}")]
    AlreadyPaid(String),
    #[error("{0}")]
    OrderClosed(String),
    #[error("{0}")]
    NotPaid(String),
    #[error("{0}")]
    AlreadyRefunded(String),
    #[error("{0}")]
    AlreadyWaiting(String),
    #[error("{0}")]
    EndpointLimit(String),
    #[error("{0}")]
    EndpointDisabled(String),
    #[error("{0}")]
    DeliveryInFlight(String),
    #[error("{0}")]
    NotAllowedToHear(String),
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

marquee_db::service_error!(Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(details) => ApiError::validation(details),
            Error::NotFound(what) => ApiError::not_found(what),
            Error::HoldLimitReached(message) => ApiError::forbidden("HOLD_LIMIT_REACHED", message),
            Error::TicketSigningUnavailable(message) => {
                tracing::error!(%message, "tickets cannot be signed");
                ApiError::unavailable("TICKET_SIGNING_UNAVAILABLE", "tickets cannot be signed right now", 30)
            }
            Error::HoldNotHeld(message) => ApiError::conflict("HOLD_NOT_HELD", message),
            Error::NotFirstHold(message) => ApiError::conflict("NOT_FIRST_HOLD", message),
            Error::NothingToChallenge(message) => ApiError::conflict("NOTHING_TO_CHALLENGE", message),
            Error::ChallengeRunning(message) => ApiError::conflict("CHALLENGE_RUNNING", message),
            Error::CrewUserTaken(message) => ApiError::conflict("CREW_USER_TAKEN", message),
            Error::CrewAssigned(message) => ApiError::conflict("CREW_ASSIGNED", message),
            Error::ShiftHasAssignments(message) => ApiError::conflict("SHIFT_HAS_ASSIGNMENTS", message),
            Error::AlreadyAssigned(message) => ApiError::conflict("ALREADY_ASSIGNED", message),
            Error::MissingSkill(message) => ApiError::conflict("MISSING_SKILL", message),
            Error::CrewUnavailable(message) => ApiError::conflict("UNAVAILABLE", message),
            Error::OverlappingShift(message) => ApiError::conflict("OVERLAPPING_SHIFT", message),
            Error::ShiftFull(message) => ApiError::conflict("SHIFT_FULL", message),
            Error::VenueDoubleBooked(message) => ApiError::conflict("VENUE_DOUBLE_BOOKED", message),
            Error::EventLimitReached(message) => ApiError::forbidden("EVENT_LIMIT_REACHED", message),
            Error::EventClosed(message) => ApiError::conflict("EVENT_CLOSED", message),
            Error::InvalidTransition(message) => ApiError::conflict("INVALID_TRANSITION", message),
            Error::EventNotDeletable(message) => ApiError::conflict("EVENT_NOT_DELETABLE", message),
            Error::StorageLimitReached(message) => ApiError::forbidden("STORAGE_LIMIT_REACHED", message),
            Error::DeadlinePassed(message) => ApiError::conflict("DEADLINE_PASSED", message),
            Error::ConcurrentChange(message) => ApiError::conflict("CONCURRENT_CHANGE", message),
            Error::IdempotencyKeyReused(message) => ApiError::conflict("IDEMPOTENCY_KEY_REUSED", message),
            Error::SalesClosed(message) => ApiError::conflict("SALES_CLOSED", message),
            Error::AlreadyCanceled(message) => ApiError::conflict("ALREADY_CANCELED", message),
            Error::AlreadyCheckedIn(message) => ApiError::conflict("ALREADY_CHECKED_IN", message),
            Error::VenueInUse(message) => ApiError::conflict("VENUE_IN_USE", message),
            Error::SoldOut(message) => ApiError::conflict("SOLD_OUT", message),
            Error::VoucherUnavailable(message) => ApiError::conflict("VOUCHER_UNAVAILABLE", message),
            Error::VoucherCodeTaken(message) => ApiError::conflict("VOUCHER_CODE_TAKEN", message),
            Error::VoucherInUse(message) => ApiError::conflict("VOUCHER_IN_USE", message),
            Error::ReservationExpired(message) => ApiError::conflict("RESERVATION_EXPIRED", message),
            Error::AlreadyPaid(message) => ApiError::conflict("ALREADY_PAID", message),
            Error::OrderClosed(message) => ApiError::conflict("ORDER_CLOSED", message),
            Error::NotPaid(message) => ApiError::conflict("NOT_PAID", message),
            Error::AlreadyRefunded(message) => ApiError::conflict("ALREADY_REFUNDED", message),
            Error::AlreadyWaiting(message) => ApiError::conflict("ALREADY_WAITING", message),
            Error::EndpointLimit(message) => ApiError::conflict("ENDPOINT_LIMIT", message),
            Error::EndpointDisabled(message) => ApiError::conflict("ENDPOINT_DISABLED", message),
            Error::DeliveryInFlight(message) => ApiError::conflict("DELIVERY_IN_FLIGHT", message),
            Error::NotAllowedToHear(message) => ApiError::forbidden("PERMISSION_DENIED", message),
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
            Error::Db(e) => e.into(),
        }
    }
}

/// A group commit's batch refused by a rule run inside it (say, the sold-out
/// check): a conflict is retried write by write, anything else refuses the
/// batch to retry later.
impl From<Error> for marquee_db::BatchFailed {
    fn from(e: Error) -> Self {
        match e {
            Error::Db(DbError::Conflict { .. }) => Self::Conflict,
            other => Self::Refused(other.to_string()),
        }
    }
}
