//! The guard's settings, and the environment they are read from.

use std::time::Duration;

/// One service's guard: its configuration, the fleet's credential for asking
/// auth, and the module every route of the service needs (`basic`,
/// `financial`).
#[derive(Debug, Clone)]
pub struct GuardSettings {
    pub config: GuardConfig,
    pub service_token: String,
    pub module: &'static str,
}

/// What a business service configures about its guard, from the environment:
/// `AUTH_GRPC_URL`, `AUTH_JWKS_URL`, `JWT_*`, `ACCESS_BUDGET_MS`,
/// `ACCESS_HARD_TTL_SECS`, `STREAM_STALE_AFTER_MS`, `RATE_LIMIT_PER_USER`,
/// `RATE_LIMIT_PER_COMPANY`, `RATE_WINDOW_SECS`.
#[derive(Debug, Clone)]
pub struct GuardConfig {
    pub auth_grpc_url: String,
    pub auth_jwks_url: String,
    pub tokens: crate::token::TokenSettings,
    /// Time allowed for asking auth, per request.
    pub budget: Duration,
    /// No cached answer is used for longer than this.
    pub hard_ttl: Duration,
    /// The stream counts as down this long after its last message.
    pub stale_after: Duration,
    pub rate_per_user: u64,
    pub rate_per_company: u64,
    pub rate_window: Duration,
}

impl GuardConfig {
    pub fn from_env(env: &mut marquee_config::Env) -> Self {
        Self {
            auth_grpc_url: env.string("AUTH_GRPC_URL", "http://127.0.0.1:9081"),
            auth_jwks_url: env.string("AUTH_JWKS_URL", "http://127.0.0.1:8081/.well-known/jwks.json"),
            tokens: crate::token::TokenSettings {
                issuer: env.string("JWT_ISSUER", "marquee-auth"),
                audience: env.string("JWT_AUDIENCE", "marquee"),
                leeway: Duration::from_secs(env.parse("JWT_LEEWAY_SECS", 5u64)),
                ..crate::token::TokenSettings::default()
            },
            budget: Duration::from_millis(env.parse("ACCESS_BUDGET_MS", 1000u64)),
            hard_ttl: Duration::from_secs(env.parse("ACCESS_HARD_TTL_SECS", 60u64)),
            stale_after: Duration::from_millis(env.parse("STREAM_STALE_AFTER_MS", 3000u64)),
            rate_per_user: env.parse("RATE_LIMIT_PER_USER", 1200u64),
            rate_per_company: env.parse("RATE_LIMIT_PER_COMPANY", 12_000u64),
            rate_window: Duration::from_secs(env.parse("RATE_WINDOW_SECS", 60u64)),
        }
    }
}
