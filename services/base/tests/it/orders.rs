//! Orders: reservations that hold seats until paid or expired, quotas shared
//! by ticket types, vouchers with exact uses, refunds, and the sale reaching
//! financial.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::fleet::{Fleet, Tenant, event_on_sale, financial_listeners, fleet, fleet_on, fleet_with};
use marquee_test_support::start_financial;

async fn ticket_type(f: &Fleet, t: &Tenant, event: &str, name: &str, price: i64, capacity: u32) -> String {
    let tt = f
        .post(
            t,
            &format!("/v1/events/{event}/ticket-types"),
            &json!({"name": name, "priceMinor": price, "currency": "EUR", "capacity": capacity, "perOrderMax": 10}),
        )
        .await;
    assert_eq!(tt.status, 201, "{:?}", tt.body);
    tt.data()["id"].as_str().unwrap().to_owned()
}

fn order(items: &[(&str, u32)], key: &str) -> Value {
    let items: Vec<Value> = items.iter().map(|(t, q)| json!({"ticketTypeId": t, "quantity": q})).collect();
    json!({"items": items, "idempotencyKey": key, "buyerEmail": "buyer@example.com"})
}

async fn type_of(f: &Fleet, t: &Tenant, event: &str, id: &str) -> Value {
    let types = f.get(t, &format!("/v1/events/{event}/ticket-types")).await;
    types.data().as_array().unwrap().iter().find(|x| x["id"] == id).unwrap().clone()
}

#[tokio::test]
async fn a_reservation_holds_its_seats_and_payment_issues_one_ticket_per_seat() {
    let f = fleet().await;
    let t = f.tenant().await;
    let event = event_on_sale(&f, &t).await;
    let ga = ticket_type(&f, &t, &event, "GA", 2500, 5).await;
    let path = format!("/v1/events/{event}/orders");

    let reserved = f.post(&t, &path, &order(&[(&ga, 3)], "first")).await;
    assert_eq!(reserved.status, 201, "{:?}", reserved.body);
    assert_eq!(reserved.data()["status"], "reserved");
    assert_eq!(reserved.data()["totalMinor"], 7500);
    let expires: chrono::DateTime<chrono::Utc> = reserved.data()["expiresAt"].as_str().unwrap().parse().unwrap();
    let minutes = (expires - chrono::Utc::now()).num_minutes();
    assert!((14..=15).contains(&minutes), "held for RESERVATION_MINUTES (15): {minutes}");
    let ga_now = type_of(&f, &t, &event, &ga).await;
    assert_eq!((ga_now["sold"].as_u64(), ga_now["held"].as_u64()), (Some(0), Some(3)));

    let too_many = f.post(&t, &path, &order(&[(&ga, 3)], "second")).await;
    assert_eq!((too_many.status.as_u16(), too_many.code()), (409, "SOLD_OUT"), "held seats are not sold twice");
    let replay = f.post(&t, &path, &order(&[(&ga, 3)], "first")).await;
    assert_eq!(
        (replay.status.as_u16(), &replay.data()["id"]),
        (200, &reserved.data()["id"]),
        "a replay answers the original"
    );
    let reused = f.post(&t, &path, &order(&[(&ga, 1)], "first")).await;
    assert_eq!((reused.status.as_u16(), reused.code()), (409, "IDEMPOTENCY_KEY_REUSED"));

    let id = reserved.data()["id"].as_str().unwrap().to_owned();
    let paid = f.post(&t, &format!("/v1/orders/{id}/confirm"), &json!({"paymentRef": "psp-1"})).await;
    assert_eq!(paid.status, 200, "{:?}", paid.body);
    assert_eq!(paid.data()["status"], "paid");
    assert_eq!(paid.data()["tickets"].as_array().unwrap().len(), 3, "one ticket per seat");
    let again = f.post(&t, &format!("/v1/orders/{id}/confirm"), &json!({"paymentRef": "psp-1"})).await;
    assert_eq!(
        (again.status.as_u16(), &again.data()["tickets"]),
        (200, &paid.data()["tickets"]),
        "confirming twice issues nothing new"
    );
    let other = f.post(&t, &format!("/v1/orders/{id}/confirm"), &json!({"paymentRef": "psp-2"})).await;
    assert_eq!((other.status.as_u16(), other.code()), (409, "ALREADY_PAID"));
    let ga_now = type_of(&f, &t, &event, &ga).await;
    assert_eq!((ga_now["sold"].as_u64(), ga_now["held"].as_u64()), (Some(3), Some(0)));

    // Two seats left; a reservation for them, canceled, gives them back.
    let small = f.post(&t, &path, &order(&[(&ga, 2)], "third")).await;
    assert_eq!(small.status, 201);
    let small_id = small.data()["id"].as_str().unwrap();
    assert_eq!(f.get(&t, &format!("/v1/events/{event}")).await.data()["status"], "on_sale", "held seats may come back");
    let canceled = f.post(&t, &format!("/v1/orders/{small_id}/cancel"), &json!({})).await;
    assert_eq!(canceled.data()["status"], "canceled");
    let ga_now = type_of(&f, &t, &event, &ga).await;
    assert_eq!((ga_now["sold"].as_u64(), ga_now["held"].as_u64()), (Some(3), Some(0)));
    let late = f.post(&t, &format!("/v1/orders/{small_id}/confirm"), &json!({"paymentRef": "psp-3"})).await;
    assert_eq!((late.status.as_u16(), late.code()), (409, "ORDER_CLOSED"));
}

