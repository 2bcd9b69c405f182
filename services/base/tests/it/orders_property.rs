//! Random sequences of reserve, confirm, cancel, refund, expire and scan,
//! checked after every step: no ticket type or quota ever holds and sells
//! more than its size, every paid seat has exactly one ticket, voucher uses
//! are exact; and at the end financial's sales less refunds equal what the
//! paid orders kept.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::fleet::{Fleet, Tenant, event_on_sale, financial_listeners, fleet_on};
use marquee_test_support::start_financial;

struct World {
    event: String,
    types: Vec<String>,
    list: String,
    orders: Vec<String>,
}

async fn setup(f: &Fleet, t: &Tenant) -> World {
    let event = event_on_sale(f, t).await;
    let mut types = Vec::new();
    for (name, price, capacity) in [("GA", 1999, 6), ("VIP", 4500, 4), ("Early", 1250, 5)] {
        let tt = f
            .post(
                t,
                &format!("/v1/events/{event}/ticket-types"),
                &json!({"name": name, "priceMinor": price, "currency": "EUR", "capacity": capacity}),
            )
            .await;
        types.push(tt.data()["id"].as_str().unwrap().to_owned());
    }
    let quota = f
        .post(t, &format!("/v1/events/{event}/quotas"), &json!({"name": "Hall", "size": 9, "ticketTypeIds": types}))
        .await;
    assert_eq!(quota.status, 201, "{:?}", quota.body);
    let voucher = f
        .post(
            t,
            &format!("/v1/events/{event}/vouchers"),
            &json!({"code": "TEN", "discountKind": "percent", "discountValue": 10, "maxUses": 4}),
        )
        .await;
    assert_eq!(voucher.status, 201, "{:?}", voucher.body);
    let list =
        f.post(t, &format!("/v1/events/{event}/checkin-lists"), &json!({"name": "Door", "allowReentry": true})).await;
    World { event, types, list: list.data()["id"].as_str().unwrap().to_owned(), orders: Vec::new() }
}

async fn all_orders(f: &Fleet, t: &Tenant, w: &World) -> Vec<Value> {
    f.get(t, &format!("/v1/events/{}/orders?limit=100", w.event)).await.data().as_array().unwrap().clone()
}

async fn step(f: &Fleet, t: &Tenant, w: &mut World, rng: &mut StdRng, clock: &marquee_kit::Clock, n: usize) {
    let pick = |rng: &mut StdRng, orders: &[String]| orders.choose(rng).cloned();
    match rng.gen_range(0..10) {
        0..=3 => {
            let mut chosen = w.types.clone();
            chosen.shuffle(rng);
            let items: Vec<Value> = chosen[..rng.gen_range(1..=2)]
                .iter()
                .map(|tt| json!({"ticketTypeId": tt, "quantity": rng.gen_range(1..=3)}))
                .collect();
            let mut body = json!({"items": items, "idempotencyKey": format!("k{n}")});
            if rng.gen_bool(0.4) {
                body["voucherCode"] = json!("ten");
            }
            let r = f.post(t, &format!("/v1/events/{}/orders", w.event), &body).await;
            assert!(matches!(r.status.as_u16(), 201 | 409), "reserve: {:?}", r.body);
            if r.status == 201 {
                w.orders.push(r.data()["id"].as_str().unwrap().to_owned());
            }
        }
        4 | 5 => {
            if let Some(id) = pick(rng, &w.orders) {
                let r = f.post(t, &format!("/v1/orders/{id}/confirm"), &json!({"paymentRef": format!("p-{id}")})).await;
                assert!(matches!(r.status.as_u16(), 200 | 409), "confirm: {:?}", r.body);
            }
        }
        6 => {
            if let Some(id) = pick(rng, &w.orders) {
                let r = f.post(t, &format!("/v1/orders/{id}/cancel"), &json!({})).await;
                assert!(matches!(r.status.as_u16(), 200 | 409), "cancel: {:?}", r.body);
            }
        }
        7 => {
            if let Some(id) = pick(rng, &w.orders) {
                let order = f.get(t, &format!("/v1/orders/{id}")).await;
                let valid: Vec<Value> = order.data()["tickets"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|x| x["status"] == "valid")
                    .map(|x| x["id"].clone())
                    .collect();
                let some: Vec<Value> = valid.iter().filter(|_| rng.gen_bool(0.5)).cloned().collect();
                let body = if some.is_empty() {
                    json!({"feeMinor": 0})
                } else {
                    json!({"ticketIds": some, "feeMinor": rng.gen_range(0..=100)})
                };
                let r = f.post(t, &format!("/v1/orders/{id}/refund"), &body).await;
                assert!(matches!(r.status.as_u16(), 200 | 409), "refund: {:?}", r.body);
            }
        }
        8 => clock.advance(chrono::Duration::minutes(rng.gen_range(1..=20))),
        _ => {
            let orders = all_orders(f, t, w).await;
            let tokens: Vec<String> = orders
                .iter()
                .flat_map(|o| o["tickets"].as_array().unwrap().iter())
                .filter_map(|x| x["token"].as_str().map(str::to_owned))
                .collect();
            if let Some(token) = tokens.choose(rng) {
                let direction = if rng.gen_bool(0.7) { "in" } else { "out" };
                let scan = json!({"ticket": token, "nonce": format!("s{n}"), "direction": direction, "scannedAt": chrono::Utc::now(), "gate": "A"});
                let r = f.post(t, &format!("/v1/checkin-lists/{}/scans", w.list), &scan).await;
                assert_eq!(r.status, 200, "scan: {:?}", r.body);
                assert!(["accepted", "already_inside", "not_inside"].contains(&r.data()["result"].as_str().unwrap()));
            }
        }
    }
}

