//! Offers: the state machine, deadline expiry, and an accepted offer becoming
//! exactly one payable in financial, even when financial is down at the time.

use std::time::Duration;

use serde_json::{Value, json};

use crate::fleet::{Fleet, Tenant, financial_listeners, fleet, fleet_with};
use marquee_test_support::start_financial;

async fn event_and_artist(f: &Fleet, t: &Tenant) -> (String, String) {
    let venue = f
        .post(t, "/v1/venues", &json!({"name": "Hall", "address": {"line1": "x", "city": "Porto", "country": "PT"}, "timezone": "Europe/Lisbon", "capacity": 500}))
        .await
        .data()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let event = f
        .post(t, "/v1/events", &json!({"name": "Show", "venueId": venue, "startsAt": "2031-02-01T20:00:00Z", "endsAt": "2031-02-01T23:00:00Z"}))
        .await
        .data()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let artist = f.post(t, "/v1/artists", &json!({"name": "Owls"})).await.data()["id"].as_str().unwrap().to_owned();
    (event, artist)
}

fn offer(event: &str, artist: &str, deadline: chrono::DateTime<chrono::Utc>) -> Value {
    json!({"eventId": event, "artistId": artist, "feeMinor": 150_000, "currency": "EUR", "terms": "80 minutes", "deadline": deadline.to_rfc3339()})
}

