//! Settlements that add up to the minor unit, frozen when final; payouts; reports.

use std::sync::Arc;

use marquee_kit::grpc::ServiceCredentials;
use marquee_proto::financial::v1::facts_client::FactsClient;
use marquee_proto::financial::v1::{Money, OfferAccepted, SaleKind, TicketSale};
use marquee_proto::integration::v1::integration_events_client::IntegrationEventsClient;
use marquee_proto::integration::v1::{AcknowledgeRequest, PendingRequest};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fleet::{Fleet, Tenant, fleet, ticket_sale};
use crate::records::balance_of;

#[tokio::test]
async fn a_settlement_splits_exactly_freezes_and_pays_out() {
    let f = fleet().await;
    let t = f.tenant().await;
    let event = Uuid::now_v7();
    let channel = tonic::transport::Endpoint::from_shared(f.grpc.clone()).unwrap().connect().await.unwrap();
    let mut facts =
        FactsClient::with_interceptor(channel, ServiceCredentials::new(marquee_test_support::SERVICE_TOKEN).unwrap());
    let eur = |amount_minor: i64| Some(Money { amount_minor, currency: "EUR".into() });
    let fee = facts
        .record_offer_accepted(OfferAccepted {
            source_id: format!("offer:{event}"),
            company_id: t.company.to_string(),
            offer_id: Uuid::now_v7().to_string(),
            event_id: event.to_string(),
            artist_id: Uuid::now_v7().to_string(),
            fee: eur(100_000),
            accepted_at_unix_ms: 0,
            accepted_by: t.owner_id.to_string(),
            deal: None,
        })
        .await
        .unwrap()
        .into_inner();
    let sale = |n: u32, kind: SaleKind, amount: i64| TicketSale {
        source_id: format!("sale:{event}:{n}"),
        company_id: t.company.to_string(),
        event_id: event.to_string(),
        registration_id: Uuid::now_v7().to_string(),
        kind: kind as i32,
        amount: eur(amount),
        quantity: 1,
        occurred_at_unix_ms: 0,
        order_id: String::new(),
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
    // The artist fee, approved by someone other than the member who accepted the offer.
    let approve_fee = f
        .api
        .http
        .post(f.api.url(&format!("/v1/expenses/{}/approve", fee.record_id)))
        .bearer_auth(&reviewer)
        .header("x-org", t.company.to_string())
        .json(&json!({}));
    assert_eq!(f.api.send(approve_fee).await.status, 200);

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
    // The company's webhooks hear of it (base takes the event from the feed).
    let channel = tonic::transport::Endpoint::from_shared(f.grpc.clone()).unwrap().connect().await.unwrap();
    let mut feed = IntegrationEventsClient::with_interceptor(
        channel,
        ServiceCredentials::new(marquee_test_support::SERVICE_TOKEN).unwrap(),
    );
    let pending = feed.pending(PendingRequest { limit: 500 }).await.unwrap().into_inner().events;
    let ours: Vec<_> = pending.iter().filter(|e| e.company_id == t.company.to_string()).collect();
    let types: Vec<&str> = ours.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["expense.approved", "expense.approved", "settlement.finalized"], "once each, in order");
    let body: Value = serde_json::from_str(&ours[2].body_json).unwrap();
    assert_eq!(
        (body["type"].as_str(), body["data"]["settlementId"].as_str()),
        (Some("settlement.finalized"), Some(id.as_str()))
    );
    assert_eq!(body["data"]["allocations"].as_array().map(Vec::len), Some(3));
    let ids: Vec<String> = ours.iter().map(|e| e.id.clone()).collect();
    let acked = feed.acknowledge(AcknowledgeRequest { ids: ids.clone() }).await.unwrap().into_inner();
    assert_eq!(acked.acknowledged, 3);
    let again = feed.pending(PendingRequest { limit: 500 }).await.unwrap().into_inner().events;
    assert!(again.iter().all(|e| !ids.contains(&e.id)), "acknowledged events are not offered again");
    let anonymous = tonic::transport::Endpoint::from_shared(f.grpc.clone()).unwrap().connect().await.unwrap();
    let refused = IntegrationEventsClient::new(anonymous).pending(PendingRequest { limit: 1 }).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated, "only base, with the service token");

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

/// Sells `amount` EUR of tickets for `event` through the facts receiver.
async fn sell(f: &Fleet, t: &Tenant, event: Uuid, amount: i64) {
    let sale = ticket_sale(t.company, event, format!("sale:{}", Uuid::now_v7()), amount);
    assert!(!f.facts().await.record_ticket_sale(sale).await.unwrap().into_inner().parked);
}

