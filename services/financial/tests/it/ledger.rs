//! The ledger: balanced entries only, idempotency, reversal, exact balances
//! under concurrency, guarded accounts, statements; and the guard with module
//! `financial`.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};

use crate::fleet::{Fleet, Tenant, fleet};

async fn account(f: &Fleet, t: &Tenant, code: &str, kind: &str, currency: &str, no_negative: bool) -> String {
    let r = f
        .post(
            t,
            "/v1/ledger/accounts",
            &json!({"code": code, "name": code, "kind": kind, "currency": currency, "noNegative": no_negative}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.data()["id"].as_str().unwrap().to_owned()
}

fn transfer(debit: &str, credit: &str, amount: i64, currency: &str) -> Value {
    json!({
        "description": "transfer",
        "effectiveDate": "2027-01-15",
        "postings": [
            {"accountId": debit, "direction": "debit", "amount": amount, "currency": currency},
            {"accountId": credit, "direction": "credit", "amount": amount, "currency": currency}
        ]
    })
}

async fn balance(f: &Fleet, t: &Tenant, id: &str) -> i64 {
    f.get(t, &format!("/v1/ledger/accounts/{id}")).await.data()["balance"].as_i64().unwrap()
}

#[tokio::test]
async fn unbalanced_or_mismatched_entries_are_refused_with_details() {
    let f = fleet().await;
    let t = f.tenant().await;
    let cash = account(&f, &t, "cash", "asset", "EUR", false).await;
    let equity = account(&f, &t, "equity", "equity", "EUR", false).await;
    let usd = account(&f, &t, "cash-usd", "asset", "USD", false).await;

    let mut off = transfer(&cash, &equity, 100, "EUR");
    off["postings"][1]["amount"] = json!(99);
    let r = f.post(&t, "/v1/ledger/entries", &off).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.fields(), ["postings"]);
    assert!(r.body["details"][0]["issue"].as_str().unwrap().contains("EUR: debits 100 ≠ credits 99"), "{:?}", r.body);

    let mixed = json!({"description": "fx", "effectiveDate": "2027-01-15", "postings": [
        {"accountId": cash, "direction": "debit", "amount": 100, "currency": "EUR"},
        {"accountId": usd, "direction": "credit", "amount": 100, "currency": "USD"}]});
    let r = f.post(&t, "/v1/ledger/entries", &mixed).await;
    assert_eq!(r.status, 400);
    assert!(r.body["details"][0]["issue"].as_str().unwrap().contains("USD"));

    let wrong_currency = transfer(&usd, &equity, 100, "EUR");
    assert_eq!(f.post(&t, "/v1/ledger/entries", &wrong_currency).await.fields(), ["postings[0].currency"]);
    let unknown = transfer(&uuid::Uuid::now_v7().to_string(), &equity, 100, "EUR");
    assert_eq!(f.post(&t, "/v1/ledger/entries", &unknown).await.fields(), ["postings[0].accountId"]);
    let negative = transfer(&cash, &equity, -5, "EUR");
    assert!(f.post(&t, "/v1/ledger/entries", &negative).await.fields().contains(&"postings[0].amount".to_owned()));
    let lonely = json!({"description": "x", "effectiveDate": "2027-01-15", "postings": [{"accountId": cash, "direction": "debit", "amount": 1, "currency": "EUR"}]});
    assert!(f.post(&t, "/v1/ledger/entries", &lonely).await.fields().contains(&"postings".to_owned()));
    let float = json!({"description": "x", "effectiveDate": "2027-01-15", "postings": [
        {"accountId": cash, "direction": "debit", "amount": 1.5, "currency": "EUR"},
        {"accountId": equity, "direction": "credit", "amount": 1.5, "currency": "EUR"}]});
    assert_eq!(f.post(&t, "/v1/ledger/entries", &float).await.status, 400, "money is never floating point");

    assert_eq!(balance(&f, &t, &cash).await, 0, "nothing moved");
    // Another company's accounts cannot be posted to.
    let other = f.tenant().await;
    let theirs = account(&f, &other, "cash", "asset", "EUR", false).await;
    assert_eq!(
        f.post(&t, "/v1/ledger/entries", &transfer(&theirs, &equity, 1, "EUR")).await.fields(),
        ["postings[0].accountId"]
    );
    assert_eq!(f.get(&t, &format!("/v1/ledger/accounts/{theirs}")).await.status, 404);
}

#[tokio::test]
async fn idempotent_replays_and_conflicting_replays() {
    let f = Arc::new(fleet().await);
    let t = Arc::new(f.tenant().await);
    let cash = account(&f, &t, "cash", "asset", "EUR", false).await;
    let equity = account(&f, &t, "equity", "equity", "EUR", false).await;
    let mut body = transfer(&cash, &equity, 5000, "EUR");
    body["idempotencyKey"] = json!("invoice-42");

    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (f, t, body) = (f.clone(), t.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let r = f.post(&t, "/v1/ledger/entries", &body).await;
            (r.status.as_u16(), r.data()["id"].as_str().unwrap_or_default().to_owned())
        }));
    }
    let mut ids = Vec::new();
    let mut created = 0;
    for task in tasks {
        let (status, id) = task.await.unwrap();
        assert!(status == 201 || status == 200, "{status}");
        created += usize::from(status == 201);
        ids.push(id);
    }
    ids.dedup();
    assert_eq!((created, ids.len()), (1, 1), "one entry, replayed to everyone");
    assert_eq!(balance(&f, &t, &cash).await, 5000, "posted once");

    let mut changed = body.clone();
    changed["postings"][0]["amount"] = json!(6000);
    changed["postings"][1]["amount"] = json!(6000);
    let r = f.post(&t, "/v1/ledger/entries", &changed).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "IDEMPOTENCY_KEY_REUSED"));

    // A key is stored as sent: spaces count toward its length.
    let mut padded = transfer(&cash, &equity, 1, "EUR");
    padded["idempotencyKey"] = json!(format!("{}k", " ".repeat(250)));
    assert_eq!(f.post(&t, "/v1/ledger/entries", &padded).await.fields(), ["idempotencyKey"]);
}

