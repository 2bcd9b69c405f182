//! Fan-out of change notices to every subscriber of every replica.
//!
//! `Bus::Local` is an in-process broadcast (one replica, the embedded mode).
//! `Bus::Redis` publishes to a Redis channel and a listener task relays what
//! the channel carries to the local subscribers, so a change made on one
//! replica reaches the streams served by all of them. While the listener is
//! not subscribed, [`Bus::is_live`] is false: servers stop sending heartbeats
//! then, so their subscribers stop trusting their caches.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

const BUFFER: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis: {0}")]
    Open(String),
}

#[derive(Clone)]
pub enum Bus {
    Local(broadcast::Sender<String>),
    Redis(Arc<RedisBus>),
}

pub struct RedisBus {
    channel: String,
    client: redis::Client,
    /// Made on first publish, so a replica starts (not ready) while Redis is away.
    publisher: tokio::sync::Mutex<Option<redis::aio::MultiplexedConnection>>,
    local: broadcast::Sender<String>,
    live: AtomicBool,
    /// Counts subscriptions made; a new one means notices may have been missed in between.
    epoch: AtomicU64,
}

impl Bus {
    pub fn local() -> Self {
        Self::Local(broadcast::channel(BUFFER).0)
    }

    /// Connects to Redis. The returned relay must be spawned by the caller
    /// (it owns its background tasks); it runs until `shutdown` fires.
    pub async fn redis(
        url: &str,
        channel: String,
        shutdown: CancellationToken,
    ) -> Result<(Self, impl Future<Output = ()> + Send + 'static), BusError> {
        let client = marquee_counters::open_client(url).map_err(BusError::Open)?;
        let bus = Arc::new(RedisBus {
            channel,
            client: client.clone(),
            publisher: tokio::sync::Mutex::new(None),
            local: broadcast::channel(BUFFER).0,
            live: AtomicBool::new(false),
            epoch: AtomicU64::new(0),
        });
        let relay = bus.clone().relay(client, shutdown);
        // The subscription is made by the relay; its failures are retried there.
        Ok((Self::Redis(bus), relay))
    }

    /// A service's bus: in-process without Redis; with Redis, its relay handed
    /// to `spawn` and briefly awaited, so a fresh replica is live at once.
    pub async fn open(
        redis_url: Option<&str>,
        channel: String,
        shutdown: CancellationToken,
        spawn: impl FnOnce(std::pin::Pin<Box<dyn Future<Output = ()> + Send>>),
    ) -> Result<Self, BusError> {
        let Some(url) = redis_url else {
            return Ok(Self::local());
        };
        let (bus, relay) = Self::redis(url, channel.clone(), shutdown).await?;
        spawn(Box::pin(relay));
        if !bus.wait_live(Duration::from_secs(2)).await {
            tracing::warn!(%channel, "Redis channel not subscribed yet; watchers get no heartbeats until it is");
        }
        Ok(bus)
    }

    /// Waits until notices flow (for start-up), at most `limit`.
    pub async fn wait_live(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while !self.is_live() {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    /// Sends a notice to every subscriber on every replica.
    pub async fn publish(&self, message: String) -> Result<(), BusError> {
        match self {
            Self::Local(tx) => {
                let _ = tx.send(message);
                Ok(())
            }
            Self::Redis(bus) => {
                let result = bus.publish(&message).await;
                if let Err(e) = result {
                    // This replica's own subscribers still hear it.
                    let _ = bus.local.send(message);
                    return Err(e.into());
                }
                Ok(())
            }
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        match self {
            Self::Local(tx) => tx.subscribe(),
            Self::Redis(bus) => bus.local.subscribe(),
        }
    }

    /// Whether notices published anywhere are reaching this replica now.
    pub fn is_live(&self) -> bool {
        match self {
            Self::Local(_) => true,
            Self::Redis(bus) => bus.live.load(Ordering::Acquire),
        }
    }

    /// Changes whenever the relay subscribes again: anything remembered on the
    /// strength of notices from an earlier epoch may have missed some.
    pub fn epoch(&self) -> u64 {
        match self {
            Self::Local(_) => 0,
            Self::Redis(bus) => bus.epoch.load(Ordering::Acquire),
        }
    }
}

impl RedisBus {
    async fn publish(&self, message: &str) -> redis::RedisResult<()> {
        let mut slot = self.publisher.lock().await;
        let mut conn = match slot.as_ref() {
            Some(c) => c.clone(),
            None => {
                let config = redis::AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(Duration::from_millis(500)))
                    .set_response_timeout(Some(Duration::from_millis(500)));
                let c = self.client.get_multiplexed_async_connection_with_config(&config).await?;
                *slot = Some(c.clone());
                c
            }
        };
        drop(slot);
        let result: redis::RedisResult<i64> =
            redis::cmd("PUBLISH").arg(&self.channel).arg(message).query_async(&mut conn).await;
        if result.is_err() {
            // Reconnect next time.
            *self.publisher.lock().await = None;
        }
        result.map(|_| ())
    }

    async fn relay(self: Arc<Self>, client: redis::Client, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        while !shutdown.is_cancelled() {
            match client.get_async_pubsub().await {
                Ok(mut pubsub) => match pubsub.subscribe(&self.channel).await {
                    Ok(()) => {
                        self.epoch.fetch_add(1, Ordering::AcqRel);
                        self.live.store(true, Ordering::Release);
                        backoff = Duration::from_millis(100);
                        let mut messages = pubsub.on_message();
                        loop {
                            tokio::select! {
                                _ = shutdown.cancelled() => break,
                                next = messages.next() => match next {
                                    Some(msg) => {
                                        if let Ok(payload) = msg.get_payload::<String>() {
                                            let _ = self.local.send(payload);
                                        }
                                    }
                                    None => break,
                                }
                            }
                        }
                        self.live.store(false, Ordering::Release);
                        tracing::warn!(channel = %self.channel, "change relay lost its Redis subscription");
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot subscribe to the change channel"),
                },
                Err(e) => tracing::warn!(error = %e, "cannot reach Redis for changes"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
        self.live.store(false, Ordering::Release);
    }
}
