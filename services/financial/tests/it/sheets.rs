//! Settlement sheets through the REST edge, from facts as base sends them: a
//! table of deals over the same show, the worked case of a guarantee versus a
//! percentage, and a fact's deal that financial refuses.

use marquee_proto::financial::v1::{
    Bonus, BonusKind, Deal, DealBasis, DealKind, ManifestLine, Money, OfferAccepted, SaleKind, TicketManifest,
    TicketSale,
};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fleet::{Fleet, Tenant, fleet};

fn eur(amount_minor: i64) -> Option<Money> {
    Some(Money { amount_minor, currency: "EUR".into() })
}

fn deal(kind: DealKind, guarantee: i64, percent_bps: u32, basis: DealBasis) -> Deal {
    Deal { kind: kind as i32, guarantee_minor: guarantee, percent_bps, basis: basis as i32, ..Default::default() }
}

/// A show of `gross` over `tickets` tickets under `terms`, with `expenses`
/// approved by `reviewer` when one is given.
async fn show(
    f: &Fleet,
    t: &Tenant,
    reviewer: Option<&(Uuid, String)>,
    gross: i64,
    tickets: u32,
    expenses: i64,
    terms: Deal,
) -> Uuid {
    let event = Uuid::now_v7();
    let mut facts = f.facts().await;
    let offer = Uuid::now_v7();
    let ack = facts
        .record_offer_accepted(OfferAccepted {
            source_id: format!("offer:{offer}:accepted"),
            company_id: t.company.to_string(),
            offer_id: offer.to_string(),
            event_id: event.to_string(),
            artist_id: Uuid::now_v7().to_string(),
            fee: eur(terms.guarantee_minor),
            accepted_at_unix_ms: 1,
            accepted_by: t.owner_id.to_string(),
            deal: Some(terms),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!ack.parked, "{}", ack.parked_reason);
    facts
        .record_ticket_sale(TicketSale {
            source_id: format!("order:{event}:sale"),
            company_id: t.company.to_string(),
            event_id: event.to_string(),
            registration_id: String::new(),
            order_id: Uuid::now_v7().to_string(),
            kind: SaleKind::Sale as i32,
            amount: eur(gross),
            quantity: tickets,
            occurred_at_unix_ms: 1,
        })
        .await
        .unwrap();
    if let Some((reviewer_id, reviewer)) = reviewer {
        let cost = f
            .post(t, "/v1/expenses", &json!({"amount": expenses, "currency": "EUR", "category": "production", "counterparty": "Sound Co", "eventId": event}))
            .await;
        let id = cost.data()["id"].as_str().unwrap().to_owned();
        let submit = json!({"reviewerId": reviewer_id});
        assert_eq!(f.post(t, &format!("/v1/expenses/{id}/submit"), &submit).await.status, 200);
        let approved =
            f.as_member(t, reviewer, Method::POST, &format!("/v1/expenses/{id}/approve"), Some(&json!({}))).await;
        assert_eq!(approved.status, 200, "{:?}", approved.body);
    }
    event
}

async fn sheet(f: &Fleet, t: &Tenant, event: Uuid) -> Value {
    let r = f.get(t, &format!("/v1/settlements/preview?eventId={event}&currency=EUR")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.data().clone()
}

/// 10,000.00 gross over 400 tickets, 3,000.00 of expenses: what each kind of deal pays.
#[tokio::test]
async fn a_table_of_deals_pays_what_each_says() {
    let f = fleet().await;
    let t = f.tenant().await;
    let reviewer = f.member_with(&t, &["financial.expense.approve", "financial.expense.view"]).await;
    let mut plus = deal(DealKind::Plus, 200_000, 8_500, DealBasis::Net);
    plus.promoter_profit_bps = 1_500;
    let mut bonus = deal(DealKind::Flat, 200_000, 0, DealBasis::Gross);
    bonus.bonuses = vec![
        Bonus { kind: BonusKind::TicketsSold as i32, threshold: 400, amount_minor: 10_000 },
        Bonus { kind: BonusKind::GrossReached as i32, threshold: 2_000_000, amount_minor: 99_999 },
    ];
    let cases = [
        ("flat", deal(DealKind::Flat, 250_000, 0, DealBasis::Gross), 250_000),
        ("door of the gross", deal(DealKind::Door, 0, 7_000, DealBasis::Gross), 700_000),
        ("door of the net", deal(DealKind::Door, 0, 7_000, DealBasis::Net), 490_000),
        ("plus, above the split point", plus, 561_250),
        ("versus the net, the guarantee wins", deal(DealKind::Versus, 400_000, 5_000, DealBasis::Net), 400_000),
        ("flat with one bonus reached", bonus, 210_000),
    ];
    for (name, terms, payout) in cases {
        let event = show(&f, &t, Some(&reviewer), 1_000_000, 400, 300_000, terms).await;
        let s = sheet(&f, &t, event).await;
        assert_eq!(s["artistPayout"], payout, "{name}: {s}");
        assert_eq!(s["promoterShare"], 1_000_000 - 300_000 - payout, "{name}");
        assert_eq!((&s["expenses"], &s["ticketsSold"]), (&json!(300_000), &json!(400)), "{name}");
    }
}

#[tokio::test]
async fn a_guarantee_of_5000_versus_60_percent_of_a_10000_gross_pays_6000() {
    let f = fleet().await;
    let t = f.tenant().await;
    let event = show(&f, &t, None, 1_000_000, 500, 0, deal(DealKind::Versus, 500_000, 6_000, DealBasis::Gross)).await;
    let s = sheet(&f, &t, event).await;
    assert_eq!(s["artistPayout"], 600_000, "{s}");
    assert_eq!(s["artists"][0]["alreadyBooked"], 500_000, "the guarantee is the accepted offer's payable");
    assert_eq!(s["artists"][0]["due"], 100_000);

    // A manifest: sellable seats only; a later revision replaces it, an older one never does.
    let mut facts = f.facts().await;
    let line = |price, capacity, comps, kills| ManifestLine {
        ticket_type_id: Uuid::now_v7().to_string(),
        name: "GA".into(),
        price: eur(price),
        capacity,
        comps,
        kills,
    };
    for (revision, lines) in [(2, vec![line(2_000, 520, 10, 10)]), (1, vec![line(9_999, 9_999, 0, 0)])] {
        let manifest = TicketManifest {
            source_id: format!("event:{event}:manifest:{revision}"),
            company_id: t.company.to_string(),
            event_id: event.to_string(),
            revision,
            lines,
        };
        facts.record_ticket_manifest(manifest).await.unwrap();
    }
    let s = sheet(&f, &t, event).await;
    assert_eq!((&s["sellableTickets"], &s["grossPotential"]), (&json!(500), &json!(1_000_000)));

    // The artists' parties are the deal's to name.
    let split = json!({"eventId": event, "currency": "EUR", "splits": [{"party": "artist:me", "shareBps": 10_000}]});
    assert_eq!(f.post(&t, "/v1/settlements", &split).await.fields(), ["splits[0].party"]);

    // Another company sees nothing of it.
    let other = f.tenant().await;
    let theirs = sheet(&f, &other, event).await;
    assert_eq!((&theirs["gross"], &theirs["artists"]), (&json!(0), &json!([])));
    let bad = f.get(&t, &format!("/v1/settlements/preview?eventId={event}&currency=euro")).await;
    assert_eq!(bad.fields(), ["currency"]);

    // A deal financial cannot settle on is refused, and nothing is kept.
    let refused = facts
        .record_offer_accepted(OfferAccepted {
            source_id: "offer:bad:accepted".into(),
            company_id: t.company.to_string(),
            offer_id: Uuid::now_v7().to_string(),
            event_id: event.to_string(),
            artist_id: Uuid::now_v7().to_string(),
            fee: eur(1),
            accepted_at_unix_ms: 1,
            accepted_by: String::new(),
            deal: Some(deal(DealKind::Door, 0, 20_000, DealBasis::Gross)),
        })
        .await;
    assert_eq!(refused.unwrap_err().code(), tonic::Code::InvalidArgument);
    assert_eq!(sheet(&f, &t, event).await["artists"].as_array().unwrap().len(), 1);
}

/// Two accepted offers of one artist on one show: one party, owed both dues.
#[tokio::test]
async fn two_offers_of_one_artist_make_one_party() {
    let f = fleet().await;
    let t = f.tenant().await;
    let (event, artist) = (Uuid::now_v7(), Uuid::now_v7());
    let mut facts = f.facts().await;
    for n in 0..2 {
        let offer = Uuid::now_v7();
        facts
            .record_offer_accepted(OfferAccepted {
                source_id: format!("offer:{offer}:accepted"),
                company_id: t.company.to_string(),
                offer_id: offer.to_string(),
                event_id: event.to_string(),
                artist_id: artist.to_string(),
                fee: eur(0),
                accepted_at_unix_ms: n,
                accepted_by: String::new(),
                deal: Some(deal(DealKind::Door, 0, 1_000, DealBasis::Gross)),
            })
            .await
            .unwrap();
    }
    facts
        .record_ticket_sale(TicketSale {
            source_id: format!("order:{event}:sale"),
            company_id: t.company.to_string(),
            event_id: event.to_string(),
            registration_id: String::new(),
            order_id: Uuid::now_v7().to_string(),
            kind: SaleKind::Sale as i32,
            amount: eur(100_000),
            quantity: 10,
            occurred_at_unix_ms: 1,
        })
        .await
        .unwrap();
    let created = f
        .post(
            &t,
            "/v1/settlements",
            &json!({"eventId": event, "currency": "EUR", "splits": [{"party": "promoter", "shareBps": 10_000}]}),
        )
        .await;
    let id = created.data()["id"].as_str().unwrap().to_owned();
    let finalized = f.post(&t, &format!("/v1/settlements/{id}/finalize"), &json!({})).await;
    assert_eq!(
        finalized.data()["figures"]["allocations"],
        json!([
            {"party": format!("artist:{artist}"), "shareBps": 0, "amount": 20_000},
            {"party": "promoter", "shareBps": 10_000, "amount": 80_000},
        ]),
        "{:?}",
        finalized.body
    );
    let paid = f
        .post(
            &t,
            &format!("/v1/settlements/{id}/payouts"),
            &json!({"party": format!("artist:{artist}"), "amount": 20_000}),
        )
        .await;
    assert_eq!(paid.status, 201, "the artist is paid both dues: {:?}", paid.body);
}
