//! The access guard of the business services (DESIGN §3): every protected
//! route is checked, in order, for a bearer token, the company header, a valid
//! token, effective access from auth (cache, then gRPC), a live session,
//! membership, the service's module and the route's permission. Anything that
//! cannot be verified is refused; nothing is allowed "for now".
//!
//! Answers from auth are cached per (session, company) only while the
//! `WatchAccess` stream is heard, never longer than the answer's own cache
//! time and a hard cap, and never when the caller demands a newer revision.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Request, State};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter};
use futures::StreamExt;
use marquee_counters::{Budgets, Counters};
use marquee_kit::grpc::ServiceCredentials;
use marquee_kit::{ApiError, BalancedChannel};
use marquee_proto::auth::v1 as pb;
use marquee_proto::auth::v1::access_client::AccessClient;
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;

use crate::token::TokenValidator;

type Client = AccessClient<InterceptedService<Channel, ServiceCredentials>>;

/// Who is calling, in which company, allowed to do what: what business code
/// receives once the guard has passed.
#[derive(Debug, Clone)]
pub struct AccessContext {
    pub user_id: Uuid,
    pub company_id: Uuid,
    pub session_id: Uuid,
    pub permissions: Arc<BTreeSet<String>>,
    pub limits: Arc<BTreeMap<String, i64>>,
    pub revision: u64,
}

impl AccessContext {
    pub fn can(&self, permission: &str) -> bool {
        self.permissions.contains(permission)
    }
    pub fn limit(&self, name: &str) -> Option<i64> {
        self.limits.get(name).copied()
    }
}

/// The guard's context, for handlers.
pub struct Ctx(pub AccessContext);

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Only guarded routes have a context; anything else is refused.
        parts
            .extensions
            .get::<AccessContext>()
            .cloned()
            .map(Ctx)
            .ok_or_else(|| ApiError::forbidden("PERMISSION_DENIED", "this route is not guarded"))
    }
}

#[derive(Debug, Clone)]
pub struct GuardSettings {
    pub auth_grpc_url: String,
    pub service_token: String,
    /// The module every route of this service needs (`basic`, `financial`).
    pub module: &'static str,
    /// Time allowed for asking auth, per request.
    pub budget: Duration,
    /// No cached answer is used for longer than this.
    pub hard_ttl: Duration,
    /// The stream counts as down this long after its last message.
    pub stale_after: Duration,
    pub rate_per_user: u64,
    pub rate_per_company: u64,
    pub rate_window: Duration,
}

/// What a business service configures about its guard, from the environment:
/// `AUTH_GRPC_URL`, `AUTH_JWKS_URL`, `JWT_*`, `ACCESS_BUDGET_MS`,
/// `ACCESS_HARD_TTL_SECS`, `STREAM_STALE_AFTER_MS`, `RATE_LIMIT_PER_USER`,
/// `RATE_LIMIT_PER_COMPANY`, `RATE_WINDOW_SECS`.
#[derive(Debug, Clone)]
pub struct GuardConfig {
    pub auth_grpc_url: String,
    pub auth_jwks_url: String,
    pub tokens: crate::token::TokenSettings,
    pub budget: Duration,
    pub hard_ttl: Duration,
    pub stale_after: Duration,
    pub rate_per_user: u64,
    pub rate_per_company: u64,
    pub rate_window: Duration,
}

impl GuardConfig {
    pub fn from_env(env: &mut marquee_config::Env) -> Self {
        Self {
            auth_grpc_url: env.string("AUTH_GRPC_URL", "http://127.0.0.1:9081"),
            auth_jwks_url: env.string("AUTH_JWKS_URL", "http://127.0.0.1:8081/.well-known/jwks.json"),
            tokens: crate::token::TokenSettings {
                issuer: env.string("JWT_ISSUER", "marquee-auth"),
                audience: env.string("JWT_AUDIENCE", "marquee"),
                leeway: Duration::from_secs(env.parse("JWT_LEEWAY_SECS", 5u64)),
                ..crate::token::TokenSettings::default()
            },
            budget: Duration::from_millis(env.parse("ACCESS_BUDGET_MS", 1000u64)),
            hard_ttl: Duration::from_secs(env.parse("ACCESS_HARD_TTL_SECS", 60u64)),
            stale_after: Duration::from_millis(env.parse("STREAM_STALE_AFTER_MS", 3000u64)),
            rate_per_user: env.parse("RATE_LIMIT_PER_USER", 1200u64),
            rate_per_company: env.parse("RATE_LIMIT_PER_COMPANY", 12_000u64),
            rate_window: Duration::from_secs(env.parse("RATE_WINDOW_SECS", 60u64)),
        }
    }
}

