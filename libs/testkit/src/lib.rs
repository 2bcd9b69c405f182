//! What every integration test needs: a fresh database (a temporary SQLite
//! file, or a fresh PostgreSQL database when `TEST_DATABASE_URL` names a
//! server), an optional Redis with a private key prefix, test signing keys
//! with a JWKS server, and an HTTP client that speaks the envelope.

#![allow(clippy::unwrap_used, clippy::panic)]

pub mod db;
pub mod http;
pub mod keys;
pub mod mail;

pub use db::{TestDb, redis_url, required_server, unique_name};
pub use http::{Reply, TestClient};
pub use keys::{JwksServer, TestKeys};
