//! Signed tickets and check-in: a scanner with no network tells a real
//! ticket from a forged one with the published keys; a scan counts once per
//! nonce; two gates admit a ticket once; offline batches resolve the same
//! ticket at two gates the same way whatever their order; a scanner needs
//! nothing but `basic.checkin.scan`.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde_json::{Value, json};

use crate::fleet::{Fleet, Tenant, event_on_sale, fleet};

/// A paid order of `seats` GA tickets for a fresh on-sale event: (event, ticket type, tickets).
async fn paid_tickets(f: &Fleet, t: &Tenant, seats: u32) -> (String, String, Vec<Value>) {
    let event = event_on_sale(f, t).await;
    let tt = f
        .post(
            t,
            &format!("/v1/events/{event}/ticket-types"),
            &json!({"name": "GA", "priceMinor": 1500, "currency": "EUR", "capacity": 50, "perOrderMax": 10}),
        )
        .await
        .data()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let order = f
        .post(
            t,
            &format!("/v1/events/{event}/orders"),
            &json!({"items": [{"ticketTypeId": tt, "quantity": seats}], "idempotencyKey": "door"}),
        )
        .await;
    let id = order.data()["id"].as_str().unwrap().to_owned();
    let paid = f.post(t, &format!("/v1/orders/{id}/confirm"), &json!({"paymentRef": "psp"})).await;
    assert_eq!(paid.status, 200, "{:?}", paid.body);
    (event, tt, paid.data()["tickets"].as_array().unwrap().clone())
}

async fn list(f: &Fleet, t: &Tenant, event: &str, body: Value) -> String {
    let l = f.post(t, &format!("/v1/events/{event}/checkin-lists"), &body).await;
    assert_eq!(l.status, 201, "{:?}", l.body);
    l.data()["id"].as_str().unwrap().to_owned()
}

fn scan(ticket: &str, nonce: &str, direction: &str, at: &str, gate: &str) -> Value {
    json!({"ticket": ticket, "nonce": nonce, "direction": direction, "scannedAt": at, "gate": gate})
}

/// What an offline scanner does: checks the signature with a published key.
fn offline_check(keys: &Value, token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    let Ok([header, payload, signature]) = <[&str; 3]>::try_from(parts) else { return false };
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    let Some(key) = keys["keys"].as_array().unwrap().iter().find(|k| k["kid"] == header["kid"]) else { return false };
    let x: [u8; 32] = URL_SAFE_NO_PAD.decode(key["x"].as_str().unwrap()).unwrap().try_into().unwrap();
    let signature: [u8; 64] = URL_SAFE_NO_PAD.decode(signature).unwrap().try_into().unwrap();
    VerifyingKey::from_bytes(&x)
        .unwrap()
        .verify(format!("{}.{payload}", parts_head(token)).as_bytes(), &Signature::from_bytes(&signature))
        .is_ok()
}

fn parts_head(token: &str) -> &str {
    token.split('.').next().unwrap()
}

