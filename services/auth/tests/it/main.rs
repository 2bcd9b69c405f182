//! auth over real sockets: a real service on random ports with its own
//! database (SQLite, or PostgreSQL with TEST_DATABASE_URL) and Redis counters
//! when TEST_REDIS_URL is set.

#![allow(clippy::unwrap_used, clippy::panic)]

mod access;
mod api_keys;
mod fleet;
mod harness;
mod keys;
mod lifecycle;
mod limits;
mod passwords;
mod secrecy;
mod tenancy;
mod watch;
