//! Ticketing: no oversell under concurrency, idempotent replays, waitlist
//! order, check-in once.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::fleet::{Fleet, Tenant, event_on_sale, fleet};

/// An on-sale event with one ticket type of `capacity`: (event id, ticket type id).
async fn on_sale(f: &Fleet, t: &Tenant, capacity: u32) -> (String, String) {
    let event = event_on_sale(f, t).await;
    let tt = f
        .post(
            t,
            &format!("/v1/events/{event}/ticket-types"),
            &json!({"name": "General", "priceMinor": 2500, "currency": "EUR", "capacity": capacity, "perOrderMax": 4}),
        )
        .await;
    assert_eq!(tt.status, 201, "{:?}", tt.body);
    (event, tt.data()["id"].as_str().unwrap().to_owned())
}

async fn event_status(f: &Fleet, t: &Tenant, event: &str) -> String {
    f.get(t, &format!("/v1/events/{event}")).await.data()["status"].as_str().unwrap_or_default().to_owned()
}

fn buyer(tt: &str, n: usize) -> Value {
    json!({"ticketTypeId": tt, "attendeeName": format!("Buyer {n}"), "attendeeEmail": format!("buyer{n}@example.com"), "quantity": 1})
}

#[tokio::test]
async fn concurrent_registrations_never_oversell() {
    let f = Arc::new(fleet().await);
    let t = Arc::new(f.tenant().await);
    let (event, tt) = on_sale(&f, &t, 10).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(30));
    let mut tasks = Vec::new();
    for n in 0..30 {
        let (f, t, barrier, body, path) =
            (f.clone(), t.clone(), barrier.clone(), buyer(&tt, n), format!("/v1/events/{event}/registrations"));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let r = f.post(&t, &path, &body).await;
            assert_eq!(r.status, 201, "{:?}", r.body);
            r.data()["status"].as_str().unwrap().to_owned()
        }));
    }
    let mut confirmed = 0;
    for task in tasks {
        if task.await.unwrap() == "confirmed" {
            confirmed += 1;
        }
    }
    assert_eq!(confirmed, 10, "exactly the capacity");
    let sales = f.get(&t, &format!("/v1/events/{event}/sales")).await;
    assert_eq!(sales.data()[0]["sold"], 10);
    assert_eq!(sales.data()[0]["waitlisted"], 20);
    assert_eq!(sales.data()[0]["revenueMinor"], 25_000);
    assert_eq!(f.get(&t, &format!("/v1/events/{event}")).await.data()["status"], "sold_out", "every ticket is taken");
    let waiting = f.get(&t, &format!("/v1/events/{event}/registrations?status=waitlisted&limit=100")).await;
    assert_eq!(waiting.body["pagination"]["total"], 20);
}

/// A waiting list longer than what is read at a time: a cancellation that
/// frees many seats promotes the waiting in their order, page after page, and
/// the sales report sums each type's waiting seats.
#[tokio::test]
async fn a_long_waiting_list_is_promoted_in_order_and_counted_per_type() {
    let f = fleet().await;
    let t = f.tenant().await;
    let event = event_on_sale(&f, &t).await;
    let new_type =
        |name: &str| json!({"name": name, "priceMinor": 1000, "currency": "EUR", "capacity": 40, "perOrderMax": 40});
    let types = format!("/v1/events/{event}/ticket-types");
    let floor = f.post(&t, &types, &new_type("Floor")).await.data()["id"].as_str().unwrap().to_owned();
    let balcony = f.post(&t, &types, &new_type("Balcony")).await.data()["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/events/{event}/registrations");
    let mut group = buyer(&floor, 0);
    group["quantity"] = json!(40);
    let group = f.post(&t, &path, &group).await;
    assert_eq!(group.data()["status"], "confirmed", "{:?}", group.body);
    let mut waiting = Vec::new();
    for n in 1..=45 {
        let r = f.post(&t, &path, &buyer(&floor, n)).await;
        assert_eq!(r.data()["status"], "waitlisted");
        waiting.push(r.data()["id"].as_str().unwrap().to_owned());
    }
    let mut balcony_group = buyer(&balcony, 100);
    balcony_group["quantity"] = json!(40);
    assert_eq!(f.post(&t, &path, &balcony_group).await.data()["status"], "confirmed");
    let mut pair = buyer(&balcony, 101);
    pair["quantity"] = json!(2);
    assert_eq!(f.post(&t, &path, &pair).await.data()["status"], "waitlisted");
    let waitlisted = |sales: &Value, id: &str| {
        sales.as_array().unwrap().iter().find(|s| s["ticketTypeId"] == id).unwrap()["waitlisted"].clone()
    };
    let sales = f.get(&t, &format!("/v1/events/{event}/sales")).await;
    assert_eq!((waitlisted(sales.data(), &floor), waitlisted(sales.data(), &balcony)), (json!(45), json!(2)));

    let group_id = group.data()["id"].as_str().unwrap();
    assert_eq!(f.post(&t, &format!("{path}/{group_id}/cancel"), &json!({})).await.status, 200);
    let list = f.get(&t, &format!("{path}?limit=100")).await;
    let status_of = |id: &str| {
        list.data().as_array().unwrap().iter().find(|r| r["id"] == id).unwrap()["status"].as_str().unwrap().to_owned()
    };
    let promoted: Vec<String> = waiting.iter().map(|id| status_of(id)).collect();
    assert_eq!(promoted[..40], vec!["confirmed".to_owned(); 40][..], "the first forty, across pages");
    assert_eq!(promoted[40..], vec!["waitlisted".to_owned(); 5][..], "the rest still wait");
    let sales = f.get(&t, &format!("/v1/events/{event}/sales")).await;
    assert_eq!((waitlisted(sales.data(), &floor), waitlisted(sales.data(), &balcony)), (json!(5), json!(2)));
}

