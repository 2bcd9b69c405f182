//! What every Marquee service shares at start: the configuration header
//! every service reads with the same rules ([`ServiceConfig`]), and the
//! command line of every binary ([`run`]).

use std::process::ExitCode;

mod skeleton;
pub use skeleton::{GrpcServices, Listeners, Ready, Skeleton};

use marquee_config::{ConfigError, Env, Secret};
use marquee_kit::http::HttpSettings;
use marquee_telemetry::TelemetrySettings;

/// Every service allocates through mimalloc (SQLite's own allocations and
/// argon2's working memory excepted). Under load the system allocator's locks
/// and consolidation took about a sixth of base's CPU serving a list;
/// mimalloc's per-thread heaps take half as much.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The shortest service credential accepted: shorter ones are guessable.
pub const MIN_SERVICE_TOKEN_LEN: usize = 16;

/// The settings every service reads, under the same names and rules.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// `HTTP_ADDR`: the REST edge (health, readiness, metrics and documents too).
    pub http_addr: String,
    /// `DATABASE_URL`: `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// `DATABASE_MAX_CONNECTIONS`.
    pub database_max_connections: u32,
    /// `REDIS_URL` (`redis://` or `rediss://`), and `REDIS_PREFIX` for every key.
    pub redis_url: Option<String>,
    pub redis_prefix: String,
    /// `INTERNAL_SERVICE_TOKEN`: the fleet's credential on every internal call.
    pub internal_service_token: Secret,
    /// `CORS_ORIGINS`, `SHUTDOWN_DRAIN_SECS`.
    pub http: HttpSettings,
    /// `LOG_FORMAT`, `LOG_LEVEL`, `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub telemetry: TelemetrySettings,
}

impl ServiceConfig {
    /// The header of `service` (e.g. "base"), whose REST edge defaults to `http_addr`.
    pub fn load(env: &mut Env, service: &str, http_addr: &str) -> Self {
        let database_url = env.string("DATABASE_URL", &format!("sqlite://./data/{service}.db"));
        if let Err(problem) = marquee_db::validate_url(&database_url) {
            env.problem("DATABASE_URL", problem);
        }
        let internal_service_token = env.required_secret("INTERNAL_SERVICE_TOKEN");
        let token_len = internal_service_token.expose().len();
        if token_len > 0 && token_len < MIN_SERVICE_TOKEN_LEN {
            env.problem("INTERNAL_SERVICE_TOKEN", format!("must be at least {MIN_SERVICE_TOKEN_LEN} characters"));
        }
        Self {
            http_addr: env.string("HTTP_ADDR", http_addr),
            database_url,
            database_max_connections: env.parse("DATABASE_MAX_CONNECTIONS", 16u32),
            redis_url: env.optional_url("REDIS_URL", &["redis://", "rediss://"]),
            redis_prefix: env.string("REDIS_PREFIX", "marquee"),
            internal_service_token,
            http: HttpSettings::from_env(env),
            telemetry: TelemetrySettings::from_env(env),
        }
    }
}

impl ServiceConfig {
    /// Rate-limit and lockout counters of `service`: in Redis under its own
    /// prefix when `REDIS_URL` is set (shared by every replica), else in
    /// this process.
    pub fn counters(&self, service: &str) -> anyhow::Result<marquee_counters::Counters> {
        use anyhow::Context;
        match &self.redis_url {
            Some(url) => {
                marquee_counters::Counters::redis(url, &format!("{}:{service}", self.redis_prefix)).context("REDIS_URL")
            }
            None => Ok(marquee_counters::Counters::memory()),
        }
    }
}

/// A service's configuration, as the shared command line needs it.
pub trait Configured: Sized {
    /// Reads every variable, naming every bad one at once.
    fn from_env() -> Result<Self, ConfigError>;
    fn service(&self) -> &ServiceConfig;
}

/// Implements [`Configured`] for a service's `Config`: one with a `service`
/// field (its header) and `Config::load(&mut Env)`.
#[macro_export]
macro_rules! configured {
    ($config:ty) => {
        impl $crate::Configured for $config {
            fn from_env() -> Result<Self, ::marquee_config::ConfigError> {
                Self::load(&mut ::marquee_config::Env::from_process())
            }

            fn service(&self) -> &$crate::ServiceConfig {
                &self.service
            }
        }
    };
}

