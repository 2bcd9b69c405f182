//! Facts owed to financial, written in the same transaction as the change that
//! produced them and delivered by a relay that retries with backoff until
//! financial acknowledges (its receiver is idempotent by source id), so a
//! crash between commit and send loses nothing. The backlog is a metric.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use marquee_kit::Clock;
use marquee_kit::grpc::ServiceCredentials;
use marquee_proto::financial::v1 as pb;
use marquee_proto::financial::v1::facts_client::FactsClient;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, DatabaseConnection, PaginatorTrait, QuerySelect, Set};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

pub mod row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub kind: String,
        pub source_id: String,
        pub payload: String,
        pub created_at: DateTimeUtc,
        pub delivered_at: Option<DateTimeUtc>,
        pub attempts: i32,
        pub next_attempt_at: DateTimeUtc,
        pub last_error: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A business fact for financial.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fact {
    OfferAccepted {
        offer_id: Uuid,
        event_id: Uuid,
        artist_id: Uuid,
        fee_minor: i64,
        currency: String,
        at: DateTime<Utc>,
        /// The member who accepted (absent from facts queued before it was kept).
        #[serde(default)]
        accepted_by: Option<Uuid>,
        /// The offer's deal (absent from facts queued before deals: a flat fee).
        #[serde(default)]
        deal: Option<crate::domains::offers::Deal>,
    },
    /// An event's ticket types as they stand, for the gross potential of its
    /// settlement sheet; a later revision replaces an earlier one.
    TicketManifest { event_id: Uuid, revision: i64, lines: Vec<ManifestLine> },
    TicketSale {
        event_id: Uuid,
        registration_id: Uuid,
        refund: bool,
        amount_minor: i64,
        currency: String,
        quantity: u32,
        at: DateTime<Utc>,
    },
    /// A paid order, or a refund of some of its tickets.
    OrderPayment {
        event_id: Uuid,
        order_id: Uuid,
        refund: bool,
        amount_minor: i64,
        currency: String,
        quantity: u32,
        at: DateTime<Utc>,
    },
}

/// One ticket type in a manifest.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ManifestLine {
    pub ticket_type_id: Uuid,
    pub name: String,
    pub price_minor: i64,
    pub currency: String,
    pub capacity: u32,
    pub comps: u32,
    pub kills: u32,
}

impl Fact {
    fn kind(&self) -> &'static str {
        match self {
            Self::OfferAccepted { .. } => "offer_accepted",
            Self::TicketManifest { .. } => "ticket_manifest",
            Self::TicketSale { refund: false, .. } | Self::OrderPayment { refund: false, .. } => "ticket_sale",
            Self::TicketSale { refund: true, .. } | Self::OrderPayment { refund: true, .. } => "ticket_refund",
        }
    }
}

/// Records a fact in the caller's transaction; `source_id` makes it once-only.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    company: Uuid,
    source_id: String,
    fact: &Fact,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    pending(company, source_id, fact, now)?.insert(db).await?;
    Ok(())
}

fn pending(company: Uuid, source_id: String, fact: &Fact, now: DateTime<Utc>) -> Result<row::ActiveModel, DbErr> {
    Ok(row::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(company),
        kind: Set(fact.kind().to_owned()),
        source_id: Set(source_id),
        payload: Set(serde_json::to_string(fact).map_err(|e| DbErr::Custom(e.to_string()))?),
        created_at: Set(now),
        delivered_at: Set(None),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
    })
}

/// Queues many facts, each (company, source id, fact), in one statement per
/// thousand (a group commit's).
pub async fn enqueue_many(
    db: &impl ConnectionTrait,
    facts: Vec<(Uuid, String, Fact)>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let rows = facts
        .into_iter()
        .map(|(company, source, fact)| pending(company, source, &fact, now))
        .collect::<Result<Vec<_>, _>>()?;
    for chunk in rows.chunks(1000) {
        row::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
    }
    Ok(())
}

type Client = FactsClient<InterceptedService<Channel, ServiceCredentials>>;

/// Handle to wake the relay after a commit.
#[derive(Clone, Default)]
pub struct Outbox {
    wake: Arc<Notify>,
}

impl Outbox {
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Delivers pending facts until `shutdown`.
    pub async fn relay(
        self,
        db: DatabaseConnection,
        financial_url: String,
        service_token: String,
        clock: Clock,
        shutdown: CancellationToken,
    ) {
        let tune = |e: Endpoint| e.connect_timeout(Duration::from_secs(2)).timeout(Duration::from_secs(5));
        let client =
            match (marquee_kit::BalancedChannel::open(&financial_url, tune), ServiceCredentials::new(&service_token)) {
                (Ok(balanced), Ok(credentials)) => FactsClient::with_interceptor(balanced.channel(), credentials),
                _ => {
                    tracing::error!(%financial_url, "FINANCIAL_GRPC_URL is not usable; facts stay in the outbox");
                    return;
                }
            };
        // The backlog is counted when a drain ends, and at most once a second
        // while full rounds follow each other.
        let mut counted_at: Option<std::time::Instant> = None;
        loop {
            let more = match deliver(&db, &client, &clock).await {
                Ok(full) => full,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox relay could not read the outbox");
                    false
                }
            };
            if !more || counted_at.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
                match row::Entity::find().filter(row::Column::DeliveredAt.is_null()).count(&db).await {
                    Ok(backlog) => metrics::gauge!("outbox_backlog").set(backlog as f64),
                    Err(e) => tracing::warn!(error = %e, "outbox backlog not counted"),
                }
                counted_at = Some(std::time::Instant::now());
            }
            // More are due: go on at once.
            if more && !shutdown.is_cancelled() {
                continue;
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    }
}

