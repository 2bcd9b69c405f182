//! financial's settings, read from the environment once at start.

use marquee_config::{ConfigError, Env};
use marquee_guard::GuardConfig;
use marquee_service::ServiceConfig;

#[derive(Debug, Clone)]
pub struct Config {
    /// What every service reads: addresses, database, Redis, credential, edge, telemetry.
    pub service: ServiceConfig,
    pub grpc_addr: String,
    pub guard: GuardConfig,
}

impl Config {
    pub fn load(env: &mut Env) -> Result<Self, ConfigError> {
        let service = ServiceConfig::load(env, "financial", "127.0.0.1:8084");
        let config =
            Self { service, grpc_addr: env.string("GRPC_ADDR", "127.0.0.1:9084"), guard: GuardConfig::from_env(env) };
        env.finish()?;
        Ok(config)
    }
}

marquee_service::configured!(Config);