#[tokio::test]
async fn an_expired_reservation_frees_exactly_its_seats_and_is_paid_late_only_if_they_are_still_free() {
    let clock = marquee_kit::Clock::manual(chrono::Utc::now());
    let f = fleet_on(&[("RESERVATION_MINUTES", "10")], clock.clone()).await;
    let t = f.tenant().await;
    let event = event_on_sale(&f, &t).await;
    let ga = ticket_type(&f, &t, &event, "GA", 1000, 4).await;
    let path = format!("/v1/events/{event}/orders");
    let early = f.post(&t, &path, &order(&[(&ga, 2)], "early")).await;
    let early_id = early.data()["id"].as_str().unwrap().to_owned();
    clock.advance(chrono::Duration::seconds(5 * 60));
    let later = f.post(&t, &path, &order(&[(&ga, 1)], "later")).await;
    let later_id = later.data()["id"].as_str().unwrap().to_owned();
    clock.advance(chrono::Duration::seconds(5 * 60 + 1));

    // The read sees it ran out (the sweeper may have been first).
    let seen = f.get(&t, &format!("/v1/orders/{early_id}")).await;
    assert_eq!(seen.data()["status"], "expired");
    assert_eq!(
        f.get(&t, &format!("/v1/orders/{later_id}")).await.data()["status"],
        "reserved",
        "only the one whose time is up"
    );
    let ga_now = type_of(&f, &t, &event, &ga).await;
    assert_eq!(ga_now["held"], 1, "exactly its two seats went back");

    // Paid late while its seats are still free: accepted.
    let paid = f.post(&t, &format!("/v1/orders/{early_id}/confirm"), &json!({"paymentRef": "late-1"})).await;
    assert_eq!((paid.status.as_u16(), &paid.data()["status"]), (200, &json!("paid")), "{:?}", paid.body);

    // A reservation that ran out while others took its seats: refused.
    clock.advance(chrono::Duration::seconds(10 * 60));
    let taker = f.post(&t, &path, &order(&[(&ga, 2)], "taker")).await;
    assert_eq!(taker.status, 201, "{:?}", taker.body);
    let refused = f.post(&t, &format!("/v1/orders/{later_id}/confirm"), &json!({"paymentRef": "late-2"})).await;
    assert_eq!((refused.status.as_u16(), refused.code()), (409, "RESERVATION_EXPIRED"));
    let ga_now = type_of(&f, &t, &event, &ga).await;
    assert_eq!((ga_now["sold"].as_u64(), ga_now["held"].as_u64()), (Some(2), Some(2)), "nothing taken twice");
}