struct Decision {
    session_active: bool,
    membership: i32,
    user_id: Uuid,
    session_id: Uuid,
    modules: BTreeSet<String>,
    permissions: Arc<BTreeSet<String>>,
    limits: Arc<BTreeMap<String, i64>>,
    revision: u64,
    fetched: Instant,
    ttl: Duration,
}

/// The guard: cheap to clone, one per service.
#[derive(Clone)]
pub struct Guard {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    /// The channel under `client`, over every auth replica.
    balanced: BalancedChannel,
    tokens: TokenValidator,
    budgets: Budgets,
    settings: GuardSettings,
    cache: moka::future::Cache<(Uuid, Uuid), Arc<Decision>>,
    last_heard_ms: AtomicI64,
    asked: AtomicU64,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn unavailable(message: &str) -> ApiError {
    ApiError::unavailable("ACCESS_UNAVAILABLE", message, 2)
}

impl Guard {
    /// The guard of a service whose routes need `module`.
    pub fn from_config(
        config: &GuardConfig,
        module: &'static str,
        service_token: &str,
        counters: Counters,
    ) -> Result<Self, String> {
        let tokens = TokenValidator::from_jwks_url(config.auth_jwks_url.clone(), config.tokens.clone());
        let settings = GuardSettings {
            auth_grpc_url: config.auth_grpc_url.clone(),
            service_token: service_token.to_owned(),
            module,
            budget: config.budget,
            hard_ttl: config.hard_ttl,
            stale_after: config.stale_after,
            rate_per_user: config.rate_per_user,
            rate_per_company: config.rate_per_company,
            rate_window: config.rate_window,
        };
        Self::new(settings, tokens, counters)
    }

    pub fn new(settings: GuardSettings, tokens: TokenValidator, counters: Counters) -> Result<Self, String> {
        let budget = settings.budget;
        let balanced = BalancedChannel::open(&settings.auth_grpc_url, move |e| e.connect_timeout(budget))
            .map_err(|e| format!("AUTH_GRPC_URL: {e}"))?;
        let credentials = ServiceCredentials::new(&settings.service_token).map_err(|e| e.to_string())?;
        Ok(Self {
            inner: Arc::new(Inner {
                client: AccessClient::with_interceptor(balanced.channel(), credentials),
                balanced,
                tokens,
                budgets: Budgets::new(counters),
                cache: moka::future::Cache::builder()
                    .max_capacity(500_000)
                    .time_to_live(settings.hard_ttl)
                    .support_invalidation_closures()
                    .build(),
                settings,
                last_heard_ms: AtomicI64::new(0),
                asked: AtomicU64::new(0),
            }),
        })
    }

    /// Whether cached answers may be used: auth's stream is heard.
    pub fn is_live(&self) -> bool {
        let last = self.inner.last_heard_ms.load(Ordering::Acquire);
        last > 0 && now_ms() - last < i64::try_from(self.inner.settings.stale_after.as_millis()).unwrap_or(i64::MAX)
    }

    /// How many times auth has been asked (for metrics and tests).
    pub fn asked(&self) -> u64 {
        self.inner.asked.load(Ordering::Relaxed)
    }

