//! Expenses and incomes with their workflow, and facts from base recorded once.

use std::sync::Arc;

use marquee_proto::financial::v1::facts_client::FactsClient;
use marquee_proto::financial::v1::{Money, OfferAccepted, SaleKind, TicketSale};
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::fleet::{Facts, Fleet, Tenant, fleet, squat_income, ticket_sale};

pub async fn balance_of(f: &Fleet, t: &Tenant, code: &str) -> i64 {
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
    let own_payment = call(&clerk, &format!("/v1/expenses/{id}/pay"), json!({})).await;
    assert_eq!((own_payment.status.as_u16(), own_payment.code()), (403, "SELF_PAYMENT"), "nobody pays their own");
    let paid = call(&reviewer, &format!("/v1/expenses/{id}/pay"), json!({})).await;
    assert_eq!(paid.status, 200, "{:?}", paid.body);
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
    assert_eq!(shown.data()["history"][3]["actorId"], reviewer_id.to_string());
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

async fn facts(f: &Fleet) -> Facts {
    f.facts().await
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
        accepted_by: t.owner_id.to_string(),
        deal: None,
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
    assert_eq!(payables.data()[0]["status"], "submitted", "for a second person to review");
    assert_eq!(balance_of(&f, &t, "payables:EUR").await, 0, "nothing is owed before approval");

    let sale = TicketSale {
        source_id: "ticket-sale:7".into(),
        company_id: t.company.to_string(),
        event_id: Uuid::now_v7().to_string(),
        registration_id: Uuid::now_v7().to_string(),
        kind: SaleKind::Sale as i32,
        amount: Some(Money { amount_minor: 3_000, currency: "EUR".into() }),
        quantity: 2,
        occurred_at_unix_ms: 0,
        order_id: String::new(),
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

#[tokio::test]
async fn only_the_author_edits_a_draft_and_every_edit_is_kept() {
    let f = fleet().await;
    let t = f.tenant().await;
    let perms = ["financial.expense.view", "financial.expense.create", "financial.expense.edit"];
    let (author_id, author) = f.member_with(&t, &perms).await;
    let (_, colleague) = f.member_with(&t, &[perms[0], perms[1], perms[2], "financial.expense.approve"]).await;
    let (reviewer_id, _) = f.member_with(&t, &["financial.expense.view", "financial.expense.approve"]).await;
    let draft = json!({"amount": 45000, "currency": "EUR", "category": "catering", "counterparty": "Food Co"});
    let created = f.as_member(&t, &author, Method::POST, "/v1/expenses", Some(&draft)).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.data()["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/expenses/{id}");

    // A colleague holding the edit permission cannot rewrite it.
    let rewrite = json!({"amount": 99000, "currency": "EUR", "category": "catering", "counterparty": "Colleague Ltd"});
    let r = f.as_member(&t, &colleague, Method::PUT, &path, Some(&rewrite)).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "NOT_THE_AUTHOR"));
    let r = f
        .as_member(&t, &colleague, Method::POST, &format!("{path}/submit"), Some(&json!({"reviewerId": reviewer_id})))
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "NOT_THE_AUTHOR"), "nor send it for review");
    let shown = f.as_member(&t, &author, Method::GET, &path, None).await;
    assert_eq!(
        (shown.data()["amount"].as_i64(), shown.data()["counterparty"].as_str()),
        (Some(45000), Some("Food Co"))
    );
    assert_eq!(shown.data()["edits"], json!([]), "nothing was changed");

    // The author can, and every edit is kept with who, when, before and after.
    let fix = json!({"amount": 47500, "currency": "EUR", "category": "catering", "counterparty": "Food Co GmbH"});
    let r = f.as_member(&t, &author, Method::PUT, &path, Some(&fix)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let again = json!({"amount": 47000, "currency": "EUR", "category": "catering", "counterparty": "Food Co GmbH"});
    assert_eq!(f.as_member(&t, &author, Method::PUT, &path, Some(&again)).await.status, 200);
    let shown = f.as_member(&t, &colleague, Method::GET, &path, None).await;
    let edits = shown.data()["edits"].as_array().unwrap();
    assert_eq!(edits.len(), 2, "{:?}", shown.body);
    assert_eq!(edits[0]["actorId"], author_id.to_string());
    assert!(edits[0]["at"].is_string());
    assert_eq!(
        edits[0]["changes"],
        json!({"amount": {"before": 45000, "after": 47500}, "counterparty": {"before": "Food Co", "after": "Food Co GmbH"}}),
        "only what changed"
    );
    assert_eq!(edits[1]["changes"], json!({"amount": {"before": 47500, "after": 47000}}));
    assert_eq!(shown.data()["amount"], 47000);
}

