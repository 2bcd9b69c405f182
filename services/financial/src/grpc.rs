//! gRPC for base: business facts that become financial records, each
//! recorded once per source id (a replay acknowledges the original). A fact
//! refused by the rules is parked and acknowledged as such; only a failure
//! that may pass (the database away) is answered as an error, to be retried.

use marquee_proto::financial::v1 as pb;
use tonic::{Request, Response, Status};
use uuid::Uuid;

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

async fn receive(state: &AppState, fact: Fact) -> Result<Response<pb::FactAck>, Status> {
    receive_fact(state, fact).await.map(ack).map_err(|e| marquee_kit::ApiError::from(e).to_grpc_status())
}

#[tonic::async_trait]
impl pb::facts_server::Facts for FactsGrpc {
    /// An accepted offer becomes a submitted expense, the artist's fee, to be
    /// approved (and later paid) by someone other than the member who accepted.
    async fn record_offer_accepted(
        &self,
        request: Request<pb::OfferAccepted>,
    ) -> Result<Response<pb::FactAck>, Status> {
        let r = request.into_inner();
        let (amount, currency) = money(r.fee)?;
        let fact = Fact {
            company_id: id(&r.company_id, "company_id")?,
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
        };
        receive(&self.state, fact).await
    }
}