    /// Runs the checks of DESIGN §3 for `permission`.
    pub async fn check(
        &self,
        headers: &HeaderMap,
        parts_token: Option<&str>,
        permission: &str,
    ) -> Result<AccessContext, ApiError> {
        let token = parts_token
            .ok_or_else(|| ApiError::unauthorized("MISSING_TOKEN", "an Authorization: Bearer token is required"))?;
        let company = match headers.get("x-org") {
            None => {
                return Err(ApiError::bad_request("MISSING_ORG", "the x-org header must name the company"));
            }
            Some(v) => v
                .to_str()
                .ok()
                .and_then(|s| Uuid::parse_str(s.trim()).ok())
                .ok_or_else(|| ApiError::bad_request("MALFORMED_ORG", "x-org must be a company id (UUID)"))?,
        };
        let claims = self.inner.tokens.validate(token).await?;
        let min_revision = match headers.get("x-access-revision") {
            None => 0,
            Some(v) => v
                .to_str()
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or_else(|| ApiError::field("x-access-revision", "must be a whole number"))?,
        };
        self.rate_limit_user(claims.sub).await?;
        let decision = self.decision(token, claims.sid, company, min_revision).await?;
        if !decision.session_active || decision.user_id != claims.sub {
            return Err(ApiError::unauthorized("SESSION_REVOKED", "the session has ended"));
        }
        match pb::MembershipStatus::try_from(decision.membership) {
            Ok(pb::MembershipStatus::Active) => {}
            Ok(pb::MembershipStatus::Suspended) => {
                return Err(ApiError::forbidden(
                    "MEMBERSHIP_SUSPENDED",
                    "your membership of this company is suspended",
                ));
            }
            _ => {
                return Err(ApiError::forbidden("NO_MEMBERSHIP", "you are not a member of this company"));
            }
        }
        if !decision.modules.contains(self.inner.settings.module) {
            return Err(ApiError::forbidden(
                "MODULE_NOT_ENABLED",
                format!("the company's plan does not include the {} module", self.inner.settings.module),
            ));
        }
        if !decision.permissions.contains(permission) {
            return Err(ApiError::forbidden("PERMISSION_DENIED", format!("this needs the {permission} permission")));
        }
        // The company's budget only now: a stranger naming a company it does
        // not belong to never spends it (a request over its user's budget was
        // refused above, before spending it either).
        self.rate_limit_company(company).await?;
        let span = tracing::Span::current();
        span.record("user_id", tracing::field::display(claims.sub));
        span.record("company_id", tracing::field::display(company));
        Ok(AccessContext {
            user_id: claims.sub,
            company_id: company,
            session_id: decision.session_id,
            permissions: decision.permissions.clone(),
            limits: decision.limits.clone(),
            revision: decision.revision,
        })
    }

    /// The caller's own budget, charged before anything is asked of auth: a
    /// token holder cannot make auth work without limit with refused requests.
    async fn rate_limit_user(&self, user: Uuid) -> Result<(), ApiError> {
        let s = &self.inner.settings;
        let user_key = format!("rl:user:{user}");
        self.charge(&[(user_key.as_str(), s.rate_per_user)]).await
    }

    /// The company's budget, charged only once the caller is a member allowed
    /// the route: a stranger never spends it.
    async fn rate_limit_company(&self, company: Uuid) -> Result<(), ApiError> {
        let s = &self.inner.settings;
        let company_key = format!("rl:company:{company}");
        self.charge(&[(company_key.as_str(), s.rate_per_company)]).await
    }

    async fn charge(&self, budgets: &[(&str, u64)]) -> Result<(), ApiError> {
        let s = &self.inner.settings;
        let hits = self.inner.budgets.hit_each(budgets, s.rate_window).await.map_err(|_| {
            ApiError::unavailable("RATE_LIMIT_UNAVAILABLE", "rate limits cannot be checked right now", 2)
        })?;
        for (hit, (_, limit)) in hits.iter().zip(budgets) {
            if hit.count > *limit {
                return Err(ApiError::too_many("RATE_LIMITED", "too many requests; slow down", hit.retry_after_secs()));
            }
        }
        Ok(())
    }