#[tokio::test]
async fn an_accepted_offer_is_a_submitted_payable_someone_else_approves_and_pays() {
    let f = fleet().await;
    let t = f.tenant().await;
    let perms = ["financial.expense.view", "financial.expense.approve"];
    let (booker_id, booker) = f.member_with(&t, &perms).await;
    let (_, treasurer) = f.member_with(&t, &perms).await;
    let offer = OfferAccepted {
        source_id: format!("offer:{}:accepted", Uuid::now_v7()),
        company_id: t.company.to_string(),
        offer_id: Uuid::now_v7().to_string(),
        event_id: Uuid::now_v7().to_string(),
        artist_id: Uuid::now_v7().to_string(),
        fee: Some(Money { amount_minor: 80_000, currency: "EUR".into() }),
        accepted_at_unix_ms: 0,
        accepted_by: booker_id.to_string(),
        deal: None,
    };
    let ack = facts(&f).await.record_offer_accepted(offer).await.unwrap().into_inner();
    assert!(!ack.parked && !ack.replayed);
    let path = format!("/v1/expenses/{}", ack.record_id);
    let payable = f.get(&t, &path).await;
    assert_eq!(payable.data()["status"], "submitted");
    assert_eq!(payable.data()["createdBy"], booker_id.to_string(), "the member who accepted is its author");
    assert_eq!(payable.data()["history"][0]["actorId"], booker_id.to_string());
    assert_eq!(balance_of(&f, &t, "payables:EUR").await, 0);

    let r = f.as_member(&t, &booker, Method::POST, &format!("{path}/approve"), Some(&json!({}))).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "SELF_APPROVAL"));
    let r = f.as_member(&t, &treasurer, Method::POST, &format!("{path}/approve"), Some(&json!({}))).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(balance_of(&f, &t, "payables:EUR").await, 80_000);
    let r = f.as_member(&t, &booker, Method::POST, &format!("{path}/pay"), Some(&json!({}))).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "SELF_PAYMENT"));
    let r = f.as_member(&t, &treasurer, Method::POST, &format!("{path}/pay"), Some(&json!({}))).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(balance_of(&f, &t, "payables:EUR").await, 0);

    let mut bad = OfferAccepted { accepted_by: "someone".into(), ..Default::default() };
    bad.source_id = "offer:x".into();
    bad.company_id = t.company.to_string();
    bad.offer_id = Uuid::now_v7().to_string();
    bad.event_id = Uuid::now_v7().to_string();
    bad.artist_id = Uuid::now_v7().to_string();
    bad.fee = Some(Money { amount_minor: 1, currency: "EUR".into() });
    let err = facts(&f).await.record_offer_accepted(bad).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "accepted_by is a user id");
}

#[tokio::test]
async fn system_account_codes_are_reserved() {
    let f = fleet().await;
    let t = f.tenant().await;
    for code in ["income:EUR", "cash:USD", "CASH:eur", "payables:EUR", "settlement_payables:GBP", "event_results:EUR"] {
        let r = f
            .post(&t, "/v1/ledger/accounts", &json!({"code": code, "name": "mine", "kind": "asset", "currency": "EUR"}))
            .await;
        assert_eq!((r.status.as_u16(), r.code()), (409, "RESERVED_CODE"), "{code}");
    }
    for code in ["income", "cashbox:EUR", "sales:income"] {
        let r = f
            .post(&t, "/v1/ledger/accounts", &json!({"code": code, "name": "mine", "kind": "asset", "currency": "EUR"}))
            .await;
        assert_eq!(r.status, 201, "{code}: {:?}", r.body);
    }
    // The ticket sales still post to the system's own accounts.
    let sale = TicketSale {
        source_id: "ticket-sale:1".into(),
        company_id: t.company.to_string(),
        event_id: Uuid::now_v7().to_string(),
        registration_id: Uuid::now_v7().to_string(),
        kind: SaleKind::Sale as i32,
        amount: Some(Money { amount_minor: 2_500, currency: "EUR".into() }),
        quantity: 1,
        occurred_at_unix_ms: 0,
        order_id: String::new(),
    };
    let ack = facts(&f).await.record_ticket_sale(sale).await.unwrap().into_inner();
    assert!(!ack.parked, "{ack:?}");
    assert_eq!(balance_of(&f, &t, "income:EUR").await, 2_500);
}