#[tokio::test]
async fn a_replay_is_answered_even_when_the_entry_would_be_refused_now() {
    let f = fleet().await;
    let t = f.tenant().await;
    let wallet = account(&f, &t, "wallet", "asset", "EUR", true).await;
    let equity = account(&f, &t, "equity", "equity", "EUR", false).await;
    let costs = account(&f, &t, "costs", "expense", "EUR", false).await;
    assert_eq!(f.post(&t, "/v1/ledger/entries", &transfer(&wallet, &equity, 100, "EUR")).await.status, 201);
    let mut spend = transfer(&costs, &wallet, 100, "EUR");
    spend["idempotencyKey"] = json!("spend-all");
    let first = f.post(&t, "/v1/ledger/entries", &spend).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    // The wallet is empty now: posting this again would go below zero.
    let replay = f.post(&t, "/v1/ledger/entries", &spend).await;
    assert_eq!(replay.status, 200, "the original, not a refusal: {:?}", replay.body);
    assert_eq!(replay.data()["id"], first.data()["id"]);
    assert_eq!(balance(&f, &t, &wallet).await, 0, "spent once");
    spend["idempotencyKey"] = json!("spend-again");
    assert_eq!(f.post(&t, "/v1/ledger/entries", &spend).await.code(), "INSUFFICIENT_FUNDS", "a new entry is refused");
}

