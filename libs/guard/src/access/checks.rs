//! The checks of DESIGN §3, in order, and the questions asked of auth
//! (within the access budget, once more when a replica was gone).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use marquee_counters::{Budgets, Counters};
use marquee_kit::grpc::ServiceCredentials;
use marquee_kit::{ApiError, BalancedChannel};
use marquee_proto::auth::v1 as pb;
use marquee_proto::auth::v1::access_client::AccessClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;

use super::*;
use crate::token::TokenValidator;

pub(super) type Client = AccessClient<InterceptedService<Channel, ServiceCredentials>>;

pub(super) struct Decision {
    pub(super) session_active: bool,
    pub(super) membership: i32,
    pub(super) user_id: Uuid,
    pub(super) session_id: Uuid,
    pub(super) modules: BTreeSet<String>,
    pub(super) permissions: Arc<BTreeSet<String>>,
    pub(super) limits: Arc<BTreeMap<String, i64>>,
    pub(super) revision: u64,
    pub(super) fetched: Instant,
    pub(super) ttl: Duration,
}

/// The guard: cheap to clone, one per service.
#[derive(Clone)]
pub struct Guard {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) client: Client,
    /// The channel under `client`, over every auth replica.
    pub(super) balanced: BalancedChannel,
    pub(super) tokens: TokenValidator,
    pub(super) budgets: Budgets,
    pub(super) settings: GuardSettings,
    pub(super) cache: super::cache::Decisions,
    pub(super) last_heard_ms: AtomicI64,
    pub(super) asked: AtomicU64,
}

pub(super) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub(super) fn unavailable(message: &str) -> ApiError {
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
        let settings = GuardSettings { config: config.clone(), service_token: service_token.to_owned(), module };
        Self::new(settings, tokens, counters)
    }

    pub fn new(settings: GuardSettings, tokens: TokenValidator, counters: Counters) -> Result<Self, String> {
        let budget = settings.config.budget;
        let balanced = BalancedChannel::open(&settings.config.auth_grpc_url, move |e| e.connect_timeout(budget))
            .map_err(|e| format!("AUTH_GRPC_URL: {e}"))?;
        let credentials = ServiceCredentials::new(&settings.service_token).map_err(|e| e.to_string())?;
        Ok(Self {
            inner: Arc::new(Inner {
                client: AccessClient::with_interceptor(balanced.channel(), credentials),
                balanced,
                tokens,
                budgets: Budgets::new(counters),
                cache: super::cache::Decisions::new(settings.config.hard_ttl),
                settings,
                last_heard_ms: AtomicI64::new(0),
                asked: AtomicU64::new(0),
            }),
        })
    }

    /// Whether cached answers may be used: auth's stream is heard.
    pub fn is_live(&self) -> bool {
        let last = self.inner.last_heard_ms.load(Ordering::Acquire);
        last > 0
            && now_ms() - last < i64::try_from(self.inner.settings.config.stale_after.as_millis()).unwrap_or(i64::MAX)
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
        self.charge(&[(user_key.as_str(), s.config.rate_per_user)]).await
    }

    /// The company's budget, charged only once the caller is a member allowed
    /// the route: a stranger never spends it.
    async fn rate_limit_company(&self, company: Uuid) -> Result<(), ApiError> {
        let s = &self.inner.settings;
        let company_key = format!("rl:company:{company}");
        self.charge(&[(company_key.as_str(), s.config.rate_per_company)]).await
    }

    async fn charge(&self, budgets: &[(&str, u64)]) -> Result<(), ApiError> {
        let s = &self.inner.settings;
        let hits = self.inner.budgets.hit_each(budgets, s.config.rate_window).await.map_err(|_| {
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
        let asked = self.inner.cache.asking();
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
        let ttl = Duration::from_millis(u64::from(answer.cache_ttl_ms)).min(self.inner.settings.config.hard_ttl);
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
            self.inner.cache.keep(key, decision.clone(), asked).await;
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
        let budget = self.inner.settings.config.budget;
        let attempts = async {
            let first = call(self.inner.client.clone(), budget).await;
            match first {
                // A replica that went away answers Unavailable, or Cancelled for a
                // call it dropped while shutting down; both are reads, safe to ask again.
                Err(status) if matches!(status.code(), tonic::Code::Unavailable | tonic::Code::Cancelled) => {
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
        Ok(self.member_addresses(company, users).await?.into_keys().collect())
    }

    /// The addresses of those of `users` who are active members of `company`.
    pub async fn member_addresses(&self, company: Uuid, users: &[Uuid]) -> Result<BTreeMap<Uuid, String>, ApiError> {
        if users.is_empty() {
            return Ok(BTreeMap::new());
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
        let mut members: BTreeMap<Uuid, String> = answer
            .active_user_ids
            .iter()
            .filter_map(|id| Uuid::parse_str(id).ok())
            .map(|id| (id, String::new()))
            .collect();
        for a in answer.addresses {
            if let Some(slot) = Uuid::parse_str(&a.user_id).ok().and_then(|id| members.get_mut(&id)) {
                *slot = a.email;
            }
        }
        Ok(members)
    }
}
