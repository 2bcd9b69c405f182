//! The HTTP kit every Marquee service shares: the response envelope and error
//! bodies (DESIGN §8), extractors that answer bad input with field-level 400s,
//! pagination, request ids, security headers, CORS, observability middleware,
//! gRPC service credentials and the serve-until-shutdown loop.

pub mod balance;
pub mod clock;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod forwarded;
pub mod grpc;
pub mod http;
pub mod openapi;
pub mod pagination;
pub mod sealing;
pub mod server;
pub mod tokens;

pub use balance::BalancedChannel;
pub use clock::Clock;
pub use envelope::{Accepted, Created, Data, Deleted, Paginated};
pub use error::{ApiError, FieldIssue};
pub use extract::{ChecksCredentials, IfMatch, Json, Path, Query, Validate};
pub use forwarded::TrustedProxies;
pub use pagination::PageParams;
pub use sealing::Sealer;
