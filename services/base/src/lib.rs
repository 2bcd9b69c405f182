//! base: the business application. Every protected route passes the access
//! guard (effective access from auth, failing closed) before business code runs.

pub mod config;
pub mod domains;
pub mod error;
pub mod listing;
pub mod outbox;
pub mod patch;
pub mod routes;
pub mod rows;
pub mod state;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use marquee_guard::Guard;
use marquee_service::{Ready, Skeleton};
use migration_base::Migrator;
use tokio_util::sync::CancellationToken;

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
        let skeleton =
            Skeleton::start::<Migrator>("base", &config.service, None, options.skip_migrations, options.listeners)
                .await?;
        let counters = config.service.counters("base")?;
        let guard =
            Guard::from_config(&config.guard, "basic", config.service.internal_service_token.expose(), counters)
                .map_err(|e| anyhow::anyhow!(e))?;
        let (tasks, shutdown) = (&skeleton.tasks, &skeleton.shutdown);
        tasks.spawn("access-watch", guard.clone().watch(shutdown.clone()));
        let (protected, docs) = routes::table(guard.clone()).into_parts();
        let openapi = docs.document("Marquee base", env!("CARGO_PKG_VERSION"), "The business application: artists, venues, vendors, events, calendar, ticketing, offers, workspace, media and crew. Every route needs a bearer access token and x-org.");
        let media = domains::media::store::MediaStore::open(&config.media.backend).context("media storage")?;
        let config_sealer = config.ticket_sealer.clone();
        let mailer = config.mail.mailer()?;
        let hold = chrono::Duration::minutes(i64::from(config.reservation_minutes));
        let webhooks = domains::webhooks::Dispatcher {
            sender: marquee_webhooks::Sender::new(config.webhooks.allowed.clone(), config.webhooks.timeout)
                .map_err(|e| anyhow::anyhow!(e))?,
            sealer: config.ticket_sealer.clone(),
            clock: options.clock.clone(),
            poll: config.webhooks.poll,
            lease: config.webhooks.timeout + Duration::from_secs(60),
            retention: config.webhooks.retention,
        };
        let state = AppState::new(Shared {
            db: skeleton.db.clone(),
            reads: skeleton.reads.clone(),
            clock: options.clock.clone(),
            config: Arc::new(config),
            guard,
            outbox: outbox::Outbox::default(),
            media,
            ticket_sealer: config_sealer,
            signers: moka::sync::Cache::builder().max_capacity(10_000).time_to_idle(Duration::from_secs(600)).build(),
            mail: marquee_mail::Outbox::default(),
            registrations: domains::ticketing::service::claims(skeleton.db.clone(), options.clock.clone()),
            reservations: domains::orders::service::reservations(skeleton.db.clone(), options.clock.clone(), hold),
            webhooks,
        });
        tasks.spawn("webhook-dispatch", state.webhooks.clone().run(state.db.clone(), shutdown.clone()));
        tasks.spawn("webhook-retention", state.webhooks.clone().forget_old(state.db.clone(), shutdown.clone()));
        for (source, url) in
            [("auth", state.config.guard.auth_grpc_url.clone()), ("financial", state.config.financial_grpc_url.clone())]
        {
            let take = domains::webhooks::feeds::take(
                source,
                url,
                state.config.service.internal_service_token.expose().to_owned(),
                state.db.clone(),
                state.clock.clone(),
                state.config.webhooks.poll,
                shutdown.clone(),
            );
            tasks.spawn(if source == "auth" { "webhook-feed-auth" } else { "webhook-feed-financial" }, take);
        }
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
        tasks.spawn("reservation-expiry", expire_reservations(state.clone(), shutdown.clone()));
        tasks.spawn("hold-expiry", expire_holds(state.clone(), shutdown.clone()));
        tasks.spawn(
            "mail-relay",
            state.mail.clone().relay(
                state.db.clone(),
                mailer,
                state.config.mail.mail_from.clone(),
                state.clock.clone(),
                shutdown.clone(),
            ),
        );
        let live = state.guard.clone();
        let ready = Ready::when(state.db.clone(), "not hearing auth's access stream", move || live.is_live());
        let router = skeleton.edge(protected.with_state(state.clone()), ready, openapi);
        Ok(Self { state, router, skeleton })
    }

    pub async fn run(self) -> anyhow::Result<()> {
        self.skeleton.serve(self.router, None).await
    }
}

/// Ends holds past their expiry, and challenged holds past their deadline.
async fn expire_holds(state: AppState, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
        match domains::calendar::holds::sweep(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(ended = n, "holds ended"),
            Err(e) => tracing::warn!(error = %e, "hold expiry failed"),
        }
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

/// Ends reservations whose time is up (reads also expire them on sight) and
/// the seat blocks of vouchers past their validity.
async fn expire_reservations(state: AppState, shutdown: CancellationToken) {
    let mut rounds = 0u64;
    loop {
        rounds += 1;
        // Now and then, offers that could not be made when seats freed.
        if rounds.is_multiple_of(10)
            && let Err(e) = domains::waitlist::service::offer_everywhere(&state).await
        {
            tracing::warn!(error = %e, "waiting-list offers failed");
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
        match domains::orders::service::sweep(&state).await {
            Ok((0, 0)) => {}
            Ok((expired, released)) => tracing::info!(expired, released, "reservations expired, voucher blocks ended"),
            Err(e) => tracing::warn!(error = %e, "reservation expiry failed"),
        }
    }
}

marquee_service::service!(App, Config, Options, AppState, Migrator);
