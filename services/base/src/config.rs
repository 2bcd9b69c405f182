//! base's settings, read from the environment once at start.

use std::time::Duration;

use marquee_config::{ConfigError, Env, Secret};
use marquee_guard::TokenSettings;
use marquee_kit::http::HttpSettings;
use marquee_telemetry::TelemetrySettings;

#[derive(Debug, Clone)]
pub struct Config {
    pub http_addr: String,
    pub database_url: String,
    pub database_max_connections: u32,
    pub redis_url: Option<String>,
    pub redis_prefix: String,
    pub auth_grpc_url: String,
    pub auth_jwks_url: String,
    pub internal_service_token: Secret,
    pub tokens: TokenSettings,
    pub access_budget: Duration,
    pub access_hard_ttl: Duration,
    pub stream_stale_after: Duration,
    pub rate_per_user: u64,
    pub rate_per_company: u64,
    pub rate_window: Duration,
    pub http: HttpSettings,
    pub telemetry: TelemetrySettings,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::load(&mut Env::from_process())
    }

    pub fn load(env: &mut Env) -> Result<Self, ConfigError> {
        let database_url = env.string("DATABASE_URL", "sqlite://./data/base.db");
        if let Err(problem) = marquee_db::validate_url(&database_url) {
            env.problem("DATABASE_URL", problem);
        }
        let internal_service_token = env.required_secret("INTERNAL_SERVICE_TOKEN");
        let config = Self {
            http_addr: env.string("HTTP_ADDR", "127.0.0.1:8083"),
            database_url,
            database_max_connections: env.parse("DATABASE_MAX_CONNECTIONS", 16u32),
            redis_url: env.optional_url("REDIS_URL", &["redis://", "rediss://"]),
            redis_prefix: env.string("REDIS_PREFIX", "marquee"),
            auth_grpc_url: env.string("AUTH_GRPC_URL", "http://127.0.0.1:9081"),
            auth_jwks_url: env.string("AUTH_JWKS_URL", "http://127.0.0.1:8081/.well-known/jwks.json"),
            internal_service_token,
            tokens: TokenSettings {
                issuer: env.string("JWT_ISSUER", "marquee-auth"),
                audience: env.string("JWT_AUDIENCE", "marquee"),
                leeway: Duration::from_secs(env.parse("JWT_LEEWAY_SECS", 5u64)),
                ..TokenSettings::default()
            },
            access_budget: Duration::from_millis(env.parse("ACCESS_BUDGET_MS", 1000u64)),
            access_hard_ttl: Duration::from_secs(env.parse("ACCESS_HARD_TTL_SECS", 60u64)),
            stream_stale_after: Duration::from_millis(env.parse("STREAM_STALE_AFTER_MS", 3000u64)),
            rate_per_user: env.parse("RATE_LIMIT_PER_USER", 1200u64),
            rate_per_company: env.parse("RATE_LIMIT_PER_COMPANY", 12_000u64),
            rate_window: Duration::from_secs(env.parse("RATE_WINDOW_SECS", 60u64)),
            http: HttpSettings { cors_origins: env.list("CORS_ORIGINS"), ..HttpSettings::default() },
            telemetry: TelemetrySettings::from_env(env),
        };
        env.finish()?;
        Ok(config)
    }
}
