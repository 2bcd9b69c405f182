//! API keys: a company's integrations act with a subset of the permissions
//! of the admin who created the key, never more than that admin still holds.
//! A key is exchanged for a short-lived access token (the client-credentials
//! grant), so base's and financial's guard knows one kind of token; revoking
//! a key ends its tokens the way a logout ends a session's.

pub mod model;
pub mod repo;
pub mod routes;
pub mod service;

/// The base role written into a key's access tokens: such a token is not a
/// person's and opens none of auth's own routes.
pub const API_KEY_ROLE: &str = "api_key";