#[tokio::test]
async fn corrections_are_reversing_entries() {
    let f = fleet().await;
    let t = f.tenant().await;
    let cash = account(&f, &t, "cash", "asset", "EUR", false).await;
    let sales = account(&f, &t, "sales", "income", "EUR", false).await;
    let posted = f.post(&t, "/v1/ledger/entries", &transfer(&cash, &sales, 1200, "EUR")).await;
    let id = posted.data()["id"].as_str().unwrap().to_owned();
    assert_eq!((balance(&f, &t, &cash).await, balance(&f, &t, &sales).await), (1200, 1200), "both in their own sign");

    let reversal = f.post(&t, &format!("/v1/ledger/entries/{id}/reverse"), &json!({})).await;
    assert_eq!(reversal.status, 201, "{:?}", reversal.body);
    assert_eq!(reversal.data()["reversesId"], id.as_str());
    assert_eq!(reversal.data()["postings"][0]["direction"], "credit");
    assert_eq!((balance(&f, &t, &cash).await, balance(&f, &t, &sales).await), (0, 0));
    let original = f.get(&t, &format!("/v1/ledger/entries/{id}")).await;
    assert_eq!(original.data()["reversedById"], reversal.data()["id"]);
    assert_eq!(original.data()["postings"][0]["amount"], 1200, "the original is unchanged");

    let again = f.post(&t, &format!("/v1/ledger/entries/{id}/reverse"), &json!({})).await;
    assert_eq!((again.status.as_u16(), again.code()), (409, "ALREADY_REVERSED"));
    let rid = reversal.data()["id"].as_str().unwrap();
    assert_eq!(f.post(&t, &format!("/v1/ledger/entries/{rid}/reverse"), &json!({})).await.status, 409);
    for method in [Method::PATCH, Method::DELETE] {
        let r = f
            .call(method, &format!("/v1/ledger/entries/{id}"), Some(&t.owner), Some(t.company), Some(&json!({})))
            .await;
        assert_eq!(r.status, 405, "entries are immutable");
    }
}

#[tokio::test]
async fn concurrent_postings_keep_balances_exact_and_the_trial_balance_at_zero() {
    let f = Arc::new(fleet().await);
    let t = Arc::new(f.tenant().await);
    let mut accounts = Vec::new();
    for i in 0..6 {
        accounts.push(
            account(&f, &t, &format!("acct-{i}"), if i % 2 == 0 { "asset" } else { "liability" }, "EUR", false).await,
        );
    }
    let accounts = Arc::new(accounts);
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let mut tasks = Vec::new();
    for w in 0..8usize {
        let (f, t, accounts, barrier) = (f.clone(), t.clone(), accounts.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let mut expected = vec![0i64; accounts.len()];
            for n in 0..12usize {
                let (d, c) = ((w + n) % accounts.len(), (w + 2 * n + 1) % accounts.len());
                if d == c {
                    continue;
                }
                let amount = i64::try_from(100 + w * 10 + n).unwrap();
                let r = f.post(&t, "/v1/ledger/entries", &transfer(&accounts[d], &accounts[c], amount, "EUR")).await;
                assert_eq!(r.status, 201, "{:?}", r.body);
                expected[d] += amount;
                expected[c] -= amount;
            }
            expected
        }));
    }
    let mut expected = vec![0i64; accounts.len()];
    for task in tasks {
        for (i, v) in task.await.unwrap().into_iter().enumerate() {
            expected[i] += v;
        }
    }
    for (i, id) in accounts.iter().enumerate() {
        let natural = if i % 2 == 0 { expected[i] } else { -expected[i] };
        assert_eq!(balance(&f, &t, id).await, natural, "account {i}: no lost update");
    }
    let trial = f.get(&t, "/v1/ledger/trial-balance").await;
    assert_eq!(trial.status, 200);
    assert_eq!(trial.data()["totals"][0]["difference"], 0);
    assert_eq!(trial.data()["totals"][0]["currency"], "EUR");
}

