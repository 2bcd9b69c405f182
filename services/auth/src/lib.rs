//! auth: identity, login, tokens and sessions (and, next, companies,
//! memberships and effective access). Its REST edge serves people; its gRPC
//! serves the business services.

pub mod client;
pub mod config;
pub mod crypto;
pub mod domains;
pub mod error;
pub mod events;
pub mod grpc;
pub mod memo;
pub mod platform;
pub mod state;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use marquee_bus::Bus;
use marquee_kit::grpc::RequireServiceToken;
use marquee_kit::http::Readiness;
use marquee_proto::auth::v1::access_server::AccessServer;
use marquee_service::{GrpcServices, Skeleton};
use migration_auth::Migrator;
use tokio_util::sync::CancellationToken;

pub use config::Config;
use crypto::Passwords;
use domains::keys::KeyRing;
use events::Events;
use marquee_mail::Outbox;
use platform::Platform;
pub use state::AppState;

/// How the service is started.
pub use marquee_service::Options;

/// A built service: listeners bound, state ready, not yet serving.
pub struct App {
    state: AppState,
    skeleton: Skeleton,
}

#[derive(Clone)]
struct Ready(AppState);

impl Readiness for Ready {
    // platform-core is left out on purpose: without it sign-in still works and
    // access questions are answered 503, which beats taking every replica out.
    async fn check(&self) -> Result<(), String> {
        marquee_db::ping(&self.0.db).await?;
        self.0.counters.ping().await.map_err(|e| e.to_string())?;
        if !self.0.events.is_live() {
            return Err("access change fan-out is not connected".to_owned());
        }
        Ok(())
    }
}

/// Publishes a new signing key now (the `rotate-keys` command); the running
/// fleet signs with it once `SIGNING_KEY_PUBLISH_LEAD_SECS` have passed.
pub async fn rotate_keys(config: &Config) -> anyhow::Result<String> {
    let db = marquee_db::connect(&config.service.database_url, 1).await?;
    let now = chrono::Utc::now();
    let ring = KeyRing::load(&db, &config.sealer, config.tokens.clone(), now).await?;
    Ok(ring.rotate(&db, &config.sealer, now).await?.0)
}

impl App {
    pub async fn build(config: Config, options: Options) -> anyhow::Result<Self> {
        let skeleton = Skeleton::start::<Migrator>(
            "auth",
            &config.service,
            Some(&config.grpc_addr),
            options.skip_migrations,
            options.listeners,
        )
        .await?;
        let db = skeleton.db.clone();
        let keys = KeyRing::load(&db, &config.sealer, config.tokens.clone(), options.clock.now())
            .await
            .context("cannot load signing keys")?;
        let passwords = Passwords::new(config.password_cost, config.password_concurrency, config.password_queue)
            .await
            .context("password hashing")?;
        let counters = config.service.counters("auth")?;
        let mailer = config.mail.mailer()?;
        let (tasks, shutdown) = (&skeleton.tasks, &skeleton.shutdown);
        let channel = format!("{}:auth:access", config.service.redis_prefix);
        let bus = Bus::open(config.service.redis_url.as_deref(), channel, shutdown.clone(), |relay| {
            tasks.spawn("access-relay", relay)
        })
        .await
        .context("cannot reach REDIS_URL")?;
        let events = Events::new(bus);
        let platform = Platform::new(
            &config.platform_core_grpc_url,
            config.service.internal_service_token.expose(),
            config.peer_timeout,
            config.stream_stale_after,
        )?;
        let state = AppState::new(state::Shared {
            db: db.clone(),
            reads: skeleton.reads.clone(),
            clock: options.clock.clone(),
            config: Arc::new(config),
            keys,
            passwords,
            address_budgets: marquee_counters::Budgets::new(counters.clone()),
            counters,
            outbox: Outbox::default(),
            platform: platform.clone(),
            events: events.clone(),
            grants_cache: Default::default(),
            rotations: domains::sessions::service::rotations(db.clone(), options.clock.clone()),
        });
        domains::users::service::bootstrap_admin(&state)
            .await
            .map_err(|e| anyhow::anyhow!("cannot create the platform admin: {e}"))?;
        tasks.spawn(
            "mail-relay",
            state.outbox.clone().relay(
                db,
                mailer,
                state.config.mail.mail_from.clone(),
                options.clock,
                shutdown.clone(),
            ),
        );
        tasks.spawn("key-maintenance", key_maintenance(state.clone(), shutdown.clone()));
        tasks.spawn("access-memo", events.clone().keep_memo(shutdown.clone()));
        let watcher = state.clone();
        let entitlements_changed = move |company, revision| {
            let state = watcher.clone();
            async move { domains::access::service::entitlements_changed(&state, company, revision).await }
        };
        tasks.spawn("entitlement-watch", platform.watch(entitlements_changed, shutdown.clone()));
        tasks.spawn("subscription-reconciler", reconcile(state.clone(), shutdown.clone()));
        Ok(Self { state, skeleton })
    }

