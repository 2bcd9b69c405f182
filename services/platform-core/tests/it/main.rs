//! platform-core over real sockets: a real service on random ports, a fresh
//! database per test (SQLite, or PostgreSQL with TEST_DATABASE_URL), Redis
//! when TEST_REDIS_URL is set, and tokens checked against a real JWKS server.

#![allow(clippy::unwrap_used, clippy::panic)]

mod access;
mod catalog;
mod harness;
mod input;
mod plans;
mod stream;
mod subscriptions;