#[tokio::test]
async fn sold_out_once_every_type_is_full_and_a_replay_outlives_the_sale() {
    let f = fleet().await;
    let t = f.tenant().await;
    let (event, general) = on_sale(&f, &t, 1).await;
    let vip = f
        .post(
            &t,
            &format!("/v1/events/{event}/ticket-types"),
            &json!({"name": "VIP", "priceMinor": 9000, "currency": "EUR", "capacity": 1, "perOrderMax": 1}),
        )
        .await;
    assert_eq!(vip.status, 201, "{:?}", vip.body);
    let vip = vip.data()["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/events/{event}/registrations");
    let mut last_general = buyer(&general, 1);
    last_general["idempotencyKey"] = json!("last-general");
    let first = f.post(&t, &path, &last_general).await;
    assert_eq!((first.status.as_u16(), first.data()["status"].as_str()), (201, Some("confirmed")));
    assert_eq!(event_status(&f, &t, &event).await, "on_sale", "a VIP seat is left");
    let last_vip = f.post(&t, &path, &buyer(&vip, 2)).await;
    assert_eq!(last_vip.data()["status"], "confirmed");
    assert_eq!(event_status(&f, &t, &event).await, "sold_out", "every type is full");

    assert_eq!(f.post(&t, &format!("/v1/events/{event}/complete"), &json!({})).await.status, 200);
    let replay = f.post(&t, &path, &last_general).await;
    assert_eq!(replay.status, 200, "the original, though sales are closed: {:?}", replay.body);
    assert_eq!(
        (replay.data()["id"].clone(), replay.data()["status"].clone()),
        (first.data()["id"].clone(), json!("confirmed"))
    );
    assert_eq!(f.post(&t, &path, &buyer(&general, 3)).await.code(), "SALES_CLOSED", "a new order is refused");
}

#[tokio::test]
async fn a_closed_event_or_a_padded_key_is_refused_before_anything_is_claimed() {
    let f = fleet().await;
    let t = f.tenant().await;
    let (event, tt) = on_sale(&f, &t, 5).await;
    let path = format!("/v1/events/{event}/registrations");
    // A key is stored as sent: spaces count toward its length.
    let mut padded = buyer(&tt, 1);
    padded["idempotencyKey"] = json!(format!("{}k", " ".repeat(250)));
    assert_eq!(f.post(&t, &path, &padded).await.fields(), ["idempotencyKey"]);
    // A closed event says so first, whatever the ticket type named.
    assert_eq!(f.post(&t, &format!("/v1/events/{event}/complete"), &json!({})).await.status, 200);
    let unknown = buyer(&uuid::Uuid::now_v7().to_string(), 2);
    assert_eq!(f.post(&t, &path, &unknown).await.code(), "SALES_CLOSED");
    let sales = f.get(&t, &format!("/v1/events/{event}/sales")).await;
    assert_eq!(sales.data()[0]["sold"], 0, "nothing was claimed");
}

