//! Crew profiles, shifts, and the assignment rules: availability, skills,
//! overlaps and headcount, each refused with its reason.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fleet::{Fleet, Tenant, fleet};

async fn event(f: &Fleet, t: &Tenant) -> String {
    let venue = f
        .post(t, "/v1/venues", &json!({"name": "Coliseu", "address": {"line1": "x", "city": "Lisboa", "country": "PT"}, "timezone": "Europe/Lisbon", "capacity": 100}))
        .await;
    let e = f
        .post(t, "/v1/events", &json!({"name": "Gala", "venueId": venue.data()["id"], "startsAt": "2030-05-03T20:00:00Z", "endsAt": "2030-05-03T23:00:00Z"}))
        .await;
    assert_eq!(e.status, 201, "{:?}", e.body);
    e.data()["id"].as_str().unwrap().to_owned()
}

async fn made(f: &Fleet, t: &Tenant, path: &str, body: Value) -> String {
    let r = f.post(t, path, &body).await;
    assert_eq!(r.status, 201, "{path}: {:?}", r.body);
    r.data()["id"].as_str().unwrap().to_owned()
}

async fn assign(f: &Fleet, t: &Tenant, shift: &str, crew: &str) -> marquee_testkit::Reply {
    f.post(t, &format!("/v1/shifts/{shift}/assignments"), &json!({"crewId": crew})).await
}

// 2030-05-03 is a Friday.
fn friday_evenings() -> Value {
    json!([{"day": "fri", "from": "16:00", "to": "24:00"}, {"day": "sat", "from": "00:00", "to": "02:00"}])
}

#[tokio::test]
async fn assignments_follow_availability_skills_overlaps_and_headcount() {
    let f = fleet().await;
    let t = f.tenant().await;
    let gala = event(&f, &t).await;
    let rigger = made(
        &f,
        &t,
        "/v1/crew",
        json!({"name": "Rita", "kind": "staff", "skills": ["Rigging", "forklift "], "availability": friday_evenings()}),
    )
    .await;
    let volunteer =
        made(&f, &t, "/v1/crew", json!({"name": "Vasco", "kind": "volunteer", "skills": ["ushering"]})).await;
    let shows = f.get(&t, &format!("/v1/crew/{rigger}")).await;
    assert_eq!(shows.data()["skills"], json!(["forklift", "rigging"]), "skills compare without case or space");

    let load_in = made(&f, &t, &format!("/v1/events/{gala}/shifts"), json!({"name": "Load-in", "startsAt": "2030-05-03T17:00:00Z", "endsAt": "2030-05-03T20:00:00Z", "requiredSkills": ["rigging"], "headcount": 1})).await;
    let morning = made(&f, &t, &format!("/v1/events/{gala}/shifts"), json!({"name": "Deliveries", "startsAt": "2030-05-03T09:00:00Z", "endsAt": "2030-05-03T11:00:00Z", "headcount": 2})).await;
    let overnight = made(&f, &t, &format!("/v1/events/{gala}/shifts"), json!({"name": "Load-out", "startsAt": "2030-05-03T23:00:00Z", "endsAt": "2030-05-04T01:30:00Z", "headcount": 3})).await;
    let doors = made(
        &f,
        &t,
        &format!("/v1/events/{gala}/shifts"),
        json!({"name": "Doors", "startsAt": "2030-05-03T19:00:00Z", "endsAt": "2030-05-03T21:00:00Z", "headcount": 3}),
    )
    .await;

    let ok = assign(&f, &t, &load_in, &rigger).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!((ok.data()["filled"].as_u64(), ok.data()["assigned"].clone()), (Some(1), json!([rigger])));

    let cases = [
        (&load_in, &rigger, "ALREADY_ASSIGNED", "already works this shift"),
        (&load_in, &volunteer, "MISSING_SKILL", "rigging"),
        (&morning, &rigger, "UNAVAILABLE", "not available"),
        (&doors, &rigger, "OVERLAPPING_SHIFT", "Load-in"),
    ];
    for (shift, crew, code, reason) in cases {
        let r = assign(&f, &t, shift, crew).await;
        assert_eq!((r.status.as_u16(), r.code()), (409, code), "{:?}", r.body);
        assert!(r.body["message"].as_str().unwrap().contains(reason), "{:?}", r.body);
    }
    // Windows that meet across midnight cover an overnight shift.
    assert_eq!(assign(&f, &t, &overnight, &rigger).await.status, 200);
    // Someone who states no availability is not constrained by it.
    assert_eq!(assign(&f, &t, &morning, &volunteer).await.status, 200);

    // A full shift says so.
    let extra = made(&f, &t, "/v1/crew", json!({"name": "Rui", "skills": ["rigging"]})).await;
    let full = assign(&f, &t, &load_in, &extra).await;
    assert_eq!((full.status.as_u16(), full.code()), (409, "SHIFT_FULL"));
    // Unassigning frees the place.
    let freed = f
        .call(
            Method::DELETE,
            &format!("/v1/shifts/{load_in}/assignments/{rigger}"),
            Some(&t.owner),
            Some(t.company),
            None,
        )
        .await;
    assert_eq!((freed.status.as_u16(), freed.data()["filled"].as_u64()), (200, Some(0)));
    assert_eq!(assign(&f, &t, &load_in, &extra).await.status, 200);

    let listed = f.get(&t, &format!("/v1/events/{gala}/shifts")).await;
    let names: Vec<&str> = listed.data().as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Deliveries", "Load-in", "Doors", "Load-out"]);
    let by_skill = f.get(&t, "/v1/crew?skill=RIGGING").await;
    assert_eq!(by_skill.body["pagination"]["total"], 2);

    // Someone with shifts is not deleted from under them.
    let delete = f.call(Method::DELETE, &format!("/v1/crew/{extra}"), Some(&t.owner), Some(t.company), None).await;
    assert_eq!((delete.status.as_u16(), delete.code()), (409, "CREW_ASSIGNED"));
    let activity = f.get(&t, "/v1/activity?entity=shift").await;
    assert!(activity.body["pagination"]["total"].as_u64().unwrap() >= 6, "{:?}", activity.body);
}