/// Declares a service's `AppState`: its `Shared` parts, built once at start,
/// behind one pointer. A request clones the state more than once (axum's
/// `State`), and a clone is then one reference count rather than one per
/// pool, cache and queue inside. Fields read through it as `state.db`.
#[macro_export]
macro_rules! app_state {
    ($shared:ident) => {
        #[derive(Clone)]
        pub struct AppState(::std::sync::Arc<$shared>);

        impl AppState {
            pub fn new(shared: $shared) -> Self {
                Self(::std::sync::Arc::new(shared))
            }
        }

        impl ::std::ops::Deref for AppState {
            type Target = $shared;
            fn deref(&self) -> &$shared {
                &self.0
            }
        }
    };
}

/// A service's application, as the shared command line serves it.
pub trait Service: Sized {
    type Config: Configured;
    /// Builds the application, migrating first unless `skip_migrations`.
    fn build(config: Self::Config, skip_migrations: bool) -> impl Future<Output = anyhow::Result<Self>>;
    /// Cancelled to begin a graceful shutdown.
    fn shutdown_token(&self) -> tokio_util::sync::CancellationToken;
    /// Where the REST edge listens.
    fn http_addr(&self) -> std::net::SocketAddr;
    /// Where gRPC listens (port 0 for a service without it).
    fn grpc_addr(&self) -> std::net::SocketAddr;
    /// Serves until the shutdown token is cancelled and the drain is over.
    fn serve(self) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// `migrate`: applies the migrations.
    fn migrate(config: &Self::Config) -> impl Future<Output = anyhow::Result<()>>;
}

/// How a service is built, beyond its configuration.
#[derive(Default)]
pub struct Options {
    /// Serve without migrating first (`--no-migrate`).
    pub skip_migrations: bool,
    pub clock: marquee_kit::Clock,
    /// Listeners bound beforehand (tests), instead of binding the configured addresses.
    pub listeners: Option<Listeners>,
}

/// Gives a service's `App` (fields `state` and `skeleton`) its accessors and
/// implements [`Service`] for it: built by `App::build(config, options)`,
/// served by `App::run`, migrated by `migrator`.
#[macro_export]
macro_rules! service {
    ($app:ty, $config:ty, $options:ident, $state:ty, $migrator:ty) => {
        impl $app {
            /// Where the REST edge listens.
            pub fn http_addr(&self) -> ::std::net::SocketAddr {
                self.skeleton.http_addr()
            }

            /// Where gRPC listens (port 0 for a service without it).
            pub fn grpc_addr(&self) -> ::std::net::SocketAddr {
                self.skeleton.grpc_addr()
            }

            pub fn state(&self) -> &$state {
                &self.state
            }

            /// Cancelled to stop the service.
            pub fn shutdown_token(&self) -> ::tokio_util::sync::CancellationToken {
                self.skeleton.shutdown.clone()
            }
        }

        impl $crate::Service for $app {
            type Config = $config;

            async fn build(config: $config, skip_migrations: bool) -> anyhow::Result<Self> {
                <$app>::build(config, $options { skip_migrations, ..$options::default() }).await
            }

            fn shutdown_token(&self) -> ::tokio_util::sync::CancellationToken {
                <$app>::shutdown_token(self)
            }

            fn http_addr(&self) -> ::std::net::SocketAddr {
                <$app>::http_addr(self)
            }

            fn grpc_addr(&self) -> ::std::net::SocketAddr {
                <$app>::grpc_addr(self)
            }

            async fn serve(self) -> anyhow::Result<()> {
                self.run().await
            }

            async fn migrate(config: &$config) -> anyhow::Result<()> {
                let url = &<$config as $crate::Configured>::service(config).database_url;
                Ok(::marquee_db::migrate::<$migrator>(url).await?)
            }
        }
    };
}

