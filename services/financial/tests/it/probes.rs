//! Route-wide probes over financial's own route table (from
//! `/v1/meta/permissions`): another company's ids are 404 on every route and
//! change nothing, every list shows only the caller's rows, and a member
//! without a route's permission is refused 403. A new route is probed the day
//! it is added; one whose body the probe does not know fails here.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};

use crate::fleet::{Fleet, Tenant, fleet};

fn id_of(reply: &marquee_testkit::Reply, what: &str) -> String {
    assert!(reply.status.is_success(), "seeding {what}: {:?}", reply.body);
    reply.data()["id"].as_str().unwrap_or_else(|| panic!("{what} has no id: {:?}", reply.body)).to_owned()
}

/// One of everything a company keeps in financial.
async fn seed(f: &Fleet, t: &Tenant) -> BTreeMap<&'static str, String> {
    let account = |code: &str, kind: &str| json!({"code": code, "name": code, "kind": kind, "currency": "EUR"});
    let cash = id_of(&f.post(t, "/v1/ledger/accounts", &account("probe-cash", "asset")).await, "account");
    let equity = id_of(&f.post(t, "/v1/ledger/accounts", &account("probe-equity", "equity")).await, "account");
    let entry = f
        .post(
            t,
            "/v1/ledger/entries",
            &json!({"description": "probe", "effectiveDate": "2027-01-15", "postings": [
            {"accountId": cash, "direction": "debit", "amount": 500, "currency": "EUR"},
            {"accountId": equity, "direction": "credit", "amount": 500, "currency": "EUR"}]}),
        )
        .await;
    let entry = id_of(&entry, "entry");
    let record = json!({"amount": 4500, "currency": "EUR", "category": "catering", "counterparty": "Probe Food"});
    let expense = id_of(&f.post(t, "/v1/expenses", &record).await, "expense");
    let income = id_of(
        &f.post(
            t,
            "/v1/incomes",
            &json!({"amount": 9000, "currency": "EUR", "category": "sponsorship", "counterparty": "Probe Sponsor"}),
        )
        .await,
        "income",
    );
    let event = uuid::Uuid::now_v7().to_string();
    let settlement = f
        .post(
            t,
            "/v1/settlements",
            &json!({"eventId": event, "currency": "EUR", "splits": [{"party": "artist", "shareBps": 10000}]}),
        )
        .await;
    let settlement = id_of(&settlement, "settlement");
    BTreeMap::from([
        ("account", cash),
        ("entry", entry),
        ("expense", expense),
        ("income", income),
        ("settlement", settlement),
    ])
}

fn path(ids: &BTreeMap<&'static str, String>, template: &str) -> String {
    if template == "/v1/settlements/preview" {
        return format!("{template}?eventId={}&currency=EUR", uuid::Uuid::nil());
    }
    if !template.contains('{') {
        return format!("{template}?limit=100");
    }
    let own = match template.split('/').nth(2).unwrap_or_default() {
        "ledger" if template.contains("/accounts/") => "account",
        "ledger" => "entry",
        "expenses" => "expense",
        "incomes" => "income",
        "settlements" => "settlement",
        other => panic!("no seeded resource for /v1/{other}: add it to the probe"),
    };
    template.replace("{id}", &ids[own])
}

/// A body the route would accept, so that only the path's owner decides.
fn body(method: &Method, template: &str, reviewer: uuid::Uuid) -> Option<Value> {
    let record = json!({"amount": 100, "currency": "EUR", "category": "catering", "counterparty": "Probe"});
    let body = match (method.as_str(), template) {
        ("GET", _) => return None,
        ("PUT", "/v1/expenses/{id}" | "/v1/incomes/{id}") => record,
        ("POST", t) if t.ends_with("/submit") => json!({"reviewerId": reviewer}),
        ("POST", "/v1/settlements/{id}/payouts") => json!({"party": "artist", "amount": 1}),
        ("POST", t)
            if ["/approve", "/reject", "/pay", "/reverse", "/finalize", "/void"].iter().any(|a| t.ends_with(a)) =>
        {
            json!({})
        }
        (m, t) => panic!("{m} {t} takes a body the probe does not know: name one here"),
    };
    Some(body)
}

async fn route_table(f: &Fleet) -> Vec<(Method, String, String)> {
    let table = f.api.get("/v1/meta/permissions", None).await;
    assert_eq!(table.status, 200);
    table
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let method = e["method"].as_str().unwrap().parse().unwrap();
            (method, e["path"].as_str().unwrap().to_owned(), e["permission"].as_str().unwrap().to_owned())
        })
        .collect()
}

async fn everything(
    f: &Fleet,
    t: &Tenant,
    ids: &BTreeMap<&'static str, String>,
    routes: &[(Method, String, String)],
) -> Vec<Value> {
    let mut seen = Vec::new();
    for (_, template, _) in routes.iter().filter(|(m, _, _)| *m == Method::GET) {
        let path = path(ids, template);
        let r = f.call(Method::GET, &path, Some(&t.owner), Some(t.company), None).await;
        seen.push(json!({"path": path, "status": r.status.as_u16(), "body": r.body}));
    }
    seen
}

#[tokio::test]
async fn another_company_gets_404_on_every_route_and_sees_none_of_its_rows() {
    let f = fleet().await;
    let (victim, intruder) = (f.tenant().await, f.tenant().await);
    let routes = route_table(&f).await;
    let theirs = seed(&f, &victim).await;
    seed(&f, &intruder).await;
    let before = everything(&f, &victim, &theirs, &routes).await;
    for (method, template, _) in &routes {
        let path = path(&theirs, template);
        if template.contains('{') {
            let body = body(method, template, victim.owner_id);
            let r = f.call(method.clone(), &path, Some(&intruder.owner), Some(intruder.company), body.as_ref()).await;
            assert_eq!(r.status, 404, "{method} {template} with another company's ids: {:?}", r.body);
        } else if *method == Method::GET {
            let r = f.call(Method::GET, &path, Some(&intruder.owner), Some(intruder.company), None).await;
            assert!(r.status.is_success(), "{path}: {:?}", r.body);
            let text = r.body.to_string();
            for (what, id) in &theirs {
                assert!(!text.contains(id.as_str()), "{path} shows the other company's {what}");
            }
        }
    }
    assert_eq!(before, everything(&f, &victim, &theirs, &routes).await, "the owner's data changed");
}

#[tokio::test]
async fn every_route_refuses_a_member_without_its_permission() {
    let f = fleet().await;
    let t = f.tenant().await;
    let routes = route_table(&f).await;
    let ids = seed(&f, &t).await;
    let mut all: Vec<&str> = routes.iter().map(|(_, _, p)| p.as_str()).collect();
    all.sort_unstable();
    all.dedup();
    let mut members: BTreeMap<&str, String> = BTreeMap::new();
    for missing in &all {
        let held: Vec<&str> = all.iter().copied().filter(|p| p != missing).collect();
        members.insert(missing, f.member_with(&t, &held).await.1);
    }
    let before = everything(&f, &t, &ids, &routes).await;
    for (method, template, permission) in &routes {
        let path = path(&ids, template);
        // The guard answers before any body is read.
        let body = (*method != Method::GET).then(|| json!({}));
        let r = f.as_member(&t, &members[permission.as_str()], method.clone(), &path, body.as_ref()).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (403, "PERMISSION_DENIED"),
            "{method} {template} without {permission}"
        );
    }
    assert_eq!(before, everything(&f, &t, &ids, &routes).await, "a refused request changed something");
}