#[tokio::test]
async fn concurrent_assignments_never_pass_headcount_or_double_book() {
    let f = Arc::new(fleet().await);
    let t = Arc::new(f.tenant().await);
    let gala = event(&f, &t).await;
    let bar = made(
        &f,
        &t,
        &format!("/v1/events/{gala}/shifts"),
        json!({"name": "Bar", "startsAt": "2030-05-03T19:00:00Z", "endsAt": "2030-05-03T23:00:00Z", "headcount": 3}),
    )
    .await;
    let mut people = Vec::new();
    for i in 0..8 {
        people.push(made(&f, &t, "/v1/crew", json!({"name": format!("P{i}")})).await);
    }
    // Eight people race for three places.
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let mut tasks = Vec::new();
    for p in &people {
        let (f, t, barrier, bar, p) = (f.clone(), t.clone(), barrier.clone(), bar.clone(), p.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let r = assign(&f, &t, &bar, &p).await;
            (r.status.as_u16(), r.code().to_owned())
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    assert_eq!(outcomes.iter().filter(|o| o.0 == 200).count(), 3, "{outcomes:?}");
    assert!(outcomes.iter().filter(|o| o.0 != 200).all(|o| o.1 == "SHIFT_FULL"), "{outcomes:?}");
    let shift = f.get(&t, &format!("/v1/shifts/{bar}")).await;
    assert_eq!(shift.data()["filled"], 3);
    assert_eq!(shift.data()["assigned"].as_array().unwrap().len(), 3);

    // One person raced onto four overlapping shifts gets exactly one.
    let mut overlapping = Vec::new();
    for i in 0..4 {
        overlapping.push(made(&f, &t, &format!("/v1/events/{gala}/shifts"), json!({"name": format!("Stage {i}"), "startsAt": "2030-05-03T18:00:00Z", "endsAt": "2030-05-03T22:00:00Z", "headcount": 5})).await);
    }
    let person = people.last().unwrap().clone();
    let barrier = Arc::new(tokio::sync::Barrier::new(4));
    let mut tasks = Vec::new();
    for s in overlapping {
        let (f, t, barrier, person) = (f.clone(), t.clone(), barrier.clone(), person.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            assign(&f, &t, &s, &person).await.status.as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses.sort_unstable();
    // The person may already hold the bar shift (which overlaps too); never more than one.
    let won_bar = outcomes.iter().zip(&people).any(|(o, p)| o.0 == 200 && p == &person);
    assert_eq!(statuses, if won_bar { vec![409, 409, 409, 409] } else { vec![200, 409, 409, 409] });
}

#[tokio::test]
async fn profiles_link_to_members_once_and_validate_their_fields() {
    let f = fleet().await;
    let t = f.tenant().await;
    let (member, _) = f.member_with(&t, &["basic.crew.view"]).await;
    let linked = made(&f, &t, "/v1/crew", json!({"name": "Mia", "userId": member, "email": "mia@example.com"})).await;
    let again = f.post(&t, "/v1/crew", &json!({"name": "Mia 2", "userId": member})).await;
    assert_eq!((again.status.as_u16(), again.code()), (409, "CREW_USER_TAKEN"));
    let stranger = f.post(&t, "/v1/crew", &json!({"name": "X", "userId": Uuid::now_v7()})).await;
    assert_eq!(stranger.fields(), ["userId"], "only members of the company");
    let unlinked = f
        .call(
            Method::PATCH,
            &format!("/v1/crew/{linked}"),
            Some(&t.owner),
            Some(t.company),
            Some(&json!({"userId": null})),
        )
        .await;
    assert_eq!((unlinked.status.as_u16(), unlinked.data()["userId"].clone()), (200, Value::Null));

    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "A", "email": "nope"}), "email"),
        (json!({"name": "A", "phone": "call me"}), "phone"),
        (json!({"name": "A", "availability": [{"day": "fri", "from": "18:00", "to": "09:00"}]}), "availability[0].to"),
        (
            json!({"name": "A", "availability": [{"day": "fri", "from": "25:00", "to": "12:00"}]}),
            "availability[0].from",
        ),
        (json!({"name": "A", "kind": "boss"}), "kind"),
    ] {
        assert_eq!(f.post(&t, "/v1/crew", &body).await.fields(), [field], "{body}");
    }
    let gala = event(&f, &t).await;
    for (body, field) in [
        (
            json!({"name": "S", "startsAt": "2030-05-03T19:00:00Z", "endsAt": "2030-05-03T18:00:00Z", "headcount": 1}),
            "endsAt",
        ),
        (
            json!({"name": "S", "startsAt": "2030-05-03T19:00:00Z", "endsAt": "2030-05-05T19:00:00Z", "headcount": 1}),
            "endsAt",
        ),
        (
            json!({"name": "S", "startsAt": "2030-05-03T19:00:00Z", "endsAt": "2030-05-03T20:00:00Z", "headcount": 0}),
            "headcount",
        ),
    ] {
        assert_eq!(f.post(&t, &format!("/v1/events/{gala}/shifts"), &body).await.fields(), [field], "{body}");
    }
}

