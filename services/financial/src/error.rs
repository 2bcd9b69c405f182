//! The one table from financial's domain errors to answers.

use marquee_db::DbError;
use marquee_kit::{ApiError, FieldIssue};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid input")]
    Invalid(Vec<FieldIssue>),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    ReservedCode(String),
    #[error("{0}")]
    AccountCodeTaken(String),
    #[error("{0}")]
    IdempotencyKeyReused(String),
    #[error("{0}")]
    SystemAccountTaken(String),
    #[error("{0}")]
    InsufficientFunds(String),
    #[error("{0}")]
    ReversalOfReversal(String),
    #[error("{0}")]
    AlreadyReversed(String),
    #[error("{0}")]
    NotTheAuthor(String),
    #[error("{0}")]
    NotADraft(String),
    #[error("{0}")]
    ConcurrentChange(String),
    #[error("{0}")]
    InvalidTransition(String),
    #[error("{0}")]
    SelfApproval(String),
    #[error("{0}")]
    NotTheReviewer(String),
    #[error("{0}")]
    SelfPayment(String),
    #[error("{0}")]
    SettlementExists(String),
    #[error("{0}")]
    AlreadyFinalized(String),
    #[error("{0}")]
    NotFinalized(String),
    #[error("{0}")]
    DuplicateSettlement(String),
    #[error("{0}")]
    Overpayment(String),
    #[error("{0}")]
    SettlementVoided(String),
    #[error("{0}")]
    AlreadyVoided(String),
    #[error("{0}")]
    SettlementHasPayouts(String),
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
        !matches!(self, Self::Upstream(_) | Self::Db(_))
    }
}

marquee_db::service_error!(Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(details) => ApiError::validation(details),
            Error::NotFound(what) => ApiError::not_found(what),
            Error::ReservedCode(message) => ApiError::conflict("RESERVED_CODE", message),
            Error::AccountCodeTaken(message) => ApiError::conflict("ACCOUNT_CODE_TAKEN", message),
            Error::IdempotencyKeyReused(message) => ApiError::conflict("IDEMPOTENCY_KEY_REUSED", message),
            Error::SystemAccountTaken(message) => ApiError::conflict("SYSTEM_ACCOUNT_TAKEN", message),
            Error::InsufficientFunds(message) => ApiError::conflict("INSUFFICIENT_FUNDS", message),
            Error::ReversalOfReversal(message) => ApiError::conflict("REVERSAL_OF_REVERSAL", message),
            Error::AlreadyReversed(message) => ApiError::conflict("ALREADY_REVERSED", message),
            Error::NotTheAuthor(message) => ApiError::forbidden("NOT_THE_AUTHOR", message),
            Error::NotADraft(message) => ApiError::conflict("NOT_A_DRAFT", message),
            Error::ConcurrentChange(message) => ApiError::conflict("CONCURRENT_CHANGE", message),
            Error::InvalidTransition(message) => ApiError::conflict("INVALID_TRANSITION", message),
            Error::SelfApproval(message) => ApiError::forbidden("SELF_APPROVAL", message),
            Error::NotTheReviewer(message) => ApiError::forbidden("NOT_THE_REVIEWER", message),
            Error::SelfPayment(message) => ApiError::forbidden("SELF_PAYMENT", message),
            Error::SettlementExists(message) => ApiError::conflict("SETTLEMENT_EXISTS", message),
            Error::AlreadyFinalized(message) => ApiError::conflict("ALREADY_FINALIZED", message),
            Error::NotFinalized(message) => ApiError::conflict("NOT_FINALIZED", message),
            Error::DuplicateSettlement(message) => ApiError::conflict("DUPLICATE_SETTLEMENT", message),
            Error::Overpayment(message) => ApiError::conflict("OVERPAYMENT", message),
            Error::SettlementVoided(message) => ApiError::conflict("SETTLEMENT_VOIDED", message),
            Error::AlreadyVoided(message) => ApiError::conflict("ALREADY_VOIDED", message),
            Error::SettlementHasPayouts(message) => ApiError::conflict("SETTLEMENT_HAS_PAYOUTS", message),
            Error::Upstream(answer) => answer,
            Error::Db(e) => e.into(),
        }
    }
}
