//! Company subscriptions, their state machine and history, and what they
//! entitle the company to.

pub mod entitlements;
pub mod model;
pub mod repo;
pub mod routes;
pub mod service;

pub use entitlements::Entitlements;
pub use model::{Status, Subscription};