#[tokio::test]
async fn a_guarded_account_never_goes_negative_under_concurrent_withdrawals() {
    let f = Arc::new(fleet().await);
    let t = Arc::new(f.tenant().await);
    let cash = account(&f, &t, "cash", "asset", "EUR", true).await;
    let equity = account(&f, &t, "equity", "equity", "EUR", false).await;
    let costs = account(&f, &t, "costs", "expense", "EUR", false).await;
    assert_eq!(f.post(&t, "/v1/ledger/entries", &transfer(&cash, &equity, 1000, "EUR")).await.status, 201);
    let barrier = Arc::new(tokio::sync::Barrier::new(25));
    let mut tasks = Vec::new();
    for _ in 0..25 {
        let (f, t, barrier, body) = (f.clone(), t.clone(), barrier.clone(), transfer(&costs, &cash, 100, "EUR"));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let r = f.post(&t, "/v1/ledger/entries", &body).await;
            (r.status.as_u16(), r.code().to_owned())
        }));
    }
    let mut paid = 0;
    for task in tasks {
        match task.await.unwrap() {
            (201, _) => paid += 1,
            (409, code) => assert_eq!(code, "INSUFFICIENT_FUNDS"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(paid, 10);
    assert_eq!(balance(&f, &t, &cash).await, 0);
    assert_eq!(balance(&f, &t, &costs).await, 1000);
}

#[tokio::test]
async fn balances_at_a_date_and_statements_with_running_balance() {
    let f = fleet().await;
    let t = f.tenant().await;
    let cash = account(&f, &t, "cash", "asset", "EUR", false).await;
    let equity = account(&f, &t, "equity", "equity", "EUR", false).await;
    for (date, amount) in [("2027-01-10", 500), ("2027-02-10", 300), ("2027-03-10", -200)] {
        let mut body =
            if amount > 0 { transfer(&cash, &equity, amount, "EUR") } else { transfer(&equity, &cash, -amount, "EUR") };
        body["effectiveDate"] = json!(date);
        assert_eq!(f.post(&t, "/v1/ledger/entries", &body).await.status, 201);
    }
    let at = f.get(&t, &format!("/v1/ledger/accounts/{cash}/balance?at=2027-02-28")).await;
    assert_eq!(at.data()["balance"], 800);
    assert_eq!(f.get(&t, &format!("/v1/ledger/accounts/{cash}/balance")).await.data()["balance"], 600);
    let page2 = f.get(&t, &format!("/v1/ledger/accounts/{cash}/statement?page=2&limit=2")).await;
    assert_eq!(page2.status, 200);
    assert_eq!(page2.body["pagination"]["total"], 3);
    assert_eq!(page2.data()[0]["balance"], 600, "the running balance carries over from page 1");
    assert_eq!(page2.data()[0]["direction"], "credit");
    let page1 = f.get(&t, &format!("/v1/ledger/accounts/{cash}/statement?limit=2")).await;
    let balances: Vec<i64> = page1.data().as_array().unwrap().iter().map(|l| l["balance"].as_i64().unwrap()).collect();
    assert_eq!(balances, [500, 800]);
}

#[tokio::test]
async fn the_guard_table_with_module_financial() {
    let mut f = fleet().await;
    let t = f.tenant().await;
    let path = "/v1/ledger/accounts";
    let r = f.call(Method::GET, path, None, Some(t.company), None).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "MISSING_TOKEN"));
    let r = f.call(Method::GET, path, Some(&t.owner), None, None).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "MISSING_ORG"));
    let r = f.call(Method::GET, path, Some("x.y.z"), Some(t.company), None).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "INVALID_TOKEN"));
    let (_, viewer) = f.member_with(&t, &["financial.ledger.view"]).await;
    assert_eq!(f.call(Method::GET, path, Some(&viewer), Some(t.company), None).await.status, 200);
    let r = f.call(Method::POST, path, Some(&viewer), Some(t.company), Some(&json!({}))).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "PERMISSION_DENIED"));
    let basic_only = f.package(&["basic"], json!({})).await;
    f.set_package(t.company, json!({"packageCode": basic_only, "status": "active"})).await;
    let mut refused = false;
    for _ in 0..50 {
        let r = f.call(Method::GET, path, Some(&t.owner), Some(t.company), None).await;
        if r.status == 403 {
            assert_eq!(r.code(), "MODULE_NOT_ENABLED");
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(refused, "without the financial module, refused within a second");
    f.stop_auth().await;
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let r = f.call(Method::GET, path, Some(&viewer), Some(t.company), None).await;
    assert_eq!((r.status.as_u16(), r.code()), (503, "ACCESS_UNAVAILABLE"));
    assert!(r.headers.contains_key("retry-after"));
}

/// Entries sent at once are committed together (group commit), yet each is
/// checked and answered on its own: the refused ones (an account going below
/// zero, an unknown account, another company's account, a key already used)
/// fail only themselves, never the entries committed beside them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_entry_amid_accepted_ones_fails_only_itself() {
    let f = Arc::new(fleet().await);
    let t = Arc::new(f.tenant().await);
    let other = Arc::new(f.tenant().await);
    let cash = account(&f, &t, "cash", "asset", "EUR", true).await;
    let equity = account(&f, &t, "equity", "equity", "EUR", false).await;
    let costs = account(&f, &t, "costs", "expense", "EUR", false).await;
    let theirs = account(&f, &other, "costs", "expense", "EUR", false).await;
    assert_eq!(f.post(&t, "/v1/ledger/entries", &transfer(&cash, &equity, 1000, "EUR")).await.status, 201);

    let mut keyed = transfer(&costs, &equity, 7, "EUR");
    keyed["idempotencyKey"] = json!("once");
    let unknown = uuid::Uuid::now_v7().to_string();
    let mut sends: Vec<(&str, Arc<Tenant>, Value)> = Vec::new();
    for _ in 0..20 {
        sends.push(("withdrawal", t.clone(), transfer(&costs, &cash, 100, "EUR")));
    }
    for _ in 0..8 {
        sends.push(("unknown", t.clone(), transfer(&unknown, &equity, 5, "EUR")));
        sends.push(("keyed", t.clone(), keyed.clone()));
        sends.push(("foreign", other.clone(), transfer(&theirs, &cash, 5, "EUR")));
    }
    for _ in 0..4 {
        sends.push(("plain", t.clone(), transfer(&costs, &equity, 1, "EUR")));
        // Text PostgreSQL cannot store: refused as input, never a failed batch.
        let mut nul = transfer(&costs, &equity, 3, "EUR");
        nul["reference"] = json!("invoice\u{0}42");
        sends.push(("nul", t.clone(), nul));
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(sends.len()));
    let mut tasks = Vec::new();
    for (kind, tenant, body) in sends {
        let (f, barrier) = (f.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            (kind, f.post(&tenant, "/v1/ledger/entries", &body).await)
        }));
    }
    let (mut withdrawn, mut keyed_ids, mut keyed_created) = (0, std::collections::BTreeSet::new(), 0);
    for task in tasks {
        let (kind, r) = task.await.unwrap();
        match (kind, r.status.as_u16()) {
            ("withdrawal", 201) => withdrawn += 1,
            ("withdrawal", 409) => assert_eq!(r.code(), "INSUFFICIENT_FUNDS"),
            ("unknown", 400) => assert_eq!(r.fields(), ["postings[0].accountId"]),
            ("foreign", 400) => assert_eq!(r.fields(), ["postings[1].accountId"], "another company's account"),
            ("keyed", 201 | 200) => {
                keyed_created += usize::from(r.status == 201);
                keyed_ids.insert(r.data()["id"].as_str().unwrap().to_owned());
            }
            ("plain", 201) => {}
            ("nul", 400) => assert_eq!(r.fields(), ["reference"]),
            (kind, status) => panic!("{kind}: {status} {:?}", r.body),
        }
    }
    assert_eq!(withdrawn, 10, "exactly what the guarded account held");
    assert_eq!((keyed_created, keyed_ids.len()), (1, 1), "one entry for the key, the others its replays");
    assert_eq!(balance(&f, &t, &cash).await, 0);
    assert_eq!(balance(&f, &t, &costs).await, 1000 + 7 + 4);
    assert_eq!(balance(&f, &other, &theirs).await, 0);
    assert_eq!(f.get(&t, "/v1/ledger/entries").await.body["pagination"]["total"], 1 + 10 + 1 + 4);
    assert_eq!(f.get(&t, "/v1/ledger/trial-balance").await.data()["totals"][0]["difference"], 0);
}