    async fn decision(
        &self,
        token: &str,
        session: Uuid,
        company: Uuid,
        min_revision: u64,
    ) -> Result<Arc<Decision>, ApiError> {
        let key = (session, company);
        if self.is_live()
            && let Some(hit) = self.inner.cache.get(&key).await
            && hit.fetched.elapsed() < hit.ttl
            && hit.revision >= min_revision
        {
            return Ok(hit);
        }
        self.inner.asked.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("access_resolutions_total").increment(1);
        let answer = self
            .ask_auth(|mut client, budget| async move {
                let mut request = tonic::Request::new(pb::ResolveAccessRequest {
                    access_token: token.to_owned(),
                    company_id: company.to_string(),
                    min_revision,
                });
                request.set_timeout(budget);
                client.resolve_access(request).await
            })
            .await?;
        let answer = match answer {
            Ok(a) => a.into_inner(),
            Err(status) if status.code() == tonic::Code::Unauthenticated => {
                return Err(ApiError::unauthorized("INVALID_TOKEN", "the token was refused"));
            }
            // Retrying cannot help: the client names a revision the company never reached.
            Err(status) if status.message().starts_with("REVISION_NOT_REACHED:") => {
                return Err(ApiError::conflict(
                    "REVISION_NOT_REACHED",
                    format!("the company has never reached access revision {min_revision}"),
                ));
            }
            Err(status) => {
                tracing::warn!(code = ?status.code(), "auth could not resolve access");
                return Err(unavailable("access cannot be verified right now"));
            }
        };
        let ttl = Duration::from_millis(u64::from(answer.cache_ttl_ms)).min(self.inner.settings.hard_ttl);
        let decision = Arc::new(Decision {
            session_active: answer.session_status == pb::SessionStatus::Active as i32,
            membership: answer.membership_status,
            user_id: Uuid::parse_str(&answer.user_id).unwrap_or_default(),
            session_id: Uuid::parse_str(&answer.session_id).unwrap_or(session),
            modules: answer.modules.into_iter().collect(),
            permissions: Arc::new(answer.permissions.into_iter().collect()),
            limits: Arc::new(answer.limits.into_iter().collect()),
            revision: answer.revision,
            fetched: Instant::now(),
            ttl,
        });
        if self.is_live() && !ttl.is_zero() {
            self.inner.cache.insert(key, decision.clone()).await;
        }
        Ok(decision)
    }

    /// One call to auth within the access budget. A call that found its
    /// replica gone (Unavailable: refused or reset) is made once more, after
    /// the replicas are looked up again, so a replica that stopped costs no
    /// refusal while another answers.
    async fn ask_auth<T, F, Fut>(&self, call: F) -> Result<Result<T, tonic::Status>, ApiError>
    where
        F: Fn(Client, Duration) -> Fut,
        Fut: std::future::Future<Output = Result<T, tonic::Status>>,
    {
        let budget = self.inner.settings.budget;
        let attempts = async {
            let first = call(self.inner.client.clone(), budget).await;
            match first {
                Err(status) if status.code() == tonic::Code::Unavailable => {
                    tracing::debug!(message = %status.message(), "an auth replica could not be reached; trying another");
                    self.inner.balanced.refresh().await;
                    call(self.inner.client.clone(), budget).await
                }
                other => other,
            }
        };
        tokio::time::timeout(budget, attempts).await.map_err(|_| unavailable("auth did not answer in time"))
    }

    /// Which of `users` are active members of `company`, asked of auth.
    pub async fn active_members(&self, company: Uuid, users: &[Uuid]) -> Result<BTreeSet<Uuid>, ApiError> {
        if users.is_empty() {
            return Ok(BTreeSet::new());
        }
        let answer = self
            .ask_auth(|mut client, budget| async move {
                let mut request = tonic::Request::new(pb::CheckMembersRequest {
                    company_id: company.to_string(),
                    user_ids: users.iter().map(Uuid::to_string).collect(),
                });
                request.set_timeout(budget);
                client.check_members(request).await
            })
            .await?
            .map_err(|status| {
                tracing::warn!(code = ?status.code(), "auth could not check members");
                unavailable("membership cannot be verified right now")
            })?
            .into_inner();
        Ok(answer.active_user_ids.iter().filter_map(|id| Uuid::parse_str(id).ok()).collect())
    }