#[tokio::test]
async fn reservations_expiring_under_load_free_exactly_their_seats() {
    let clock = marquee_kit::Clock::manual(chrono::Utc::now());
    let f = Arc::new(fleet_on(&[], clock.clone()).await);
    let t = Arc::new(f.tenant().await);
    let event = event_on_sale(&f, &t).await;
    let ga = ticket_type(&f, &t, &event, "GA", 1000, 40).await;
    let path = format!("/v1/events/{event}/orders");
    for n in 0..20 {
        assert_eq!(f.post(&t, &path, &order(&[(&ga, 1)], &format!("old-{n}"))).await.status, 201);
    }
    clock.advance(chrono::Duration::seconds(15 * 60 + 1));
    // New buyers arrive while the sweeper and reads expire the old ones.
    let mut tasks = Vec::new();
    for n in 0..30 {
        let (f, t, path, ga) = (f.clone(), t.clone(), path.clone(), ga.clone());
        tasks.push(tokio::spawn(
            async move { f.post(&t, &path, &order(&[(&ga, 1)], &format!("new-{n}"))).await.status },
        ));
    }
    let mut taken = 0;
    for task in tasks {
        let status = task.await.unwrap();
        assert!(status == 201 || status == 409, "{status}");
        taken += u64::from(status == 201);
    }
    let listed = f.get(&t, &format!("{path}?limit=100")).await;
    let expired = listed.data().as_array().unwrap().iter().filter(|o| o["status"] == "expired").count();
    assert_eq!(expired, 20, "every old reservation ran out");
    let ga_now = type_of(&f, &t, &event, &ga).await;
    assert_eq!(ga_now["held"].as_u64(), Some(taken), "held seats are exactly the live reservations");
    assert!(taken >= 20, "the freed seats were sold again: {taken}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_buyers_on_a_shared_quota_with_a_voucher_never_oversell() {
    let f = Arc::new(fleet_with(&[("RATE_LIMIT_PER_USER", "100000"), ("RATE_LIMIT_PER_COMPANY", "100000")]).await);
    let t = Arc::new(f.tenant().await);
    let event = event_on_sale(&f, &t).await;
    let mut types = Vec::new();
    for name in ["GA", "VIP", "Early Bird"] {
        types.push(ticket_type(&f, &t, &event, name, 3000, 200).await);
    }
    let quota = f
        .post(&t, &format!("/v1/events/{event}/quotas"), &json!({"name": "Hall", "size": 120, "ticketTypeIds": types}))
        .await;
    assert_eq!(quota.status, 201, "{:?}", quota.body);
    let voucher = f
        .post(
            &t,
            &format!("/v1/events/{event}/vouchers"),
            &json!({"code": "friends", "discountKind": "percent", "discountValue": 25, "maxUses": 30}),
        )
        .await;
    assert_eq!(voucher.status, 201, "{:?}", voucher.body);

    let path = format!("/v1/events/{event}/orders");
    let barrier = Arc::new(tokio::sync::Barrier::new(500));
    let mut tasks = Vec::new();
    for n in 0..500usize {
        let (f, t, path, barrier) = (f.clone(), t.clone(), path.clone(), barrier.clone());
        let mut body = order(&[(&types[n % 3], 1)], &format!("buyer-{n}"));
        let with_voucher = n % 4 == 0;
        if with_voucher {
            body["voucherCode"] = json!("FRIENDS");
        }
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let r = f.post(&t, &path, &body).await;
            assert!(matches!(r.status.as_u16(), 201 | 409), "{:?}", r.body);
            if r.status == 201 {
                let id = r.data()["id"].as_str().unwrap().to_owned();
                let paid =
                    f.post(&t, &format!("/v1/orders/{id}/confirm"), &json!({"paymentRef": format!("p-{n}")})).await;
                assert_eq!(paid.status, 200, "{:?}", paid.body);
                return (1u32, u32::from(with_voucher), paid.data()["totalMinor"].as_i64().unwrap());
            }
            (0, 0, 0)
        }));
    }
    let (mut sold, mut discounted, mut revenue) = (0, 0, 0);
    for task in tasks {
        let (s, d, r) = task.await.unwrap();
        sold += s;
        discounted += d;
        revenue += r;
    }
    assert_eq!(sold, 120, "exactly the quota");
    assert!(discounted <= 30, "voucher uses never pass maxUses: {discounted}");
    let vouchers = f.get(&t, &format!("/v1/events/{event}/vouchers")).await;
    assert_eq!(vouchers.data()[0]["uses"].as_u64(), Some(u64::from(discounted)), "uses counted exactly");
    assert_eq!(revenue, i64::from(sold) * 3000 - i64::from(discounted) * 750);
    let quotas = f.get(&t, &format!("/v1/events/{event}/quotas")).await;
    assert_eq!((quotas.data()[0]["sold"].as_u64(), quotas.data()[0]["held"].as_u64()), (Some(120), Some(0)));
    let mut per_type = 0;
    for tt in &types {
        per_type += type_of(&f, &t, &event, tt).await["sold"].as_u64().unwrap();
    }
    assert_eq!(per_type, 120, "each type counts its own");
    assert_eq!(f.get(&t, &format!("/v1/events/{event}")).await.data()["status"], "sold_out");
}

