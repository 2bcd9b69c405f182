//! gRPC for base: business facts that become financial records, each
//! recorded once per source id (a replay acknowledges the original). A fact
//! refused by the rules is parked and acknowledged as such; only a failure
//! that may pass (the database away) is answered as an error, to be retried.

use marquee_proto::financial::v1 as pb;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domains::deals::model::{Basis, Bonus, BonusKind, Deal, DealKind, ManifestLine, StoredDeal};
use crate::domains::deals::service as deals;
use crate::domains::records::model::{Kind, Status as RecordStatus, SystemCategory};
use crate::domains::records::service::{Fact, Outcome, receive_fact};
use crate::state::AppState;

pub struct FactsGrpc {
    pub state: AppState,
}

fn id(raw: &str, field: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(raw).map_err(|_| Status::invalid_argument(format!("{field} must be a UUID")))
}

fn money(m: Option<pb::Money>) -> Result<(i64, String), Status> {
    let m = m.ok_or_else(|| Status::invalid_argument("an amount is required"))?;
    if m.amount_minor <= 0 || m.amount_minor > crate::domains::ledger::model::MAX_AMOUNT {
        return Err(Status::invalid_argument("amounts are positive minor units"));
    }
    if !crate::domains::ledger::model::valid_currency(&m.currency) {
        return Err(Status::invalid_argument("currency must be an ISO-4217 code"));
    }
    Ok((m.amount_minor, m.currency))
}

fn source(raw: &str) -> Result<String, Status> {
    let s = raw.trim();
    if s.is_empty() || s.len() > 200 {
        return Err(Status::invalid_argument("source_id is required (at most 200 characters)"));
    }
    Ok(s.to_owned())
}

fn author(raw: &str) -> Result<Uuid, Status> {
    if raw.trim().is_empty() { Ok(Uuid::nil()) } else { id(raw, "accepted_by") }
}

fn ack(outcome: Outcome) -> Response<pb::FactAck> {
    Response::new(match outcome {
        Outcome::Recorded { record, replayed } => {
            pb::FactAck { record_id: record.id.to_string(), replayed, parked: false, parked_reason: String::new() }
        }
        Outcome::Parked(parked) => pb::FactAck {
            record_id: String::new(),
            replayed: false,
            parked: true,
            parked_reason: format!("{}: {}", parked.error, parked.message),
        },
    })
}

fn grpc(e: crate::error::Error) -> Status {
    marquee_kit::ApiError::from(e).to_grpc_status()
}

fn at(unix_ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(unix_ms).unwrap_or_default()
}

/// A deal as base sent it; base checked it, and a deal that fails here
/// again is refused rather than settled on.
fn deal(d: pb::Deal) -> Result<Deal, Status> {
    let bad = |what: &str| Status::invalid_argument(format!("deal: {what}"));
    let minor = |v: i64, what: &str| {
        if (0..=crate::domains::ledger::model::MAX_AMOUNT).contains(&v) { Ok(v) } else { Err(bad(what)) }
    };
    let bps = |v: u32, what: &str| if v <= 10_000 { Ok(v) } else { Err(bad(what)) };
    if d.bonuses.len() > 20 {
        return Err(bad("at most 20 bonuses"));
    }
    let mut bonuses = Vec::with_capacity(d.bonuses.len());
    for b in d.bonuses {
        bonuses.push(Bonus {
            kind: match pb::BonusKind::try_from(b.kind) {
                Ok(pb::BonusKind::TicketsSold) => BonusKind::TicketsSold,
                Ok(pb::BonusKind::GrossReached) => BonusKind::GrossReached,
                _ => return Err(bad("a bonus's kind")),
            },
            threshold: minor(b.threshold, "a bonus's threshold")?,
            amount_minor: minor(b.amount_minor, "a bonus's amount")?,
        });
    }
    Ok(Deal {
        kind: match pb::DealKind::try_from(d.kind) {
            Ok(pb::DealKind::Flat) => DealKind::Flat,
            Ok(pb::DealKind::Door) => DealKind::Door,
            Ok(pb::DealKind::Plus) => DealKind::Plus,
            Ok(pb::DealKind::Versus) => DealKind::Versus,
            _ => return Err(bad("kind")),
        },
        guarantee_minor: minor(d.guarantee_minor, "guarantee")?,
        percent_bps: bps(d.percent_bps, "percentBps")?,
        basis: match pb::DealBasis::try_from(d.basis) {
            Ok(pb::DealBasis::Net) => Basis::Net,
            _ => Basis::Gross,
        },
        promoter_profit_bps: bps(d.promoter_profit_bps, "promoterProfitBps")?,
        bonuses,
        facility_fee_minor: minor(d.facility_fee_minor, "facilityFeeMinor")?,
        ticketing_fee_minor: minor(d.ticketing_fee_minor, "ticketingFeeMinor")?,
        sales_tax_bps: bps(d.sales_tax_bps, "salesTaxBps")?,
    })
}

async fn receive(state: &AppState, fact: Fact) -> Result<Response<pb::FactAck>, Status> {
    receive_fact(state, fact).await.map(ack).map_err(|e| marquee_kit::ApiError::from(e).to_grpc_status())
}