fn settlement(event: Uuid, currency: &str) -> Value {
    json!({"eventId": event, "currency": currency, "splits": [{"party": "promoter", "shareBps": 5000}, {"party": "venue", "shareBps": 5000}]})
}

#[tokio::test]
async fn one_live_settlement_per_event_and_currency_and_a_void_that_reverses_it() {
    let f = fleet().await;
    let t = f.tenant().await;
    let event = Uuid::now_v7();
    sell(&f, &t, event, 10_000).await;

    let first = f.post(&t, "/v1/settlements", &settlement(event, "EUR")).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let first_id = first.data()["id"].as_str().unwrap().to_owned();
    let second = f.post(&t, "/v1/settlements", &settlement(event, "EUR")).await;
    assert_eq!((second.status.as_u16(), second.code()), (409, "SETTLEMENT_EXISTS"));
    assert_eq!(f.post(&t, "/v1/settlements", &settlement(event, "USD")).await.status, 201, "another currency");
    assert_eq!(f.post(&t, "/v1/settlements", &settlement(Uuid::now_v7(), "EUR")).await.status, 201);

    let finalized = f.post(&t, &format!("/v1/settlements/{first_id}/finalize"), &json!({})).await;
    assert_eq!(finalized.status, 200, "{:?}", finalized.body);
    let booked = finalized.data()["entryId"].as_str().unwrap().to_owned();
    assert_eq!(balance_of(&f, &t, "settlement_payables:EUR").await, 10_000);
    let again = f.post(&t, "/v1/settlements", &settlement(event, "EUR")).await;
    assert_eq!(again.code(), "SETTLEMENT_EXISTS", "a final one holds the slot too");

    // Voiding needs the settlement's finalize permission.
    let (_, clerk) = f.member_with(&t, &["financial.settlement.view", "financial.settlement.create"]).await;
    let void = format!("/v1/settlements/{first_id}/void");
    let r = f.as_member(&t, &clerk, Method::POST, &void, Some(&json!({}))).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "PERMISSION_DENIED"));

    let voided = f.post(&t, &format!("/v1/settlements/{first_id}/void"), &json!({})).await;
    assert_eq!(voided.status, 200, "{:?}", voided.body);
    assert_eq!(voided.data()["status"], "voided");
    assert_eq!(voided.data()["voidedBy"], t.owner_id.to_string());
    let reversal = voided.data()["voidEntryId"].as_str().unwrap().to_owned();
    let entry = f.get(&t, &format!("/v1/ledger/entries/{reversal}")).await;
    assert_eq!(entry.data()["reversesId"], booked.as_str(), "the booking is reversed, not erased");
    assert_eq!(balance_of(&f, &t, "settlement_payables:EUR").await, 0);
    assert_eq!(balance_of(&f, &t, "event_results:EUR").await, 0);
    assert_eq!(f.get(&t, "/v1/ledger/trial-balance").await.data()["totals"][0]["difference"], 0);

    let paid =
        f.post(&t, &format!("/v1/settlements/{first_id}/payouts"), &json!({"party": "venue", "amount": 1})).await;
    assert_eq!((paid.status.as_u16(), paid.code()), (409, "SETTLEMENT_VOIDED"), "no payout against a voided one");
    let r = f.post(&t, &format!("/v1/settlements/{first_id}/finalize"), &json!({})).await;
    assert_eq!(r.code(), "SETTLEMENT_VOIDED");
    let r = f.post(&t, &format!("/v1/settlements/{first_id}/void"), &json!({})).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "ALREADY_VOIDED"));

    // The slot is free again; once money has left, the new one stays.
    let fresh = f.post(&t, "/v1/settlements", &settlement(event, "EUR")).await;
    assert_eq!(fresh.status, 201, "{:?}", fresh.body);
    let fresh_id = fresh.data()["id"].as_str().unwrap().to_owned();
    assert_eq!(f.post(&t, &format!("/v1/settlements/{fresh_id}/finalize"), &json!({})).await.status, 200);
    let r =
        f.post(&t, &format!("/v1/settlements/{fresh_id}/payouts"), &json!({"party": "venue", "amount": 5_000})).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let r = f.post(&t, &format!("/v1/settlements/{fresh_id}/void"), &json!({})).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "SETTLEMENT_HAS_PAYOUTS"));
    assert_eq!(f.get(&t, &format!("/v1/settlements/{fresh_id}")).await.data()["status"], "finalized");

    // A draft is voided with nothing to reverse.
    let other = Uuid::now_v7();
    let draft = f.post(&t, "/v1/settlements", &settlement(other, "EUR")).await;
    let draft_id = draft.data()["id"].as_str().unwrap().to_owned();
    let r = f.post(&t, &format!("/v1/settlements/{draft_id}/void"), &json!({})).await;
    assert_eq!((r.status.as_u16(), r.data()["voidEntryId"].clone()), (200, Value::Null));
    assert_eq!(f.post(&t, &format!("/v1/settlements/{}/void", Uuid::now_v7()), &json!({})).await.status, 404);
    let theirs = f.tenant().await;
    assert_eq!(f.post(&theirs, &format!("/v1/settlements/{fresh_id}/void"), &json!({})).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_settlement_creations_for_one_event_make_exactly_one() {
    let f = Arc::new(fleet().await);
    let t = Arc::new(f.tenant().await);
    let event = Uuid::now_v7();
    let n = 12;
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = Vec::new();
    for _ in 0..n {
        let (f, t, barrier) = (f.clone(), t.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let r = f.post(&t, "/v1/settlements", &settlement(event, "EUR")).await;
            (r.status.as_u16(), r.code().to_owned())
        }));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            (201, _) => created += 1,
            (409, code) => assert_eq!(code, "SETTLEMENT_EXISTS"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(created, 1, "exactly one wins");
    assert_eq!(f.get(&t, "/v1/settlements").await.body["pagination"]["total"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_payouts_never_exceed_the_allocation() {
    let f = Arc::new(fleet().await);
    let t = Arc::new(f.tenant().await);
    let event = Uuid::now_v7();
    sell(&f, &t, event, 20_000).await;
    let created = f.post(&t, "/v1/settlements", &settlement(event, "EUR")).await;
    let id = created.data()["id"].as_str().unwrap().to_owned();
    let finalized = f.post(&t, &format!("/v1/settlements/{id}/finalize"), &json!({})).await;
    assert_eq!(finalized.data()["figures"]["allocations"][1]["amount"], 10_000, "{:?}", finalized.body);

    let n = 16;
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = Vec::new();
    for _ in 0..n {
        let (f, t, barrier, path) = (f.clone(), t.clone(), barrier.clone(), format!("/v1/settlements/{id}/payouts"));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let r = f.post(&t, &path, &json!({"party": "venue", "amount": 3_000})).await;
            (r.status.as_u16(), r.code().to_owned())
        }));
    }
    let mut paid = 0;
    for task in tasks {
        match task.await.unwrap() {
            (201, _) => paid += 1,
            (409, code) => assert_eq!(code, "OVERPAYMENT"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(paid, 3, "10 000 owed: three payouts of 3 000 fit, a fourth would not");
    let payouts = f.get(&t, &format!("/v1/payouts?settlementId={id}")).await;
    let total: i64 = payouts.data().as_array().unwrap().iter().map(|p| p["amount"].as_i64().unwrap()).sum();
    assert_eq!(total, 9_000);
    assert_eq!(balance_of(&f, &t, "settlement_payables:EUR").await, 20_000 - 9_000);
}

#[tokio::test]
async fn the_summary_adds_large_sums_exactly_by_month_and_within_the_period() {
    let f = fleet().await;
    let t = f.tenant().await;
    let event = Uuid::now_v7();
    // Past 2^53: a sum kept as a float would be off by a few units.
    for _ in 0..12 {
        sell(&f, &t, event, 999_999_999_999_999).await;
    }
    sell(&f, &t, event, 7).await;
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let by_month = f.get(&t, "/v1/reports/summary?groupBy=month").await;
    assert_eq!(by_month.status, 200, "{:?}", by_month.body);
    assert_eq!(
        by_month.data(),
        &json!([{"group": month, "currency": "EUR", "income": 11_999_999_999_999_995_i64, "expense": 0, "net": 11_999_999_999_999_995_i64}])
    );
    let hour = chrono::Duration::hours(1);
    let later = (chrono::Utc::now() + hour).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let earlier = (chrono::Utc::now() - hour).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(f.get(&t, &format!("/v1/reports/summary?from={later}")).await.data(), &json!([]), "nothing after now");
    assert_eq!(f.get(&t, &format!("/v1/reports/summary?to={earlier}")).await.data(), &json!([]), "nothing before");
    let within = f.get(&t, &format!("/v1/reports/summary?groupBy=event&from={earlier}&to={later}")).await;
    assert_eq!(within.data()[0]["group"], event.to_string());
    assert_eq!(within.data()[0]["income"], 11_999_999_999_999_995_i64);
}
