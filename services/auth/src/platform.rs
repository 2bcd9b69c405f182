//! auth's view of platform-core: entitlements per company (cached only while
//! the change stream is live and heard), the permission catalog, and the
//! default subscription of new companies. Every call has a deadline; a failed
//! call is an error, never a guess.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use marquee_kit::grpc::ServiceCredentials;
use marquee_proto::platform_core::v1 as pb;
use marquee_proto::platform_core::v1::platform_core_client::PlatformCoreClient;
use tokio::sync::RwLock;
use tokio_util::sync::CancellationToken;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;

type Client = PlatformCoreClient<InterceptedService<Channel, ServiceCredentials>>;

#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("platform-core is unavailable: {0}")]
    Unavailable(String),
}

/// A company's entitlements as auth uses them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entitlements {
    pub entitled: bool,
    pub status: String,
    pub package_code: String,
    pub package_version: u32,
    pub modules: BTreeSet<String>,
    pub permissions: BTreeSet<String>,
    pub limits: BTreeMap<String, i64>,
    pub revision: u64,
    pub valid_until_ms: i64,
}

impl From<pb::Entitlements> for Entitlements {
    fn from(e: pb::Entitlements) -> Self {
        Self {
            entitled: e.entitled,
            status: e.subscription_status,
            package_code: e.package_code,
            package_version: e.package_version,
            modules: e.modules.into_iter().collect(),
            permissions: e.permissions.into_iter().collect(),
            limits: e.limits.into_iter().collect(),
            revision: e.revision,
            valid_until_ms: e.valid_until_unix_ms,
        }
    }
}

/// Permission → module, from the catalog.
pub type Catalog = Arc<BTreeMap<String, String>>;

#[derive(Clone)]
pub struct Platform {
    client: Client,
    timeout: Duration,
    /// Entitlements by company, with the company's access revision they were
    /// fetched at (read before the fetch).
    cache: moka::future::Cache<Uuid, (Arc<Entitlements>, u64)>,
    catalog: Arc<RwLock<Option<Catalog>>>,
    /// When the change stream was last heard from (Unix ms); 0 when down.
    last_heard_ms: Arc<AtomicI64>,
    stale_after: Duration,
}

