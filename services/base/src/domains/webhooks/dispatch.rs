//! From a committed change to the receivers: messages are written in the
//! change's transaction, fanned out to the endpoints subscribed, and each
//! delivery is attempted until it succeeds, the receiver answers 410, or the
//! retry schedule is spent. A delivery is claimed before its attempt, so two
//! replicas never send it at once; a crash after the claim means one more
//! attempt later (at least once), never none.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use marquee_kit::{Clock, Sealer};
use marquee_webhooks::{Delivery, Sender, next_delay, signature_header};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};
use serde::Serialize;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::model::{DeliveryStatus, Endpoint, message_id};
use super::repo::{self, Outcome, delivery_row};

/// Endpoints served at once, across every company.
const IN_FLIGHT: usize = 32;
/// Endpoints of one company served at once, so one company's slow receivers
/// never hold every slot.
const PER_COMPANY: usize = 4;
/// Messages fanned out, and endpoints looked at, per round.
const ROUND: u64 = 64;
/// Deliveries one worker takes for its endpoint.
const PER_ENDPOINT: u64 = 16;
/// How often finished deliveries past their retention are forgotten.
const SWEEP_EVERY: chrono::Duration = chrono::Duration::minutes(1);
/// How long attempts under way may finish once the replica stops (within
/// the time the service gives its tasks).
const DRAIN: Duration = Duration::from_secs(4);

fn body(event_type: &str, data: &impl Serialize, at: DateTime<Utc>) -> Result<String, DbErr> {
    marquee_webhooks::message_body(event_type, data, at).map_err(|e| DbErr::Custom(e.to_string()))
}

/// Writes a message in the caller's transaction.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    company: Uuid,
    event_type: &'static str,
    data: &impl Serialize,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    repo::insert_messages(db, vec![(Uuid::now_v7(), company, event_type, body(event_type, data, at)?)], at).await
}

/// Writes many messages, each (company, event type, data), in few statements.
pub async fn enqueue_many<T: Serialize>(
    db: &impl ConnectionTrait,
    messages: Vec<(Uuid, &'static str, T)>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let rows = messages
        .iter()
        .map(|(company, event_type, data)| Ok((Uuid::now_v7(), *company, *event_type, body(event_type, data, at)?)))
        .collect::<Result<Vec<_>, DbErr>>()?;
    repo::insert_messages(db, rows, at).await
}

/// The dispatcher: one per replica.
#[derive(Clone)]
pub struct Dispatcher {
    pub sender: Sender,
    pub sealer: Sealer,
    pub clock: Clock,
    /// How often it looks for work.
    pub poll: Duration,
    /// How long a claimed attempt keeps others away (past the send timeout).
    pub lease: Duration,
    /// How long finished deliveries and their messages are kept.
    pub retention: chrono::Duration,
}

/// The endpoints this replica is serving, each with its company. An entry
/// leaves when its worker ends, however it ends.
#[derive(Clone, Default)]
struct Serving(Arc<Mutex<HashMap<Uuid, Uuid>>>);

struct Slot {
    serving: Serving,
    endpoint: Uuid,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.serving.0.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.endpoint);
    }
}

impl Serving {
    /// The endpoints being served, and the companies at their share.
    fn snapshot(&self) -> (Vec<Uuid>, Vec<Uuid>) {
        let serving = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut per_company: HashMap<Uuid, usize> = HashMap::new();
        for company in serving.values() {
            *per_company.entry(*company).or_default() += 1;
        }
        let full = per_company.into_iter().filter(|(_, n)| *n >= PER_COMPANY).map(|(c, _)| c).collect();
        (serving.keys().copied().collect(), full)
    }

    /// A slot for `endpoint`, unless every slot or the company's share is taken.
    fn take(&self, endpoint: Uuid, company: Uuid) -> Option<Slot> {
        let mut serving = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let company_has = serving.values().filter(|c| **c == company).count();
        if serving.len() >= IN_FLIGHT || company_has >= PER_COMPANY || serving.contains_key(&endpoint) {
            return None;
        }
        serving.insert(endpoint, company);
        Some(Slot { serving: self.clone(), endpoint })
    }
}

