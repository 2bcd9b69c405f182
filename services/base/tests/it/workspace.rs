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