/// Carries out `command` for service `S`: migrates, or serves until SIGTERM
/// (then drains). A binary handles its own commands before calling this.
pub async fn run<S: Service>(config: S::Config, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Migrate => S::migrate(&config).await,
        Command::Serve { skip_migrations } => {
            let drain = config.service().http.drain;
            let app = S::build(config, skip_migrations).await?;
            marquee_kit::server::cancel_on_signal(app.shutdown_token(), drain);
            app.serve().await
        }
        Command::Own(other) => anyhow::bail!("the command {other} is the binary's own"),
    }
}

/// What the command line asks of a binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Serve until SIGTERM, after migrating unless `--no-migrate`.
    Serve { skip_migrations: bool },
    /// `migrate`: apply the migrations and stop.
    Migrate,
    /// One of the binary's own commands, e.g. `rotate-keys`.
    Own(&'static str),
}

/// A binary that read its configuration and command line.
pub struct Started<C> {
    pub config: C,
    pub command: Command,
    /// Flushes traces when dropped at the end of `main`.
    pub telemetry: marquee_telemetry::Telemetry,
}

/// `<name> [healthcheck | migrate | <own>] [--no-migrate]`: reads the
/// configuration (exit 2 naming every bad variable) and the command line
/// (exit 2 on an unknown argument), answers `healthcheck` at once (exit 0
/// when the running service is ready), and otherwise starts telemetry.
pub fn start<C: Configured>(name: &'static str, own: &[&'static str]) -> anyhow::Result<Started<C>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = C::from_env().unwrap_or_else(|e| {
        eprintln!("{name}: {e}");
        std::process::exit(2);
    });
    let mut chosen = None;
    let mut skip_migrations = false;
    for arg in &args {
        match arg.as_str() {
            "--no-migrate" => skip_migrations = true,
            "healthcheck" if chosen.is_none() => {
                let ready = marquee_kit::server::healthcheck(&config.service().http_addr) == ExitCode::SUCCESS;
                std::process::exit(if ready { 0 } else { 1 });
            }
            "migrate" if chosen.is_none() => chosen = Some(Command::Migrate),
            other => match own.iter().find(|o| **o == other) {
                Some(command) if chosen.is_none() => chosen = Some(Command::Own(command)),
                _ => {
                    let expected: Vec<String> =
                        ["healthcheck", "migrate"].iter().chain(own).map(|c| format!("`{c}`")).collect();
                    eprintln!(
                        "{name}: unknown argument {other:?} (expected {} or `--no-migrate`)",
                        expected.join(", ")
                    );
                    std::process::exit(2);
                }
            },
        }
    }
    let command = chosen.unwrap_or(Command::Serve { skip_migrations });
    let telemetry = marquee_telemetry::init(name, &config.service().telemetry)?;
    Ok(Started { config, command, telemetry })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<ServiceConfig, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let mut env = Env::from_map(vars);
        let config = ServiceConfig::load(&mut env, "base", "127.0.0.1:8083");
        env.finish().map(|()| config)
    }

    #[test]
    fn every_service_refuses_a_short_or_missing_credential_by_name() {
        for vars in [&[][..], &[("INTERNAL_SERVICE_TOKEN", "fifteen chars..")][..]] {
            let Err(e) = load(vars) else { panic!("accepted {vars:?}") };
            assert!(e.to_string().contains("INTERNAL_SERVICE_TOKEN"), "{e}");
        }
        assert!(load(&[("INTERNAL_SERVICE_TOKEN", "sixteen chars...")]).is_ok());
    }

    #[test]
    fn defaults_name_the_service_and_bad_values_are_named_together() {
        let Ok(config) = load(&[("INTERNAL_SERVICE_TOKEN", "a credential long enough")]) else { panic!() };
        assert_eq!(config.database_url, "sqlite://./data/base.db");
        assert_eq!(config.http_addr, "127.0.0.1:8083");
        let Err(e) = load(&[
            ("INTERNAL_SERVICE_TOKEN", "a credential long enough"),
            ("DATABASE_URL", "mysql://x"),
            ("REDIS_URL", "http://redis"),
            ("SHUTDOWN_DRAIN_SECS", "soon"),
        ]) else {
            panic!("accepted")
        };
        for name in ["DATABASE_URL", "REDIS_URL", "SHUTDOWN_DRAIN_SECS"] {
            assert!(e.to_string().contains(name), "{e}");
        }
    }
}