#[tokio::test]
async fn replays_waitlist_order_and_check_in() {
    let f = fleet().await;
    let t = f.tenant().await;
    let (event, tt) = on_sale(&f, &t, 2).await;
    let path = format!("/v1/events/{event}/registrations");

    let mut first = buyer(&tt, 1);
    first["idempotencyKey"] = json!("order-1");
    let a = f.post(&t, &path, &first).await;
    assert_eq!(a.status, 201);
    let replay = f.post(&t, &path, &first).await;
    assert_eq!(replay.status, 200, "a replay returns the original");
    assert_eq!(replay.data()["id"], a.data()["id"]);
    let mut changed = first.clone();
    changed["quantity"] = json!(2);
    assert_eq!(f.post(&t, &path, &changed).await.code(), "IDEMPOTENCY_KEY_REUSED");

    let b = f.post(&t, &path, &buyer(&tt, 2)).await;
    let c = f.post(&t, &path, &buyer(&tt, 3)).await;
    let d = f.post(&t, &path, &buyer(&tt, 4)).await;
    assert_eq!(
        (b.data()["status"].as_str(), c.data()["status"].as_str(), d.data()["status"].as_str()),
        (Some("confirmed"), Some("waitlisted"), Some("waitlisted"))
    );
    assert!(c.data()["checkInCode"].is_null(), "no code while waiting");
    let too_many = f
        .post(
            &t,
            &path,
            &json!({"ticketTypeId": tt, "attendeeName": "Big", "attendeeEmail": "big@example.com", "quantity": 5}),
        )
        .await;
    assert_eq!(too_many.fields(), ["quantity"]);

    let a_id = a.data()["id"].as_str().unwrap();
    let canceled = f.post(&t, &format!("{path}/{a_id}/cancel"), &json!({})).await;
    assert_eq!(canceled.status, 200, "{:?}", canceled.body);
    let c_id = c.data()["id"].as_str().unwrap();
    let d_id = d.data()["id"].as_str().unwrap();
    let list = f.get(&t, &format!("{path}?limit=100")).await;
    let status_of = |id: &str| {
        list.data().as_array().unwrap().iter().find(|r| r["id"] == id).unwrap()["status"].as_str().unwrap().to_owned()
    };
    assert_eq!(
        (status_of(c_id), status_of(d_id)),
        ("confirmed".to_owned(), "waitlisted".to_owned()),
        "promoted in order"
    );
    assert_eq!(f.post(&t, &format!("{path}/{a_id}/cancel"), &json!({})).await.code(), "ALREADY_CANCELED");

    let code = list.data().as_array().unwrap().iter().find(|r| r["id"] == c_id).unwrap()["checkInCode"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(f.post(&t, &format!("{path}/{c_id}/check-in"), &json!({"code": "WRONG"})).await.fields(), ["code"]);
    let checked = f.post(&t, &format!("{path}/{c_id}/check-in"), &json!({"code": code})).await;
    assert_eq!(checked.status, 200, "{:?}", checked.body);
    assert!(checked.data()["checkedInAt"].is_string());
    assert_eq!(
        f.post(&t, &format!("{path}/{c_id}/check-in"), &json!({"code": code})).await.code(),
        "ALREADY_CHECKED_IN"
    );

    // Another company sees none of it.
    let other = f.tenant().await;
    assert_eq!(f.get(&other, &format!("/v1/events/{event}/registrations")).await.status, 404);
    assert_eq!(f.post(&other, &format!("{path}/{c_id}/cancel"), &json!({})).await.status, 404);
}

/// A cancellation that frees a seat races the cancellation of the one waiting
/// for it: whoever wins, a canceled registration holds no seat, and the seats
/// sold are exactly those of confirmed registrations.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_waitlist_promotion_never_revives_a_canceled_registration() {
    let f = Arc::new(fleet().await);
    let t = Arc::new(f.tenant().await);
    for round in 0..6 {
        let (event, tt) = on_sale(&f, &t, 1).await;
        let path = format!("/v1/events/{event}/registrations");
        let holder = f.post(&t, &path, &buyer(&tt, 1)).await;
        let waiting = f.post(&t, &path, &buyer(&tt, 2)).await;
        assert_eq!(waiting.data()["status"], "waitlisted");
        let cancel = |id: &Value| {
            let (f, t, url) = (f.clone(), t.clone(), format!("{path}/{}/cancel", id.as_str().unwrap()));
            tokio::spawn(async move { f.post(&t, &url, &json!({})).await })
        };
        let (a, b) = tokio::join!(cancel(&holder.data()["id"]), cancel(&waiting.data()["id"]));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.status, 200, "round {round}: {:?}", a.body);
        assert!(b.status == 200 || b.code() == "CHANGED_MEANWHILE", "round {round}: {:?}", b.body);
        let list = f.get(&t, &format!("{path}?limit=100")).await;
        let confirmed: u64 = list
            .data()
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["status"] == "confirmed")
            .map(|r| r["quantity"].as_u64().unwrap())
            .sum();
        let sales = f.get(&t, &format!("/v1/events/{event}/sales")).await;
        assert_eq!(sales.data()[0]["sold"].as_u64(), Some(confirmed), "round {round}: {:?}", list.body);
        if b.status == 200 {
            assert_eq!(confirmed, 0, "round {round}: both canceled, the seat is free");
        }
    }
}

