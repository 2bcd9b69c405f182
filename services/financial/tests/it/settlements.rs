//! Settlements that add up to the minor unit, frozen when final; payouts; reports.

use marquee_kit::grpc::ServiceCredentials;
use marquee_proto::financial::v1::facts_client::FactsClient;
use marquee_proto::financial::v1::{Money, OfferAccepted, SaleKind, TicketSale};
use serde_json::json;
use uuid::Uuid;

use crate::fleet::fleet;

#[tokio::test]
async fn a_settlement_splits_exactly_freezes_and_pays_out() {
    let f = fleet().await;
    let t = f.tenant().await;
    let event = Uuid::now_v7();
    let channel = tonic::transport::Endpoint::from_shared(f.grpc.clone()).unwrap().connect().await.unwrap();
    let mut facts =
        FactsClient::with_interceptor(channel, ServiceCredentials::new(marquee_test_support::SERVICE_TOKEN).unwrap());
    let eur = |amount_minor: i64| Some(Money { amount_minor, currency: "EUR".into() });
    facts
        .record_offer_accepted(OfferAccepted {
            source_id: format!("offer:{event}"),
            company_id: t.company.to_string(),
            offer_id: Uuid::now_v7().to_string(),
            event_id: event.to_string(),
            artist_id: Uuid::now_v7().to_string(),
            fee: eur(100_000),
            accepted_at_unix_ms: 0,
        })
        .await
        .unwrap();
    let sale = |n: u32, kind: SaleKind, amount: i64| TicketSale {
        source_id: format!("sale:{event}:{n}"),
        company_id: t.company.to_string(),
        event_id: event.to_string(),
        registration_id: Uuid::now_v7().to_string(),
        kind: kind as i32,
        amount: eur(amount),
        quantity: 1,
        occurred_at_unix_ms: 0,
    };
    facts.record_ticket_sale(sale(1, SaleKind::Sale, 150_000)).await.unwrap();
    facts.record_ticket_sale(sale(2, SaleKind::Sale, 60_001)).await.unwrap();
    facts.record_ticket_sale(sale(3, SaleKind::Refund, 10_000)).await.unwrap();

    // A catering cost for the event, through the workflow.
    let (reviewer_id, reviewer) = f.member_with(&t, &["financial.expense.approve", "financial.expense.view"]).await;
    let cost = f.post(&t, "/v1/expenses", &json!({"amount": 20_000, "currency": "EUR", "category": "catering", "counterparty": "Food Co", "eventId": event})).await;
    let cost_id = cost.data()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        f.post(&t, &format!("/v1/expenses/{cost_id}/submit"), &json!({"reviewerId": reviewer_id})).await.status,
        200
    );
    let approve = f
        .api
        .http
        .post(f.api.url(&format!("/v1/expenses/{cost_id}/approve")))
        .bearer_auth(&reviewer)
        .header("x-org", t.company.to_string())
        .json(&json!({}));
    assert_eq!(f.api.send(approve).await.status, 200);

    let splits = json!([{"party": "promoter", "shareBps": 3333}, {"party": "venue", "shareBps": 3333}, {"party": "artist", "shareBps": 3334}]);
    let bad = f
        .post(
            &t,
            "/v1/settlements",
            &json!({"eventId": event, "currency": "EUR", "splits": [{"party": "a", "shareBps": 5000}]}),
        )
        .await;
    assert_eq!(bad.fields(), ["splits"], "shares add up to the whole");
    let created = f.post(&t, "/v1/settlements", &json!({"eventId": event, "currency": "EUR", "splits": splits})).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.data()["id"].as_str().unwrap().to_owned();
    let figures = &created.data()["figures"];
    assert_eq!(figures["ticketSales"], 210_001);
    assert_eq!(figures["refunds"], 10_000);
    assert_eq!(figures["gross"], 200_001);
    assert_eq!(figures["costs"], 20_000);
    assert_eq!(figures["artistFee"], 100_000);
    assert_eq!(figures["net"], 80_001);
    assert_eq!(figures["rounding"], "largest-remainder");
    let amounts: Vec<i64> =
        figures["allocations"].as_array().unwrap().iter().map(|a| a["amount"].as_i64().unwrap()).collect();
    assert_eq!(amounts, [26_664, 26_664, 26_673]);
    assert_eq!(amounts.iter().sum::<i64>(), 80_001, "to the minor unit");

    let early = f.post(&t, &format!("/v1/settlements/{id}/payouts"), &json!({"party": "venue", "amount": 1})).await;
    assert_eq!(early.code(), "NOT_FINALIZED");
    let finalized = f.post(&t, &format!("/v1/settlements/{id}/finalize"), &json!({})).await;
    assert_eq!(finalized.status, 200, "{:?}", finalized.body);
    assert_eq!(finalized.data()["status"], "finalized");
    assert!(finalized.data()["entryId"].is_string(), "posted to the ledger");
    assert_eq!(f.post(&t, &format!("/v1/settlements/{id}/finalize"), &json!({})).await.code(), "ALREADY_FINALIZED");

    // Frozen: a late sale changes nothing in it.
    facts.record_ticket_sale(sale(4, SaleKind::Sale, 99_999)).await.unwrap();
    assert_eq!(f.get(&t, &format!("/v1/settlements/{id}")).await.data()["figures"]["net"], 80_001);

    let paid = f.post(&t, &format!("/v1/settlements/{id}/payouts"), &json!({"party": "venue", "amount": 26_664})).await;
    assert_eq!(paid.status, 201, "{:?}", paid.body);
    let over = f.post(&t, &format!("/v1/settlements/{id}/payouts"), &json!({"party": "venue", "amount": 1})).await;
    assert_eq!((over.status.as_u16(), over.code()), (409, "OVERPAYMENT"));
    assert_eq!(
        f.post(&t, &format!("/v1/settlements/{id}/payouts"), &json!({"party": "nobody", "amount": 1})).await.fields(),
        ["party"]
    );
    let payouts = f.get(&t, &format!("/v1/payouts?settlementId={id}")).await;
    assert_eq!(payouts.data().as_array().unwrap().len(), 1);

    let trial = f.get(&t, "/v1/ledger/trial-balance").await;
    assert_eq!(trial.data()["totals"][0]["difference"], 0, "everything still balances");

    let open = f.get(&t, "/v1/reports/open-payables").await;
    assert_eq!(open.status, 200);
    assert_eq!(open.data()["totals"]["EUR"], 120_000, "the artist fee and the catering are approved, not paid");
    let by_category = f.get(&t, "/v1/reports/summary?groupBy=category").await;
    let lines = by_category.data().as_array().unwrap();
    let sales = lines.iter().find(|l| l["group"] == "ticket_sale").unwrap();
    assert_eq!(sales["income"], 310_000);
    let by_event = f.get(&t, "/v1/reports/summary?groupBy=event").await;
    assert_eq!(by_event.data()[0]["group"], event.to_string());
}
