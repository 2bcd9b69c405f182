//! auth's settings, read from the environment once at start.

use std::time::Duration;

use marquee_config::{ConfigError, Env, Secret};
use marquee_guard::TokenSettings;
use marquee_kit::TrustedProxies;
use marquee_mail::MailSettings;
use marquee_service::ServiceConfig;

use crate::crypto::{HashCost, Sealer};

#[derive(Clone)]
pub struct Config {
    /// What every service reads: addresses, database, Redis, credential, edge, telemetry.
    pub service: ServiceConfig,
    pub grpc_addr: String,
    /// Seals signing keys and retry pairs at rest.
    pub sealer: Sealer,
    pub tokens: TokenSettings,
    pub access_token_ttl: Duration,
    pub key_rotation_interval: Duration,
    /// How long a new key is published before anyone signs with it: every
    /// replica reloads and every cached JWKS expires meanwhile.
    pub key_publish_lead: Duration,
    /// How often each replica re-reads the keys (and promotes a due one).
    pub key_reload_interval: Duration,
    pub session_idle_timeout: Duration,
    pub session_lifetime: Duration,
    pub refresh_retry_grace: Duration,
    pub password_cost: HashCost,
    pub password_concurrency: usize,
    /// Callers that may wait for a hashing slot; beyond them, 503 at once.
    pub password_queue: usize,
    pub lockout_attempts: u64,
    pub lockout_window: Duration,
    pub ip_rate_limit: u64,
    pub account_rate_limit: u64,
    pub rate_window: Duration,
    /// Token grants one API key may ask for per `rate_window`.
    pub key_rate_limit: u64,
    /// How long an API key's access token lives (capped by the key's expiry).
    pub key_token_ttl: Duration,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
    /// Where mail goes and the web app its links open.
    pub mail: MailSettings,
    pub platform_core_grpc_url: String,
    pub peer_timeout: Duration,
    pub invitation_ttl: Duration,
    /// How long base and financial may cache a `ResolveAccess` answer.
    pub access_cache_ttl: Duration,
    pub heartbeat_interval: Duration,
    /// A change stream silent for this long is treated as down.
    pub stream_stale_after: Duration,
    pub admin_email: Option<String>,
    pub admin_password: Option<Secret>,
}

