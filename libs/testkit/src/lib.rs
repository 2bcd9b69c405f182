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

/// The fleet's service credential in tests.
pub const SERVICE_TOKEN: &str = "test-internal-service-token";
/// The first platform admin every test fleet creates.
pub const ADMIN_EMAIL: &str = "admin@marquee.test";
pub const ADMIN_PASSWORD: &str = "admin password 1";
/// The password test people sign up with.
pub const PASSWORD: &str = "correct horse battery";
pub use http::{Reply, TestClient};
pub use keys::{JwksServer, TestKeys};