#[tokio::test]
async fn a_fact_the_rules_refuse_is_parked_visibly_and_acknowledged() {
    use marquee_financial::domains::ledger::repo::account_row;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};

    let f = fleet().await;
    let t = f.tenant().await;
    // An account squatting a system code, as one could make before codes were reserved.
    let squatter = squat_income(&f, &t).await;
    let sale = TicketSale {
        source_id: "ticket-sale:squatted".into(),
        company_id: t.company.to_string(),
        event_id: Uuid::now_v7().to_string(),
        registration_id: Uuid::now_v7().to_string(),
        kind: SaleKind::Sale as i32,
        amount: Some(Money { amount_minor: 4_000, currency: "EUR".into() }),
        quantity: 2,
        occurred_at_unix_ms: 0,
        order_id: String::new(),
    };
    let ack = facts(&f).await.record_ticket_sale(sale.clone()).await.unwrap().into_inner();
    assert!(ack.parked, "acknowledged, so base stops retrying: {ack:?}");
    assert!(ack.record_id.is_empty());
    assert!(ack.parked_reason.starts_with("SYSTEM_ACCOUNT_TAKEN"), "{}", ack.parked_reason);
    let again = facts(&f).await.record_ticket_sale(sale.clone()).await.unwrap().into_inner();
    assert!(again.parked);

    let parked = f.get(&t, "/v1/parked-facts").await;
    assert_eq!(parked.status, 200, "{:?}", parked.body);
    assert_eq!(parked.body["pagination"]["total"], 1, "kept once");
    let item = &parked.data()[0];
    assert_eq!(item["sourceId"], "ticket-sale:squatted");
    assert_eq!(item["kind"], "ticket_sale");
    assert_eq!(item["error"], "SYSTEM_ACCOUNT_TAKEN");
    assert!(item["message"].as_str().unwrap().contains("income:EUR"));
    assert_eq!(item["attempts"], 2);
    assert_eq!(item["fact"]["amount"], 4_000);
    assert_eq!(f.get(&t, "/v1/incomes?category=ticket_sale").await.body["pagination"]["total"], 0);
    assert_eq!(balance_of(&f, &t, "cash:EUR").await, 0, "nothing half-posted");
    let (_, stranger) = f.member_with(&t, &["financial.expense.view"]).await;
    let r = f.as_member(&t, &stranger, Method::GET, "/v1/parked-facts", None).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "PERMISSION_DENIED"));
    let other = f.tenant().await;
    assert_eq!(f.get(&other, "/v1/parked-facts").await.body["pagination"]["total"], 0, "per company");

    // Once the account is out of the way, the next delivery records it and unparks it.
    account_row::Entity::update_many()
        .col_expr(account_row::Column::Code, Expr::value("legacy-income"))
        .filter(account_row::Column::Id.eq(squatter))
        .exec(&f.db)
        .await
        .unwrap();
    let ack = facts(&f).await.record_ticket_sale(sale).await.unwrap().into_inner();
    assert!(!ack.parked && !ack.record_id.is_empty(), "{ack:?}");
    assert_eq!(f.get(&t, "/v1/parked-facts").await.body["pagination"]["total"], 0);
    assert_eq!(balance_of(&f, &t, "income:EUR").await, 4_000);
}

