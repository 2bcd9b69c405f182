//! Expenses and incomes with their workflow, and facts from base recorded once.

use std::sync::Arc;

use marquee_kit::grpc::ServiceCredentials;
use marquee_proto::financial::v1::facts_client::FactsClient;
use marquee_proto::financial::v1::{Money, OfferAccepted, SaleKind, TicketSale};
use serde_json::json;
use uuid::Uuid;

use crate::fleet::{Fleet, fleet};

async fn balance_of(f: &Fleet, t: &crate::fleet::Tenant, code: &str) -> i64 {
    let accounts = f.get(t, "/v1/ledger/accounts?limit=100").await;
    accounts.data().as_array().unwrap().iter().find(|a| a["code"] == code).map_or(0, |a| a["balance"].as_i64().unwrap())
}

#[tokio::test]
async fn the_expense_workflow_with_separation_of_duties() {
    let f = fleet().await;
    let t = f.tenant().await;
    let (clerk_id, clerk) = f
        .member_with(
            &t,
            &[
                "financial.expense.view",
                "financial.expense.create",
                "financial.expense.edit",
                "financial.expense.approve",
            ],
        )
        .await;
    let (reviewer_id, reviewer) =
        f.member_with(&t, &["financial.expense.view", "financial.expense.approve", "financial.ledger.view"]).await;
    let (_, bystander) = f.member_with(&t, &["financial.expense.view", "financial.expense.approve"]).await;
    let call = |token: &str, path: &str, body: serde_json::Value| {
        let request =
            f.api.http.post(f.api.url(path)).bearer_auth(token).header("x-org", t.company.to_string()).json(&body);
        f.api.send(request)
    };

    let created = call(&clerk, "/v1/expenses", json!({"amount": 45000, "currency": "EUR", "category": "catering", "counterparty": "Food Co", "receiptRef": "media:123"})).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.data()["status"], "draft");
    let id = created.data()["id"].as_str().unwrap().to_owned();

    let early = call(&reviewer, &format!("/v1/expenses/{id}/approve"), json!({})).await;
    assert_eq!((early.status.as_u16(), early.code()), (409, "INVALID_TRANSITION"), "drafts are not approved");
    let to_self = call(&clerk, &format!("/v1/expenses/{id}/submit"), json!({"reviewerId": clerk_id})).await;
    assert_eq!(to_self.fields(), ["reviewerId"]);
    let outsider = call(&clerk, &format!("/v1/expenses/{id}/submit"), json!({"reviewerId": Uuid::now_v7()})).await;
    assert_eq!(outsider.fields(), ["reviewerId"]);
    let submitted = call(&clerk, &format!("/v1/expenses/{id}/submit"), json!({"reviewerId": reviewer_id})).await;
    assert_eq!(submitted.status, 200, "{:?}", submitted.body);

    let own = call(&clerk, &format!("/v1/expenses/{id}/approve"), json!({})).await;
    assert_eq!((own.status.as_u16(), own.code()), (403, "SELF_APPROVAL"));
    let other = call(&bystander, &format!("/v1/expenses/{id}/approve"), json!({})).await;
    assert_eq!((other.status.as_u16(), other.code()), (403, "NOT_THE_REVIEWER"));
    let approved = call(&reviewer, &format!("/v1/expenses/{id}/approve"), json!({"note": "ok"})).await;
    assert_eq!(approved.status, 200, "{:?}", approved.body);
    assert_eq!(balance_of(&f, &t, "payables:EUR").await, 45000, "approval books the payable");
    assert_eq!(balance_of(&f, &t, "expenses:EUR").await, 45000);

    let edit = f
        .api
        .send(
            f.api
                .http
                .put(f.api.url(&format!("/v1/expenses/{id}")))
                .bearer_auth(&clerk)
                .header("x-org", t.company.to_string())
                .json(&json!({"amount": 1, "currency": "EUR", "category": "x", "counterparty": "y"})),
        )
        .await;
    assert_eq!(edit.code(), "NOT_A_DRAFT");
    let paid = call(&clerk, &format!("/v1/expenses/{id}/pay"), json!({})).await;
    assert_eq!(paid.status, 200);
    assert_eq!(balance_of(&f, &t, "payables:EUR").await, 0);
    assert_eq!(balance_of(&f, &t, "cash:EUR").await, -45000);

    let shown = f
        .api
        .send(
            f.api
                .http
                .get(f.api.url(&format!("/v1/expenses/{id}")))
                .bearer_auth(&clerk)
                .header("x-org", t.company.to_string()),
        )
        .await;
    let statuses: Vec<&str> =
        shown.data()["history"].as_array().unwrap().iter().map(|h| h["toStatus"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["draft", "submitted", "approved", "paid"]);
    assert_eq!(shown.data()["history"][2]["actorId"], reviewer_id.to_string());
    assert_eq!(shown.data()["entryIds"].as_array().unwrap().len(), 2);

    // Incomes: rejection ends the road.
    let income = f
        .post(
            &t,
            "/v1/incomes",
            &json!({"amount": 1000, "currency": "EUR", "category": "sponsorship", "counterparty": "Brand"}),
        )
        .await;
    let iid = income.data()["id"].as_str().unwrap().to_owned();
    let (rev_id, rev) = f.member_with(&t, &["financial.income.view", "financial.income.approve"]).await;
    assert_eq!(f.post(&t, &format!("/v1/incomes/{iid}/submit"), &json!({"reviewerId": rev_id})).await.status, 200);
    let rejected = call(&rev, &format!("/v1/incomes/{iid}/reject"), json!({"note": "no contract"})).await;
    assert_eq!(rejected.data()["status"], "rejected");
    assert_eq!(f.post(&t, &format!("/v1/incomes/{iid}/pay"), &json!({})).await.code(), "INVALID_TRANSITION");
    let bad = f
        .post(&t, "/v1/incomes", &json!({"amount": 10.5, "currency": "EUR", "category": "x", "counterparty": "y"}))
        .await;
    assert_eq!(bad.fields(), ["amount"]);
}

