//! base's settings, read from the environment once at start.

use marquee_config::{ConfigError, Env, Secret};
use marquee_guard::GuardConfig;
use marquee_kit::Sealer;
use marquee_mail::MailSettings;
use marquee_service::ServiceConfig;

#[derive(Debug, Clone)]
pub struct Config {
    /// What every service reads: addresses, database, Redis, credential, edge, telemetry.
    pub service: ServiceConfig,
    pub guard: GuardConfig,
    /// Where facts for financial are delivered.
    pub financial_grpc_url: String,
    pub media: MediaSettings,
    /// Holds in force a company may keep at once (`MAX_ACTIVE_HOLDS`).
    pub max_active_holds: u64,
    /// How long an order's reservation holds its seats (`RESERVATION_MINUTES`).
    pub reservation_minutes: u32,
    /// Seals each company's ticket keys (`TICKET_KEY_ENCRYPTION_KEY`).
    pub ticket_sealer: Sealer,
    /// How long a waiting-list offer holds its seats (`WAITLIST_OFFER_HOURS`).
    pub waitlist_offer_hours: u32,
    /// Where mail goes and the web app its links open.
    pub mail: MailSettings,
    pub webhooks: WebhookSettings,
}

/// How webhooks leave.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Networks receivers may be in beside public addresses (`WEBHOOK_ALLOWED_NETWORKS`).
    pub allowed: marquee_webhooks::AddressPolicy,
    /// How long one attempt may take (`WEBHOOK_TIMEOUT_MS`).
    pub timeout: std::time::Duration,
    /// How often the dispatcher looks for work (`WEBHOOK_POLL_MS`).
    pub poll: std::time::Duration,
    /// How long finished deliveries and their messages are kept (`WEBHOOK_RETENTION_DAYS`).
    pub retention: chrono::Duration,
}

impl WebhookSettings {
    fn load(env: &mut Env) -> Self {
        let allowed =
            marquee_webhooks::AddressPolicy::parse(&env.list("WEBHOOK_ALLOWED_NETWORKS")).unwrap_or_else(|e| {
                env.problem("WEBHOOK_ALLOWED_NETWORKS", &e);
                marquee_webhooks::AddressPolicy::default()
            });
        let timeout = std::time::Duration::from_millis(env.parse("WEBHOOK_TIMEOUT_MS", 10_000u64));
        let poll = std::time::Duration::from_millis(env.parse("WEBHOOK_POLL_MS", 1000u64));
        if !(100..=60_000).contains(&timeout.as_millis()) {
            env.problem("WEBHOOK_TIMEOUT_MS", "must be between 100 and 60000");
        }
        if !(10..=60_000).contains(&poll.as_millis()) {
            env.problem("WEBHOOK_POLL_MS", "must be between 10 and 60000");
        }
        let retention_days = env.parse("WEBHOOK_RETENTION_DAYS", 30i64);
        if !(1..=3650).contains(&retention_days) {
            env.problem("WEBHOOK_RETENTION_DAYS", "must be between 1 and 3650");
        }
        Self { allowed, timeout, poll, retention: chrono::Duration::days(retention_days.clamp(1, 3650)) }
    }
}

/// Where media bytes are stored and how large one file may be.
#[derive(Debug, Clone)]
pub struct MediaSettings {
    pub backend: MediaBackend,
    pub max_bytes: u64,
}

#[derive(Debug, Clone)]
pub enum MediaBackend {
    /// A folder on local disk (the default, for one machine or a shared volume).
    Local { dir: String },
    /// An S3-compatible bucket.
    S3(S3Settings),
}

#[derive(Debug, Clone)]
pub struct S3Settings {
    pub bucket: String,
    pub region: String,
    /// For S3-compatible stores other than AWS (MinIO, Ceph, R2, ...).
    pub endpoint: Option<String>,
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

impl MediaSettings {
    fn load(env: &mut Env) -> Self {
        let max_bytes = env.parse("MEDIA_MAX_BYTES", 25u64 * 1024 * 1024);
        if max_bytes == 0 {
            env.problem("MEDIA_MAX_BYTES", "must be at least 1");
        }
        let dir = env.string("MEDIA_DIR", "./data/media");
        let backend = match env.optional("MEDIA_S3_BUCKET") {
            None => MediaBackend::Local { dir },
            Some(bucket) => {
                let access_key_id = env.optional("MEDIA_S3_ACCESS_KEY_ID");
                let secret_access_key = env.optional_secret("MEDIA_S3_SECRET_ACCESS_KEY");
                for (name, missing) in [
                    ("MEDIA_S3_ACCESS_KEY_ID", access_key_id.is_none()),
                    ("MEDIA_S3_SECRET_ACCESS_KEY", secret_access_key.is_none()),
                ] {
                    if missing {
                        env.problem(name, "required when MEDIA_S3_BUCKET is set");
                    }
                }
                MediaBackend::S3(S3Settings {
                    bucket,
                    region: env.string("MEDIA_S3_REGION", "us-east-1"),
                    endpoint: env.optional_url("MEDIA_S3_ENDPOINT", &["http://", "https://"]),
                    access_key_id: access_key_id.unwrap_or_default(),
                    secret_access_key: secret_access_key.unwrap_or_else(|| Secret::new("")),
                })
            }
        };
        Self { backend, max_bytes }
    }
}

impl Config {
    pub fn load(env: &mut Env) -> Result<Self, ConfigError> {
        let service = ServiceConfig::load(env, "base", "127.0.0.1:8083");
        let ticket_sealer = Sealer::required(env, "TICKET_KEY_ENCRYPTION_KEY");
        let config = Self {
            service,
            guard: GuardConfig::from_env(env),
            financial_grpc_url: env.string("FINANCIAL_GRPC_URL", "http://127.0.0.1:9084"),
            media: MediaSettings::load(env),
            max_active_holds: env.parse("MAX_ACTIVE_HOLDS", 1000u64),
            reservation_minutes: env.parse("RESERVATION_MINUTES", 15u32),
            ticket_sealer,
            waitlist_offer_hours: env.parse("WAITLIST_OFFER_HOURS", 48u32),
            mail: MailSettings::load(env),
            webhooks: WebhookSettings::load(env),
        };
        if !(1..=720).contains(&config.waitlist_offer_hours) {
            env.problem("WAITLIST_OFFER_HOURS", "must be between 1 and 720");
        }
        if !(1..=1440).contains(&config.reservation_minutes) {
            env.problem("RESERVATION_MINUTES", "must be between 1 and 1440");
        }
        env.finish()?;
        Ok(config)
    }
}

marquee_service::configured!(Config);
