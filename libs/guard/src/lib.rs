//! Verifying who the caller is: validation of Auth-issued access tokens
//! against Auth's JWKS, and the extractors that put it in front of routes.

pub mod access;
pub mod extract;
pub mod token;

pub use access::{AccessContext, Ctx, Guard, GuardConfig, GuardSettings, RoutePermission, RouteTable};
pub use extract::{Authenticated, PlatformAdmin, bearer_token};
pub use token::{
    ACCESS_TOKEN_TYPE, AccessClaims, PLATFORM_ADMIN_ROLE, TokenError, TokenSettings, TokenValidator, ed25519_jwk,
};
