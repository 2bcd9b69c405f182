//! financial: the accounting truth of each company. Every protected route passes
//! the same access guard as base, with module `financial`.

pub mod config;
pub mod domains;
pub mod error;
pub mod grpc;
pub mod routes;
pub mod state;

use std::sync::Arc;

use axum::Router;
use marquee_guard::Guard;
use marquee_service::{GrpcServices, Ready, Skeleton};
use migration_financial::Migrator;

pub use config::Config;
pub use state::{AppState, Shared};

pub use marquee_service::Options;

pub struct App {
    state: AppState,
    router: Router,
    skeleton: Skeleton,
}

impl App {
    pub async fn build(config: Config, options: Options) -> anyhow::Result<Self> {
        let skeleton = Skeleton::start::<Migrator>(
            "financial",
            &config.service,
            Some(&config.grpc_addr),
            options.skip_migrations,
            options.listeners,
        )
        .await?;
        let counters = config.service.counters("financial")?;
        let guard =
            Guard::from_config(&config.guard, "financial", config.service.internal_service_token.expose(), counters)
                .map_err(|e| anyhow::anyhow!(e))?;
        skeleton.tasks.spawn("access-watch", guard.clone().watch(skeleton.shutdown.clone()));
        let (protected, docs) = routes::table(guard.clone()).into_parts();
        let openapi = docs.document("Marquee financial", env!("CARGO_PKG_VERSION"), "The accounting truth: ledger, expenses and incomes, settlements, payouts and reports. Every route needs a bearer access token and x-org.");
        let ledger = domains::ledger::service::writer(skeleton.db.clone(), options.clock.clone());
        let facts = domains::records::service::fact_writer(skeleton.db.clone(), options.clock.clone());
        let state = AppState::new(Shared {
            db: skeleton.db.clone(),
            reads: skeleton.reads.clone(),
            clock: options.clock,
            config: Arc::new(config),
            guard,
            ledger,
            facts,
        });
        let live = state.guard.clone();
        let ready = Ready::when(state.db.clone(), "not hearing auth's access stream", move || live.is_live());
        let router = skeleton.edge(protected.with_state(state.clone()), ready, openapi);
        Ok(Self { state, router, skeleton })
    }

    pub async fn run(self) -> anyhow::Result<()> {
        use marquee_proto::financial::v1::facts_server::FactsServer;
        let facts = FactsServer::with_interceptor(
            grpc::FactsGrpc { state: self.state.clone() },
            marquee_kit::grpc::RequireServiceToken::new(self.state.config.service.internal_service_token.expose()),
        );
        let feed = marquee_proto::integration::v1::integration_events_server::IntegrationEventsServer::with_interceptor(
            marquee_webhooks::feed::Feed { db: self.state.db.clone() },
            marquee_kit::grpc::RequireServiceToken::new(self.state.config.service.internal_service_token.expose()),
        );
        self.skeleton.serve(self.router, Some(GrpcServices::new(facts).with(feed))).await
    }
}

marquee_service::service!(App, Config, Options, AppState, Migrator);