    /// Serves REST and gRPC until the shutdown token fires.
    pub async fn run(self) -> anyhow::Result<()> {
        let (routes, docs) = marquee_kit::openapi::DocRouter::new()
            .merge(domains::keys::routes::router())
            .merge(domains::users::routes::router())
            .merge(domains::sessions::routes::router())
            .merge(domains::audit::routes::router())
            .merge(domains::companies::routes::router())
            .merge(domains::access::routes::router())
            .merge(domains::api_keys::routes::router())
            .into_parts();
        let openapi = docs.document(
            "Marquee auth",
            env!("CARGO_PKG_VERSION"),
            "Identity, sign-in and tokens, sessions, companies, members, roles, invitations and effective access.",
        );
        let router = self.skeleton.edge(routes.with_state(self.state.clone()), Ready(self.state.clone()), openapi);
        let access = AccessServer::with_interceptor(
            grpc::AccessGrpc {
                state: self.state.clone(),
                shutdown: self.skeleton.shutdown.clone(),
                heartbeat: self.state.config.heartbeat_interval,
            },
            RequireServiceToken::new(self.state.config.service.internal_service_token.expose()),
        );
        let feed = marquee_proto::integration::v1::integration_events_server::IntegrationEventsServer::with_interceptor(
            marquee_webhooks::feed::Feed { db: self.state.db.clone() },
            RequireServiceToken::new(self.state.config.service.internal_service_token.expose()),
        );
        self.skeleton.serve(router, Some(GrpcServices::new(access).with(feed))).await
    }
}

/// Starts default subscriptions that platform-core could not start at creation.
async fn reconcile(state: AppState, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
        domains::companies::service::reconcile_subscriptions(&state).await;
    }
}

/// Picks up rotations made by other replicas, and rotates on schedule.
async fn key_maintenance(state: AppState, shutdown: CancellationToken) {
    let (db, sealer, config) = (&state.db, &state.config.sealer, &state.config);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(config.key_reload_interval) => {}
        }
        if let Err(e) = state.keys.reload(db, sealer).await {
            tracing::warn!(error = %e, "cannot reload signing keys");
            continue;
        }
        let now = state.clock.now();
        match state.keys.promote_due(db, sealer, now, config.key_publish_lead).await {
            Ok(Some(kid)) => tracing::info!(%kid, "the next signing key now signs"),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "the next signing key could not be promoted"),
        }
        let age = now - state.keys.current_created_at();
        if !state.keys.has_next() && age.to_std().is_ok_and(|age| age >= config.key_rotation_interval) {
            match state.keys.rotate(db, sealer, now).await {
                Ok((kid, _)) => tracing::info!(%kid, "next signing key published on schedule"),
                Err(e) => tracing::warn!(error = %e, "scheduled key rotation failed"),
            }
        }
    }
}

marquee_service::service!(App, Config, Options, AppState, Migrator);