#[tokio::test]
async fn a_fact_that_fails_for_a_passing_reason_is_answered_unavailable_for_a_retry() {
    let f = fleet().await;
    let t = f.tenant().await;
    let mut client = facts(&f).await;
    // The database goes away.
    f.db.clone().close().await.unwrap();
    let sale = TicketSale {
        source_id: "ticket-sale:db-down".into(),
        company_id: t.company.to_string(),
        event_id: Uuid::now_v7().to_string(),
        registration_id: Uuid::now_v7().to_string(),
        kind: SaleKind::Sale as i32,
        amount: Some(Money { amount_minor: 1_000, currency: "EUR".into() }),
        quantity: 1,
        occurred_at_unix_ms: 0,
        order_id: String::new(),
    };
    let err = client.record_ticket_sale(sale).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unavailable, "{err:?}: not parked, base retries");
}

/// `group_commit_{batches,jobs}_total` of a path, from financial's metrics.
async fn group_commits(f: &Fleet, path: &str) -> (u64, u64) {
    let text = f.api.http.get(f.api.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let count = |name: &str| {
        let prefix = format!("{name}{{path=\"{path}\"}} ");
        text.lines().find_map(|l| l.strip_prefix(prefix.as_str())).map_or(0, |v| v.trim().parse().unwrap())
    };
    (count("group_commit_batches_total"), count("group_commit_jobs_total"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn facts_arriving_together_are_recorded_together_and_a_refused_one_fails_only_itself() {
    let f = Arc::new(fleet().await);
    let (squatted, fine) = (f.tenant().await, f.tenant().await);
    squat_income(&f, &squatted).await;
    let sale = |company: Uuid, source: String, amount: i64| ticket_sale(company, Uuid::now_v7(), source, amount);
    // 60 at once: 12 for the company whose income account is squatted, 45
    // sales for the other, and one of those sent three more times.
    let mut sales = Vec::new();
    for i in 0..12 {
        sales.push(sale(squatted.company, format!("sale:squatted:{i}"), 100));
    }
    for i in 0..45 {
        sales.push(sale(fine.company, format!("sale:fine:{i}"), 1_000 + i));
    }
    for _ in 0..3 {
        sales.push(sale(fine.company, "sale:fine:7".into(), 1_007));
    }
    let before = group_commits(&f, "facts").await;
    let mut sent = tokio::task::JoinSet::new();
    for s in sales {
        let f = f.clone();
        sent.spawn(
            async move { (s.source_id.clone(), f.facts().await.record_ticket_sale(s).await.unwrap().into_inner()) },
        );
    }
    let acks = sent.join_all().await;
    let after = group_commits(&f, "facts").await;
    for (source, ack) in &acks {
        if source.starts_with("sale:squatted") {
            assert!(ack.parked && ack.parked_reason.starts_with("SYSTEM_ACCOUNT_TAKEN"), "{source}: {ack:?}");
        } else {
            assert!(!ack.parked && !ack.record_id.is_empty(), "{source}: {ack:?}");
        }
    }
    let sevens: Vec<_> = acks.iter().filter(|(s, _)| s == "sale:fine:7").map(|(_, a)| a).collect();
    assert_eq!(sevens.iter().filter(|a| !a.replayed).count(), 1, "recorded once, the others are replays: {sevens:?}");
    assert!(sevens.iter().all(|a| a.record_id == sevens[0].record_id), "one record");
    let (batches, jobs) = (after.0 - before.0, after.1 - before.1);
    assert!(jobs >= 60 && batches < jobs, "facts shared transactions: {batches} batches for {jobs} facts");

    let expected: i64 = (0..45).map(|i| 1_000 + i).sum();
    assert_eq!(balance_of(&f, &fine, "income:EUR").await, expected, "every sale once, none of the other company's");
    assert_eq!(balance_of(&f, &fine, "cash:EUR").await, expected);
    assert_eq!(f.get(&fine, "/v1/incomes?category=ticket_sale&limit=100").await.body["pagination"]["total"], 45);
    assert_eq!(f.get(&fine, "/v1/ledger/trial-balance").await.data()["totals"][0]["difference"], 0);
    assert_eq!(f.get(&fine, "/v1/parked-facts").await.body["pagination"]["total"], 0);
    assert_eq!(f.get(&squatted, "/v1/parked-facts").await.body["pagination"]["total"], 12, "each refused on its own");
    assert_eq!(balance_of(&f, &squatted, "cash:EUR").await, 0, "nothing half-posted");
    assert_eq!(f.get(&squatted, "/v1/incomes?category=ticket_sale").await.body["pagination"]["total"], 0);
}