#[tonic::async_trait]
impl pb::facts_server::Facts for FactsGrpc {
    /// An accepted offer becomes a submitted expense, the artist's fee, to be
    /// approved (and later paid) by someone other than the member who accepted.
    /// Its deal is kept for the settlement sheet; a deal without a guarantee
    /// (a door deal) makes no payable until the show settles.
    async fn record_offer_accepted(
        &self,
        request: Request<pb::OfferAccepted>,
    ) -> Result<Response<pb::FactAck>, Status> {
        let r = request.into_inner();
        let company_id = id(&r.company_id, "company_id")?;
        let fee = r.fee.clone().ok_or_else(|| Status::invalid_argument("an amount is required"))?;
        if let Some(terms) = r.deal {
            let stored = StoredDeal {
                offer_id: id(&r.offer_id, "offer_id")?,
                event_id: id(&r.event_id, "event_id")?,
                artist_id: id(&r.artist_id, "artist_id")?,
                currency: fee.currency.clone(),
                deal: deal(terms)?,
                accepted_at: at(r.accepted_at_unix_ms),
            };
            let kept = deals::record_deal(&self.state, company_id, &stored).await.map_err(grpc)?;
            if stored.deal.guarantee_minor == 0 {
                return Ok(Response::new(pb::FactAck {
                    record_id: String::new(),
                    replayed: !kept,
                    parked: false,
                    parked_reason: String::new(),
                }));
            }
        }
        let (amount, currency) = money(r.fee)?;
        let fact = Fact {
            company_id,
            source_id: source(&r.source_id)?,
            name: "offer_accepted",
            kind: Kind::Expense,
            status: RecordStatus::Submitted,
            author: author(&r.accepted_by)?,
            amount,
            currency,
            category: SystemCategory::ArtistFee,
            counterparty: format!("artist:{}", id(&r.artist_id, "artist_id")?),
            event_id: Some(id(&r.event_id, "event_id")?),
            description: format!("Artist fee for accepted offer {}", id(&r.offer_id, "offer_id")?),
            quantity: 0,
        };
        receive(&self.state, fact).await
    }

    /// A ticket sale is income received; a refund gives it back.
    async fn record_ticket_sale(&self, request: Request<pb::TicketSale>) -> Result<Response<pb::FactAck>, Status> {
        let r = request.into_inner();
        let (amount, currency) = money(r.amount)?;
        let refund = match pb::SaleKind::try_from(r.kind) {
            Ok(pb::SaleKind::Sale) => false,
            Ok(pb::SaleKind::Refund) => true,
            _ => return Err(Status::invalid_argument("kind must be SALE or REFUND")),
        };
        let fact = Fact {
            company_id: id(&r.company_id, "company_id")?,
            source_id: source(&r.source_id)?,
            name: if refund { "ticket_refund" } else { "ticket_sale" },
            kind: if refund { Kind::Expense } else { Kind::Income },
            status: RecordStatus::Paid,
            author: Uuid::nil(),
            amount,
            currency,
            category: if refund { SystemCategory::TicketRefund } else { SystemCategory::TicketSale },
            counterparty: if r.order_id.is_empty() {
                format!("registration:{}", id(&r.registration_id, "registration_id")?)
            } else {
                format!("order:{}", id(&r.order_id, "order_id")?)
            },
            event_id: Some(id(&r.event_id, "event_id")?),
            description: format!("{} ticket(s) {}", r.quantity, if refund { "refunded" } else { "sold" }),
            quantity: r.quantity,
        };
        receive(&self.state, fact).await
    }

    /// The event's ticket types, for the gross potential of its sheet.
    async fn record_ticket_manifest(
        &self,
        request: Request<pb::TicketManifest>,
    ) -> Result<Response<pb::FactAck>, Status> {
        let r = request.into_inner();
        if r.lines.len() > 1_000 {
            return Err(Status::invalid_argument("at most 1000 ticket types"));
        }
        let mut lines = Vec::with_capacity(r.lines.len());
        for l in r.lines {
            if l.capacity > 1_000_000 || u64::from(l.comps) + u64::from(l.kills) > u64::from(l.capacity) {
                return Err(Status::invalid_argument(
                    "a line's capacity is at most 1000000, comps and kills within it",
                ));
            }
            let (price_minor, currency) = match l.price {
                Some(pb::Money { amount_minor: 0, currency }) => (0, currency),
                price => money(price)?,
            };
            lines.push(ManifestLine {
                ticket_type_id: id(&l.ticket_type_id, "ticket_type_id")?,
                name: l.name.chars().take(200).collect(),
                price_minor,
                currency,
                capacity: l.capacity,
                comps: l.comps,
                kills: l.kills,
            });
        }
        let (company, event) = (id(&r.company_id, "company_id")?, id(&r.event_id, "event_id")?);
        deals::record_manifest(&self.state, company, event, r.revision, &lines).await.map_err(grpc)?;
        Ok(Response::new(pb::FactAck {
            record_id: String::new(),
            replayed: false,
            parked: false,
            parked_reason: String::new(),
        }))
    }
}