#[tokio::test]
async fn vouchers_discount_exactly_and_a_blocking_voucher_keeps_its_seats() {
    let f = fleet().await;
    let t = f.tenant().await;
    let event = event_on_sale(&f, &t).await;
    let ga = ticket_type(&f, &t, &event, "GA", 2999, 10).await;
    let vip = ticket_type(&f, &t, &event, "VIP", 9000, 10).await;
    let vouchers = format!("/v1/events/{event}/vouchers");
    let fixed = f
        .post(&t, &vouchers, &json!({"code": "vip-10", "discountKind": "fixed", "discountValue": 1000, "ticketTypeIds": [vip], "maxUses": 2}))
        .await;
    assert_eq!(fixed.status, 201, "{:?}", fixed.body);
    let taken = f
        .post(&t, &vouchers, &json!({"code": "VIP-10", "discountKind": "fixed", "discountValue": 1, "maxUses": 1}))
        .await;
    assert_eq!((taken.status.as_u16(), taken.code()), (409, "VOUCHER_CODE_TAKEN"), "codes ignore case");
    let path = format!("/v1/events/{event}/orders");
    let mut body = order(&[(&ga, 1), (&vip, 2)], "mixed");
    body["voucherCode"] = json!("vip-10");
    let mixed = f.post(&t, &path, &body).await;
    assert_eq!(mixed.status, 201, "{:?}", mixed.body);
    assert_eq!(
        (&mixed.data()["subtotalMinor"], &mixed.data()["discountMinor"], &mixed.data()["totalMinor"]),
        (&json!(20_999), &json!(2000), &json!(18_999)),
        "only the VIP seats are discounted"
    );
    let mut again = order(&[(&vip, 1)], "again");
    again["voucherCode"] = json!("VIP-10");
    let exhausted = f.post(&t, &path, &again).await;
    assert_eq!((exhausted.status.as_u16(), exhausted.code()), (409, "VOUCHER_UNAVAILABLE"));
    let mut wrong = order(&[(&ga, 1)], "wrong");
    wrong["voucherCode"] = json!("nope");
    let unknown = f.post(&t, &path, &wrong).await;
    assert_eq!((unknown.status.as_u16(), unknown.body["details"][0]["field"].as_str()), (400, Some("voucherCode")));
    // Canceling gives the uses back.
    let id = mixed.data()["id"].as_str().unwrap();
    assert_eq!(f.post(&t, &format!("/v1/orders/{id}/cancel"), &json!({})).await.status, 200);
    assert_eq!(f.post(&t, &path, &again).await.status, 201, "a canceled reservation's uses come back");

    // A percent voucher holding 4 GA seats for itself.
    let block = f
        .post(&t, &vouchers, &json!({"code": "crew", "discountKind": "percent", "discountValue": 50, "ticketTypeIds": [ga], "maxUses": 4, "blockQuota": true}))
        .await;
    assert_eq!(block.status, 201, "{:?}", block.body);
    assert_eq!(type_of(&f, &t, &event, &ga).await["held"], 4);
    let public = f.post(&t, &path, &order(&[(&ga, 7)], "public")).await;
    assert_eq!((public.status.as_u16(), public.code()), (409, "SOLD_OUT"), "the blocked seats are not for sale");
    assert_eq!(f.post(&t, &path, &order(&[(&ga, 6)], "public-6")).await.status, 201);
    let mut crew = order(&[(&ga, 4)], "crew");
    crew["voucherCode"] = json!("CREW");
    let crew = f.post(&t, &path, &crew).await;
    assert_eq!(crew.status, 201, "{:?}", crew.body);
    assert_eq!(crew.data()["totalMinor"], 4 * (2999 - 1500), "half of 29.99 is 15.00, rounded half up");
    let block_id = block.data()["id"].as_str().unwrap();
    let in_use = f
        .call(reqwest::Method::DELETE, &format!("/v1/vouchers/{block_id}"), Some(&t.owner), Some(t.company), None)
        .await;
    assert_eq!((in_use.status.as_u16(), in_use.code()), (409, "VOUCHER_IN_USE"));
}

