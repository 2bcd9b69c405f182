//! Events: bookings, races, the event limit, status moves; venues and vendors.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fleet::{Fleet, Tenant, fleet};

async fn venue(f: &Fleet, t: &Tenant, name: &str) -> String {
    let r = f
        .post(
            t,
            "/v1/venues",
            &json!({"name": name, "address": {"line1": "Rua Augusta 1", "city": "Lisboa", "country": "PT"}, "timezone": "Europe/Lisbon", "capacity": 800, "spaces": [{"name": "Main hall", "capacity": 600}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.data()["id"].as_str().unwrap().to_owned()
}

fn event(venue: &str, day: u32, name: &str) -> Value {
    json!({"name": name, "venueId": venue, "startsAt": format!("2027-03-{day:02}T20:00:00Z"), "endsAt": format!("2027-03-{day:02}T23:30:00Z")})
}

#[tokio::test]
async fn venues_and_vendors_crud_and_validation() {
    let f = fleet().await;
    let t = f.tenant().await;
    let v = venue(&f, &t, "Coliseu").await;
    assert_eq!(f.get(&t, &format!("/v1/venues/{v}")).await.data()["timezone"], "Europe/Lisbon");
    let bad = f.post(&t, "/v1/venues", &json!({"name": "X", "address": {"line1": "a", "city": "b", "country": "Portugal"}, "timezone": "lisbon", "capacity": 10, "spaces": [{"name": "Big", "capacity": 20}]})).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.fields(), ["address.country", "timezone", "spaces[0].capacity"]);
    let lisbon = f.get(&t, "/v1/venues?city=Lisboa").await;
    assert_eq!(lisbon.body["pagination"]["total"], 1);
    let patched = f
        .call(
            Method::PATCH,
            &format!("/v1/venues/{v}"),
            Some(&t.owner),
            Some(t.company),
            Some(&json!({"capacity": 900})),
        )
        .await;
    assert_eq!(patched.data()["capacity"], 900);

    let vendor = f
        .post(&t, "/v1/vendors", &json!({"name": "Sound Co", "category": "sound", "services": ["PA", "monitors"]}))
        .await;
    assert_eq!(vendor.status, 201, "{:?}", vendor.body);
    let id = vendor.data()["id"].as_str().unwrap();
    assert_eq!(f.get(&t, "/v1/vendors?category=sound").await.body["pagination"]["total"], 1);
    assert_eq!(f.get(&t, "/v1/vendors?category=catering").await.body["pagination"]["total"], 0);
    assert_eq!(
        f.call(Method::DELETE, &format!("/v1/vendors/{id}"), Some(&t.owner), Some(t.company), None).await.status,
        200
    );

    // A venue with events stays.
    assert_eq!(f.post(&t, "/v1/events", &event(&v, 1, "Opening")).await.status, 201);
    let r = f.call(Method::DELETE, &format!("/v1/venues/{v}"), Some(&t.owner), Some(t.company), None).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "VENUE_IN_USE"));

    let other = f.tenant().await;
    assert_eq!(f.get(&other, &format!("/v1/venues/{v}")).await.status, 404);
}

#[tokio::test]
async fn events_refuse_double_booking_and_unknown_references() {
    let f = fleet().await;
    let t = f.tenant().await;
    let v = venue(&f, &t, "Coliseu").await;
    let artist = f.post(&t, "/v1/artists", &json!({"name": "Owls"})).await.data()["id"].as_str().unwrap().to_owned();
    let mut body = event(&v, 10, "Owls live");
    body["lineup"] =
        json!([{"artistId": artist, "setStart": "2027-03-10T21:00:00Z", "setEnd": "2027-03-10T22:30:00Z"}]);
    let first = f.post(&t, "/v1/events", &body).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(first.data()["status"], "draft");
    assert_eq!(first.data()["timezone"], "Europe/Lisbon", "the venue's zone by default");

    let overlap =
        json!({"name": "Clash", "venueId": v, "startsAt": "2027-03-10T23:00:00Z", "endsAt": "2027-03-11T01:00:00Z"});
    let r = f.post(&t, "/v1/events", &overlap).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "VENUE_DOUBLE_BOOKED"));
    let after = json!({"name": "Late show", "venueId": v, "startsAt": "2027-03-10T23:30:00Z", "endsAt": "2027-03-11T01:00:00Z"});
    assert_eq!(f.post(&t, "/v1/events", &after).await.status, 201, "back to back is fine");

    let mut unknown = event(&v, 12, "Ghost");
    unknown["lineup"] = json!([{"artistId": Uuid::now_v7()}]);
    let r = f.post(&t, "/v1/events", &unknown).await;
    assert_eq!(r.fields(), ["lineup[0].artistId"]);
    let r = f.post(&t, "/v1/events", &event(&Uuid::now_v7().to_string(), 12, "Nowhere")).await;
    assert_eq!(r.fields(), ["venueId"]);
    let mut outside = event(&v, 13, "Bad set");
    outside["lineup"] = json!([{"artistId": artist, "setStart": "2027-03-14T01:00:00Z"}]);
    assert_eq!(f.post(&t, "/v1/events", &outside).await.fields(), ["lineup[0].setStart"]);
    let backwards = json!({"name": "Backwards", "venueId": v, "startsAt": "2027-03-15T20:00:00Z", "endsAt": "2027-03-15T19:00:00Z"});
    assert_eq!(f.post(&t, "/v1/events", &backwards).await.fields(), ["endsAt"]);

    // Another company's venue is unknown here.
    let other = f.tenant().await;
    let r = f.post(&other, "/v1/events", &event(&v, 20, "Theirs")).await;
    assert_eq!(r.fields(), ["venueId"]);

    // Moving onto a booked slot is refused too.
    let id = first.data()["id"].as_str().unwrap();
    let mv = f
        .call(
            Method::PATCH,
            &format!("/v1/events/{id}"),
            Some(&t.owner),
            Some(t.company),
            Some(&json!({"startsAt": "2027-03-10T23:45:00Z", "endsAt": "2027-03-11T00:30:00Z", "lineup": []})),
        )
        .await;
    assert_eq!(mv.status, 409);
}

