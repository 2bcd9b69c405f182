//! Webhooks: a company's endpoints receive its changes, signed as the
//! Standard Webhooks specification says. A change writes its message in its
//! own transaction (see [`enqueue`]); the dispatcher fans messages out to the
//! endpoints subscribed and delivers them, at least once, retrying for about
//! three days. Every endpoint keeps a log of its deliveries.

pub mod dispatch;
pub mod model;
pub mod repo;
pub mod routes;
pub mod service;

pub use dispatch::{Dispatcher, enqueue, enqueue_many};