/// Connections PostgreSQL dropped (a restart, a proxy's idle timeout) are
/// replaced without refusing the writes that meet them: pooled connections
/// are no longer tested before every use, only after a quiet moment, so an
/// entry's batch that meets a dead one begins again on another, and after a
/// quiet moment the pool finds them before use.
#[tokio::test]
async fn connections_the_database_dropped_are_replaced_without_refusing_writes() {
    use sea_orm::ConnectionTrait;
    let f = fleet().await;
    if f.db.get_database_backend() != sea_orm::DbBackend::Postgres {
        // A SQLite file has no server to drop its connections.
        return;
    }
    let t = f.tenant().await;
    let cash = account(&f, &t, "cash", "asset", "EUR", false).await;
    let equity = account(&f, &t, "equity", "equity", "EUR", false).await;
    for _ in 0..8 {
        assert_eq!(f.post(&t, "/v1/ledger/entries", &transfer(&cash, &equity, 10, "EUR")).await.status, 201);
    }
    // Four connections open at once, back in the pool idle.
    let mut open = Vec::new();
    for _ in 0..4 {
        open.push(sea_orm::TransactionTrait::begin(&f.db).await.unwrap());
    }
    drop(open);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let dropped =
        f.db.query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND usename = current_user",
        ))
        .await
        .unwrap();
    assert!(dropped.len() >= 3, "financial's idle connections were dropped ({} of them)", dropped.len());
    // At once, before the pool would test them: an entry's batch begins
    // again on another connection until one works.
    let r = f.post(&t, "/v1/ledger/entries", &transfer(&cash, &equity, 10, "EUR")).await;
    assert_eq!(r.status, 201, "the entry right after the drop: {:?}", r.body);
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    for n in 0..4 {
        let r = f.post(&t, "/v1/ledger/entries", &transfer(&cash, &equity, 10, "EUR")).await;
        assert_eq!(r.status, 201, "entry {n} after the drop: {:?}", r.body);
        let r = f.get(&t, &format!("/v1/ledger/accounts/{cash}")).await;
        assert_eq!(r.status, 200, "read {n} after the drop: {:?}", r.body);
    }
    assert_eq!(balance(&f, &t, &cash).await, 130, "every entry before and after the drop is there");
}