fn unavailable(e: impl std::fmt::Display) -> PlatformError {
    PlatformError::Unavailable(e.to_string())
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Platform {
    pub fn new(url: &str, service_token: &str, timeout: Duration, stale_after: Duration) -> anyhow::Result<Self> {
        let channel = marquee_kit::BalancedChannel::open(url, move |e| e.connect_timeout(timeout).timeout(timeout))
            .map_err(|e| anyhow::anyhow!("PLATFORM_CORE_GRPC_URL: {e}"))?
            .channel();
        let credentials = ServiceCredentials::new(service_token).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Self {
            client: PlatformCoreClient::with_interceptor(channel, credentials),
            timeout,
            cache: moka::future::Cache::builder().max_capacity(100_000).time_to_live(Duration::from_secs(60)).build(),
            catalog: Arc::new(RwLock::new(None)),
            last_heard_ms: Arc::new(AtomicI64::new(0)),
            stale_after,
        })
    }

    /// Whether cached answers can be trusted: the change stream is heard.
    pub fn is_live(&self) -> bool {
        let last = self.last_heard_ms.load(Ordering::Acquire);
        last > 0 && now_ms() - last < i64::try_from(self.stale_after.as_millis()).unwrap_or(i64::MAX)
    }

    /// Entitlements, from the cache while the stream is live and the entry
    /// was fetched at `at_revision` or later (the company's revision, read
    /// before calling: an entitlement change heard from another replica raises
    /// it, so an older entry is never paired with the newer revision), else
    /// asked afresh.
    pub async fn entitlements(
        &self,
        company: Uuid,
        fresh: bool,
        at_revision: u64,
    ) -> Result<Arc<Entitlements>, PlatformError> {
        Ok(self.entitlements_fetched(company, fresh, at_revision).await?.0)
    }

    /// The same, whether they were just asked of platform-core, and the
    /// company revision they count at (a cached entry's label, or
    /// `at_revision` for a fresh answer).
    pub async fn entitlements_fetched(
        &self,
        company: Uuid,
        fresh: bool,
        at_revision: u64,
    ) -> Result<(Arc<Entitlements>, bool, u64), PlatformError> {
        if !fresh
            && self.is_live()
            && let Some((cached, fetched_at)) = self.cache.get(&company).await
            && fetched_at >= at_revision
            && (cached.valid_until_ms == 0 || cached.valid_until_ms > now_ms())
        {
            return Ok((cached, false, fetched_at));
        }
        let mut client = self.client.clone();
        let answer: Arc<Entitlements> = Arc::new(
            client
                .get_entitlements(pb::GetEntitlementsRequest { company_id: company.to_string() })
                .await
                .map_err(|s| unavailable(s.message()))?
                .into_inner()
                .into(),
        );
        if self.is_live() {
            self.cache.insert(company, (answer.clone(), at_revision)).await;
        }
        Ok((answer, true, at_revision))
    }

    /// Labels entitlements just fetched with the revision that counts them,
    /// once the caller has settled it.
    pub async fn counted_at(&self, company: Uuid, entitlements: &Arc<Entitlements>, revision: u64) {
        if self.is_live() {
            self.cache.insert(company, (entitlements.clone(), revision)).await;
        }
    }

    pub async fn ensure_default_subscription(
        &self,
        company: Uuid,
        requested_by: Uuid,
    ) -> Result<Entitlements, PlatformError> {
        let mut client = self.client.clone();
        let answer = client
            .ensure_default_subscription(pb::EnsureDefaultSubscriptionRequest {
                company_id: company.to_string(),
                requested_by: requested_by.to_string(),
            })
            .await
            .map_err(|s| unavailable(s.message()))?
            .into_inner();
        self.cache.invalidate(&company).await;
        Ok(answer.into())
    }

    /// Tells platform-core that these operator sessions ended, each refused
    /// there until its `until` (when its last token expires).
    pub async fn end_sessions(&self, sessions: &[(Uuid, chrono::DateTime<chrono::Utc>)]) -> Result<(), PlatformError> {
        let request = pb::EndSessionsRequest {
            sessions: sessions
                .iter()
                .map(|(id, until)| pb::EndedSession {
                    session_id: id.to_string(),
                    until_unix_ms: until.timestamp_millis(),
                })
                .collect(),
        };
        let mut client = self.client.clone();
        client.end_sessions(request).await.map_err(|s| unavailable(s.message()))?;
        Ok(())
    }

    /// The permission catalog (permission → module), fetched once and kept.
    pub async fn catalog(&self) -> Result<Catalog, PlatformError> {
        if let Some(catalog) = self.catalog.read().await.clone() {
            return Ok(catalog);
        }
        let mut client = self.client.clone();
        let modules = client
            .list_modules(pb::ListModulesRequest {})
            .await
            .map_err(|s| unavailable(s.message()))?
            .into_inner()
            .modules;
        let catalog: Catalog = Arc::new(
            modules
                .into_iter()
                .flat_map(|m| {
                    let module = m.code;
                    m.permissions.into_iter().map(move |p| (p.code, module.clone()))
                })
                .collect(),
        );
        *self.catalog.write().await = Some(catalog.clone());
        Ok(catalog)
    }

    /// Follows platform-core's change stream until `shutdown`: invalidates the
    /// cache, then hands each change (company, entitlements revision) to
    /// `changed`; drops the whole cache while the stream is down.
    pub async fn watch<F, Fut>(self, changed: F, shutdown: CancellationToken)
    where
        F: Fn(Uuid, u64) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let mut backoff = Duration::from_millis(100);
        while !shutdown.is_cancelled() {
            let mut client = self.client.clone();
            let stream = tokio::select! {
                _ = shutdown.cancelled() => break,
                s = client.watch_entitlements(pb::WatchEntitlementsRequest {}) => s,
            };
            match stream {
                Ok(response) => {
                    let mut stream = response.into_inner();
                    backoff = Duration::from_millis(100);
                    loop {
                        let next = tokio::select! {
                            _ = shutdown.cancelled() => break,
                            _ = tokio::time::sleep(self.stale_after) => None,
                            next = stream.next() => next,
                        };
                        let Some(Ok(event)) = next else { break };
                        self.last_heard_ms.store(now_ms(), Ordering::Release);
                        if let Some(pb::entitlement_event::Event::Changed(change)) = event.event
                            && let Ok(company) = Uuid::parse_str(&change.company_id)
                        {
                            self.cache.invalidate(&company).await;
                            changed(company, change.revision).await;
                        }
                    }
                }
                Err(status) => tracing::warn!(error = %status.message(), "cannot watch platform-core entitlements"),
            }
            // Down: nothing cached can be trusted.
            self.last_heard_ms.store(0, Ordering::Release);
            self.cache.invalidate_all();
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}