#[tokio::test]
async fn racing_bookings_of_one_slot_yield_one_event() {
    let f = Arc::new(fleet().await);
    let t = Arc::new(f.tenant().await);
    let v = venue(&f, &t, "Coliseu").await;
    let barrier = Arc::new(tokio::sync::Barrier::new(10));
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (f, t, barrier, body) = (f.clone(), t.clone(), barrier.clone(), event(&v, 5, &format!("Racer {i}")));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            f.post(&t, "/v1/events", &body).await.status.as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    assert_eq!(f.get(&t, "/v1/events").await.body["pagination"]["total"], 1);
}

#[tokio::test]
async fn concurrent_creates_never_overshoot_max_events() {
    let f = Arc::new(fleet().await);
    let t = Arc::new(f.tenant().await);
    let (_, admin) = f.login(crate::fleet::ADMIN_EMAIL, crate::fleet::ADMIN_PASSWORD).await;
    let code = format!("small-{}", &Uuid::now_v7().simple().to_string()[24..]);
    let made = f
        .core
        .post(
            "/v1/packages",
            Some(&admin),
            &json!({"code": code, "name": "Small", "modules": ["basic"], "limits": {"maxEvents": 3}}),
        )
        .await;
    assert_eq!(made.status, 201);
    f.set_package(t.company, json!({"packageCode": code, "status": "active"})).await;
    let v = venue(&f, &t, "Coliseu").await;
    // Read-after-write: ask auth for the revision that carries the new plan,
    // and demand at least that revision from base.
    let mut revision = 0;
    for _ in 0..100 {
        let access = f
            .auth
            .send(
                f.auth
                    .http
                    .get(f.auth.url("/v1/me/access"))
                    .bearer_auth(&t.owner)
                    .header("x-org", t.company.to_string()),
            )
            .await;
        if access.data()["limits"]["maxEvents"] == 3 {
            revision = access.data()["revision"].as_u64().unwrap();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(revision > 0, "auth sees the new plan");
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let mut tasks = Vec::new();
    for day in 1..=8u32 {
        let (f, t, barrier, body) = (f.clone(), t.clone(), barrier.clone(), event(&v, day, &format!("Night {day}")));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let request = f
                .base
                .http
                .post(f.base.url("/v1/events"))
                .bearer_auth(&t.owner)
                .header("x-org", t.company.to_string())
                .header("x-access-revision", revision.to_string())
                .json(&body);
            let r = f.base.send(request).await;
            (r.status.as_u16(), r.code().to_owned())
        }));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            (201, _) => created += 1,
            (403, code) => assert_eq!(code, "EVENT_LIMIT_REACHED"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(created, 3);
    assert_eq!(f.get(&t, "/v1/events").await.body["pagination"]["total"], 3);
}

#[tokio::test]
async fn status_moves_follow_the_lifecycle() {
    let f = fleet().await;
    let t = f.tenant().await;
    let v = venue(&f, &t, "Coliseu").await;
    let id = f.post(&t, "/v1/events", &event(&v, 7, "Gala")).await.data()["id"].as_str().unwrap().to_owned();
    let act = |action: &'static str| {
        let id = id.clone();
        let f = &f;
        let t = &t;
        async move {
            let r = f.post(t, &format!("/v1/events/{id}/{action}"), &json!({})).await;
            (r.status.as_u16(), r.data()["status"].as_str().unwrap_or(r.code()).to_owned())
        }
    };
    assert_eq!(act("sell-out").await, (409, "INVALID_TRANSITION".to_owned()));
    assert_eq!(act("announce").await, (200, "announced".to_owned()));
    assert_eq!(act("start-sales").await, (200, "on_sale".to_owned()));
    assert_eq!(act("sell-out").await, (200, "sold_out".to_owned()));
    assert_eq!(act("reopen-sales").await, (200, "on_sale".to_owned()));
    assert_eq!(act("complete").await, (200, "completed".to_owned()));
    assert_eq!(act("cancel").await, (409, "INVALID_TRANSITION".to_owned()));
    assert_eq!(act("dance").await.0, 404);
    let edit = f
        .call(
            Method::PATCH,
            &format!("/v1/events/{id}"),
            Some(&t.owner),
            Some(t.company),
            Some(&json!({"name": "Renamed"})),
        )
        .await;
    assert_eq!(edit.code(), "EVENT_CLOSED");

    // A canceled event frees its venue.
    let second = f.post(&t, "/v1/events", &event(&v, 8, "Maybe")).await.data()["id"].as_str().unwrap().to_owned();
    assert_eq!(f.post(&t, &format!("/v1/events/{second}/cancel"), &json!({})).await.status, 200);
    assert_eq!(f.post(&t, "/v1/events", &event(&v, 8, "Instead")).await.status, 201);
    let history = f.get(&t, "/v1/activity?entity=event&limit=100").await;
    assert!(
        history
            .data()
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "sold_out" && e["before"]["status"] == "on_sale")
    );
    let filtered = f.get(&t, "/v1/events?status=canceled").await;
    assert_eq!(filtered.body["pagination"]["total"], 1);
}

