//! financial's settings, read from the environment once at start.

use marquee_config::{ConfigError, Env, Secret};
use marquee_guard::GuardConfig;
use marquee_kit::http::HttpSettings;
use marquee_telemetry::TelemetrySettings;

#[derive(Debug, Clone)]
pub struct Config {
    pub http_addr: String,
    pub grpc_addr: String,
    pub database_url: String,
    pub database_max_connections: u32,
    pub redis_url: Option<String>,
    pub redis_prefix: String,
    pub internal_service_token: Secret,
    pub guard: GuardConfig,
    pub http: HttpSettings,
    pub telemetry: TelemetrySettings,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::load(&mut Env::from_process())
    }

    pub fn load(env: &mut Env) -> Result<Self, ConfigError> {
        let database_url = env.string("DATABASE_URL", "sqlite://./data/financial.db");
        if let Err(problem) = marquee_db::validate_url(&database_url) {
            env.problem("DATABASE_URL", problem);
        }
        let internal_service_token = env.required_secret("INTERNAL_SERVICE_TOKEN");
        let config = Self {
            http_addr: env.string("HTTP_ADDR", "127.0.0.1:8084"),
            grpc_addr: env.string("GRPC_ADDR", "127.0.0.1:9084"),
            database_url,
            database_max_connections: env.parse("DATABASE_MAX_CONNECTIONS", 16u32),
            redis_url: env.optional_url("REDIS_URL", &["redis://", "rediss://"]),
            redis_prefix: env.string("REDIS_PREFIX", "marquee"),
            internal_service_token,
            guard: GuardConfig::from_env(env),
            http: HttpSettings::from_env(env),
            telemetry: TelemetrySettings::from_env(env),
        };
        env.finish()?;
        Ok(config)
    }
}