async fn facts(
    f: &Fleet,
) -> FactsClient<tonic::service::interceptor::InterceptedService<tonic::transport::Channel, ServiceCredentials>> {
    let channel = tonic::transport::Endpoint::from_shared(f.grpc.clone()).unwrap().connect().await.unwrap();
    FactsClient::with_interceptor(channel, ServiceCredentials::new(marquee_test_support::SERVICE_TOKEN).unwrap())
}

#[tokio::test]
async fn a_replayed_accepted_offer_yields_one_payable_and_a_replayed_sale_one_income() {
    let f = Arc::new(fleet().await);
    let t = f.tenant().await;
    let offer = OfferAccepted {
        source_id: "offer-accepted:42".into(),
        company_id: t.company.to_string(),
        offer_id: Uuid::now_v7().to_string(),
        event_id: Uuid::now_v7().to_string(),
        artist_id: Uuid::now_v7().to_string(),
        fee: Some(Money { amount_minor: 250_000, currency: "EUR".into() }),
        accepted_at_unix_ms: 0,
    };
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let (f, offer) = (f.clone(), offer.clone());
        tasks.push(tokio::spawn(
            async move { facts(&f).await.record_offer_accepted(offer).await.unwrap().into_inner() },
        ));
    }
    let mut ids = Vec::new();
    let mut fresh = 0;
    for task in tasks {
        let ack = task.await.unwrap();
        fresh += usize::from(!ack.replayed);
        ids.push(ack.record_id);
    }
    ids.dedup();
    assert_eq!((fresh, ids.len()), (1, 1), "recorded once, acknowledged to every replay");
    let payables = f.get(&t, "/v1/expenses?category=artist_fee").await;
    assert_eq!(payables.body["pagination"]["total"], 1);
    assert_eq!(payables.data()[0]["status"], "approved");
    assert_eq!(balance_of(&f, &t, "payables:EUR").await, 250_000);

    let sale = TicketSale {
        source_id: "ticket-sale:7".into(),
        company_id: t.company.to_string(),
        event_id: Uuid::now_v7().to_string(),
        registration_id: Uuid::now_v7().to_string(),
        kind: SaleKind::Sale as i32,
        amount: Some(Money { amount_minor: 3_000, currency: "EUR".into() }),
        quantity: 2,
        occurred_at_unix_ms: 0,
    };
    let first = facts(&f).await.record_ticket_sale(sale.clone()).await.unwrap().into_inner();
    let again = facts(&f).await.record_ticket_sale(sale.clone()).await.unwrap().into_inner();
    assert!(!first.replayed && again.replayed);
    assert_eq!(first.record_id, again.record_id);
    assert_eq!(f.get(&t, "/v1/incomes?category=ticket_sale").await.body["pagination"]["total"], 1);
    assert_eq!(balance_of(&f, &t, "cash:EUR").await, 3_000);
    let mut refund = sale.clone();
    refund.source_id = "ticket-refund:7".into();
    refund.kind = SaleKind::Refund as i32;
    assert!(!facts(&f).await.record_ticket_sale(refund).await.unwrap().into_inner().replayed);
    assert_eq!(balance_of(&f, &t, "cash:EUR").await, 0);
    assert_eq!(balance_of(&f, &t, "income:EUR").await, 0);

    // Only the fleet may report facts.
    let mut anonymous = FactsClient::connect(f.grpc.clone()).await.unwrap();
    assert_eq!(anonymous.record_ticket_sale(sale.clone()).await.unwrap_err().code(), tonic::Code::Unauthenticated);
    let mut bad = sale;
    bad.source_id = "ticket-sale:8".into();
    bad.amount = Some(Money { amount_minor: -5, currency: "EUR".into() });
    assert_eq!(facts(&f).await.record_ticket_sale(bad).await.unwrap_err().code(), tonic::Code::InvalidArgument);
}
