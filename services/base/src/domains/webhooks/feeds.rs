//! The events auth and financial keep for the companies' webhooks, taken
//! into base's messages and then acknowledged: a crash in between means the
//! events are offered again and stored under the same ids, so nothing is
//! lost and nothing is sent twice as two messages.

use std::time::Duration;

use marquee_kit::grpc::ServiceCredentials;
use marquee_kit::{BalancedChannel, Clock};
use marquee_proto::integration::v1 as pb;
use marquee_proto::integration::v1::integration_events_client::IntegrationEventsClient;
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::repo;

/// Events taken at once.
const TAKE: u32 = 200;

/// Takes the events of the service at `url` (`source` names it in logs) until `shutdown`.
pub async fn take(
    source: &'static str,
    url: String,
    service_token: String,
    db: DatabaseConnection,
    clock: Clock,
    poll: Duration,
    shutdown: CancellationToken,
) {
    let tune =
        |e: tonic::transport::Endpoint| e.connect_timeout(Duration::from_secs(2)).timeout(Duration::from_secs(5));
    let client = match (BalancedChannel::open(&url, tune), ServiceCredentials::new(&service_token)) {
        (Ok(balanced), Ok(credentials)) => IntegrationEventsClient::with_interceptor(balanced.channel(), credentials),
        _ => {
            tracing::error!(%source, %url, "the address of this feed is not usable; its webhooks wait");
            return;
        }
    };
    let mut failing = false;
    loop {
        match round(&client, &db, &clock).await {
            Ok(full) => {
                failing = false;
                if full {
                    continue;
                }
            }
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(%source, error = %e, "webhook events could not be taken yet; retrying");
            }
            Err(_) => {}
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(poll) => {}
        }
    }
}

type Client = IntegrationEventsClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, ServiceCredentials>,
>;

/// One take: stores what is pending and acknowledges it; whether there may be more.
async fn round(client: &Client, db: &DatabaseConnection, clock: &Clock) -> Result<bool, String> {
    let pending = client
        .clone()
        .pending(pb::PendingRequest { limit: TAKE })
        .await
        .map_err(|s| s.message().to_owned())?
        .into_inner()
        .events;
    if pending.is_empty() {
        return Ok(false);
    }
    let full = pending.len() >= TAKE as usize;
    let mut messages = Vec::with_capacity(pending.len());
    let mut ids = Vec::with_capacity(pending.len());
    for event in pending {
        ids.push(event.id.clone());
        match (Uuid::parse_str(&event.id), Uuid::parse_str(&event.company_id)) {
            (Ok(id), Ok(company)) => messages.push((id, company, event.event_type, event.body_json)),
            _ => tracing::warn!(id = %event.id, "a malformed webhook event was skipped"),
        }
    }
    repo::insert_taken(db, messages, clock.now()).await.map_err(|e| e.to_string())?;
    client.clone().acknowledge(pb::AcknowledgeRequest { ids }).await.map_err(|s| s.message().to_owned())?;
    Ok(full)
}
