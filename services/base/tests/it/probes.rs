//! Route-wide probes: every route of base's own route table (read from
//! `/v1/meta/permissions`, not a hand-picked list) is tried by another company
//! and by members who lack its permission. A new route is probed the day it
//! is added; one that takes a body fails here until its probe body is named.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};

use crate::fleet::{Fleet, Tenant, fleet_with};
use crate::webhooks::{LOOPBACK, Receiver, deliveries};

static SCAN: std::sync::LazyLock<Value> = std::sync::LazyLock::new(
    || json!({"ticket": "probe.probe.probe", "nonce": "probe", "direction": "in", "scannedAt": "2030-09-06T19:00:00Z", "gate": "A"}),
);

/// One of everything a company can own, with the ids a route's path names.
struct Seeded {
    ids: BTreeMap<&'static str, String>,
}

fn id_of(reply: &marquee_testkit::Reply, what: &str) -> String {
    assert!(reply.status.is_success(), "seeding {what}: {:?}", reply.body);
    reply.data()["id"].as_str().unwrap_or_else(|| panic!("{what} has no id: {:?}", reply.body)).to_owned()
}

async fn seed(f: &Fleet, t: &Tenant) -> Seeded {
    let mut ids = BTreeMap::new();
    // An endpoint that hears the event's changes below and answers 200.
    let receiver = Receiver::start(&[]).await;
    let endpoint = f
        .post(t, "/v1/webhooks/endpoints", &json!({"url": receiver.url, "eventTypes": ["event.status_changed"]}))
        .await;
    let endpoint = id_of(&endpoint, "webhook endpoint");
    let venue = f
        .post(t, "/v1/venues", &json!({"name": "Probe Hall", "address": {"line1": "x", "city": "Porto", "country": "PT"}, "timezone": "Europe/Lisbon", "capacity": 500}))
        .await;
    let venue = id_of(&venue, "venue");
    let artist = id_of(
        &f.post(t, "/v1/artists", &json!({"name": "Probe Act", "fee": {"min": 1, "max": 2, "currency": "EUR"}})).await,
        "artist",
    );
    let vendor = id_of(&f.post(t, "/v1/vendors", &json!({"name": "Probe Sound", "category": "sound"})).await, "vendor");
    let event = f
        .post(t, "/v1/events", &json!({"name": "Probe Night", "venueId": venue, "startsAt": "2030-09-06T20:00:00Z", "endsAt": "2030-09-06T23:00:00Z"}))
        .await;
    let event = id_of(&event, "event");
    for action in ["announce", "start-sales"] {
        assert_eq!(f.post(t, &format!("/v1/events/{event}/{action}"), &json!({})).await.status, 200);
    }
    let ticket_type = f
        .post(
            t,
            &format!("/v1/events/{event}/ticket-types"),
            &json!({"name": "GA", "priceMinor": 1000, "currency": "EUR", "capacity": 10}),
        )
        .await;
    let ticket_type = id_of(&ticket_type, "ticket type");
    let registration = f
        .post(t, &format!("/v1/events/{event}/registrations"), &json!({"ticketTypeId": ticket_type, "attendeeName": "Ana", "attendeeEmail": "ana@example.com", "quantity": 1}))
        .await;
    let registration = id_of(&registration, "registration");
    let order = f
        .post(
            t,
            &format!("/v1/events/{event}/orders"),
            &json!({"items": [{"ticketTypeId": ticket_type, "quantity": 1}], "idempotencyKey": "seed"}),
        )
        .await;
    let order = id_of(&order, "order");
    let voucher = f
        .post(
            t,
            &format!("/v1/events/{event}/vouchers"),
            &json!({"code": "SEEDED", "discountKind": "fixed", "discountValue": 100, "maxUses": 5}),
        )
        .await;
    let voucher = id_of(&voucher, "voucher");
    let checkin_list = id_of(
        &f.post(t, &format!("/v1/events/{event}/checkin-lists"), &json!({"name": "Door"})).await,
        "check-in list",
    );
    let deadline = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let offer = f
        .post(
            t,
            "/v1/offers",
            &json!({"eventId": event, "artistId": artist, "feeMinor": 1000, "currency": "EUR", "deadline": deadline}),
        )
        .await;
    let offer = id_of(&offer, "offer");
    let hold = f
        .post(t, "/v1/calendar/holds", &json!({"venueId": venue, "startsAt": "2030-09-07T20:00:00Z", "endsAt": "2030-09-07T23:00:00Z", "expiresAt": "2030-08-01T00:00:00Z"}))
        .await;
    let hold = id_of(&hold, "hold");
    let board = id_of(&f.post(t, "/v1/workspaces", &json!({"name": "Probe board"})).await, "board");
    let task = id_of(&f.post(t, "/v1/tasks", &json!({"boardId": board, "title": "Probe task"})).await, "task");
    id_of(&f.post(t, &format!("/v1/tasks/{task}/comments"), &json!({"body": "a comment"})).await, "comment");
    let crew = id_of(&f.post(t, "/v1/crew", &json!({"name": "Probe Crew", "phone": "+351 912 345 678"})).await, "crew");
    let shift = f
        .post(t, &format!("/v1/events/{event}/shifts"), &json!({"name": "Doors", "startsAt": "2030-09-06T19:00:00Z", "endsAt": "2030-09-06T21:00:00Z", "headcount": 2}))
        .await;
    let shift = id_of(&shift, "shift");
    let media = crate::media::upload(
        f,
        t,
        &format!("ownerType=artist&ownerId={artist}&filename=p.png"),
        "image/png",
        crate::media::png(2000),
    )
    .await;
    let media = id_of(&media, "media");
    let mut delivered = Vec::new();
    for _ in 0..300 {
        delivered = deliveries(f, t, &endpoint).await;
        if delivered.len() == 2 && delivered.iter().all(|d| d["status"] == "succeeded") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let delivery = delivered.first().and_then(|d| d["id"].as_str()).expect("a delivery was made").to_owned();
    for (name, value) in [
        ("webhook_endpoint", endpoint),
        ("webhook_delivery", delivery),
        ("venue", venue),
        ("artist", artist),
        ("vendor", vendor),
        ("event", event),
        ("ticket_type", ticket_type),
        ("registration", registration),
        ("order", order),
        ("voucher", voucher),
        ("checkin_list", checkin_list),
        ("offer", offer),
        ("hold", hold),
        ("board", board),
        ("task", task),
        ("crew", crew),
        ("shift", shift),
        ("media", media),
    ] {
        ids.insert(name, value);
    }
    Seeded { ids }
}

impl Seeded {
    /// The route's path with this company's ids (and a valid action) in it.
    fn path(&self, template: &str) -> String {
        let resource = template.split('/').nth(2).unwrap_or_default();
        let own = match resource {
            "artists" => "artist",
            "venues" => "venue",
            "vendors" => "vendor",
            "events" => "event",
            "offers" => "offer",
            "calendar" => "hold",
            "workspaces" => "board",
            "tasks" => "task",
            "crew" => "crew",
            "shifts" => "shift",
            "media" => "media",
            "orders" => "order",
            "vouchers" => "voucher",
            "checkin-lists" => "checkin_list",
            "webhooks" if template.starts_with("/v1/webhooks/deliveries") => "webhook_delivery",
            "webhooks" => "webhook_endpoint",
            // A link's token, not an id: no company's offer has this one.
            "waitlist-offers" => return template.replace("{token}", "no-such-offer"),
            other => panic!("no seeded resource for /v1/{other}: add it to the probe"),
        };
        let action = if resource == "offers" { "send" } else { "announce" };
        template
            .replace("{id}", &self.ids[own])
            .replace("{registration_id}", &self.ids["registration"])
            .replace("{crew_id}", &self.ids["crew"])
            .replace("{action}", action)
    }

    /// A body the route would accept from this company's point of view, so
    /// that only the ownership of the path decides the answer.
    fn body(&self, method: &Method, template: &str) -> Option<Value> {
        let body = match (method.as_str(), template) {
            ("POST", "/v1/events/{id}/registrations") => {
                json!({"ticketTypeId": self.ids["ticket_type"], "attendeeName": "Eve", "attendeeEmail": "eve@example.com", "quantity": 1})
            }
            ("POST", "/v1/events/{id}/registrations/{registration_id}/check-in") => json!({"code": "ABCDEFGH"}),
            ("POST", "/v1/events/{id}/ticket-types") => {
                json!({"name": "VIP", "priceMinor": 5000, "currency": "EUR", "capacity": 5})
            }
            ("POST", "/v1/events/{id}/shifts") => {
                json!({"name": "Bar", "startsAt": "2030-09-06T19:00:00Z", "endsAt": "2030-09-06T21:00:00Z", "headcount": 1})
            }
            ("POST", "/v1/events/{id}/quotas") => {
                json!({"name": "Probe quota", "size": 100, "ticketTypeIds": [self.ids["ticket_type"]]})
            }
            ("POST", "/v1/events/{id}/vouchers") => {
                json!({"code": "PROBE", "discountKind": "percent", "discountValue": 10, "maxUses": 5})
            }
            ("POST", "/v1/events/{id}/orders") => {
                json!({"items": [{"ticketTypeId": self.ids["ticket_type"], "quantity": 1}], "idempotencyKey": "probe"})
            }
            ("POST", "/v1/orders/{id}/confirm") => json!({"paymentRef": "probe"}),
            ("POST", "/v1/events/{id}/checkin-lists") => json!({"name": "Probe door"}),
            ("POST", "/v1/events/{id}/waitlist") => {
                json!({"email": "wait@example.com", "ticketTypeId": self.ids["ticket_type"], "quantity": 1})
            }
            ("POST", "/v1/checkin-lists/{id}/scans") => SCAN.clone(),
            ("POST", "/v1/checkin-lists/{id}/scans/batch") => json!({"scans": [SCAN.clone()]}),
            ("POST", "/v1/orders/{id}/refund") => json!({}),
            ("POST", "/v1/calendar/holds/{id}/challenge" | "/v1/calendar/holds/{id}/confirm") => json!({}),
            ("PUT", "/v1/calendar/settings") => json!({"challengeHours": 24}),
            ("POST", "/v1/shifts/{id}/assignments") => json!({"crewId": self.ids["crew"]}),
            ("POST", "/v1/tasks/{id}/comments") => json!({"body": "probe"}),
            ("POST", "/v1/webhooks/endpoints/{id}/rotate-secret") => json!({}),
            ("POST", "/v1/webhooks/deliveries/{id}/redeliver") => return None,
            ("PATCH", "/v1/webhooks/endpoints/{id}") => json!({"description": "probe"}),
            ("PATCH", "/v1/artists/{id}") => json!({"notes": "probe"}),
            ("PATCH", "/v1/tasks/{id}") => json!({"title": "probe"}),
            ("PATCH", _) => json!({"name": "probe"}),
            ("GET" | "DELETE", _) => return None,
            ("POST", t) if t.ends_with("/{action}") || t.ends_with("/cancel") => json!({}),
            (m, t) => panic!("{m} {t} takes a body the probe does not know: name one here"),
        };
        Some(body)
    }
}

async fn route_table(f: &Fleet) -> Vec<(Method, String, String)> {
    let table = f.base.get("/v1/meta/permissions", None).await;
    assert_eq!(table.status, 200);
    table
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap().parse().unwrap(),
                e["path"].as_str().unwrap().to_owned(),
                e["permission"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Everything `t` can read, as `t` reads it: what must not change.
async fn everything(f: &Fleet, t: &Tenant, seeded: &Seeded, routes: &[(Method, String, String)]) -> Vec<Value> {
    let mut seen = Vec::new();
    for (method, template, _) in routes.iter().filter(|(m, _, _)| *m == Method::GET) {
        let path = seeded.path_or_collection(template);
        let mut r = f.call(method.clone(), &path, Some(&t.owner), Some(t.company), None).await;
        // A refusal names its own request; the rest must not change.
        if let Some(answer) = r.body.as_object_mut() {
            answer.remove("requestId");
        }
        seen.push(json!({"path": path, "status": r.status.as_u16(), "body": r.body}));
    }
    seen
}

impl Seeded {
    fn path_or_collection(&self, template: &str) -> String {
        if template.contains('{') { self.path(template) } else { collection_query(template) }
    }
}

/// Lists with the queries they need, and room for every seeded row.
fn collection_query(path: &str) -> String {
    match path {
        "/v1/calendar" => "/v1/calendar?from=2030-01-01T00:00:00Z&to=2030-12-31T00:00:00Z".to_owned(),
        p if p.contains('?') => p.to_owned(),
        p => format!("{p}?limit=100"),
    }
}

/// Another company's ids are 404 on every route that names one, and nothing
/// of the owner's data changes; every list shows only the caller's rows.
#[tokio::test]
async fn another_company_gets_404_on_every_route_and_sees_none_of_its_rows() {
    let f = fleet_with(&LOOPBACK).await;
    let (victim, intruder) = (f.tenant().await, f.tenant().await);
    let routes = route_table(&f).await;
    let theirs = seed(&f, &victim).await;
    seed(&f, &intruder).await;
    let before = everything(&f, &victim, &theirs, &routes).await;

    for (method, template, _) in &routes {
        if template.contains('{') {
            let path = theirs.path(template);
            let body = theirs.body(method, template);
            let r = f.call(method.clone(), &path, Some(&intruder.owner), Some(intruder.company), body.as_ref()).await;
            assert_eq!(r.status, 404, "{method} {template} with another company's ids: {:?}", r.body);
        } else if *method == Method::GET {
            let path = collection_query(template);
            let r = f.call(Method::GET, &path, Some(&intruder.owner), Some(intruder.company), None).await;
            assert!(r.status.is_success(), "{path}: {:?}", r.body);
            let text = r.body.to_string();
            for (what, id) in &theirs.ids {
                assert!(!text.contains(id.as_str()), "{path} shows the other company's {what}");
            }
        }
    }
    let after = everything(&f, &victim, &theirs, &routes).await;
    for (was, is) in before.iter().zip(&after) {
        assert_eq!(was, is, "the owner's data changed");
    }
}

/// On every route, a member holding every permission but the route's own is
/// refused with 403, before anything is looked up or changed.
#[tokio::test]
async fn every_route_refuses_a_member_without_its_permission() {
    let f = fleet_with(&LOOPBACK).await;
    let t = f.tenant().await;
    // A member for each permission: more than the default plan's members.
    f.on_plan(&t, json!({"maxMembers": 200}), "maxMembers").await;
    let routes = route_table(&f).await;
    let seeded = seed(&f, &t).await;
    let all: Vec<&str> = {
        let mut all: Vec<&str> = routes.iter().map(|(_, _, p)| p.as_str()).collect();
        all.sort_unstable();
        all.dedup();
        all
    };
    let mut members: BTreeMap<&str, String> = BTreeMap::new();
    for missing in &all {
        let held: Vec<&str> = all.iter().copied().filter(|p| p != missing).collect();
        members.insert(missing, f.member_with(&t, &held).await.1);
    }
    let before = everything(&f, &t, &seeded, &routes).await;
    for (method, template, permission) in &routes {
        let path = seeded.path_or_collection(template);
        // The guard answers before any body is read.
        let body = (![Method::GET, Method::DELETE].contains(method)).then(|| json!({}));
        let member = &members[permission.as_str()];
        let r = f.call(method.clone(), &path, Some(member), Some(t.company), body.as_ref()).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (403, "PERMISSION_DENIED"),
            "{method} {template} without {permission}"
        );
    }
    let after = everything(&f, &t, &seeded, &routes).await;
    assert_eq!(before, after, "a refused request changed something");
}
