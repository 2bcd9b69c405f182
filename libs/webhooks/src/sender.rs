//! One delivery attempt over HTTP: signed headers, a time limit, no
//! redirects (a redirect could point inward), only permitted addresses, and
//! at most a kilobyte of the answer kept.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Url;
use reqwest::redirect::Policy;

use crate::address::{AddressPolicy, check_url};

/// The answer's first bytes kept for the delivery log.
const EXCERPT_BYTES: usize = 1024;

/// One message on its way to one receiver.
pub struct Delivery<'a> {
    pub url: &'a str,
    /// `webhook-id`: the same for every attempt of a message.
    pub id: &'a str,
    /// `webhook-timestamp`, in seconds since the epoch.
    pub timestamp: i64,
    pub body: &'a [u8],
    /// `webhook-signature`.
    pub signature: String,
}

/// What one attempt came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attempt {
    /// The receiver's status, if it answered.
    pub status: Option<u16>,
    pub latency_ms: i64,
    /// The start of the receiver's answer.
    pub excerpt: Option<String>,
    /// Why there was no answer (a timeout, a refused connection, a refused address).
    pub error: Option<String>,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// 410: the receiver wants no more.
    pub fn gone(&self) -> bool {
        self.status == Some(410)
    }
}

#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
    timeout: Duration,
}

impl Sender {
    pub fn new(policy: AddressPolicy, timeout: Duration) -> Result<Self, String> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(Policy::none())
            // A proxy would resolve the receiver itself, past the resolver below.
            .no_proxy()
            .dns_resolver(policy.resolver())
            .user_agent("Marquee-Webhooks/1")
            .build()
            .map_err(|e| format!("the webhook client cannot be built: {e}"))?;
        Ok(Self { client, policy, timeout })
    }

    pub fn policy(&self) -> &AddressPolicy {
        &self.policy
    }

    /// How long one attempt may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Whether a receiver's URL is acceptable now: well formed, and its host
    /// resolves to permitted addresses only.
    pub async fn check_destination(&self, url: &str) -> Result<Url, String> {
        let url = check_url(url).map_err(str::to_owned)?;
        if url.as_str().len() > 2000 {
            return Err("at most 2000 characters once encoded".to_owned());
        }
        let host = url.host_str().unwrap_or_default();
        self.policy.resolve(host, url.port_or_known_default().unwrap_or(443)).await?;
        Ok(url)
    }

    pub async fn send(&self, delivery: Delivery<'_>) -> Attempt {
        let started = Instant::now();
        let elapsed = |started: Instant| i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        // A literal address never reaches the resolver: it is checked here.
        let url = match self.check_destination(delivery.url).await {
            Ok(url) => url,
            Err(refused) => return Attempt { error: Some(refused), ..Attempt::default() },
        };
        let sent = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", delivery.id)
            .header("webhook-timestamp", delivery.timestamp.to_string())
            .header("webhook-signature", delivery.signature)
            .body(delivery.body.to_vec())
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(e) => {
                let error = if e.is_timeout() { "no answer in time".to_owned() } else { without_url(e) };
                return Attempt { latency_ms: elapsed(started), error: Some(error), ..Attempt::default() };
            }
        };
        let status = response.status().as_u16();
        let mut kept = Vec::new();
        while kept.len() < EXCERPT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => kept.extend_from_slice(&chunk[..chunk.len().min(EXCERPT_BYTES - kept.len())]),
                Ok(None) | Err(_) => break,
            }
        }
        // Control characters (a NUL above all, which PostgreSQL's text refuses) are not kept.
        let excerpt: String =
            String::from_utf8_lossy(&kept).chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).collect();
        let excerpt = (!excerpt.is_empty()).then_some(excerpt);
        Attempt { status: Some(status), latency_ms: elapsed(started), excerpt, error: None }
    }
}

/// A transport error's cause, without the URL (the log shows it already).
fn without_url(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}