/// Facts sent per round, and at once: financial's receiver is idempotent by
/// source id and records each fact on its own, so their order does not
/// matter; the facts that arrive together there share one transaction.
const BATCH: u64 = 128;
const IN_FLIGHT: usize = 64;

/// One round: sends what is due; true when it found a full batch (more wait).
async fn deliver(db: &DatabaseConnection, client: &Client, clock: &Clock) -> Result<bool, DbErr> {
    let now = clock.now();
    // No ORDER BY: the order does not matter (see BATCH), and sorting the
    // due rows first reads every one of them, a backlog's too.
    let due = row::Entity::find()
        .filter(row::Column::DeliveredAt.is_null())
        .filter(row::Column::NextAttemptAt.lte(now))
        .limit(BATCH)
        .all(db)
        .await?;
    let full = due.len() as u64 == BATCH;
    let outcomes: Vec<(row::Model, Result<(), String>)> = futures::stream::iter(due)
        .map(|item| async move {
            let outcome = match serde_json::from_str::<Fact>(&item.payload) {
                Ok(fact) => send(client.clone(), &item, fact).await,
                Err(e) => Err(format!("unreadable payload: {e}")),
            };
            (item, outcome)
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let mut delivered = Vec::new();
    for (item, outcome) in outcomes {
        match outcome {
            Ok(()) => delivered.push(item.id),
            Err(e) => {
                let attempts = item.attempts + 1;
                tracing::warn!(attempts, error = %e, "fact not delivered yet; will retry");
                let backoff_ms = 100i64.saturating_mul(1 << attempts.min(9)).min(30_000);
                let mut active: row::ActiveModel = item.into();
                active.attempts = Set(attempts);
                active.next_attempt_at = Set(now + chrono::Duration::milliseconds(backoff_ms));
                active.last_error = Set(Some(e));
                active.update(db).await?;
            }
        }
    }
    // One statement marks the whole round delivered.
    if !delivered.is_empty() {
        row::Entity::update_many()
            .col_expr(row::Column::DeliveredAt, Expr::value(now))
            .col_expr(row::Column::Attempts, sea_orm::ExprTrait::add(Expr::col(row::Column::Attempts), 1))
            .filter(row::Column::Id.is_in(delivered))
            .exec(db)
            .await?;
    }
    Ok(full)
}

async fn send(mut client: Client, item: &row::Model, fact: Fact) -> Result<(), String> {
    let company_id = item.company_id.to_string();
    let money = |amount_minor, currency| Some(pb::Money { amount_minor, currency });
    let result = match fact {
        Fact::OfferAccepted { offer_id, event_id, artist_id, fee_minor, currency, at, accepted_by, deal } => client
            .record_offer_accepted(pb::OfferAccepted {
                source_id: item.source_id.clone(),
                company_id,
                offer_id: offer_id.to_string(),
                event_id: event_id.to_string(),
                artist_id: artist_id.to_string(),
                fee: money(fee_minor, currency),
                accepted_at_unix_ms: at.timestamp_millis(),
                accepted_by: accepted_by.map(|u| u.to_string()).unwrap_or_default(),
                deal: deal.map(|d| d.to_proto()),
            })
            .await
            .map(|_| ()),
        Fact::TicketSale { event_id, registration_id, refund, amount_minor, currency, quantity, at } => client
            .record_ticket_sale(pb::TicketSale {
                source_id: item.source_id.clone(),
                company_id,
                event_id: event_id.to_string(),
                registration_id: registration_id.to_string(),
                order_id: String::new(),
                kind: if refund { pb::SaleKind::Refund } else { pb::SaleKind::Sale } as i32,
                amount: money(amount_minor, currency),
                quantity,
                occurred_at_unix_ms: at.timestamp_millis(),
            })
            .await
            .map(|_| ()),
        Fact::OrderPayment { event_id, order_id, refund, amount_minor, currency, quantity, at } => client
            .record_ticket_sale(pb::TicketSale {
                source_id: item.source_id.clone(),
                company_id,
                event_id: event_id.to_string(),
                registration_id: String::new(),
                order_id: order_id.to_string(),
                kind: if refund { pb::SaleKind::Refund } else { pb::SaleKind::Sale } as i32,
                amount: money(amount_minor, currency),
                quantity,
                occurred_at_unix_ms: at.timestamp_millis(),
            })
            .await
            .map(|_| ()),
        Fact::TicketManifest { event_id, revision, lines } => client
            .record_ticket_manifest(pb::TicketManifest {
                source_id: item.source_id.clone(),
                company_id,
                event_id: event_id.to_string(),
                revision,
                lines: lines
                    .into_iter()
                    .map(|l| pb::ManifestLine {
                        ticket_type_id: l.ticket_type_id.to_string(),
                        name: l.name,
                        price: money(l.price_minor, l.currency),
                        capacity: l.capacity,
                        comps: l.comps,
                        kills: l.kills,
                    })
                    .collect(),
            })
            .await
            .map(|_| ()),
    };
    result.map_err(|status| format!("{:?}: {}", status.code(), status.message()))
}