#[tokio::test]
async fn a_scanner_without_network_tells_real_tickets_from_forged_ones() {
    let f = fleet().await;
    let t = f.tenant().await;
    let (event, _, tickets) = paid_tickets(&f, &t, 2).await;
    let keys = f.get(&t, &format!("/v1/events/{event}/ticket-keys")).await;
    assert_eq!(keys.status, 200, "{:?}", keys.body);
    assert_eq!((&keys.data()["keys"][0]["kty"], &keys.data()["keys"][0]["crv"]), (&json!("OKP"), &json!("Ed25519")));
    let token = tickets[0]["token"].as_str().unwrap();
    assert!(offline_check(keys.data(), token), "a real ticket checks out with the published key");

    // Another ticket's id in the payload, the signature kept: forged.
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["t"], tickets[0]["id"]);
    claims["t"] = tickets[1]["id"].clone();
    let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string()), parts[2]);
    assert!(!offline_check(keys.data(), &forged), "a changed ticket fails the check");

    // Another company's key signs nothing of this one.
    let other = f.tenant().await;
    let (_, _, theirs) = paid_tickets(&f, &other, 1).await;
    assert!(!offline_check(keys.data(), theirs[0]["token"].as_str().unwrap()));

    // Online, the same verdicts.
    let door = list(&f, &t, &event, json!({"name": "Main door"})).await;
    let path = format!("/v1/checkin-lists/{door}/scans");
    let r = f.post(&t, &path, &scan(&forged, "n-forged", "in", "2031-03-01T19:00:00Z", "A")).await;
    assert_eq!(r.data()["result"], "unknown");
    let r = f
        .post(&t, &path, &scan(theirs[0]["token"].as_str().unwrap(), "n-theirs", "in", "2031-03-01T19:00:00Z", "A"))
        .await;
    assert_eq!(r.data()["result"], "unknown");
    let r = f.post(&t, &path, &scan(token, "n-real", "in", "2031-03-01T19:00:00Z", "A")).await;
    assert_eq!((&r.data()["result"], &r.data()["ticketId"]), (&json!("accepted"), &tickets[0]["id"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_scan_counts_once_per_nonce_and_two_gates_admit_a_ticket_once() {
    let f = Arc::new(fleet().await);
    let t = Arc::new(f.tenant().await);
    let (event, _, tickets) = paid_tickets(&f, &t, 3).await;
    let door = list(&f, &t, &event, json!({"name": "Main door"})).await;
    let path = format!("/v1/checkin-lists/{door}/scans");
    let first = tickets[0]["token"].as_str().unwrap();
    let r = f.post(&t, &path, &scan(first, "n1", "in", "2031-03-01T19:00:00Z", "A")).await;
    assert_eq!(r.data()["result"], "accepted");
    let retry = f.post(&t, &path, &scan(first, "n1", "in", "2031-03-01T19:00:00Z", "A")).await;
    assert_eq!((&retry.data()["result"], &retry.data()["original"]), (&json!("duplicate"), &json!("accepted")));
    let again = f.post(&t, &path, &scan(first, "n2", "in", "2031-03-01T19:05:00Z", "B")).await;
    assert_eq!(again.data()["result"], "already_inside");
    let out = f.post(&t, &path, &scan(first, "n3", "out", "2031-03-01T19:06:00Z", "B")).await;
    assert_eq!(out.data()["result"], "accepted");
    let back = f.post(&t, &path, &scan(first, "n4", "in", "2031-03-01T19:07:00Z", "B")).await;
    assert_eq!(back.data()["result"], "already_inside", "no re-entry on this list");

    // Ten gates scan the second ticket at once: one admits it.
    let second = tickets[1]["token"].as_str().unwrap().to_owned();
    let barrier = Arc::new(tokio::sync::Barrier::new(10));
    let mut tasks = Vec::new();
    for gate in 0..10 {
        let (f, t, path, second, barrier) = (f.clone(), t.clone(), path.clone(), second.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let body = scan(&second, &format!("gate-{gate}"), "in", "2031-03-01T19:10:00Z", &format!("G{gate}"));
            f.post(&t, &path, &body).await.data()["result"].as_str().unwrap().to_owned()
        }));
    }
    let mut accepted = 0;
    for task in tasks {
        let result = task.await.unwrap();
        assert!(result == "accepted" || result == "already_inside", "{result}");
        accepted += usize::from(result == "accepted");
    }
    assert_eq!(accepted, 1, "admitted once");

    // A refunded ticket is turned away.
    let order = tickets[2]["orderId"].as_str().unwrap();
    let refunded = f.post(&t, &format!("/v1/orders/{order}/refund"), &json!({"ticketIds": [tickets[2]["id"]]})).await;
    assert_eq!(refunded.status, 200, "{:?}", refunded.body);
    let r =
        f.post(&t, &path, &scan(tickets[2]["token"].as_str().unwrap(), "n5", "in", "2031-03-01T19:20:00Z", "A")).await;
    assert_eq!(r.data()["result"], "refunded");
}

#[tokio::test]
async fn offline_batches_resolve_the_same_ticket_at_two_gates_the_same_way_whatever_their_order() {
    let f = fleet().await;
    let t = f.tenant().await;
    let (event, _, tickets) = paid_tickets(&f, &t, 2).await;
    let token = tickets[0]["token"].as_str().unwrap();
    let scans = [
        scan(token, "b-late", "in", "2031-03-01T19:00:01Z", "B"),
        scan(token, "a-early", "in", "2031-03-01T19:00:00Z", "A"),
        scan("not.a.ticket", "junk", "in", "2031-03-01T19:00:02Z", "A"),
    ];
    for (n, order) in [[0, 1, 2], [2, 1, 0]].iter().enumerate() {
        let door = list(&f, &t, &event, json!({"name": format!("Door {n}")})).await;
        let batch: Vec<Value> = order.iter().map(|i| scans[*i].clone()).collect();
        let r = f.post(&t, &format!("/v1/checkin-lists/{door}/scans/batch"), &json!({"scans": batch})).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let results: Vec<(String, String)> = r
            .data()
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["nonce"].as_str().unwrap().to_owned(), s["result"].as_str().unwrap().to_owned()))
            .collect();
        let result = |nonce: &str| results.iter().find(|(n, _)| n == nonce).unwrap().1.clone();
        assert_eq!(results[0].0, scans[order[0]]["nonce"], "answered in the order given");
        assert_eq!(
            (result("a-early"), result("b-late"), result("junk")),
            ("accepted".to_owned(), "already_inside".to_owned(), "unknown".to_owned()),
            "the earlier scan wins"
        );
        let resent = f.post(&t, &format!("/v1/checkin-lists/{door}/scans/batch"), &json!({"scans": batch})).await;
        assert!(
            resent.data().as_array().unwrap().iter().all(|s| s["result"] == "duplicate"),
            "a resent batch counts nothing twice"
        );
    }

    // With re-entry: in, out, in again.
    let reentry = list(&f, &t, &event, json!({"name": "Backstage", "allowReentry": true})).await;
    let second = tickets[1]["token"].as_str().unwrap();
    let batch = [
        scan(second, "r1", "in", "2031-03-01T19:00:00Z", "S"),
        scan(second, "r2", "out", "2031-03-01T20:00:00Z", "S"),
        scan(second, "r3", "in", "2031-03-01T21:00:00Z", "S"),
    ];
    let r = f.post(&t, &format!("/v1/checkin-lists/{reentry}/scans/batch"), &json!({"scans": batch})).await;
    let results: Vec<&str> = r.data().as_array().unwrap().iter().map(|s| s["result"].as_str().unwrap()).collect();
    assert_eq!(results, ["accepted", "accepted", "accepted"]);
}

