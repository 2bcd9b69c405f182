//! Artists: create, read, update, delete, validation, lists, isolation, activity.

use reqwest::Method;
use serde_json::json;

use crate::fleet::fleet;

#[tokio::test]
async fn artists_crud_with_validation_and_activity() {
    let f = fleet().await;
    let t = f.tenant().await;
    let created = f
        .post(
            &t,
            "/v1/artists",
            &json!({
                "name": "  The Midnight Owls ",
                "genres": ["jazz", "soul"],
                "contacts": [{"name": "Rita", "role": "manager", "email": "rita@owls.example", "phone": "+1 555 0100"}],
                "representation": "Blue Note Agency",
                "fee": {"min": 150000, "max": 300000, "currency": "EUR"},
                "notes": "Needs a grand piano"
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.data()["id"].as_str().unwrap().to_owned();
    assert_eq!(created.data()["name"], "The Midnight Owls");
    assert_eq!(created.data()["createdBy"], t.owner_id.to_string());

    let shown = f.get(&t, &format!("/v1/artists/{id}")).await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.data()["fee"]["currency"], "EUR");

    let patched = f
        .call(
            Method::PATCH,
            &format!("/v1/artists/{id}"),
            Some(&t.owner),
            Some(t.company),
            Some(&json!({"notes": "Grand piano, tuned", "fee": null})),
        )
        .await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    assert_eq!(patched.data()["fee"], serde_json::Value::Null);
    assert_eq!(patched.data()["genres"], json!(["jazz", "soul"]));

    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "X", "fee": {"min": 5, "max": 1, "currency": "EUR"}}), "fee.max"),
        (json!({"name": "X", "fee": {"min": 1, "max": 5, "currency": "euro"}}), "fee.currency"),
        (json!({"name": "X", "contacts": [{"name": "A", "email": "nope"}]}), "contacts[0].email"),
        (json!({"name": "X", "genres": "jazz"}), "genres"),
        (json!({"name": "X", "companyId": t.company}), "companyId"),
    ] {
        let r = f.post(&t, "/v1/artists", &body).await;
        assert_eq!(r.status, 400, "{body}");
        assert!(r.fields().contains(&field.to_owned()), "{body}: {:?}", r.body);
    }

    let deleted = f.call(Method::DELETE, &format!("/v1/artists/{id}"), Some(&t.owner), Some(t.company), None).await;
    assert_eq!(deleted.status, 200);
    assert_eq!(f.get(&t, &format!("/v1/artists/{id}")).await.status, 404);

    let activity = f.get(&t, "/v1/activity?entity=artist").await;
    assert_eq!(activity.status, 200);
    let actions: Vec<&str> =
        activity.data().as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["deleted", "updated", "created"]);
    let update = &activity.data()[1];
    assert_eq!(update["before"]["notes"], "Needs a grand piano");
    assert_eq!(update["after"]["notes"], "Grand piano, tuned");
}

#[tokio::test]
async fn artist_lists_page_sort_filter_and_stay_in_their_company() {
    let f = fleet().await;
    let t = f.tenant().await;
    let other = f.tenant().await;
    for (name, genre) in [("Beta Band", "rock"), ("Alpha Trio", "jazz"), ("Gamma Ray", "jazz")] {
        assert_eq!(f.post(&t, "/v1/artists", &json!({"name": name, "genres": [genre]})).await.status, 201);
    }
    let foreign = f.post(&other, "/v1/artists", &json!({"name": "Alpha Elsewhere"})).await;
    let foreign_id = foreign.data()["id"].as_str().unwrap().to_owned();

    let page = f.get(&t, "/v1/artists?limit=2&page=1&sort=-name").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body["pagination"], json!({"page": 1, "limit": 2, "total": 3, "totalPages": 2}));
    let names: Vec<&str> = page.data().as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Gamma Ray", "Beta Band"]);

    let found = f.get(&t, "/v1/artists?q=ALPHA").await;
    assert_eq!(found.body["pagination"]["total"], 1, "case-insensitive, and never another company's");
    let jazz = f.get(&t, "/v1/artists?genre=jazz&sort=name").await;
    assert_eq!(jazz.body["pagination"]["total"], 2);
    assert_eq!(f.get(&t, "/v1/artists?sort=price").await.status, 400);

    // Another company's artist does not exist here.
    assert_eq!(f.get(&t, &format!("/v1/artists/{foreign_id}")).await.status, 404);
    let r = f
        .call(
            Method::PATCH,
            &format!("/v1/artists/{foreign_id}"),
            Some(&t.owner),
            Some(t.company),
            Some(&json!({"name": "Mine now"})),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = f.call(Method::DELETE, &format!("/v1/artists/{foreign_id}"), Some(&t.owner), Some(t.company), None).await;
    assert_eq!(r.status, 404);
    assert_eq!(f.get(&other, &format!("/v1/artists/{foreign_id}")).await.data()["name"], "Alpha Elsewhere");
}