    /// Follows auth's `WatchAccess` stream until `shutdown`, dropping what each
    /// change touches, and everything while the stream is down.
    pub async fn watch(self, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        while !shutdown.is_cancelled() {
            let mut client = self.inner.client.clone();
            let opened = tokio::select! {
                _ = shutdown.cancelled() => break,
                s = client.watch_access(pb::WatchAccessRequest {}) => s,
            };
            if let Ok(response) = opened {
                let mut stream = response.into_inner();
                backoff = Duration::from_millis(100);
                loop {
                    let next = tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(self.inner.settings.stale_after) => None,
                        next = stream.next() => next,
                    };
                    let Some(Ok(event)) = next else { break };
                    match event.event {
                        Some(pb::access_event::Event::Heartbeat(_)) => {
                            self.inner.last_heard_ms.store(now_ms(), Ordering::Release)
                        }
                        Some(pb::access_event::Event::Change(change)) => {
                            self.forget(&change);
                            self.inner.last_heard_ms.store(now_ms(), Ordering::Release);
                        }
                        None => {}
                    }
                }
            }
            self.inner.last_heard_ms.store(0, Ordering::Release);
            self.inner.cache.invalidate_all();
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }

    fn forget(&self, change: &pb::AccessChange) {
        let session = Uuid::parse_str(&change.session_id).ok();
        let company = Uuid::parse_str(&change.company_id).ok();
        let result = match (session, company) {
            (Some(s), _) => self.inner.cache.invalidate_entries_if(move |k, _| k.0 == s),
            (None, Some(c)) => self.inner.cache.invalidate_entries_if(move |k, _| k.1 == c),
            (None, None) => {
                self.inner.cache.invalidate_all();
                return;
            }
        };
        if result.is_err() {
            self.inner.cache.invalidate_all();
        }
    }
}

/// One protected route: method, path, and the permission it needs.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RoutePermission {
    pub method: String,
    pub path: &'static str,
    pub permission: &'static str,
}

/// The one place a service declares its protected routes: each route is added
/// with its permission, so no protected route can exist without one.
pub struct RouteTable<S> {
    router: axum::Router<S>,
    guard: Guard,
    entries: Vec<RoutePermission>,
    docs: marquee_kit::openapi::Docs,
}

#[derive(Clone)]
struct Needs {
    guard: Guard,
    permission: &'static str,
}

async fn enforce(State(needs): State<Needs>, mut request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, t)| scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty())
        .map(|(_, t)| t.trim().to_owned());
    match needs.guard.check(request.headers(), token.as_deref(), needs.permission).await {
        Ok(context) => {
            request.extensions_mut().insert(context);
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}

impl<S: Clone + Send + Sync + 'static> RouteTable<S> {
    pub fn new(guard: Guard) -> Self {
        Self { router: axum::Router::new(), guard, entries: Vec::new(), docs: Default::default() }
    }

    pub fn route<H, T, D>(mut self, method: Method, path: &'static str, permission: &'static str, handler: H) -> Self
    where
        H: Handler<T, S> + marquee_kit::openapi::Documented<D>,
        T: 'static,
    {
        self.docs.add::<H, D>(&method, path, Some(permission));
        let filter = MethodFilter::try_from(method.clone()).unwrap_or(MethodFilter::GET);
        let handler: MethodRouter<S> = axum::routing::on(filter, handler);
        let needs = Needs { guard: self.guard.clone(), permission };
        self.router = self.router.route(path, handler.layer(axum::middleware::from_fn_with_state(needs, enforce)));
        self.entries.push(RoutePermission { method: method.to_string(), path, permission });
        self
    }

    pub fn entries(&self) -> &[RoutePermission] {
        &self.entries
    }

    /// The routes, plus `GET /v1/meta/permissions` listing every protected
    /// route and its permission for clients and auditors; and their documentation.
    pub fn into_parts(mut self) -> (axum::Router<S>, marquee_kit::openapi::Docs) {
        let entries = Arc::new(self.entries);
        let permissions = move || {
            let entries = entries.clone();
            async move { marquee_kit::Data(entries.as_ref().clone()) }
        };
        self.docs.add_handler(&permissions, &Method::GET, "/v1/meta/permissions");
        let router = self.router.route("/v1/meta/permissions", axum::routing::get(permissions));
        (router, self.docs)
    }

    pub fn into_router(self) -> axum::Router<S> {
        self.into_parts().0
    }
}

impl marquee_kit::openapi::DocArg for Ctx {
    fn describe(op: &mut marquee_kit::openapi::Operation, _generator: &mut schemars::SchemaGenerator) {
        op.authenticated = true;
        op.company_scoped = true;
    }
}