impl Dispatcher {
    /// Looks for work every `poll` and serves each endpoint in a worker of its
    /// own, so a slow or silent receiver holds only its own slot.
    pub async fn run(self, db: DatabaseConnection, shutdown: CancellationToken) {
        let serving = Serving::default();
        let mut workers = JoinSet::new();
        loop {
            if let Err(e) = self.fan_out(&db).await {
                tracing::warn!(error = %e, "webhook fan-out failed; trying again");
            }
            if let Err(e) = self.serve_due(&db, &serving, &mut workers, &shutdown).await {
                tracing::warn!(error = %e, "webhook dispatch failed; trying again");
            }
            while let Some(ended) = workers.try_join_next() {
                if let Err(e) = ended {
                    tracing::error!(error = %e, "a webhook worker ended abnormally");
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(self.poll) => {}
            }
        }
        // Workers start no attempt once stopping; those under way may end
        // (their claims would otherwise hold their deliveries for a lease).
        let _ = tokio::time::timeout(DRAIN, async { while workers.join_next().await.is_some() {} }).await;
    }

    /// Forgets finished deliveries past the retention, and the messages no
    /// delivery needs, once a minute, a batch at a time.
    pub async fn forget_old(self, db: DatabaseConnection, shutdown: CancellationToken) {
        let mut swept_at: Option<DateTime<Utc>> = None;
        loop {
            let now = self.clock.now();
            if swept_at.is_none_or(|at| now - at >= SWEEP_EVERY) {
                swept_at = Some(now);
                match self.sweep(&db, now - self.retention, &shutdown).await {
                    Ok((0, 0)) => {}
                    Ok((deliveries, messages)) => {
                        tracing::info!(deliveries, messages, "old webhook deliveries forgotten")
                    }
                    Err(e) => tracing::warn!(error = %e, "webhook retention sweep failed"),
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.poll) => {}
            }
        }
    }

    async fn sweep(
        &self,
        db: &DatabaseConnection,
        before: DateTime<Utc>,
        shutdown: &CancellationToken,
    ) -> Result<(u64, u64), DbErr> {
        let (mut deliveries, mut messages) = (0, 0);
        loop {
            let n = repo::sweep_deliveries(db, before).await?;
            deliveries += n;
            if n == 0 || shutdown.is_cancelled() {
                break;
            }
        }
        loop {
            let n = repo::sweep_messages(db, before).await?;
            messages += n;
            if n == 0 || shutdown.is_cancelled() {
                break;
            }
        }
        Ok((deliveries, messages))
    }

    /// Starts a worker for each endpoint with deliveries due that no worker
    /// serves yet, the most overdue first, within the slots free.
    async fn serve_due(
        &self,
        db: &DatabaseConnection,
        serving: &Serving,
        workers: &mut JoinSet<()>,
        shutdown: &CancellationToken,
    ) -> Result<(), DbErr> {
        let (busy, full) = serving.snapshot();
        if busy.len() >= IN_FLIGHT {
            return Ok(());
        }
        for (endpoint, company) in repo::due_endpoints(db, self.clock.now(), ROUND, busy, full).await? {
            let Some(slot) = serving.take(endpoint, company) else { continue };
            let (this, db, shutdown) = (self.clone(), db.clone(), shutdown.clone());
            workers.spawn(async move {
                if let Err(e) = this.serve(&db, endpoint, &shutdown).await {
                    tracing::warn!(error = %e, %endpoint, "webhook deliveries to an endpoint failed; trying again");
                }
                drop(slot);
            });
        }
        Ok(())
    }

    /// One endpoint's deliveries due, one after another, oldest message first,
    /// until one fails: the receiver's trouble then waits for its retry, and
    /// its slot goes to whoever is most overdue.
    async fn serve(&self, db: &DatabaseConnection, endpoint: Uuid, shutdown: &CancellationToken) -> Result<(), DbErr> {
        let list = repo::due_for_endpoint(db, endpoint, self.clock.now(), PER_ENDPOINT).await?;
        let endpoint = repo::endpoint_by_id(db, &self.sealer, endpoint).await?;
        for d in list {
            if shutdown.is_cancelled() {
                break;
            }
            // Claimed only now, just before its attempt, so the claim outlasts
            // the attempt however long the ones before took.
            let lease = chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::minutes(2));
            if !repo::claim(db, &d, self.clock.now(), lease).await? {
                continue;
            }
            if !self.attempt(db, d, endpoint.clone()).await? {
                break;
            }
        }
        Ok(())
    }

