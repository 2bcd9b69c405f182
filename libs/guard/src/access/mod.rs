//! The access guard of the business services (DESIGN §3): every protected
//! route is checked, in order, for a bearer token, the company header, a valid
//! token, effective access from auth (cache, then gRPC), a live session,
//! membership, the service's module and the route's permission. Anything that
//! cannot be verified is refused; nothing is allowed "for now".
//!
//! Answers from auth are cached per (session, company) only while the
//! `WatchAccess` stream is heard, never longer than the answer's own cache
//! time and a hard cap, and never when the caller demands a newer revision.

mod cache;
mod checks;
mod config;
mod context;
mod routes;

pub use checks::Guard;
pub use config::{GuardConfig, GuardSettings};
pub use context::{AccessContext, Ctx};
pub use routes::{RoutePermission, RouteTable};
