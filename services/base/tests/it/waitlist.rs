//! The waiting list of orders: freed seats are offered in order with a
//! one-time link; an offer that runs out passes to the next entry; a used
//! offer is never revived by a later cancellation or refund.

use serde_json::{Value, json};

use crate::fleet::{Fleet, Tenant, event_on_sale, fleet_on};

async fn entries(f: &Fleet, t: &Tenant, event: &str) -> Vec<Value> {
    f.get(t, &format!("/v1/events/{event}/waitlist?limit=100")).await.data().as_array().unwrap().clone()
}

fn entry<'a>(all: &'a [Value], email: &str) -> &'a Value {
    all.iter().find(|e| e["email"] == email).unwrap()
}

#[tokio::test]
async fn offers_pass_down_the_line_and_a_used_offer_never_revives() {
    let clock = marquee_kit::Clock::manual(chrono::Utc::now());
    let f = fleet_on(&[("WAITLIST_OFFER_HOURS", "2")], clock.clone()).await;
    let t = f.tenant().await;
    let mail = f.media_dir.path().join("mail");
    let event = event_on_sale(&f, &t).await;
    let tt = f
        .post(
            &t,
            &format!("/v1/events/{event}/ticket-types"),
            &json!({"name": "GA", "priceMinor": 1000, "currency": "EUR", "capacity": 2}),
        )
        .await
        .data()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bought = f
        .post(
            &t,
            &format!("/v1/events/{event}/orders"),
            &json!({"items": [{"ticketTypeId": tt, "quantity": 2}], "idempotencyKey": "all"}),
        )
        .await;
    let first = bought.data()["id"].as_str().unwrap().to_owned();
    let paid = f.post(&t, &format!("/v1/orders/{first}/confirm"), &json!({"paymentRef": "p1"})).await;
    let ticket = paid.data()["tickets"][0]["id"].clone();

    let waitlist = format!("/v1/events/{event}/waitlist");
    for who in ["ana@example.com", "ben@example.com"] {
        let joined = f.post(&t, &waitlist, &json!({"email": who, "ticketTypeId": tt, "quantity": 1})).await;
        assert_eq!((joined.status.as_u16(), &joined.data()["status"]), (201, &json!("waiting")), "{:?}", joined.body);
    }
    let twice = f.post(&t, &waitlist, &json!({"email": "ANA@example.com", "ticketTypeId": tt, "quantity": 1})).await;
    assert_eq!((twice.status.as_u16(), twice.code()), (409, "ALREADY_WAITING"));

    // A refund frees a seat: the first in line is offered it, by mail.
    let refunded = f.post(&t, &format!("/v1/orders/{first}/refund"), &json!({"ticketIds": [ticket]})).await;
    assert_eq!(refunded.status, 200, "{:?}", refunded.body);
    let now = entries(&f, &t, &event).await;
    assert_eq!(
        (&entry(&now, "ana@example.com")["status"], &entry(&now, "ben@example.com")["status"]),
        (&json!("offered"), &json!("waiting"))
    );
    let ana_order = entry(&now, "ana@example.com")["orderId"].as_str().unwrap().to_owned();
    let ana_token = marquee_testkit::mail::find_token(&mail, "ana@example.com", "waitlist-offer");
    let ana_token = match ana_token {
        Some(token) => token,
        None => {
            // The relay writes the mail within a moment.
            tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
            marquee_testkit::mail::find_token(&mail, "ana@example.com", "waitlist-offer")
                .expect("an offer mailed to ana")
        }
    };
    let offer = f.get(&t, &format!("/v1/waitlist-offers/{ana_token}")).await;
    assert_eq!((offer.status.as_u16(), &offer.data()["id"]), (200, &json!(ana_order)));
    assert_eq!(offer.data()["status"], "reserved");
    let sold_out = f
        .post(
            &t,
            &format!("/v1/events/{event}/orders"),
            &json!({"items": [{"ticketTypeId": tt, "quantity": 1}], "idempotencyKey": "stranger"}),
        )
        .await;
    assert_eq!(sold_out.code(), "SOLD_OUT", "the offered seat is held for ana");

    // Ana lets it run out: it passes to ben.
    clock.advance(chrono::Duration::hours(2) + chrono::Duration::seconds(1));
    assert_eq!(f.get(&t, &format!("/v1/orders/{ana_order}")).await.data()["status"], "expired");
    let now = entries(&f, &t, &event).await;
    assert_eq!(
        (&entry(&now, "ana@example.com")["status"], &entry(&now, "ben@example.com")["status"]),
        (&json!("expired"), &json!("offered"))
    );
    assert_eq!(f.get(&t, &format!("/v1/waitlist-offers/{ana_token}")).await.status, 404, "the link worked once");

    // Ben pays; then his order is refunded: nobody's offer comes back.
    let ben_order = entry(&now, "ben@example.com")["orderId"].as_str().unwrap().to_owned();
    let ben_paid = f.post(&t, &format!("/v1/orders/{ben_order}/confirm"), &json!({"paymentRef": "p2"})).await;
    assert_eq!(ben_paid.data()["status"], "paid", "{:?}", ben_paid.body);
    assert_eq!(f.post(&t, &format!("/v1/orders/{ben_order}/cancel"), &json!({})).await.status, 200);
    let now = entries(&f, &t, &event).await;
    assert_eq!(
        (&entry(&now, "ana@example.com")["status"], &entry(&now, "ben@example.com")["status"]),
        (&json!("expired"), &json!("used"))
    );
    let ga = f.get(&t, &format!("/v1/events/{event}/ticket-types")).await;
    assert_eq!((&ga.data()[0]["sold"], &ga.data()[0]["held"]), (&json!(1), &json!(0)), "the seat is back on sale");
}