#[tokio::test]
async fn refunds_give_seats_and_money_back_and_reach_financial_once() {
    let (listeners, financial_url) = financial_listeners().await;
    let f = fleet_with(&[("FINANCIAL_GRPC_URL", financial_url.as_str())]).await;
    let financial = start_financial(f.peers(), Some(listeners)).await;
    let fin = marquee_test_support::Api(financial.running.client.clone());
    let t = f.tenant().await;
    let event = event_on_sale(&f, &t).await;
    let ga = ticket_type(&f, &t, &event, "GA", 2000, 3).await;
    let reserved = f.post(&t, &format!("/v1/events/{event}/orders"), &order(&[(&ga, 3)], "all")).await;
    let id = reserved.data()["id"].as_str().unwrap().to_owned();
    let paid = f.post(&t, &format!("/v1/orders/{id}/confirm"), &json!({"paymentRef": "psp"})).await;
    assert_eq!(f.get(&t, &format!("/v1/events/{event}")).await.data()["status"], "sold_out");
    let tickets: Vec<String> =
        paid.data()["tickets"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect();

    let too_much =
        f.post(&t, &format!("/v1/orders/{id}/refund"), &json!({"ticketIds": [tickets[0]], "feeMinor": 2001})).await;
    assert_eq!((too_much.status.as_u16(), too_much.body["details"][0]["field"].as_str()), (400, Some("feeMinor")));
    let one =
        f.post(&t, &format!("/v1/orders/{id}/refund"), &json!({"ticketIds": [tickets[0]], "feeMinor": 200})).await;
    assert_eq!(one.status, 200, "{:?}", one.body);
    assert_eq!((&one.data()["status"], &one.data()["refundedMinor"]), (&json!("paid"), &json!(1800)));
    let twice = f.post(&t, &format!("/v1/orders/{id}/refund"), &json!({"ticketIds": [tickets[0]]})).await;
    assert_eq!((twice.status.as_u16(), twice.code()), (409, "ALREADY_REFUNDED"));
    assert_eq!(f.get(&t, &format!("/v1/events/{event}")).await.data()["status"], "on_sale", "a seat is back on sale");
    assert_eq!(type_of(&f, &t, &event, &ga).await["sold"], 2);
    let rest = f.post(&t, &format!("/v1/orders/{id}/refund"), &json!({})).await;
    assert_eq!((&rest.data()["status"], &rest.data()["refundedMinor"]), (&json!("refunded"), &json!(5800)));

    let mut seen = (0, 0);
    for _ in 0..150 {
        let sales = fin.get(&t, "/v1/incomes?category=ticket_sale").await;
        let refunds = fin.get(&t, "/v1/expenses?category=ticket_refund").await;
        seen = (
            sales.body["pagination"]["total"].as_u64().unwrap_or(0),
            refunds.body["pagination"]["total"].as_u64().unwrap_or(0),
        );
        if seen == (1, 2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, (1, 2), "one sale and two refunds in financial");
    let refunds = fin.get(&t, "/v1/expenses?category=ticket_refund").await;
    let mut amounts: Vec<i64> =
        refunds.data().as_array().unwrap().iter().map(|r| r["amount"].as_i64().unwrap()).collect();
    amounts.sort();
    assert_eq!(amounts, [1800, 4000], "each refund less its fee");
    assert_eq!(fin.get(&t, "/v1/incomes?category=ticket_sale").await.data()[0]["amount"], 6000);
}

/// The same order and the same payment sent eight times at once: one order,
/// paid once, and every answer is that paid order with the same tickets.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_orders_and_confirms_at_once_make_one_paid_order() {
    let f = Arc::new(fleet().await);
    let t = Arc::new(f.tenant().await);
    let event = event_on_sale(&f, &t).await;
    let tt = ticket_type(&f, &t, &event, "GA", 2500, 50).await;
    let path = format!("/v1/events/{event}/orders");
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (f, t, path, barrier, body) =
            (f.clone(), t.clone(), path.clone(), barrier.clone(), order(&[(&tt, 2)], "same"));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            f.post(&t, &path, &body).await
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for task in tasks {
        let r = task.await.unwrap();
        assert!(r.status == 201 || r.status == 200, "{:?}", r.body);
        ids.insert(r.data()["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1, "one order for one idempotency key");
    let id = ids.into_iter().next().unwrap();

    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (f, t, id, barrier) = (f.clone(), t.clone(), id.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            f.post(&t, &format!("/v1/orders/{id}/confirm"), &json!({"paymentRef": "pay-1"})).await
        }));
    }
    let mut tickets = std::collections::BTreeSet::new();
    for task in tasks {
        let r = task.await.unwrap();
        assert_eq!((r.status.as_u16(), &r.data()["status"]), (200, &json!("paid")), "{:?}", r.body);
        tickets.insert(r.data()["tickets"].to_string());
    }
    assert_eq!(tickets.len(), 1, "every answer shows the same tickets");
    let types = f.get(&t, &format!("/v1/events/{event}/ticket-types")).await;
    assert_eq!((&types.data()[0]["sold"], &types.data()[0]["held"]), (&json!(2), &json!(0)), "sold once");
}

/// Orders arriving together are committed together, yet each is answered
/// on its own: refused ones (an unknown type, too many seats, two
/// currencies, no seats left, a reused key) hold nothing and fail none of
/// their neighbours; another company's orders at the same moment stay its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_order_amid_accepted_ones_fails_only_itself() {
    let f = Arc::new(fleet_with(&[("RATE_LIMIT_PER_USER", "100000"), ("RATE_LIMIT_PER_COMPANY", "100000")]).await);
    let t = Arc::new(f.tenant().await);
    let other = Arc::new(f.tenant().await);
    let event = event_on_sale(&f, &t).await;
    let ga = ticket_type(&f, &t, &event, "GA", 2500, 12).await;
    let dollars = f
        .post(
            &t,
            &format!("/v1/events/{event}/ticket-types"),
            &json!({"name": "US", "priceMinor": 900, "currency": "USD", "capacity": 5}),
        )
        .await;
    let dollars = dollars.data()["id"].as_str().unwrap().to_owned();
    let theirs = event_on_sale(&f, &other).await;
    let their_type = ticket_type(&f, &other, &theirs, "GA", 100, 4).await;

    let ours = format!("/v1/events/{event}/orders");
    let mut sends: Vec<(&str, Arc<Tenant>, String, Value)> = Vec::new();
    for n in 0..20 {
        sends.push(("ga", t.clone(), ours.clone(), order(&[(&ga, 1)], &format!("ga-{n}"))));
    }
    for n in 0..6 {
        sends.push(("keyed", t.clone(), ours.clone(), order(&[(&ga, 1)], "once")));
        let unknown = uuid::Uuid::now_v7().to_string();
        sends.push(("unknown", t.clone(), ours.clone(), order(&[(&unknown, 1)], &format!("unknown-{n}"))));
        sends.push(("too many", t.clone(), ours.clone(), order(&[(&ga, 11)], &format!("many-{n}"))));
        sends.push(("currencies", t.clone(), ours.clone(), order(&[(&ga, 1), (&dollars, 1)], &format!("mix-{n}"))));
        let path = format!("/v1/events/{theirs}/orders");
        sends.push(("theirs", other.clone(), path, order(&[(&their_type, 1)], &format!("theirs-{n}"))));
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(sends.len()));
    let mut tasks = Vec::new();
    for (kind, tenant, path, body) in sends {
        let (f, barrier) = (f.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            (kind, f.post(&tenant, &path, &body).await)
        }));
    }
    let (mut reserved, mut sold_out, mut keyed_ids, mut theirs_reserved) = (0, 0, std::collections::BTreeSet::new(), 0);
    for task in tasks {
        let (kind, r) = task.await.unwrap();
        match (kind, r.status.as_u16()) {
            ("ga", 201) => reserved += 1,
            ("ga" | "keyed", 409) => {
                assert_eq!(r.code(), "SOLD_OUT", "{:?}", r.body);
                sold_out += 1;
            }
            ("keyed", 201 | 200) => {
                keyed_ids.insert(r.data()["id"].as_str().unwrap().to_owned());
            }
            ("unknown", 400) => assert_eq!(r.fields(), ["items[0].ticketTypeId"]),
            ("too many", 400) => assert_eq!(r.fields(), ["items[0].quantity"]),
            ("currencies", 400) => assert_eq!(r.fields(), ["items"]),
            ("theirs", 201) => theirs_reserved += 1,
            ("theirs", 409) => assert_eq!(r.code(), "SOLD_OUT"),
            (kind, status) => panic!("{kind}: {status} {:?}", r.body),
        }
    }
    assert!(keyed_ids.len() <= 1, "one order at most for the key: {keyed_ids:?}");
    assert_eq!(reserved + keyed_ids.len(), 12, "exactly the capacity was reserved ({sold_out} refused)");
    let held = type_of(&f, &t, &event, &ga).await;
    assert_eq!((held["held"].as_u64(), held["sold"].as_u64()), (Some(12), Some(0)));
    assert_eq!(type_of(&f, &t, &event, &dollars).await["held"].as_u64(), Some(0), "refused orders hold nothing");
    let listed = f.get(&t, &format!("{ours}?limit=1")).await;
    assert_eq!(listed.body["pagination"]["total"], 12, "the refused ones left nothing");
    assert_eq!(theirs_reserved, 4, "the other company's own seats");
}
