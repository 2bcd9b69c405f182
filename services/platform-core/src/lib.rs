//! platform-core: the module catalog, packages and add-ons, company
//! subscriptions and the entitlements they confer. Its REST edge serves
//! platform operators; its gRPC serves auth.

pub mod config;
pub mod domains;
pub mod error;
pub mod grpc;
pub mod state;

use std::sync::Arc;

use anyhow::Context;
use marquee_bus::Bus;
use marquee_guard::TokenValidator;
use marquee_kit::Clock;
use marquee_kit::grpc::RequireServiceToken;
use marquee_proto::platform_core::v1::platform_core_server::PlatformCoreServer;
use marquee_service::{GrpcServices, Listeners, Ready, Skeleton};
use migration_platform_core::Migrator;

pub use config::Config;
use domains::catalog::Catalog;
pub use state::{AppState, Shared};

/// How the service is started.
#[derive(Default)]
pub struct Options {
    /// Run migrations before serving (the default).
    pub skip_migrations: bool,
    pub clock: Clock,
    /// A token validator to use instead of one reading `AUTH_JWKS_URL`.
    pub tokens: Option<TokenValidator>,
    /// Listeners bound beforehand (tests), instead of binding the configured addresses.
    pub listeners: Option<Listeners>,
}

/// A built service: listeners bound, state ready, not yet serving.
pub struct App {
    state: AppState,
    skeleton: Skeleton,
}

impl App {
    pub async fn build(config: Config, options: Options) -> anyhow::Result<Self> {
        let skeleton = Skeleton::start::<Migrator>(
            "platform-core",
            &config.service,
            Some(&config.grpc_addr),
            options.skip_migrations,
            options.listeners,
        )
        .await?;
        let db = skeleton.db.clone();
        let catalog = Catalog::new(domains::catalog::repo::load(&db).await.context("cannot read the module catalog")?);
        let channel = format!("{}:platform-core:entitlements", config.service.redis_prefix);
        let bus = Bus::open(config.service.redis_url.as_deref(), channel, skeleton.shutdown.clone(), |relay| {
            skeleton.tasks.spawn("entitlement-relay", relay)
        })
        .await
        .context("cannot reach REDIS_URL")?;
        let tokens = options
            .tokens
            .unwrap_or_else(|| TokenValidator::from_jwks_url(config.auth_jwks_url.clone(), config.tokens.clone()));
        let state = AppState::new(Shared {
            db,
            reads: skeleton.reads.clone(),
            catalog: Arc::new(catalog),
            tokens,
            bus,
            clock: options.clock,
            config: Arc::new(config),
            plans: moka::sync::Cache::new(10_000),
        });
        Ok(Self { state, skeleton })
    }

    /// Serves REST and gRPC until the shutdown token fires.
    pub async fn run(self) -> anyhow::Result<()> {
        let (routes, docs) = marquee_kit::openapi::DocRouter::new()
            .merge(domains::catalog::routes::router())
            .merge(domains::plans::routes::router())
            .merge(domains::subscriptions::routes::router())
            .into_parts();
        let openapi = docs.document(
            "Marquee platform-core",
            env!("CARGO_PKG_VERSION"),
            "For platform operators: the module catalog, packages, add-ons, subscriptions and entitlements.",
        );
        let live = self.state.bus.clone();
        let ready = Ready::when(self.state.db.clone(), "change fan-out is not connected", move || live.is_live());
        let router = self.skeleton.edge(routes.with_state(self.state.clone()), ready, openapi);
        let service = PlatformCoreServer::with_interceptor(
            grpc::PlatformCoreGrpc { state: self.state.clone(), shutdown: self.skeleton.shutdown.clone() },
            RequireServiceToken::new(self.state.config.service.internal_service_token.expose()),
        );
        self.skeleton.serve(router, Some(GrpcServices::new(service))).await
    }
}

marquee_service::service!(App, Config, Options, AppState, Migrator);
