//! Calendar holds and conflicts, the workspace with member-only assignees, and
//! the dashboard.

use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::fleet::fleet;

#[tokio::test]
async fn the_calendar_shows_events_and_holds_with_conflicts() {
    let f = fleet().await;
    let t = f.tenant().await;
    let venue = f
        .post(&t, "/v1/venues", &json!({"name": "Coliseu", "address": {"line1": "x", "city": "Lisboa", "country": "PT"}, "timezone": "Europe/Lisbon", "capacity": 100}))
        .await
        .data()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let artist = f.post(&t, "/v1/artists", &json!({"name": "Owls"})).await.data()["id"].as_str().unwrap().to_owned();
    let event = f
        .post(&t, "/v1/events", &json!({"name": "Gala", "venueId": venue, "startsAt": "2030-05-01T20:00:00Z", "endsAt": "2030-05-01T23:00:00Z", "lineup": [{"artistId": artist}]}))
        .await;
    assert_eq!(event.status, 201);
    let event_id = event.data()["id"].as_str().unwrap().to_owned();

    let hold = f
        .post(&t, "/v1/calendar/holds", &json!({"artistId": artist, "startsAt": "2030-05-01T22:00:00Z", "endsAt": "2030-05-02T01:00:00Z", "expiresAt": "2030-04-01T00:00:00Z", "note": "Second show?"}))
        .await;
    assert_eq!(hold.status, 201, "{:?}", hold.body);
    assert_eq!(hold.data()["conflicts"], json!([event_id]), "the artist plays the gala then");
    let hold_id = hold.data()["id"].as_str().unwrap().to_owned();
    let quiet = f
        .post(&t, "/v1/calendar/holds", &json!({"venueId": venue, "startsAt": "2030-06-01T20:00:00Z", "endsAt": "2030-06-01T23:00:00Z", "expiresAt": "2030-05-15T00:00:00Z"}))
        .await;
    assert_eq!(quiet.data()["conflicts"], json!([]));

    let cal = f.get(&t, "/v1/calendar?from=2030-05-01T00:00:00Z&to=2030-05-31T00:00:00Z").await;
    assert_eq!(cal.status, 200, "{:?}", cal.body);
    let kinds: Vec<&str> = cal.data().as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["event", "hold"]);
    assert_eq!(cal.data()[0]["conflicts"], json!([hold_id]));

    for (body, field) in [
        (
            json!({"startsAt": "2030-07-01T20:00:00Z", "endsAt": "2030-07-01T22:00:00Z", "expiresAt": "2030-06-01T00:00:00Z"}),
            "venueId",
        ),
        (
            json!({"venueId": venue, "startsAt": "2030-07-01T20:00:00Z", "endsAt": "2030-07-01T22:00:00Z", "expiresAt": "2020-01-01T00:00:00Z"}),
            "expiresAt",
        ),
        (
            json!({"artistId": Uuid::now_v7(), "startsAt": "2030-07-01T20:00:00Z", "endsAt": "2030-07-01T22:00:00Z", "expiresAt": "2030-06-01T00:00:00Z"}),
            "artistId",
        ),
    ] {
        assert_eq!(f.post(&t, "/v1/calendar/holds", &body).await.fields(), [field], "{body}");
    }
    assert_eq!(f.get(&t, "/v1/calendar?from=2030-05-01T00:00:00Z").await.status, 400, "a range needs both ends");
    assert_eq!(f.get(&t, "/v1/calendar?from=2030-01-01T00:00:00Z&to=2032-01-01T00:00:00Z").await.fields(), ["to"]);

    let released =
        f.call(Method::DELETE, &format!("/v1/calendar/holds/{hold_id}"), Some(&t.owner), Some(t.company), None).await;
    assert_eq!(released.status, 200);
    let cal = f.get(&t, "/v1/calendar?from=2030-05-01T00:00:00Z&to=2030-05-31T00:00:00Z").await;
    assert_eq!(cal.data().as_array().unwrap().len(), 1);
    assert_eq!(cal.data()[0]["conflicts"], json!([]));

    // Another company's calendar is empty.
    let other = f.tenant().await;
    let theirs = f.get(&other, "/v1/calendar?from=2030-05-01T00:00:00Z&to=2030-05-31T00:00:00Z").await;
    assert_eq!(theirs.data(), &json!([]));
}