#[tokio::test]
async fn a_scanner_needs_only_the_scan_permission_and_sees_nothing_else() {
    let f = fleet().await;
    let t = f.tenant().await;
    let (event, tt, tickets) = paid_tickets(&f, &t, 1).await;
    let door = list(&f, &t, &event, json!({"name": "GA door", "ticketTypeIds": [tt]})).await;
    let (_, scanner) = f.member_with(&t, &["basic.checkin.scan"]).await;
    let as_scanner = |method: reqwest::Method, path: String, body: Option<Value>| {
        let f = &f;
        let scanner = scanner.clone();
        async move { f.call(method, &path, Some(&scanner), Some(t.company), body.as_ref()).await }
    };
    let keys = as_scanner(reqwest::Method::GET, format!("/v1/events/{event}/ticket-keys"), None).await;
    assert_eq!(keys.status, 200, "{:?}", keys.body);
    let lists = as_scanner(reqwest::Method::GET, format!("/v1/events/{event}/checkin-lists"), None).await;
    assert_eq!(lists.status, 200);
    let body = scan(tickets[0]["token"].as_str().unwrap(), "s1", "in", "2031-03-01T19:00:00Z", "A");
    let r = as_scanner(reqwest::Method::POST, format!("/v1/checkin-lists/{door}/scans"), Some(body)).await;
    assert_eq!((r.status.as_u16(), &r.data()["result"]), (200, &json!("accepted")));
    for path in [format!("/v1/events/{event}/orders"), format!("/v1/events/{event}/ticket-types")] {
        let r = as_scanner(reqwest::Method::GET, path.clone(), None).await;
        assert_eq!(r.status, 403, "{path}");
    }
}