#[tokio::test]
async fn the_offer_state_machine_and_expiry() {
    let f = fleet().await;
    let t = f.tenant().await;
    let (event, artist) = event_and_artist(&f, &t).await;
    let later = chrono::Utc::now() + chrono::Duration::days(7);
    let o = f.post(&t, "/v1/offers", &offer(&event, &artist, later)).await;
    assert_eq!(o.status, 201, "{:?}", o.body);
    let id = o.data()["id"].as_str().unwrap().to_owned();
    let act = |id: String, action: &'static str| {
        let f = &f;
        let t = &t;
        async move {
            let r = f.post(t, &format!("/v1/offers/{id}/{action}"), &json!({})).await;
            (r.status.as_u16(), r.data()["status"].as_str().unwrap_or(r.code()).to_owned())
        }
    };
    assert_eq!(act(id.clone(), "accept").await, (409, "INVALID_TRANSITION".to_owned()), "drafts are sent first");
    assert_eq!(act(id.clone(), "send").await, (200, "sent".to_owned()));
    assert_eq!(act(id.clone(), "decline").await, (200, "declined".to_owned()));
    assert_eq!(act(id.clone(), "accept").await.0, 409);

    let past = f.post(&t, "/v1/offers", &offer(&event, &artist, chrono::Utc::now() - chrono::Duration::hours(1))).await;
    assert_eq!(past.fields(), ["deadline"]);

    let soon = f
        .post(&t, "/v1/offers", &offer(&event, &artist, chrono::Utc::now() + chrono::Duration::milliseconds(1500)))
        .await;
    let soon_id = soon.data()["id"].as_str().unwrap().to_owned();
    assert_eq!(act(soon_id.clone(), "send").await.1, "sent");
    let mut expired = false;
    for _ in 0..50 {
        if f.get(&t, &format!("/v1/offers/{soon_id}")).await.data()["status"] == "expired" {
            expired = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(expired, "the deadline job expired it");
    assert_eq!(act(soon_id, "accept").await.0, 409);

    // The dashboard shows offers waiting for an answer, and sales against capacity.
    let waiting =
        f.post(&t, "/v1/offers", &offer(&event, &artist, later)).await.data()["id"].as_str().unwrap().to_owned();
    assert_eq!(act(waiting.clone(), "send").await.1, "sent");
    for action in ["announce", "start-sales"] {
        assert_eq!(f.post(&t, &format!("/v1/events/{event}/{action}"), &json!({})).await.status, 200);
    }
    let tt = f
        .post(
            &t,
            &format!("/v1/events/{event}/ticket-types"),
            &json!({"name": "GA", "priceMinor": 0, "currency": "EUR", "capacity": 50}),
        )
        .await;
    let tt_id = tt.data()["id"].as_str().unwrap().to_owned();
    let reg = json!({"ticketTypeId": tt_id, "attendeeName": "Ana", "attendeeEmail": "ana@example.com", "quantity": 3});
    assert_eq!(f.post(&t, &format!("/v1/events/{event}/registrations"), &reg).await.status, 201);
    let dash = f.get(&t, "/v1/dashboard").await;
    assert_eq!(dash.status, 200, "{:?}", dash.body);
    let pending: Vec<&str> =
        dash.data()["pendingOffers"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(pending, [waiting.as_str()]);
    assert_eq!(dash.data()["ticketSales"][0]["sold"], 3);
    assert_eq!(dash.data()["ticketSales"][0]["capacity"], 50);
}

#[tokio::test]
async fn an_accepted_offer_and_a_sale_reach_financial_once_even_after_it_was_down() {
    let (listeners, financial_url) = financial_listeners().await;
    let f = fleet_with(&[("FINANCIAL_GRPC_URL", financial_url.as_str())]).await;
    let t = f.tenant().await;
    let (event, artist) = event_and_artist(&f, &t).await;
    let o = f.post(&t, "/v1/offers", &offer(&event, &artist, chrono::Utc::now() + chrono::Duration::days(3))).await;
    let id = o.data()["id"].as_str().unwrap().to_owned();
    assert_eq!(f.post(&t, &format!("/v1/offers/{id}/send"), &json!({})).await.status, 200);
    let accepted = f.post(&t, &format!("/v1/offers/{id}/accept"), &json!({})).await;
    assert_eq!(accepted.data()["status"], "accepted", "accepting does not wait for financial");

    // A ticket sale too, while financial is still away (its port is bound, nothing answers).
    for action in ["announce", "start-sales"] {
        assert_eq!(f.post(&t, &format!("/v1/events/{event}/{action}"), &json!({})).await.status, 200);
    }
    let tt = f
        .post(
            &t,
            &format!("/v1/events/{event}/ticket-types"),
            &json!({"name": "GA", "priceMinor": 3000, "currency": "EUR", "capacity": 10}),
        )
        .await;
    let tt_id = tt.data()["id"].as_str().unwrap().to_owned();
    let sale = f
        .post(
            &t,
            &format!("/v1/events/{event}/registrations"),
            &json!({"ticketTypeId": tt_id, "attendeeName": "Ana", "attendeeEmail": "ana@example.com", "quantity": 2}),
        )
        .await;
    assert_eq!(sale.data()["status"], "confirmed");
    tokio::time::sleep(Duration::from_millis(700)).await;

    let financial = start_financial(f.peers(), Some(listeners)).await;
    let fin = marquee_test_support::Api(financial.running.client.clone());
    let mut seen = (0, 0);
    for _ in 0..150 {
        let payables = fin.get(&t, "/v1/expenses?category=artist_fee").await;
        let incomes = fin.get(&t, "/v1/incomes?category=ticket_sale").await;
        seen = (
            payables.body["pagination"]["total"].as_u64().unwrap_or(0),
            incomes.body["pagination"]["total"].as_u64().unwrap_or(0),
        );
        if seen == (1, 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, (1, 1), "delivered once financial came back");
    let payable = fin.get(&t, "/v1/expenses?category=artist_fee").await;
    assert_eq!(payable.data()[0]["amount"], 150_000);
    assert_eq!(
        (&payable.data()[0]["status"], &payable.data()[0]["createdBy"]),
        (&json!("submitted"), &json!(t.owner_id)),
        "awaiting review by someone other than the member who accepted"
    );
    let income = fin.get(&t, "/v1/incomes?category=ticket_sale").await;
    assert_eq!(income.data()[0]["amount"], 6_000);

    // Nothing is delivered twice: wait for a few relay rounds and count again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(fin.get(&t, "/v1/expenses?category=artist_fee").await.body["pagination"]["total"], 1);
    let metrics = f.base.http.get(f.base.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("outbox_backlog 0"), "the backlog is empty again");
}