impl Config {
    pub fn load(env: &mut Env) -> Result<Self, ConfigError> {
        let service = ServiceConfig::load(env, "auth", "127.0.0.1:8081");
        let sealer = Sealer::required(env, "SIGNING_KEY_ENCRYPTION_KEY");
        let secs = |env: &mut Env, name: &str, default: u64| Duration::from_secs(env.parse(name, default));
        let password_cost = HashCost {
            memory_kib: env.parse("PASSWORD_HASH_MEMORY_KIB", HashCost::default().memory_kib),
            iterations: env.parse("PASSWORD_HASH_ITERATIONS", HashCost::default().iterations),
            parallelism: env.parse("PASSWORD_HASH_PARALLELISM", HashCost::default().parallelism),
        };
        if password_cost.memory_kib < 1024 || password_cost.iterations < 1 || password_cost.parallelism < 1 {
            env.problem("PASSWORD_HASH_MEMORY_KIB", "argon2 needs at least 1024 KiB, 1 iteration and 1 lane");
        }
        let admin_email = env.optional("MARQUEE_ADMIN_EMAIL");
        let admin_password = env.optional_secret("MARQUEE_ADMIN_PASSWORD");
        if admin_email.is_some() != admin_password.is_some() {
            env.problem("MARQUEE_ADMIN_PASSWORD", "MARQUEE_ADMIN_EMAIL and MARQUEE_ADMIN_PASSWORD go together");
        }
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let config = Self {
            service,
            grpc_addr: env.string("GRPC_ADDR", "127.0.0.1:9081"),
            tokens: TokenSettings {
                issuer: env.string("JWT_ISSUER", "marquee-auth"),
                audience: env.string("JWT_AUDIENCE", "marquee"),
                leeway: secs(env, "JWT_LEEWAY_SECS", 5),
                ..TokenSettings::default()
            },
            access_token_ttl: secs(env, "ACCESS_TOKEN_TTL_SECS", 900),
            key_rotation_interval: secs(env, "SIGNING_KEY_ROTATION_SECS", 30 * 86_400),
            key_publish_lead: secs(env, "SIGNING_KEY_PUBLISH_LEAD_SECS", 90),
            key_reload_interval: secs(env, "SIGNING_KEY_RELOAD_SECS", 30),
            session_idle_timeout: secs(env, "SESSION_IDLE_TIMEOUT_SECS", 86_400),
            session_lifetime: secs(env, "SESSION_LIFETIME_SECS", 7 * 86_400),
            refresh_retry_grace: secs(env, "REFRESH_RETRY_GRACE_SECS", 10),
            password_cost,
            password_concurrency: env.parse("PASSWORD_HASH_CONCURRENCY", cores),
            password_queue: env.parse("PASSWORD_HASH_QUEUE", cores * 4),
            lockout_attempts: env.parse("LOGIN_LOCKOUT_ATTEMPTS", 5u64),
            lockout_window: secs(env, "LOGIN_LOCKOUT_WINDOW_SECS", 900),
            ip_rate_limit: env.parse("AUTH_RATE_LIMIT_PER_IP", 300u64),
            account_rate_limit: env.parse("AUTH_RATE_LIMIT_PER_ACCOUNT", 30u64),
            rate_window: secs(env, "AUTH_RATE_WINDOW_SECS", 60),
            key_rate_limit: env.parse("API_KEY_TOKEN_RATE_LIMIT", 30u64),
            key_token_ttl: secs(env, "API_KEY_TOKEN_TTL_SECS", 900),
            trusted_proxies: trusted_proxies(env),
            mail: MailSettings::load(env),
            platform_core_grpc_url: env.string("PLATFORM_CORE_GRPC_URL", "http://127.0.0.1:9082"),
            peer_timeout: Duration::from_millis(env.parse("PEER_TIMEOUT_MS", 2000u64)),
            invitation_ttl: secs(env, "INVITATION_TTL_SECS", 7 * 86_400),
            access_cache_ttl: Duration::from_millis(env.parse("ACCESS_CACHE_TTL_MS", 30_000u64)),
            heartbeat_interval: Duration::from_millis(env.parse("HEARTBEAT_INTERVAL_MS", 1000u64)),
            stream_stale_after: Duration::from_millis(env.parse("STREAM_STALE_AFTER_MS", 3000u64)),
            admin_email,
            admin_password,
            // Without a valid key a problem is already recorded and `finish` fails below.
            sealer,
        };
        if config.key_token_ttl.is_zero() {
            env.problem("API_KEY_TOKEN_TTL_SECS", "must be at least 1");
        }
        if config.key_reload_interval.is_zero() {
            env.problem("SIGNING_KEY_RELOAD_SECS", "must be at least 1");
        }
        if config.key_publish_lead < config.key_reload_interval {
            env.problem(
                "SIGNING_KEY_PUBLISH_LEAD_SECS",
                "must be at least SIGNING_KEY_RELOAD_SECS, so every replica publishes a key before it signs",
            );
        }
        env.finish()?;
        Ok(config)
    }
}

/// `TRUSTED_PROXIES`: CIDRs or addresses, comma-separated; empty believes no
/// forwarded header. The old all-or-nothing flag is refused by name, since
/// keeping it would silently believe every client's own header.
fn trusted_proxies(env: &mut Env) -> TrustedProxies {
    if env.optional("TRUST_FORWARDED_FOR").is_some() {
        env.problem(
            "TRUST_FORWARDED_FOR",
            "is replaced by TRUSTED_PROXIES, the address ranges of the proxies whose X-Forwarded-For is believed",
        );
    }
    TrustedProxies::parse(&env.list("TRUSTED_PROXIES")).unwrap_or_else(|e| {
        env.problem("TRUSTED_PROXIES", e);
        TrustedProxies::default()
    })
}

marquee_service::configured!(Config);
