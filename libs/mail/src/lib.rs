//! Outgoing mail through a transactional outbox: a message is written in the
//! same transaction as the token it carries, and a background relay delivers
//! it (retrying with backoff), so a crash between the two loses nothing.
//! Delivery is SMTP when `SMTP_URL` is set, otherwise one `.eml` file per
//! message under `MAIL_DIR`.

use std::sync::Arc;
use std::time::Duration;

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use lettre::message::header::ContentType;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use marquee_config::{Env, Secret};
use marquee_kit::Clock;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryOrder, QuerySelect, Set};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub mod row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mail_outbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub to_address: String,
        pub subject: String,
        pub body: String,
        pub created_at: DateTimeUtc,
        pub sent_at: Option<DateTimeUtc>,
        pub attempts: i32,
        pub next_attempt_at: DateTimeUtc,
        pub last_error: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Where a service's mail goes, read from the environment.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `SMTP_URL`: a relay; without it mail is written under `MAIL_DIR`.
    pub smtp_url: Option<Secret>,
    pub mail_dir: PathBuf,
    pub mail_from: String,
    /// `PUBLIC_WEB_URL`: the web app that links in mail open.
    pub public_web_url: String,
}

impl MailSettings {
    pub fn load(env: &mut Env) -> Self {
        Self {
            smtp_url: env.optional_secret("SMTP_URL"),
            mail_dir: PathBuf::from(env.string("MAIL_DIR", "./data/mail")),
            mail_from: env.string("MAIL_FROM", "Marquee <no-reply@marquee.local>"),
            public_web_url: env.string("PUBLIC_WEB_URL", "http://localhost:3000"),
        }
    }

    pub fn mailer(&self) -> anyhow::Result<Mailer> {
        Mailer::new(self.smtp_url.as_ref().map(|s| s.expose()), &self.mail_dir)
    }

    /// A link into the web app.
    pub fn link(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.public_web_url.trim_end_matches('/'))
    }
}

/// Where mail goes.
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

impl Mailer {
    pub fn new(smtp_url: Option<&str>, mail_dir: &std::path::Path) -> anyhow::Result<Self> {
        match smtp_url {
            Some(url) => Ok(Self::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("SMTP_URL is not usable: {e}"))?
                    .timeout(Some(Duration::from_secs(10)))
                    .build(),
            )),
            None => {
                std::fs::create_dir_all(mail_dir)
                    .map_err(|e| anyhow::anyhow!("cannot create MAIL_DIR {}: {e}", mail_dir.display()))?;
                Ok(Self::Files(AsyncFileTransport::<Tokio1Executor>::new(mail_dir)))
            }
        }
    }

    async fn send(&self, message: Message) -> Result<(), String> {
        match self {
            Self::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Self::Files(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
        }
    }
}

/// Handle to the outbox: enqueue inside a transaction, then wake the relay.
#[derive(Clone, Default)]
pub struct Outbox {
    wake: Arc<Notify>,
}

impl Outbox {
    pub async fn enqueue(
        db: &impl ConnectionTrait,
        now: DateTime<Utc>,
        to: &str,
        subject: &str,
        body: String,
    ) -> Result<(), DbErr> {
        row::ActiveModel {
            id: Set(Uuid::now_v7()),
            to_address: Set(to.to_owned()),
            subject: Set(subject.to_owned()),
            body: Set(body),
            created_at: Set(now),
            sent_at: Set(None),
            attempts: Set(0),
            next_attempt_at: Set(now),
            last_error: Set(None),
        }
        .insert(db)
        .await?;
        Ok(())
    }

    /// Tells the relay there is mail (after the enqueuing transaction committed).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Delivers pending mail until `shutdown`.
    pub async fn relay(
        self,
        db: DatabaseConnection,
        mailer: Mailer,
        from: String,
        clock: Clock,
        shutdown: CancellationToken,
    ) {
        loop {
            if let Err(e) = deliver_pending(&db, &mailer, &from, &clock).await {
                tracing::warn!(error = %e, "mail relay could not read the outbox");
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }
}

async fn deliver_pending(db: &DatabaseConnection, mailer: &Mailer, from: &str, clock: &Clock) -> Result<(), DbErr> {
    let now = clock.now();
    let pending = row::Entity::find()
        .filter(row::Column::SentAt.is_null())
        .filter(row::Column::NextAttemptAt.lte(now))
        .order_by_asc(row::Column::CreatedAt)
        .limit(50)
        .all(db)
        .await?;
    for mail in pending {
        let message = Message::builder()
            .from(from.parse().map_err(|e| DbErr::Custom(format!("MAIL_FROM: {e}")))?)
            .to(match mail.to_address.parse() {
                Ok(to) => to,
                Err(e) => {
                    tracing::warn!(mail_id = %mail.id, error = %e, "undeliverable address; dropped");
                    mark(db, mail, Some(now), Some(format!("bad address: {e}"))).await?;
                    continue;
                }
            })
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone());
        let message = match message {
            Ok(m) => m,
            Err(e) => {
                mark(db, mail, Some(now), Some(format!("cannot build: {e}"))).await?;
                continue;
            }
        };
        match mailer.send(message).await {
            Ok(()) => {
                tracing::info!(mail_id = %mail.id, "mail delivered");
                mark(db, mail, Some(now), None).await?;
            }
            Err(e) => {
                tracing::warn!(mail_id = %mail.id, attempts = mail.attempts + 1, error = %e, "mail delivery failed; will retry");
                mark(db, mail, None, Some(e)).await?;
            }
        }
    }
    Ok(())
}

async fn mark(
    db: &DatabaseConnection,
    mail: row::Model,
    sent: Option<DateTime<Utc>>,
    error: Option<String>,
) -> Result<(), DbErr> {
    let attempts = mail.attempts + 1;
    let backoff = chrono::Duration::seconds(2_i64.saturating_pow(u32::try_from(attempts.min(10)).unwrap_or(10)));
    let mut active: row::ActiveModel = mail.into();
    active.attempts = Set(attempts);
    active.last_error = Set(error);
    if let Some(at) = sent {
        active.sent_at = Set(Some(at));
        // The body carried a one-time link; it is not kept after delivery.
        active.body = Set(String::new());
    } else {
        active.next_attempt_at = Set(Utc::now() + backoff);
    }
    active.update(db).await?;
    Ok(())
}
