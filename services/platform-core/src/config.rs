//! platform-core's settings, read from the environment once at start.

use std::time::Duration;

use marquee_config::{ConfigError, Env, Secret};
use marquee_guard::TokenSettings;
use marquee_kit::http::HttpSettings;
use marquee_telemetry::TelemetrySettings;

#[derive(Debug, Clone)]
pub struct Config {
    pub http_addr: String,
    pub grpc_addr: String,
    pub database_url: String,
    pub database_max_connections: u32,
    pub redis_url: Option<String>,
    /// Prefix of Redis keys and channels, so several fleets can share a Redis.
    pub redis_prefix: String,
    pub auth_jwks_url: String,
    pub internal_service_token: Secret,
    pub tokens: TokenSettings,
    pub http: HttpSettings,
    pub telemetry: TelemetrySettings,
    pub default_package: String,
    pub trial_days: u32,
    pub grace_days: u32,
    pub heartbeat_interval: Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::load(&mut Env::from_process())
    }

    pub fn load(env: &mut Env) -> Result<Self, ConfigError> {
        let database_url = env.string("DATABASE_URL", "sqlite://./data/platform-core.db");
        if let Err(problem) = marquee_db::validate_url(&database_url) {
            env.problem("DATABASE_URL", problem);
        }
        let redis_url = env.optional_url("REDIS_URL", &["redis://", "rediss://"]);
        let internal_service_token = env.required_secret("INTERNAL_SERVICE_TOKEN");
        if !internal_service_token.expose().is_empty() && internal_service_token.expose().len() < 16 {
            env.problem("INTERNAL_SERVICE_TOKEN", "must be at least 16 characters");
        }
        let trial_days = env.parse("DEFAULT_TRIAL_DAYS", 14u32);
        if trial_days > 365 {
            env.problem("DEFAULT_TRIAL_DAYS", "must be at most 365");
        }
        let grace_days = env.parse("PAST_DUE_GRACE_DAYS", 7u32);
        if grace_days > 90 {
            env.problem("PAST_DUE_GRACE_DAYS", "must be at most 90");
        }
        let config = Self {
            http_addr: env.string("HTTP_ADDR", "127.0.0.1:8082"),
            grpc_addr: env.string("GRPC_ADDR", "127.0.0.1:9082"),
            database_url,
            database_max_connections: env.parse("DATABASE_MAX_CONNECTIONS", 16u32),
            redis_url,
            redis_prefix: env.string("REDIS_PREFIX", "marquee"),
            auth_jwks_url: env.string("AUTH_JWKS_URL", "http://127.0.0.1:8081/.well-known/jwks.json"),
            internal_service_token,
            tokens: TokenSettings {
                issuer: env.string("JWT_ISSUER", "marquee-auth"),
                audience: env.string("JWT_AUDIENCE", "marquee"),
                leeway: Duration::from_secs(env.parse("JWT_LEEWAY_SECS", 5u64)),
                ..TokenSettings::default()
            },
            http: HttpSettings::from_env(env),
            telemetry: TelemetrySettings::from_env(env),
            default_package: env.string("DEFAULT_PACKAGE", "standard"),
            trial_days,
            grace_days,
            heartbeat_interval: Duration::from_millis(env.parse("HEARTBEAT_INTERVAL_MS", 1000u64)),
        };
        env.finish()?;
        Ok(config)
    }
}