    async fn fan_out(&self, db: &DatabaseConnection) -> Result<(), DbErr> {
        let waiting = repo::waiting_messages(db, ROUND).await?;
        if waiting.is_empty() {
            return Ok(());
        }
        let mut companies: Vec<Uuid> = waiting.iter().map(|m| m.company_id).collect();
        companies.sort_unstable();
        companies.dedup();
        let endpoints = repo::enabled_endpoints(db, &self.sealer, companies).await?;
        let now = self.clock.now();
        let txn = db.begin().await?;
        for message in waiting {
            let deliveries = endpoints
                .iter()
                .filter(|e| e.company_id == message.company_id && e.wants(&message.event_type))
                .map(|e| delivery_row::Model {
                    id: Uuid::now_v7(),
                    company_id: message.company_id,
                    message_id: message.id,
                    endpoint_id: e.id,
                    event_type: message.event_type.clone(),
                    status: DeliveryStatus::Pending.as_str().to_owned(),
                    attempts: 0,
                    next_attempt_at: now,
                    last_attempt_at: None,
                    last_status_code: None,
                    last_latency_ms: None,
                    last_response: None,
                    last_error: None,
                    delivered_at: None,
                    claimed_until: None,
                })
                .collect();
            repo::fan_out(&txn, message.id, deliveries).await?;
        }
        txn.commit().await
    }

    /// One attempt at a claimed delivery; whether the endpoint's next one
    /// follows (this one succeeded, or its endpoint is gone and the rest fail
    /// at once).
    async fn attempt(
        &self,
        db: &DatabaseConnection,
        d: delivery_row::Model,
        endpoint: Option<Endpoint>,
    ) -> Result<bool, DbErr> {
        let Some(endpoint) = endpoint.filter(|e| e.enabled) else {
            let attempt = marquee_webhooks::Attempt {
                error: Some("the endpoint is disabled or gone".to_owned()),
                ..Default::default()
            };
            let now = self.clock.now();
            let outcome = Outcome { attempt: &attempt, at: now, status: DeliveryStatus::Failed, next_attempt_at: now };
            repo::record(db, d.id, d.attempts + 1, outcome).await?;
            return Ok(true);
        };
        let Some(message) = repo::message(db, d.message_id).await? else {
            return Ok(true);
        };
        let now = self.clock.now();
        let id = message_id(message.id);
        let timestamp = now.timestamp();
        let payload = message.payload.as_bytes();
        let signature = signature_header(&endpoint.signing_secrets(now), &id, timestamp, payload);
        let attempt =
            self.sender.send(Delivery { url: &endpoint.url, id: &id, timestamp, body: payload, signature }).await;
        let at = self.clock.now();
        let attempts = u32::try_from(d.attempts + 1).unwrap_or(u32::MAX);
        let (status, next_attempt_at) = if attempt.succeeded() {
            (DeliveryStatus::Succeeded, at)
        } else if attempt.gone() {
            (DeliveryStatus::Failed, at)
        } else {
            match next_delay(attempts).and_then(|d| chrono::Duration::from_std(d).ok()) {
                Some(wait) => (DeliveryStatus::Pending, at + wait),
                None => (DeliveryStatus::Failed, at),
            }
        };
        tracing::info!(
            delivery = %d.id, endpoint = %endpoint.id, company = %d.company_id, event_type = %d.event_type,
            attempt = attempts, status = ?attempt.status, latency_ms = attempt.latency_ms,
            outcome = status.as_str(), "webhook attempt"
        );
        metrics::counter!("webhook_attempts_total", "outcome" => status.as_str()).increment(1);
        let outcome = Outcome { attempt: &attempt, at, status, next_attempt_at };
        if !repo::record(db, d.id, d.attempts + 1, outcome).await? {
            // Failed meanwhile with its endpoint (deleted or disabled).
            repo::release(db, d.id, d.attempts + 1).await?;
            return Ok(false);
        }
        if attempt.gone() {
            // The endpoint's other deliveries fail with it.
            repo::disable_endpoint(db, endpoint.company_id, endpoint.id, "the receiver answered 410 Gone", at).await?;
        }
        Ok(attempt.succeeded())
    }
}
