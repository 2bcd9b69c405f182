//! financial: the accounting truth of each company. Every protected route passes
//! the same access guard as base, with module `financial`.

pub mod config;
pub mod domains;
pub mod error;
pub mod grpc;
pub mod routes;
pub mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use marquee_counters::Counters;
use marquee_guard::Guard;
use marquee_kit::Clock;
use marquee_kit::http::Readiness;
use marquee_kit::server::{Tasks, bind, serve_http};
use migration_financial::{Migrator, MigratorTrait};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::Config;
pub use state::AppState;

#[derive(Clone, Default)]
pub struct Options {
    pub skip_migrations: bool,
    pub clock: Clock,
}

pub struct App {
    state: AppState,
    router: Router,
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
        if !self.0.guard.is_live() {
            return Err("not hearing auth's access stream".to_owned());
        }
        Ok(())
    }
}

/// The `migrate` command.
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    Ok(marquee_db::migrate::<Migrator>(&config.service.database_url).await?)
}

impl App {
    pub async fn build(config: Config, options: Options) -> anyhow::Result<Self> {
        let _ = marquee_telemetry::metrics_handle();
        let db = marquee_db::connect(&config.service.database_url, config.service.database_max_connections).await?;
        if !options.skip_migrations {
            Migrator::up(&db, None).await.context("migrations failed")?;
        }
        let counters = match &config.service.redis_url {
            Some(url) => {
                Counters::redis(url, &format!("{}:financial", config.service.redis_prefix)).context("REDIS_URL")?
            }
            None => Counters::memory(),
        };
        let guard =
            Guard::from_config(&config.guard, "financial", config.service.internal_service_token.expose(), counters)
                .map_err(|e| anyhow::anyhow!(e))?;
        let http = bind(&config.service.http_addr, "HTTP").await?;
        let grpc = bind(&config.grpc_addr, "gRPC").await?;
        let shutdown = CancellationToken::new();
        let tasks = Tasks::new();
        tasks.spawn("access-watch", guard.clone().watch(shutdown.clone()));
        let (protected, mut docs) = routes::table(guard.clone()).into_parts();
        let openapi = docs.document("Marquee financial", env!("CARGO_PKG_VERSION"), "The accounting truth: ledger, expenses and incomes, settlements, payouts and reports. Every route needs a bearer access token and x-org.");
        let state = AppState { db, clock: options.clock, config: Arc::new(config), guard };
        let api = protected
            .with_state(state.clone())
            .merge(marquee_kit::http::health_routes(Ready(state.clone())))
            .merge(marquee_kit::openapi::serve(openapi))
            .route("/metrics", get(|| async { marquee_telemetry::render_metrics() }));
        let router = marquee_kit::http::finish(api, &state.config.service.http);
        Ok(Self { state, router, http, grpc, shutdown, tasks })
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

    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    pub async fn run(self) -> anyhow::Result<()> {
        use marquee_proto::financial::v1::facts_server::FactsServer;
        tracing::info!(http = %self.http_addr(), grpc = %self.grpc_addr(), "financial serving");
        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        health_reporter.set_serving::<FactsServer<grpc::FactsGrpc>>().await;
        let facts = FactsServer::with_interceptor(
            grpc::FactsGrpc { state: self.state.clone() },
            marquee_kit::grpc::RequireServiceToken::new(self.state.config.service.internal_service_token.expose()),
        );
        let shutdown = self.shutdown.clone();
        let grpc = tonic::transport::Server::builder()
            .trace_fn(marquee_kit::grpc::grpc_span)
            .layer(marquee_kit::grpc::GrpcMetricsLayer)
            .add_service(health_service)
            .add_service(facts)
            .serve_with_incoming_shutdown(marquee_kit::server::grpc_incoming(self.grpc), async move {
                shutdown.cancelled().await
            });
        let http = serve_http(self.http, self.router, self.shutdown.clone());
        let (http_result, grpc_result) = tokio::join!(http, grpc);
        self.shutdown.cancel();
        self.tasks.join(Duration::from_secs(5)).await;
        http_result.context("HTTP server")?;
        grpc_result.context("gRPC server")?;
        tracing::info!("financial stopped");
        Ok(())
    }
}