/// Registrations arriving together are committed together, yet each is
/// answered on its own: refused ones (an unknown type, another event's type,
/// too many seats, a reused key) change nothing and fail none of their
/// neighbours; a quota shared by two types is never oversold; another
/// company's registrations at the same moment stay its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_registration_amid_accepted_ones_fails_only_itself() {
    let f = Arc::new(fleet().await);
    let t = Arc::new(f.tenant().await);
    let other = Arc::new(f.tenant().await);
    let (event, general) = on_sale(&f, &t, 10).await;
    let balcony = f
        .post(
            &t,
            &format!("/v1/events/{event}/ticket-types"),
            &json!({"name": "Balcony", "priceMinor": 0, "currency": "EUR", "capacity": 10, "perOrderMax": 4}),
        )
        .await;
    let balcony = balcony.data()["id"].as_str().unwrap().to_owned();
    let quota = f
        .post(
            &t,
            &format!("/v1/events/{event}/quotas"),
            &json!({"name": "Hall", "size": 12, "ticketTypeIds": [general, balcony]}),
        )
        .await;
    assert_eq!(quota.status, 201, "{:?}", quota.body);
    let (elsewhere, elsewhere_type) = on_sale(&f, &t, 5).await;
    let (theirs, their_type) = on_sale(&f, &other, 3).await;

    let mut keyed = buyer(&general, 99);
    keyed["idempotencyKey"] = json!("once");
    let mut too_many = buyer(&balcony, 98);
    too_many["quantity"] = json!(5);
    let mut sends: Vec<(&str, Arc<Tenant>, String, Value)> = Vec::new();
    let ours = format!("/v1/events/{event}/registrations");
    for n in 0..12 {
        sends.push(("general", t.clone(), ours.clone(), buyer(&general, n)));
        sends.push(("balcony", t.clone(), ours.clone(), buyer(&balcony, n)));
    }
    for n in 0..6 {
        sends.push(("keyed", t.clone(), ours.clone(), keyed.clone()));
        sends.push(("unknown", t.clone(), ours.clone(), buyer(&uuid::Uuid::now_v7().to_string(), n)));
        sends.push(("elsewhere", t.clone(), ours.clone(), buyer(&elsewhere_type, n)));
        sends.push(("too many", t.clone(), ours.clone(), too_many.clone()));
        sends.push(("theirs", other.clone(), format!("/v1/events/{theirs}/registrations"), buyer(&their_type, n)));
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
    let (mut confirmed, mut keyed_ids, mut keyed_created, mut theirs_confirmed) =
        (0, std::collections::BTreeSet::new(), 0, 0);
    for task in tasks {
        let (kind, r) = task.await.unwrap();
        match (kind, r.status.as_u16()) {
            ("general" | "balcony", 201) => confirmed += usize::from(r.data()["status"] == "confirmed"),
            ("keyed", 201 | 200) => {
                keyed_created += usize::from(r.status == 201);
                if r.status == 201 {
                    confirmed += usize::from(r.data()["status"] == "confirmed");
                }
                keyed_ids.insert(r.data()["id"].as_str().unwrap().to_owned());
            }
            ("unknown" | "elsewhere", 400) => assert_eq!(r.fields(), ["ticketTypeId"]),
            ("too many", 400) => assert_eq!(r.fields(), ["quantity"]),
            ("theirs", 201) => theirs_confirmed += usize::from(r.data()["status"] == "confirmed"),
            (kind, status) => panic!("{kind}: {status} {:?}", r.body),
        }
    }
    assert_eq!((keyed_created, keyed_ids.len()), (1, 1), "one registration for the key, the others its replays");
    let sales = f.get(&t, &format!("/v1/events/{event}/sales")).await;
    let sold: u64 = sales.data().as_array().unwrap().iter().map(|s| s["sold"].as_u64().unwrap()).sum();
    assert_eq!(sold, 12, "the quota's size, over both types: {:?}", sales.body);
    assert_eq!(confirmed, 12, "every seat sold is a confirmed registration");
    let listed = f.get(&t, &format!("/v1/events/{event}/registrations?limit=1")).await;
    assert_eq!(listed.body["pagination"]["total"], 12 * 2 + 1, "the refused ones left nothing");
    let waiting = f.get(&t, &format!("/v1/events/{elsewhere}/registrations?limit=1")).await;
    assert_eq!(waiting.body["pagination"]["total"], 0, "nothing was registered for the other event");
    assert_eq!(theirs_confirmed, 3, "the other company's own seats");
    let activity = f.get(&t, "/v1/activity?entity=registration&limit=1").await;
    assert_eq!(activity.body["pagination"]["total"], 12 * 2 + 1, "one entry per registration: {:?}", activity.body);
    assert_eq!(event_status(&f, &t, &event).await, "sold_out", "the quota holds both types: every seat is gone");
}