#[tokio::test]
async fn crew_and_shifts_stay_inside_their_company() {
    let f = fleet().await;
    let t = f.tenant().await;
    let gala = event(&f, &t).await;
    let person = made(&f, &t, "/v1/crew", json!({"name": "Rita"})).await;
    let shift = made(
        &f,
        &t,
        &format!("/v1/events/{gala}/shifts"),
        json!({"name": "Bar", "startsAt": "2030-05-03T19:00:00Z", "endsAt": "2030-05-03T23:00:00Z", "headcount": 3}),
    )
    .await;

    let other = f.tenant().await;
    for path in [format!("/v1/crew/{person}"), format!("/v1/shifts/{shift}"), format!("/v1/events/{gala}/shifts")] {
        assert_eq!(f.get(&other, &path).await.status, 404, "{path}");
    }
    assert_eq!(f.get(&other, "/v1/crew").await.body["pagination"]["total"], 0);
    let theirs = made(&f, &other, "/v1/crew", json!({"name": "Mole"})).await;
    assert_eq!(assign(&f, &other, &shift, &theirs).await.status, 404, "their person, our shift");
    assert_eq!(assign(&f, &t, &shift, &theirs).await.fields(), ["crewId"], "our shift, their person");
    let new_shift = f
        .post(
            &other,
            &format!("/v1/events/{gala}/shifts"),
            &json!({"name": "S", "startsAt": "2030-05-03T19:00:00Z", "endsAt": "2030-05-03T20:00:00Z", "headcount": 1}),
        )
        .await;
    assert_eq!(new_shift.status, 404);
    for (method, path) in [
        (Method::PATCH, format!("/v1/crew/{person}")),
        (Method::DELETE, format!("/v1/crew/{person}")),
        (Method::PATCH, format!("/v1/shifts/{shift}")),
        (Method::DELETE, format!("/v1/shifts/{shift}")),
        (Method::DELETE, format!("/v1/shifts/{shift}/assignments/{person}")),
    ] {
        let r = f.call(method.clone(), &path, Some(&other.owner), Some(other.company), Some(&json!({}))).await;
        assert_eq!(r.status, 404, "{method} {path}: {:?}", r.body);
    }
    assert_eq!(f.get(&t, &format!("/v1/shifts/{shift}")).await.status, 200);
}