/// A batch's idempotency keys are looked up through their index. Joined to
/// the table as a JSON parameter, they were planned as the hundred rows the
/// planner assumes of a set-returning function, and while the ledger held
/// fewer than some tens of thousands of entries, hashing all of them looked
/// cheaper: every batch read the whole table, slower with every entry.
#[tokio::test]
async fn a_batch_looks_its_idempotency_keys_up_through_their_index() {
    use sea_orm::{ConnectionTrait, DbBackend};
    let f = fleet().await;
    if f.db.get_database_backend() != DbBackend::Postgres {
        // SQLite looks an equality on every column of a unique index up through it.
        return;
    }
    let t = f.tenant().await;
    f.db.execute_unprepared(&format!(
        "INSERT INTO journal_entries (id, company_id, description, effective_date, idempotency_key, created_by, \
         created_at) SELECT gen_random_uuid(), '{}', 'earlier', '2027-01-15', 'key-' || n, '{}', now() \
         FROM generate_series(1, 10000) AS n",
        t.company, t.owner_id
    ))
    .await
    .unwrap();
    f.db.execute_unprepared("ANALYZE journal_entries").await.unwrap();

    let txn = marquee_db::begin_batch(&f.db).await.unwrap();
    let before = scans_in(&txn, "journal_entries").await;
    let keys: Vec<(uuid::Uuid, String)> =
        ["key-17", "key-9999", "never used"].iter().map(|k| (t.company, (*k).to_owned())).collect();
    let taken = marquee_financial::domains::ledger::repo::taken_keys(&txn, &keys).await.unwrap();
    assert_eq!(taken, keys[..2].iter().cloned().collect(), "the keys in use, and only those");
    let (whole, indexed) = scans_since(&txn, "journal_entries", before).await;
    assert_eq!(whole, 0, "no batch reads the whole ledger to find its keys");
    assert!(indexed >= 1, "the keys were looked up through the index ({indexed} lookups)");
}