#[tokio::test]
async fn tasks_are_assigned_only_to_members() {
    let f = fleet().await;
    let t = f.tenant().await;
    let (colleague, _) = f.member_with(&t, &["basic.workspace.view"]).await;
    let (_, outsider, _) = f.person().await;
    let board = f.post(&t, "/v1/workspaces", &json!({"name": "Summer tour"})).await;
    assert_eq!(board.status, 201, "{:?}", board.body);
    let board_id = board.data()["id"].as_str().unwrap().to_owned();

    let task = f
        .post(&t, "/v1/tasks", &json!({"boardId": board_id, "title": "Book hotel", "priority": "high", "dueDate": "2030-06-01", "assignees": [colleague, t.owner_id, colleague]}))
        .await;
    assert_eq!(task.status, 201, "{:?}", task.body);
    assert_eq!(task.data()["assignees"], json!([colleague, t.owner_id]), "each once");
    assert_eq!(task.data()["status"], "todo");
    let task_id = task.data()["id"].as_str().unwrap().to_owned();

    let refused =
        f.post(&t, "/v1/tasks", &json!({"boardId": board_id, "title": "X", "assignees": [t.owner_id, outsider]})).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.fields(), ["assignees[1]"]);
    let bad = f.post(&t, "/v1/tasks", &json!({"boardId": Uuid::now_v7(), "title": "X", "priority": "whenever"})).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.fields(), ["priority"]);

    let mine = f.get(&t, &format!("/v1/tasks?assignee={colleague}")).await;
    assert_eq!(mine.body["pagination"]["total"], 1);
    let moved = f
        .call(
            Method::PATCH,
            &format!("/v1/tasks/{task_id}"),
            Some(&t.owner),
            Some(t.company),
            Some(&json!({"status": "in_progress", "dueDate": null})),
        )
        .await;
    assert_eq!(moved.status, 200);
    assert_eq!(moved.data()["dueDate"], serde_json::Value::Null);

    let comment =
        f.post(&t, &format!("/v1/tasks/{task_id}/comments"), &json!({"body": "Two rooms, near the venue"})).await;
    assert_eq!(comment.status, 201);
    let comments = f.get(&t, &format!("/v1/tasks/{task_id}/comments")).await;
    assert_eq!(comments.data()[0]["authorId"], t.owner_id.to_string());

    // Dashboard: open tasks, upcoming events, holds and activity.
    let dash = f.get(&t, "/v1/dashboard").await;
    assert_eq!(dash.status, 200, "{:?}", dash.body);
    assert_eq!(dash.data()["openTasks"]["count"], 1);
    assert!(dash.data()["recentActivity"].as_array().unwrap().iter().any(|a| a["action"] == "commented"));

    // Another company cannot see or touch it.
    let other = f.tenant().await;
    assert_eq!(f.get(&other, &format!("/v1/tasks/{task_id}")).await.status, 404);
    assert_eq!(f.get(&other, &format!("/v1/workspaces/{board_id}")).await.status, 404);
    assert_eq!(f.post(&other, &format!("/v1/tasks/{task_id}/comments"), &json!({"body": "hi"})).await.status, 404);

    // Deleting the board takes its tasks along.
    let deleted =
        f.call(Method::DELETE, &format!("/v1/workspaces/{board_id}"), Some(&t.owner), Some(t.company), None).await;
    assert_eq!(deleted.status, 200);
    assert_eq!(f.get(&t, &format!("/v1/tasks/{task_id}")).await.status, 404);
}