#[tokio::test]
async fn the_dashboard_counts_unfilled_shifts() {
    let f = fleet().await;
    let t = f.tenant().await;
    let gala = event(&f, &t).await;
    let person = made(&f, &t, "/v1/crew", json!({"name": "Rita"})).await;
    let bar = made(
        &f,
        &t,
        &format!("/v1/events/{gala}/shifts"),
        json!({"name": "Bar", "startsAt": "2030-05-03T19:00:00Z", "endsAt": "2030-05-03T23:00:00Z", "headcount": 1}),
    )
    .await;
    made(
        &f,
        &t,
        &format!("/v1/events/{gala}/shifts"),
        json!({"name": "Doors", "startsAt": "2030-05-03T18:00:00Z", "endsAt": "2030-05-03T19:00:00Z", "headcount": 2}),
    )
    .await;
    let before = f.get(&t, "/v1/dashboard").await;
    assert_eq!(before.data()["unfilledShifts"]["count"], 2, "{:?}", before.body);
    assert_eq!(assign(&f, &t, &bar, &person).await.status, 200);
    let after = f.get(&t, "/v1/dashboard").await;
    assert_eq!(after.data()["unfilledShifts"]["count"], 1);
    assert_eq!(after.data()["unfilledShifts"]["soonest"][0]["name"], "Doors");
}

/// Moving a shift's times races assigning someone to it: either the move
/// sees the assignment (and is refused) or the assignment sees the new times
/// (and their overlap); never both through.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_shift_move_and_an_assignment_never_both_skip_the_overlap_check() {
    let f = Arc::new(fleet().await);
    let t = Arc::new(f.tenant().await);
    let gala = event(&f, &t).await;
    for round in 0..6 {
        let person = made(
            &f,
            &t,
            "/v1/crew",
            json!({"name": format!("Crew {round}"), "kind": "staff", "availability": friday_evenings()}),
        )
        .await;
        let early = made(&f, &t, &format!("/v1/events/{gala}/shifts"), json!({"name": "Early", "startsAt": "2030-05-03T17:00:00Z", "endsAt": "2030-05-03T19:00:00Z", "headcount": 10})).await;
        assert_eq!(assign(&f, &t, &early, &person).await.status, 200);
        let late = made(&f, &t, &format!("/v1/events/{gala}/shifts"), json!({"name": "Late", "startsAt": "2030-05-03T21:00:00Z", "endsAt": "2030-05-03T23:00:00Z", "headcount": 10})).await;
        let moved = {
            let (f, t, late) = (f.clone(), t.clone(), late.clone());
            tokio::spawn(async move {
                let body = json!({"startsAt": "2030-05-03T18:00:00Z", "endsAt": "2030-05-03T20:00:00Z"});
                f.call(Method::PATCH, &format!("/v1/shifts/{late}"), Some(&t.owner), Some(t.company), Some(&body)).await
            })
        };
        let assigned = {
            let (f, t, late, person) = (f.clone(), t.clone(), late.clone(), person.clone());
            tokio::spawn(async move { assign(&f, &t, &late, &person).await })
        };
        let (moved, assigned) = (moved.await.unwrap(), assigned.await.unwrap());
        let both = moved.status == 200 && assigned.status == 200;
        assert!(!both, "round {round}: the move and the assignment both passed: {:?} {:?}", moved.body, assigned.body);
        assert!(moved.status == 200 || assigned.status == 200, "round {round}: one of them passes");
        if moved.status != 200 {
            assert_eq!(moved.code(), "SHIFT_HAS_ASSIGNMENTS", "{:?}", moved.body);
        } else {
            assert_eq!(assigned.code(), "OVERLAPPING_SHIFT", "{:?}", assigned.body);
        }
    }
}

#[tokio::test]
async fn a_shift_edit_names_the_version_it_saw() {
    let f = fleet().await;
    let t = f.tenant().await;
    let gala = event(&f, &t).await;
    let shift = f
        .post(&t, &format!("/v1/events/{gala}/shifts"), &json!({"name": "Doors", "startsAt": "2030-05-03T19:00:00Z", "endsAt": "2030-05-03T21:00:00Z", "headcount": 3}))
        .await;
    assert_eq!(shift.data()["version"], 1);
    let id = shift.data()["id"].as_str().unwrap();
    let patch = |version: &str, name: &str| {
        let request = f
            .base
            .http
            .patch(f.base.url(&format!("/v1/shifts/{id}")))
            .bearer_auth(&t.owner)
            .header("x-org", t.company.to_string())
            .header("if-match", version)
            .json(&json!({"name": name}));
        f.base.send(request)
    };
    let first = patch("\"1\"", "Doors A").await;
    assert_eq!((first.status.as_u16(), first.data()["version"].as_u64()), (200, Some(2)), "{:?}", first.body);
    let stale = patch("\"1\"", "Doors B").await;
    assert_eq!((stale.status.as_u16(), stale.code()), (412, "VERSION_MISMATCH"), "{:?}", stale.body);
    assert_eq!(f.get(&t, &format!("/v1/shifts/{id}")).await.data()["name"], "Doors A", "nothing changed");
    let bad = patch("soon", "Doors C").await;
    assert_eq!((bad.status.as_u16(), bad.fields()), (400, vec!["If-Match".to_owned()]));
}