/// An edit racing a cancellation never puts the event back on sale, and an
/// `If-Match` naming an old version is refused with 412, changing nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_edit_never_undoes_a_status_change_it_did_not_see() {
    let f = std::sync::Arc::new(crate::fleet::fleet().await);
    let t = std::sync::Arc::new(f.tenant().await);
    let venue = f
        .post(&t, "/v1/venues", &json!({"name": "Race Hall", "address": {"line1": "x", "city": "Porto", "country": "PT"}, "timezone": "Europe/Lisbon", "capacity": 500}))
        .await
        .data()["id"]
        .clone();
    for round in 0..8 {
        let day = format!("2032-03-{:02}", round + 1);
        let created = f
            .post(&t, "/v1/events", &json!({"name": "Show", "venueId": venue, "startsAt": format!("{day}T20:00:00Z"), "endsAt": format!("{day}T23:00:00Z")}))
            .await;
        assert_eq!(created.status, 201, "{:?}", created.body);
        let id = created.data()["id"].as_str().unwrap().to_owned();
        for action in ["announce", "start-sales"] {
            assert_eq!(f.post(&t, &format!("/v1/events/{id}/{action}"), &json!({})).await.status, 200);
        }
        let edit = {
            let (f, t, id) = (f.clone(), t.clone(), id.clone());
            tokio::spawn(async move {
                let body = json!({"name": format!("Show {round}")});
                f.call(Method::PATCH, &format!("/v1/events/{id}"), Some(&t.owner), Some(t.company), Some(&body)).await
            })
        };
        let cancel = {
            let (f, t, id) = (f.clone(), t.clone(), id.clone());
            tokio::spawn(async move { f.post(&t, &format!("/v1/events/{id}/cancel"), &json!({})).await })
        };
        let (edit, cancel) = (edit.await.unwrap(), cancel.await.unwrap());
        // A lost race is tried again from the new state: the cancellation
        // goes through, the edit either lands first or finds the event closed.
        assert_eq!(cancel.status, 200, "round {round}: {:?}", cancel.body);
        assert!(edit.status == 200 || edit.code() == "EVENT_CLOSED", "round {round}: {:?}", edit.body);
        let now = f.get(&t, &format!("/v1/events/{id}")).await;
        assert_eq!(now.data()["status"], "canceled", "round {round}: the cancellation stands");
    }

    let created = f
        .post(&t, "/v1/events", &json!({"name": "Versioned", "venueId": venue, "startsAt": "2032-04-01T20:00:00Z", "endsAt": "2032-04-01T23:00:00Z"}))
        .await;
    let id = created.data()["id"].as_str().unwrap().to_owned();
    let version = created.data()["version"].as_u64().unwrap();
    let announced = f.post(&t, &format!("/v1/events/{id}/announce"), &json!({})).await;
    assert_eq!(announced.data()["version"].as_u64(), Some(version + 1));
    let if_match = |method: Method, path: String, seen: u64, body: Value| {
        let request = f
            .base
            .http
            .request(method, f.base.url(&path))
            .bearer_auth(&t.owner)
            .header("x-org", t.company.to_string())
            .header("if-match", format!("\"{seen}\""))
            .json(&body);
        f.base.send(request)
    };
    let stale = if_match(Method::PATCH, format!("/v1/events/{id}"), version, json!({"name": "Overwritten"})).await;
    assert_eq!((stale.status.as_u16(), stale.code()), (412, "VERSION_MISMATCH"), "{:?}", stale.body);
    assert_eq!(f.get(&t, &format!("/v1/events/{id}")).await.data()["name"], "Versioned");
    let fresh = if_match(Method::POST, format!("/v1/events/{id}/start-sales"), version + 1, json!({})).await;
    assert_eq!(fresh.status, 200, "{:?}", fresh.body);
}
