//! platform-core: the module catalog, packages and add-ons, company
//! subscriptions and the entitlements they confer. Its REST edge serves
//! platform operators; its gRPC serves auth.

pub mod config;
pub mod domains;
pub mod error;
pub mod grpc;
pub mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use marquee_bus::Bus;
use marquee_guard::TokenValidator;
use marquee_kit::Clock;
use marquee_kit::grpc::RequireServiceToken;
use marquee_kit::http::Readiness;
use marquee_kit::server::{Tasks, bind, serve_http};
use marquee_proto::platform_core::v1::platform_core_server::PlatformCoreServer;
use migration_platform_core::{Migrator, MigratorTrait};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::Config;
use domains::catalog::Catalog;
pub use state::AppState;

/// How the service is started.
#[derive(Clone, Default)]
pub struct Options {
    /// Run migrations before serving (the default).
    pub skip_migrations: bool,
    pub clock: Clock,
    /// A token validator to use instead of one reading `AUTH_JWKS_URL`.
    pub tokens: Option<TokenValidator>,
}

/// A built service: listeners bound, state ready, not yet serving.
pub struct App {
    state: AppState,
    http: TcpListener,
    grpc: TcpListener,
    shutdown: CancellationToken,
    tasks: Tasks,
}

#[derive(Clone)]
struct Ready(AppState);

impl Readiness for Ready {
    async fn check(&self) -> Result<(), String> {
        marquee_db::ping(&self.0.db).await?;
        if !self.0.bus.is_live() {
            return Err("change fan-out is not connected".to_owned());
        }
        Ok(())
    }
}

/// Applies pending migrations.
/// The `migrate` command.
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    Ok(marquee_db::migrate::<Migrator>(&config.service.database_url).await?)
}

impl App {
    pub async fn build(config: Config, options: Options) -> anyhow::Result<Self> {
        // Install the metrics recorder before the first request records anything.
        let _ = marquee_telemetry::metrics_handle();
        let db = marquee_db::connect(&config.service.database_url, config.service.database_max_connections).await?;
        if !options.skip_migrations {
            Migrator::up(&db, None).await.context("migrations failed")?;
        }
        let catalog = Catalog::new(domains::catalog::repo::load(&db).await.context("cannot read the module catalog")?);
        let shutdown = CancellationToken::new();
        let tasks = Tasks::new();
        let channel = format!("{}:platform-core:entitlements", config.service.redis_prefix);
        let bus = Bus::open(config.service.redis_url.as_deref(), channel, shutdown.clone(), |relay| {
            tasks.spawn("entitlement-relay", relay)
        })
        .await
        .context("cannot reach REDIS_URL")?;
        let tokens = options
            .tokens
            .unwrap_or_else(|| TokenValidator::from_jwks_url(config.auth_jwks_url.clone(), config.tokens.clone()));
        let http = bind(&config.service.http_addr, "HTTP").await?;
        let grpc = bind(&config.grpc_addr, "gRPC").await?;
        let state = AppState {
            db,
            catalog: Arc::new(catalog),
            tokens,
            bus,
            clock: options.clock,
            config: Arc::new(config),
            plans: moka::sync::Cache::new(10_000),
        };
        Ok(Self { state, http, grpc, shutdown, tasks })
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Fires to stop the service.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    fn router(&self) -> Router {
        let (routes, mut docs) = marquee_kit::openapi::DocRouter::new()
            .merge(domains::catalog::routes::router())
            .merge(domains::plans::routes::router())
            .merge(domains::subscriptions::routes::router())
            .into_parts();
        let openapi = docs.document(
            "Marquee platform-core",
            env!("CARGO_PKG_VERSION"),
            "For platform operators: the module catalog, packages, add-ons, subscriptions and entitlements.",
        );
        let api = routes
            .with_state(self.state.clone())
            .merge(marquee_kit::openapi::serve(openapi))
            .merge(marquee_kit::http::health_routes(Ready(self.state.clone())))
            .route("/metrics", get(|| async { marquee_telemetry::render_metrics() }));
        marquee_kit::http::finish(api, &self.state.config.service.http)
    }

    /// Serves REST and gRPC until the shutdown token fires.
    pub async fn run(self) -> anyhow::Result<()> {
        let router = self.router();
        tracing::info!(http = %self.http_addr(), grpc = %self.grpc_addr(), "platform-core serving");
        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        health_reporter.set_serving::<PlatformCoreServer<grpc::PlatformCoreGrpc>>().await;
        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(marquee_proto::FILE_DESCRIPTOR_SET)
            .build_v1()
            .context("gRPC reflection")?;
        let service = PlatformCoreServer::with_interceptor(
            grpc::PlatformCoreGrpc { state: self.state.clone(), shutdown: self.shutdown.clone() },
            RequireServiceToken::new(self.state.config.service.internal_service_token.expose()),
        );
        let shutdown = self.shutdown.clone();
        let grpc = tonic::transport::Server::builder()
            .trace_fn(marquee_kit::grpc::grpc_span)
            .layer(marquee_kit::grpc::GrpcMetricsLayer)
            .add_service(health_service)
            .add_service(reflection)
            .add_service(service)
            .serve_with_incoming_shutdown(marquee_kit::server::grpc_incoming(self.grpc), async move {
                shutdown.cancelled().await
            });
        let http = serve_http(self.http, router, self.shutdown.clone());
        let (http_result, grpc_result) = tokio::join!(http, grpc);
        self.shutdown.cancel();
        self.tasks.join(Duration::from_secs(5)).await;
        http_result.context("HTTP server")?;
        grpc_result.context("gRPC server")?;
        tracing::info!("platform-core stopped");
        Ok(())
    }
}
