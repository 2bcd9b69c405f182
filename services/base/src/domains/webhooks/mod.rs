//! Webhooks: a company's endpoints receive its changes, signed as the
//! Standard Webhooks specification says. A change writes its message in its
//! own transaction (see [`enqueue`]); the dispatcher fans messages out to the
//! endpoints subscribed and delivers them, at least once, retrying for about
//! three days. Every endpoint keeps a log of its deliveries. The events of
//! auth (members) and financial (expenses, settlements) are taken from their
//! feeds ([`feeds`]) and delivered the same way.

pub mod dispatch;
pub mod feeds;
pub mod model;
pub mod repo;
pub mod routes;
pub mod service;

pub use dispatch::{Dispatcher, enqueue, enqueue_many};
