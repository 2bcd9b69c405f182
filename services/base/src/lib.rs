//! base: the business application. Every protected route passes the access
//! guard (effective access from auth, failing closed) before business code runs.

pub mod config;
pub mod domains;
pub mod error;
pub mod listing;
pub mod outbox;
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
use migration_base::{Migrator, MigratorTrait};
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
            Some(url) => Counters::redis(url, &format!("{}:base", config.service.redis_prefix)).context("REDIS_URL")?,
            None => Counters::memory(),
        };
        let guard =
            Guard::from_config(&config.guard, "basic", config.service.internal_service_token.expose(), counters)
                .map_err(|e| anyhow::anyhow!(e))?;
        let http = bind(&config.service.http_addr, "HTTP").await?;
        let shutdown = CancellationToken::new();
        let tasks = Tasks::new();
        tasks.spawn("access-watch", guard.clone().watch(shutdown.clone()));
        let (protected, mut docs) = routes::table(guard.clone()).into_parts();
        let openapi = docs.document("Marquee base", env!("CARGO_PKG_VERSION"), "The business application: artists, venues, vendors, events, calendar, ticketing, offers, workspace, media and crew. Every route needs a bearer access token and x-org.");
        let media = domains::media::store::MediaStore::open(&config.media.backend).context("media storage")?;
        let state = AppState {
            db,
            clock: options.clock,
            config: Arc::new(config),
            guard,
            outbox: outbox::Outbox::default(),
            media,
        };
        tasks.spawn(
            "outbox-relay",
            state.outbox.clone().relay(
                state.db.clone(),
                state.config.financial_grpc_url.clone(),
                state.config.service.internal_service_token.expose().to_owned(),
                state.clock.clone(),
                shutdown.clone(),
            ),
        );
        tasks.spawn("offer-expiry", expire_offers(state.clone(), shutdown.clone()));
        let api = protected
            .with_state(state.clone())
            .merge(marquee_kit::http::health_routes(Ready(state.clone())))
            .merge(marquee_kit::openapi::serve(openapi))
            .route("/metrics", get(|| async { marquee_telemetry::render_metrics() }));
        let router = marquee_kit::http::finish(api, &state.config.service.http);
        Ok(Self { state, router, http, shutdown, tasks })
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    pub async fn run(self) -> anyhow::Result<()> {
        tracing::info!(http = %self.http_addr(), "base serving");
        let result = serve_http(self.http, self.router, self.shutdown.clone()).await;
        self.shutdown.cancel();
        self.tasks.join(Duration::from_secs(5)).await;
        result.context("HTTP server")?;
        tracing::info!("base stopped");
        Ok(())
    }
}

/// Expires sent offers once their deadline passes.
async fn expire_offers(state: AppState, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
        match domains::offers::service::expire_overdue(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(expired = n, "offers expired"),
            Err(e) => tracing::warn!(error = %e, "offer expiry failed"),
        }
    }
}