/// The sequential and the index scans of `table` this connection counted
/// so far (PostgreSQL). Besides this transaction's, they may hold those of
/// an earlier one not yet reported (at most once a second): compare two.
async fn scans_in(txn: &sea_orm::DatabaseTransaction, table: &str) -> (i64, i64) {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let scans = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = $1",
            [table.into()],
        ))
        .await
        .unwrap()
        .expect("the table's scans in this transaction");
    (scans.try_get("", "seq_scan").unwrap(), scans.try_get("", "idx_scan").unwrap())
}

/// The scans of `table` since `before` ([`scans_in`]).
async fn scans_since(txn: &sea_orm::DatabaseTransaction, table: &str, before: (i64, i64)) -> (i64, i64) {
    let now = scans_in(txn, table).await;
    (now.0 - before.0, now.1 - before.1)
}

/// A batch locks the accounts its entries name by their key. Joined to the
/// table as a JSON set, they were planned as a hundred rows, and every batch
/// hashed all accounts of every company to find the two or three it names.
#[tokio::test]
async fn a_batch_locks_its_accounts_through_their_key_and_only_its_own() {
    use sea_orm::{ConnectionTrait, DbBackend};
    let f = fleet().await;
    if f.db.get_database_backend() != DbBackend::Postgres {
        // SQLite has no row locks: its one writer already excludes others.
        return;
    }
    let (t, other) = (f.tenant().await, f.tenant().await);
    let cash = account(&f, &t, "cash", "asset", "EUR", false).await;
    let equity = account(&f, &t, "equity", "equity", "EUR", false).await;
    let theirs = account(&f, &other, "cash", "asset", "EUR", false).await;
    for (company, owner) in [(t.company, t.owner_id), (other.company, other.owner_id)] {
        f.db.execute_unprepared(&format!(
            "INSERT INTO accounts (id, company_id, code, name, kind, currency, no_negative, balance, created_by, \
             created_at) SELECT gen_random_uuid(), '{company}', 'acct-' || n, 'account', 'asset', 'EUR', false, 0, \
             '{owner}', now() FROM generate_series(1, 5000) AS n"
        ))
        .await
        .unwrap();
    }
    f.db.execute_unprepared("ANALYZE accounts").await.unwrap();

    let id = |s: &str| s.parse::<uuid::Uuid>().unwrap();
    // The other company is in the batch too, naming an account it does not
    // have: its id is among the companies the batch's lookup matches.
    let named = [
        (t.company, id(&equity)),
        (t.company, id(&cash)),
        (t.company, id(&theirs)),
        (t.company, uuid::Uuid::now_v7()),
        (other.company, uuid::Uuid::now_v7()),
    ];
    let txn = marquee_db::begin_batch(&f.db).await.unwrap();
    let before = scans_in(&txn, "accounts").await;
    let locked = marquee_financial::domains::ledger::repo::lock_accounts(&txn, &named).await.unwrap();
    let mut mine = vec![id(&cash), id(&equity)];
    mine.sort();
    assert_eq!(
        locked.iter().map(|l| l.account.id).collect::<Vec<_>>(),
        mine,
        "each company's own accounts, in key order; never another company's, whatever it names"
    );
    let (whole, indexed) = scans_since(&txn, "accounts", before).await;
    assert_eq!(whole, 0, "no batch reads every account to lock its own");
    assert!(indexed >= 1, "the accounts were found through an index ({indexed} lookups)");
}
