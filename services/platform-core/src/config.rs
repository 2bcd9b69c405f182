//! platform-core's settings, read from the environment once at start.

use std::time::Duration;

use marquee_config::{ConfigError, Env};
use marquee_guard::TokenSettings;
use marquee_service::ServiceConfig;

#[derive(Debug, Clone)]
pub struct Config {
    /// What every service reads: addresses, database, Redis, credential, edge, telemetry.
    pub service: ServiceConfig,
    pub grpc_addr: String,
    pub auth_jwks_url: String,
    pub tokens: TokenSettings,
    pub default_package: String,
    pub trial_days: u32,
    pub grace_days: u32,
    pub heartbeat_interval: Duration,
}

impl Config {
    pub fn load(env: &mut Env) -> Result<Self, ConfigError> {
        let service = ServiceConfig::load(env, "platform-core", "127.0.0.1:8082");
        let trial_days = env.parse("DEFAULT_TRIAL_DAYS", 14u32);
        if trial_days > 365 {
            env.problem("DEFAULT_TRIAL_DAYS", "must be at most 365");
        }
        let grace_days = env.parse("PAST_DUE_GRACE_DAYS", 7u32);
        if grace_days > 90 {
            env.problem("PAST_DUE_GRACE_DAYS", "must be at most 90");
        }
        let config = Self {
            service,
            grpc_addr: env.string("GRPC_ADDR", "127.0.0.1:9082"),
            auth_jwks_url: env.string("AUTH_JWKS_URL", "http://127.0.0.1:8081/.well-known/jwks.json"),
            tokens: TokenSettings {
                issuer: env.string("JWT_ISSUER", "marquee-auth"),
                audience: env.string("JWT_AUDIENCE", "marquee"),
                leeway: Duration::from_secs(env.parse("JWT_LEEWAY_SECS", 5u64)),
                ..TokenSettings::default()
            },
            default_package: env.string("DEFAULT_PACKAGE", "standard"),
            trial_days,
            grace_days,
            heartbeat_interval: Duration::from_millis(env.parse("HEARTBEAT_INTERVAL_MS", 1000u64)),
        };
        env.finish()?;
        Ok(config)
    }
}

marquee_service::configured!(Config);