async fn check(f: &Fleet, t: &Tenant, w: &World, n: usize) {
    // Orders first: reading them expires any reservation whose time is up.
    let orders = all_orders(f, t, w).await;
    let types = f.get(t, &format!("/v1/events/{}/ticket-types", w.event)).await;
    let (mut sold, mut held) = (0, 0);
    for tt in types.data().as_array().unwrap() {
        let (s, h, c) = (tt["sold"].as_u64().unwrap(), tt["held"].as_u64().unwrap(), tt["capacity"].as_u64().unwrap());
        assert!(s + h <= c, "step {n}: {} over its capacity: {tt}", tt["name"]);
        let valid = orders
            .iter()
            .flat_map(|o| o["tickets"].as_array().unwrap().iter())
            .filter(|x| x["ticketTypeId"] == tt["id"] && x["status"] == "valid")
            .count();
        assert_eq!(s, valid as u64, "step {n}: {} sold {s} but has {valid} valid tickets", tt["name"]);
        let reserved: u64 = orders
            .iter()
            .filter(|o| o["status"] == "reserved")
            .flat_map(|o| o["items"].as_array().unwrap().iter())
            .filter(|i| i["ticketTypeId"] == tt["id"])
            .map(|i| i["quantity"].as_u64().unwrap())
            .sum();
        assert_eq!(h, reserved, "step {n}: {} holds {h} but reservations hold {reserved}", tt["name"]);
        sold += s;
        held += h;
    }
    let quota = &f.get(t, &format!("/v1/events/{}/quotas", w.event)).await.data()[0].clone();
    assert!(
        quota["sold"].as_u64().unwrap() + quota["held"].as_u64().unwrap() <= quota["size"].as_u64().unwrap(),
        "step {n}: {quota}"
    );
    assert_eq!(
        (quota["sold"].as_u64(), quota["held"].as_u64()),
        (Some(sold), Some(held)),
        "step {n}: the quota counts its types"
    );
    for o in &orders {
        if !o["paidAt"].is_null() {
            let seats: u64 = o["items"].as_array().unwrap().iter().map(|i| i["quantity"].as_u64().unwrap()).sum();
            assert_eq!(o["tickets"].as_array().unwrap().len() as u64, seats, "step {n}: one ticket per paid seat: {o}");
        } else {
            assert!(o["tickets"].as_array().unwrap().is_empty(), "step {n}: tickets only once paid");
        }
    }
    let uses: u64 = orders
        .iter()
        .filter(|o| o["status"] == "reserved" || !o["paidAt"].is_null())
        .flat_map(|o| o["items"].as_array().unwrap().iter())
        .map(|i| i["voucherSeats"].as_u64().unwrap())
        .sum();
    let vouchers = f.get(t, &format!("/v1/events/{}/vouchers", w.event)).await;
    assert_eq!(vouchers.data()[0]["uses"].as_u64(), Some(uses), "step {n}: voucher uses are exact");
    assert!(uses <= 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_sequences_of_orders_keep_every_invariant_and_financial_agrees() {
    let (listeners, financial_url) = financial_listeners().await;
    let clock = marquee_kit::Clock::manual(chrono::Utc::now());
    let f = fleet_on(&[("FINANCIAL_GRPC_URL", financial_url.as_str())], clock.clone()).await;
    let financial = start_financial(f.peers(), Some(listeners)).await;
    let fin = marquee_test_support::Api(financial.running.client.clone());
    let t = f.tenant().await;
    let mut kept = 0i64;
    for seed in [7u64, 42, 2026] {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut w = setup(&f, &t).await;
        for n in 0..40 {
            step(&f, &t, &mut w, &mut rng, &clock, n).await;
            check(&f, &t, &w, n).await;
        }
        for o in all_orders(&f, &t, &w).await {
            if !o["paidAt"].is_null() {
                kept += o["totalMinor"].as_i64().unwrap() - o["refundedMinor"].as_i64().unwrap();
            }
        }
    }
    let mut recorded = None;
    for _ in 0..100 {
        let sales = fin.get(&t, "/v1/incomes?category=ticket_sale&limit=100").await;
        let refunds = fin.get(&t, "/v1/expenses?category=ticket_refund&limit=100").await;
        let sum = |r: &marquee_testkit::Reply| -> i64 {
            r.data().as_array().unwrap().iter().map(|x| x["amount"].as_i64().unwrap()).sum()
        };
        recorded = Some(sum(&sales) - sum(&refunds));
        if recorded == Some(kept) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(recorded, Some(kept), "financial's sales less refunds equal what paid orders kept");
}