/// The dashboard permission alone shows nothing of the areas behind it:
/// no fees, contacts, offer terms or comments through the back door.
#[tokio::test]
async fn the_dashboard_and_the_log_show_only_areas_the_viewer_may_view() {
    let f = fleet().await;
    let t = f.tenant().await;
    let artist = f
        .post(
            &t,
            "/v1/artists",
            &json!({"name": "Secret Act", "fee": {"min": 900000, "max": 1200000, "currency": "EUR"},
                    "contacts": [{"name": "Agent", "email": "agent@act.example", "phone": "+1 555 0199"}]}),
        )
        .await;
    assert_eq!(artist.status, 201, "{:?}", artist.body);
    let venue = f
        .post(&t, "/v1/venues", &json!({"name": "Coliseu", "address": {"line1": "x", "city": "Lisboa", "country": "PT"}, "timezone": "Europe/Lisbon", "capacity": 100}))
        .await;
    assert_eq!(venue.status, 201, "{:?}", venue.body);

    let (_, glancer) = f.member_with(&t, &["basic.dashboard.view"]).await;
    let as_glancer = |path: &'static str| f.call(Method::GET, path, Some(&glancer), Some(t.company), None);
    let log = as_glancer("/v1/activity").await;
    assert_eq!(log.status, 200, "{:?}", log.body);
    assert_eq!(log.data(), &json!([]));
    assert_eq!(log.body["pagination"]["total"], 0);
    let dash = as_glancer("/v1/dashboard").await;
    assert_eq!(dash.status, 200, "{:?}", dash.body);
    for section in ["upcomingEvents", "ticketSales", "pendingOffers", "openTasks", "unfilledShifts", "pendingHolds"] {
        assert_eq!(dash.data()[section], serde_json::Value::Null, "{section}");
    }
    assert_eq!(dash.data()["recentActivity"], json!([]));
    assert!(!dash.body.to_string().contains("agent@act.example"));

    let (_, venue_viewer) = f.member_with(&t, &["basic.dashboard.view", "basic.venue.view"]).await;
    let log = f.call(Method::GET, "/v1/activity", Some(&venue_viewer), Some(t.company), None).await;
    let areas: Vec<&str> = log.data().as_array().unwrap().iter().map(|e| e["entity"].as_str().unwrap()).collect();
    assert_eq!(areas, ["venue"]);
    let asked = f.call(Method::GET, "/v1/activity?entity=artist", Some(&venue_viewer), Some(t.company), None).await;
    assert_eq!(asked.data(), &json!([]), "naming an area does not open it");

    let owner_log = f.get(&t, "/v1/activity").await;
    assert_eq!(owner_log.body["pagination"]["total"], 2, "the owner sees both");
}

#[tokio::test]
async fn holds_in_force_are_bounded_per_company() {
    let f = crate::fleet::fleet_with(&[("MAX_ACTIVE_HOLDS", "3")]).await;
    let t = f.tenant().await;
    let other = f.tenant().await;
    let mut venues = Vec::new();
    for tenant in [&t, &other] {
        let venue = f
            .post(tenant, "/v1/venues", &json!({"name": "Coliseu", "address": {"line1": "x", "city": "Lisboa", "country": "PT"}, "timezone": "Europe/Lisbon", "capacity": 100}))
            .await;
        venues.push(venue.data()["id"].clone());
    }
    let hold = |day: u32, venue: &serde_json::Value| json!({"venueId": venue, "startsAt": format!("2030-07-{day:02}T20:00:00Z"), "endsAt": format!("2030-07-{day:02}T23:00:00Z"), "expiresAt": "2030-06-01T00:00:00Z"});
    let mut ids = Vec::new();
    for day in 1..=3 {
        let r = f.post(&t, "/v1/calendar/holds", &hold(day, &venues[0])).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        ids.push(r.data()["id"].as_str().unwrap().to_owned());
    }
    let over = f.post(&t, "/v1/calendar/holds", &hold(4, &venues[0])).await;
    assert_eq!((over.status.as_u16(), over.code()), (403, "HOLD_LIMIT_REACHED"), "{:?}", over.body);
    let released =
        f.call(Method::DELETE, &format!("/v1/calendar/holds/{}", ids[0]), Some(&t.owner), Some(t.company), None).await;
    assert_eq!(released.status, 200, "{:?}", released.body);
    assert_eq!(
        f.post(&t, "/v1/calendar/holds", &hold(4, &venues[0])).await.status,
        201,
        "a released hold frees its place"
    );
    assert_eq!(
        f.post(&other, "/v1/calendar/holds", &hold(1, &venues[1])).await.status,
        201,
        "the bound is per company"
    );
}
