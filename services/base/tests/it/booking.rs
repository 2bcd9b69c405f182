//! Booking: ranked holds with challenges on a manual clock, the first hold
//! booking its date, ranks under concurrency, and an offer's deal settled on
//! a sheet in financial from the tickets really sold.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::fleet::{Fleet, Tenant, financial_listeners, fleet, fleet_on};
use marquee_test_support::start_financial;

async fn venue(f: &Fleet, t: &Tenant) -> String {
    let v = f
        .post(t, "/v1/venues", &json!({"name": "Paradiso", "address": {"line1": "Weteringschans 6", "city": "Amsterdam", "country": "NL"}, "timezone": "Europe/Amsterdam", "capacity": 1500, "spaces": [{"name": "Small Hall", "capacity": 250}]}))
        .await;
    assert_eq!(v.status, 201, "{:?}", v.body);
    v.data()["id"].as_str().unwrap().to_owned()
}

fn hold_on(venue: &str, day: u32, expires: chrono::DateTime<chrono::Utc>) -> Value {
    json!({"venueId": venue, "startsAt": format!("2031-03-{day:02}T20:00:00Z"), "endsAt": format!("2031-03-{day:02}T23:00:00Z"), "expiresAt": expires})
}

async fn place(f: &Fleet, token: &str, t: &Tenant, body: &Value) -> (String, u64) {
    let r = f.call(Method::POST, "/v1/calendar/holds", Some(token), Some(t.company), Some(body)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    (r.data()["id"].as_str().unwrap().to_owned(), r.data()["rank"].as_u64().unwrap_or(0))
}

async fn hold(f: &Fleet, t: &Tenant, id: &str) -> Value {
    f.get(t, &format!("/v1/calendar/holds/{id}")).await.data().clone()
}

/// Waits for the sweeper (every half second) to act on a moved clock.
async fn until(f: &Fleet, t: &Tenant, id: &str, status: &str) -> Value {
    for _ in 0..60 {
        let h = hold(f, t, id).await;
        if h["status"] == status {
            return h;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("hold {id} never became {status}: {}", hold(f, t, id).await);
}

#[tokio::test]
async fn ranked_holds_are_challenged_lapse_and_the_first_books_the_date() {
    let clock = marquee_kit::Clock::manual(chrono::Utc::now());
    let f = fleet_on(&[], clock.clone()).await;
    let t = f.tenant().await;
    let mail = f.media_dir.path().join("mail");
    let (_, booker) = f.member_with(&t, &["basic.calendar.view", "basic.calendar.edit", "basic.event.create"]).await;
    let venue = venue(&f, &t).await;
    let expires = clock.now() + chrono::Duration::days(30);

    let put = f
        .call(
            Method::PUT,
            "/v1/calendar/settings",
            Some(&t.owner),
            Some(t.company),
            Some(&json!({"challengeHours": 24})),
        )
        .await;
    assert_eq!((put.status.as_u16(), &put.data()["challengeHours"]), (200, &json!(24)), "{:?}", put.body);
    let bad = f
        .call(
            Method::PUT,
            "/v1/calendar/settings",
            Some(&t.owner),
            Some(t.company),
            Some(&json!({"challengeHours": 0})),
        )
        .await;
    assert_eq!(bad.fields(), ["challengeHours"]);

    // Three holds on one date take ranks 1, 2, 3; a space of the venue is a lane of its own.
    let (first, r1) = place(&f, &t.owner, &t, &hold_on(&venue, 14, expires)).await;
    let (second, r2) = place(&f, &t.owner, &t, &hold_on(&venue, 14, expires)).await;
    let (third, r3) = place(&f, &booker, &t, &hold_on(&venue, 14, expires)).await;
    assert_eq!((r1, r2, r3), (1, 2, 3));
    let mut small = hold_on(&venue, 14, expires);
    small["space"] = json!("Small Hall");
    assert_eq!(place(&f, &t.owner, &t, &small).await.1, 1, "the small hall is its own lane");
    small["space"] = json!("Attic");
    assert_eq!(f.post(&t, "/v1/calendar/holds", &small).await.fields(), ["space"]);
    let mut stranger = hold_on(&venue, 14, expires);
    stranger["ownerId"] = json!(uuid::Uuid::now_v7());
    assert_eq!(f.post(&t, "/v1/calendar/holds", &stranger).await.fields(), ["ownerId"]);

    let top = f.post(&t, &format!("/v1/calendar/holds/{first}/challenge"), &json!({})).await;
    assert_eq!((top.status.as_u16(), top.code()), (409, "NOTHING_TO_CHALLENGE"));

    // The third challenges: both holds above get 24 hours, and their owner is mailed.
    let challenged = f
        .call(
            Method::POST,
            &format!("/v1/calendar/holds/{third}/challenge"),
            Some(&booker),
            Some(t.company),
            Some(&json!({})),
        )
        .await;
    assert_eq!(challenged.status, 200, "{:?}", challenged.body);
    let deadline = clock.now() + chrono::Duration::hours(24);
    for id in [&first, &second] {
        let h = hold(&f, &t, id).await;
        assert_eq!(h["challenge"]["byHoldId"], json!(third));
        let at: chrono::DateTime<chrono::Utc> = serde_json::from_value(h["challenge"]["deadline"].clone()).unwrap();
        assert!((at - deadline).num_seconds().abs() <= 1, "{at} against {deadline}");
    }
    let again = f
        .call(
            Method::POST,
            &format!("/v1/calendar/holds/{third}/challenge"),
            Some(&booker),
            Some(t.company),
            Some(&json!({})),
        )
        .await;
    assert_eq!((again.status.as_u16(), again.code()), (409, "CHALLENGE_RUNNING"));
    let calendar = f.get(&t, "/v1/calendar?from=2031-03-14T00:00:00Z&to=2031-03-15T00:00:00Z").await;
    let shown = calendar.data().as_array().unwrap().iter().find(|i| i["id"] == json!(first)).unwrap().clone();
    assert_eq!((&shown["rank"], &shown["challenge"]["byHoldId"]), (&json!(1), &json!(third)));
    let not_first = f.post(&t, &format!("/v1/calendar/holds/{second}/confirm"), &json!({})).await;
    assert_eq!((not_first.status.as_u16(), not_first.code()), (409, "NOT_FIRST_HOLD"));
    for _ in 0..50 {
        if marquee_testkit::mail::mails(&mail).iter().filter(|m| m.contains("is challenged")).count() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(marquee_testkit::mail::mails(&mail).iter().filter(|m| m.contains("is challenged")).count(), 2);

    // Nobody answers: a day later both lapse and the challenger is first.
    clock.advance(chrono::Duration::hours(25));
    let late = f.post(&t, &format!("/v1/calendar/holds/{first}/confirm"), &json!({})).await;
    assert_eq!(
        (late.status.as_u16(), late.code()),
        (409, "HOLD_NOT_HELD"),
        "past its deadline, even before the sweeper"
    );
    until(&f, &t, &first, "lapsed").await;
    until(&f, &t, &second, "lapsed").await;
    let now_first = hold(&f, &t, &third).await;
    assert_eq!((&now_first["rank"], &now_first["challenge"]), (&json!(1), &Value::Null));
    let log = f.get(&t, "/v1/activity?limit=100").await;
    let actions: Vec<&str> = log
        .data()
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["entity"] == "hold")
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in ["created", "challenged", "lapsed", "moved_up"] {
        assert!(actions.contains(&action), "{action} is in the activity log: {actions:?}");
    }

    // A fourth hold comes in second; the first confirms and books the date.
    let (fourth, r4) = place(&f, &t.owner, &t, &hold_on(&venue, 14, expires)).await;
    assert_eq!(r4, 2);
    let booked = f
        .call(
            Method::POST,
            &format!("/v1/calendar/holds/{third}/confirm"),
            Some(&booker),
            Some(t.company),
            Some(&json!({"name": "Owls live"})),
        )
        .await;
    assert_eq!((booked.status.as_u16(), &booked.data()["status"]), (200, &json!("booked")), "{:?}", booked.body);
    let event = f.get(&t, &format!("/v1/events/{}", booked.data()["eventId"].as_str().unwrap())).await;
    assert_eq!((&event.data()["name"], &event.data()["venueId"]), (&json!("Owls live"), &json!(venue)));
    assert_eq!(hold(&f, &t, &fourth).await["status"], "superseded");
    let twice = f.post(&t, &format!("/v1/calendar/holds/{third}/confirm"), &json!({})).await;
    assert_eq!((twice.status.as_u16(), twice.code()), (409, "HOLD_NOT_HELD"));
    let release =
        f.call(Method::DELETE, &format!("/v1/calendar/holds/{third}"), Some(&t.owner), Some(t.company), None).await;
    assert_eq!(release.code(), "HOLD_NOT_HELD");

    // A hold runs out by itself, and the one below moves up.
    let soon = clock.now() + chrono::Duration::hours(1);
    let (short, _) = place(&f, &t.owner, &t, &hold_on(&venue, 20, soon)).await;
    let (behind, behind_rank) = place(&f, &t.owner, &t, &hold_on(&venue, 20, expires)).await;
    assert_eq!(behind_rank, 2);
    clock.advance(chrono::Duration::hours(2));
    until(&f, &t, &short, "expired").await;
    assert_eq!(hold(&f, &t, &behind).await["rank"], 1);
    // The first hold links an event already at its venue, not one elsewhere.
    let elsewhere = f
        .post(&t, "/v1/venues", &json!({"name": "Melkweg", "address": {"line1": "x", "city": "Amsterdam", "country": "NL"}, "timezone": "Europe/Amsterdam", "capacity": 700}))
        .await
        .data()["id"]
        .clone();
    let event_at = |venue: Value| json!({"name": "Linked", "venueId": venue, "startsAt": "2031-03-20T20:00:00Z", "endsAt": "2031-03-20T23:00:00Z"});
    let other_event = f.post(&t, "/v1/events", &event_at(elsewhere)).await.data()["id"].clone();
    let wrong = f.post(&t, &format!("/v1/calendar/holds/{behind}/confirm"), &json!({"eventId": other_event})).await;
    assert_eq!(wrong.fields(), ["eventId"]);
    let here = f.post(&t, "/v1/events", &event_at(json!(venue))).await.data()["id"].clone();
    let linked = f.post(&t, &format!("/v1/calendar/holds/{behind}/confirm"), &json!({"eventId": here})).await;
    assert_eq!((&linked.data()["status"], &linked.data()["eventId"]), (&json!("booked"), &here), "{:?}", linked.body);

    // A member releases the owner's hold: the owner is told.
    let (mine, _) = place(&f, &t.owner, &t, &hold_on(&venue, 21, expires)).await;
    let released =
        f.call(Method::DELETE, &format!("/v1/calendar/holds/{mine}"), Some(&booker), Some(t.company), None).await;
    assert_eq!(released.data()["status"], "released");
    for _ in 0..50 {
        if marquee_testkit::mail::mails(&mail).iter().any(|m| m.contains("Your hold was released")) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the owner was not mailed about the release");
}

/// Many holds placed and released at once on one date: the ranks stay 1..n,
/// never two of a rank (PostgreSQL, many threads; SQLite serializes anyway).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ranks_stay_unique_and_dense_under_concurrency() {
    let f = Arc::new(fleet().await);
    let t = Arc::new(f.tenant().await);
    let venue = venue(&f, &t).await;
    let expires = chrono::Utc::now() + chrono::Duration::days(30);
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (f, t, body) = (f.clone(), t.clone(), hold_on(&venue, 9, expires));
        tasks.push(tokio::spawn(async move { place(&f, &t.owner, &t, &body).await }));
    }
    let mut placed = Vec::new();
    for task in tasks {
        placed.push(task.await.unwrap());
    }
    let mut ranks: Vec<u64> = placed.iter().map(|(_, r)| *r).collect();
    ranks.sort_unstable();
    assert_eq!(ranks, (1..=16).collect::<Vec<u64>>());

    // Every other hold is released while six more arrive.
    let mut tasks = Vec::new();
    for (id, _) in placed.iter().step_by(2) {
        let (f, t, id) = (f.clone(), t.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            let r = f
                .call(Method::DELETE, &format!("/v1/calendar/holds/{id}"), Some(&t.owner), Some(t.company), None)
                .await;
            assert_eq!(r.status, 200, "{:?}", r.body);
        }));
    }
    for _ in 0..6 {
        let (f, t, body) = (f.clone(), t.clone(), hold_on(&venue, 9, expires));
        tasks.push(tokio::spawn(async move {
            place(&f, &t.owner, &t, &body).await;
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let lane = f.get(&t, &format!("/v1/calendar/holds?venueId={venue}&date=2031-03-09")).await;
    let mut ranks: Vec<u64> = lane.data().as_array().unwrap().iter().map(|h| h["rank"].as_u64().unwrap()).collect();
    ranks.sort_unstable();
    assert_eq!(ranks, (1..=14).collect::<Vec<u64>>(), "8 left and 6 came: ranks 1 to 14, each once");
}

#[tokio::test]
async fn a_deal_is_checked_where_it_is_made() {
    let f = fleet().await;
    let t = f.tenant().await;
    let venue = venue(&f, &t).await;
    let artist = f.post(&t, "/v1/artists", &json!({"name": "Owls"})).await.data()["id"].clone();
    let event = f
        .post(&t, "/v1/events", &json!({"name": "Gala", "venueId": venue, "startsAt": "2031-05-01T20:00:00Z", "endsAt": "2031-05-01T23:00:00Z"}))
        .await
        .data()["id"]
        .clone();
    let deadline = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let offer = |fee: Value, deal: Value| {
        let mut body = json!({"eventId": event, "artistId": artist, "currency": "EUR", "deadline": deadline});
        if !fee.is_null() {
            body["feeMinor"] = fee;
        }
        if !deal.is_null() {
            body["deal"] = deal;
        }
        body
    };
    for (fee, deal, field) in [
        (Value::Null, Value::Null, "feeMinor"),
        (json!(100), json!({"kind": "door", "guaranteeMinor": 100, "percentBps": 8000}), "deal.guaranteeMinor"),
        (json!(100), json!({"kind": "flat", "guaranteeMinor": 100, "percentBps": 10}), "deal.percentBps"),
        (json!(100), json!({"kind": "versus", "guaranteeMinor": 100}), "deal.percentBps"),
        (json!(100), json!({"kind": "plus", "guaranteeMinor": 100, "percentBps": 10_001}), "deal.percentBps"),
        (json!(100), json!({"kind": "flat", "guaranteeMinor": 100, "facilityFeeMinor": -1}), "deal.facilityFeeMinor"),
        (json!(100), json!({"kind": "flat", "guaranteeMinor": 100, "salesTaxBps": 20_000}), "deal.salesTaxBps"),
        (json!(999), json!({"kind": "flat", "guaranteeMinor": 100}), "feeMinor"),
        (
            Value::Null,
            json!({"kind": "flat", "guaranteeMinor": 100, "bonuses": [{"kind": "tickets_sold", "threshold": 0, "amountMinor": 5}]}),
            "deal.bonuses[0].threshold",
        ),
    ] {
        let r = f.post(&t, "/v1/offers", &offer(fee, deal.clone())).await;
        assert_eq!(r.fields(), [field], "{deal}: {:?}", r.body);
    }
    let huge = f
        .post(
            &t,
            "/v1/offers",
            &offer(Value::Null, json!({"kind": "flat", "guaranteeMinor": 18_446_744_073_709_551_615u64})),
        )
        .await;
    assert_eq!(huge.status, 400, "{:?}", huge.body);
    let door = f
        .post(&t, "/v1/offers", &offer(Value::Null, json!({"kind": "door", "percentBps": 8500, "basis": "net"})))
        .await;
    assert_eq!((door.status.as_u16(), &door.data()["feeMinor"]), (201, &json!(0)), "{:?}", door.body);
    assert_eq!(door.data()["deal"]["basis"], "net");
    let plain = f.post(&t, "/v1/offers", &offer(json!(50_000), Value::Null)).await;
    assert_eq!(
        (&plain.data()["deal"]["kind"], &plain.data()["deal"]["guaranteeMinor"]),
        (&json!("flat"), &json!(50_000))
    );
}

/// 500 tickets at 20.00 and 500 at 25.00, a 1.00 facility fee per ticket and
/// 6.5 % tax included: financial's sheet from what base really sold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_deal_settles_on_a_sheet_from_real_sales() {
    let (listeners, financial_url) = financial_listeners().await;
    let f = fleet_on(&[("FINANCIAL_GRPC_URL", financial_url.as_str())], marquee_kit::Clock::default()).await;
    let financial = start_financial(f.peers(), Some(listeners)).await;
    let fin = marquee_test_support::Api(financial.running.client.clone());
    let t = f.tenant().await;
    let event = crate::fleet::event_on_sale(&f, &t).await;
    let mut types = Vec::new();
    for (name, price, capacity, comps, kills) in [("GA", 2_000, 520, 12, 8), ("Balcony", 2_500, 500, 0, 0)] {
        let tt = f
            .post(&t, &format!("/v1/events/{event}/ticket-types"), &json!({"name": name, "priceMinor": price, "currency": "EUR", "capacity": capacity, "comps": comps, "kills": kills, "perOrderMax": 100}))
            .await;
        assert_eq!(tt.status, 201, "{:?}", tt.body);
        types.push(tt.data()["id"].as_str().unwrap().to_owned());
    }
    let artist = f.post(&t, "/v1/artists", &json!({"name": "Owls"})).await.data()["id"].clone();
    let deadline = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let deal = json!({"kind": "versus", "guaranteeMinor": 500_000, "percentBps": 6_000, "basis": "gross", "facilityFeeMinor": 100, "salesTaxBps": 650});
    let offer = f
        .post(
            &t,
            "/v1/offers",
            &json!({"eventId": event, "artistId": artist, "currency": "EUR", "deadline": deadline, "deal": deal}),
        )
        .await;
    let offer = offer.data()["id"].as_str().unwrap().to_owned();
    for action in ["send", "accept"] {
        assert_eq!(f.post(&t, &format!("/v1/offers/{offer}/{action}"), &json!({})).await.status, 200);
    }
    for (n, tt) in types.iter().enumerate() {
        for k in 0..5 {
            let order = f
                .post(
                    &t,
                    &format!("/v1/events/{event}/orders"),
                    &json!({"items": [{"ticketTypeId": tt, "quantity": 100}], "idempotencyKey": format!("o{n}-{k}")}),
                )
                .await;
            assert_eq!(order.status, 201, "{:?}", order.body);
            let id = order.data()["id"].as_str().unwrap();
            let paid =
                f.post(&t, &format!("/v1/orders/{id}/confirm"), &json!({"paymentRef": format!("p{n}-{k}")})).await;
            assert_eq!(paid.status, 200, "{:?}", paid.body);
        }
    }
    let sold_out = f
        .post(
            &t,
            &format!("/v1/events/{event}/orders"),
            &json!({"items": [{"ticketTypeId": types[0], "quantity": 1}], "idempotencyKey": "late"}),
        )
        .await;
    assert_eq!(sold_out.status, 409, "comps and kills are not for sale: {:?}", sold_out.body);

    let preview = format!("/v1/settlements/preview?eventId={event}&currency=EUR");
    let mut sheet = Value::Null;
    for _ in 0..100 {
        sheet = fin.get(&t, &preview).await.data().clone();
        if sheet["ticketsSold"] == 1_000
            && sheet["artists"].as_array().is_some_and(|a| a.len() == 1)
            && !sheet["grossPotential"].is_null()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sheet["grossPotential"], 2_250_000, "{sheet}");
    assert_eq!(sheet["sellableTickets"], 1_000);
    assert_eq!(sheet["gross"], 2_250_000);
    assert_eq!(sheet["facilityFees"], 100_000);
    assert_eq!(sheet["adjustedGross"], 2_150_000);
    assert_eq!(sheet["netGross"], 2_018_779, "21,500.00 / 1.065 = 20,187.79");
    assert_eq!(sheet["artists"][0]["payout"], 1_211_267, "60 % of the net gross beats the guarantee");
    assert_eq!(sheet["promoterShare"], 2_018_779 - 1_211_267);

    let created = fin
        .post(
            &t,
            "/v1/settlements",
            &json!({"eventId": event, "currency": "EUR", "splits": [{"party": "promoter", "shareBps": 10_000}]}),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.data()["id"].as_str().unwrap().to_owned();
    let finalized = fin.post(&t, &format!("/v1/settlements/{id}/finalize"), &json!({})).await;
    assert_eq!(finalized.status, 200, "{:?}", finalized.body);
    let allocations = finalized.data()["figures"]["allocations"].clone();
    assert_eq!(
        allocations,
        json!([
            {"party": format!("artist:{}", artist.as_str().unwrap()), "shareBps": 0, "amount": 1_211_267 - 500_000},
            {"party": "promoter", "shareBps": 10_000, "amount": 2_018_779 - 1_211_267},
        ]),
        "the guarantee is the accepted offer's payable; the settlement books the rest"
    );
    let frozen = fin.get(&t, &format!("/v1/settlements/{id}/sheet")).await;
    assert_eq!(frozen.data()["artistPayout"], 1_211_267);
    let trial = fin.get(&t, "/v1/ledger/trial-balance").await;
    for total in trial.data()["totals"].as_array().unwrap() {
        assert_eq!(total["difference"], 0, "the ledger balances");
    }
}

/// Ticket types added to one event at once each report their own manifest
/// revision: none is refused for another's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ticket_types_added_at_once_are_all_kept() {
    let f = Arc::new(fleet().await);
    let t = Arc::new(f.tenant().await);
    let event = crate::fleet::event_on_sale(&f, &t).await;
    let mut tasks = Vec::new();
    for n in 0..6 {
        let (f, t, path) = (f.clone(), t.clone(), format!("/v1/events/{event}/ticket-types"));
        tasks.push(tokio::spawn(async move {
            let body = json!({"name": format!("Tier {n}"), "priceMinor": 1000, "currency": "EUR", "capacity": 10});
            f.post(&t, &path, &body).await
        }));
    }
    for task in tasks {
        let r = task.await.unwrap();
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    assert_eq!(f.get(&t, &format!("/v1/events/{event}/ticket-types")).await.data().as_array().unwrap().len(), 6);
}

/// Sends `path` with `body` eight times at once; the answers' statuses and codes.
async fn eight_at_once(f: &Arc<Fleet>, t: &Arc<Tenant>, path: String, body: Value) -> Vec<(u16, String)> {
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (f, t, path, body) = (f.clone(), t.clone(), path.clone(), body.clone());
            tokio::spawn(async move {
                let r = f.call(Method::POST, &path, Some(&t.owner), Some(t.company), Some(&body)).await;
                (r.status.as_u16(), r.code().to_owned())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers.sort();
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_challenge_or_confirmation_sent_at_once_acts_once() {
    let f = Arc::new(fleet().await);
    let t = Arc::new(f.tenant().await);
    let venue = venue(&f, &t).await;
    let expires = chrono::Utc::now() + chrono::Duration::days(30);
    let (first, _) = place(&f, &t.owner, &t, &hold_on(&venue, 21, expires)).await;
    let (second, _) = place(&f, &t.owner, &t, &hold_on(&venue, 21, expires)).await;
    let (third, _) = place(&f, &t.owner, &t, &hold_on(&venue, 21, expires)).await;

    let answers = eight_at_once(&f, &t, format!("/v1/calendar/holds/{third}/challenge"), json!({})).await;
    assert_eq!(answers.iter().filter(|(s, _)| *s == 200).count(), 1, "{answers:?}");
    assert!(answers.iter().all(|a| a.0 == 200 || *a == (409, "CHALLENGE_RUNNING".to_owned())), "{answers:?}");
    for above in [&first, &second] {
        let h = hold(&f, &t, above).await;
        assert_eq!(h["challenge"]["byHoldId"], json!(third), "{h}");
    }
    let log = f.get(&t, "/v1/activity?entity=hold&limit=100").await;
    let challenged = log.data().as_array().unwrap().iter().filter(|e| e["action"] == "challenged").count();
    assert_eq!(challenged, 2, "one challenge, of the two holds above: {:?}", log.body);

    let events_before = f.get(&t, "/v1/events").await.body["pagination"]["total"].as_u64().unwrap();
    let answers =
        eight_at_once(&f, &t, format!("/v1/calendar/holds/{first}/confirm"), json!({"name": "One night only"})).await;
    assert_eq!(answers.iter().filter(|(s, _)| *s == 200).count(), 1, "{answers:?}");
    assert!(answers.iter().all(|a| a.0 == 200 || *a == (409, "HOLD_NOT_HELD".to_owned())), "{answers:?}");
    let events_after = f.get(&t, "/v1/events").await.body["pagination"]["total"].as_u64().unwrap();
    assert_eq!(events_after, events_before + 1, "one event booked");
    assert_eq!(hold(&f, &t, &first).await["status"], "booked");
    for other in [&second, &third] {
        assert_eq!(hold(&f, &t, other).await["status"], "superseded");
    }
}
