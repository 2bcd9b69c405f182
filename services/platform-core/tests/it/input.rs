//! Malformed and hostile input gets a 4xx with the field and the reason,
//! never a 5xx, and nothing stored changes.

use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::harness::start;

#[tokio::test]
async fn bad_bodies_get_400_with_the_field() {
    let h = start().await;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("not json", b"{code: nope".to_vec(), "body"),
        ("empty", Vec::new(), "body"),
        ("an array", b"[1,2]".to_vec(), "body"),
        (
            "unknown field",
            json!({"code": "ok", "name": "Ok", "modules": ["basic"], "price": 5}).to_string().into_bytes(),
            "price",
        ),
        ("missing field", json!({"code": "ok", "modules": ["basic"]}).to_string().into_bytes(), "name"),
        ("wrong type", json!({"code": "ok", "name": "Ok", "modules": "basic"}).to_string().into_bytes(), "modules"),
        (
            "wrong nested type",
            json!({"code": "ok", "name": "Ok", "modules": ["basic"], "limits": {"maxMembers": "ten"}})
                .to_string()
                .into_bytes(),
            "limits.maxMembers",
        ),
        (
            "out of range",
            json!({"code": "ok", "name": "Ok", "modules": ["basic"], "limits": {"maxMembers": -1}})
                .to_string()
                .into_bytes(),
            "limits.maxMembers",
        ),
        ("bad code", json!({"code": "../../etc", "name": "Ok", "modules": ["basic"]}).to_string().into_bytes(), "code"),
        ("blank name", json!({"code": "ok", "name": "   ", "modules": ["basic"]}).to_string().into_bytes(), "name"),
        (
            "huge name",
            json!({"code": "ok", "name": "n".repeat(5000), "modules": ["basic"]}).to_string().into_bytes(),
            "name",
        ),
        (
            "number too large",
            br#"{"code":"ok","name":"Ok","modules":["basic"],"limits":{"maxMembers":1e400}}"#.to_vec(),
            "limits.maxMembers",
        ),
        ("deep nesting", format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes(), "body"),
        ("trailing data", br#"{"code":"ok","name":"Ok","modules":["basic"]} {}"#.to_vec(), "body"),
    ];
    for (name, body, field) in cases {
        let reply = h.api.raw(Method::POST, "/v1/packages", Some(&h.admin), "application/json", body).await;
        assert_eq!(reply.status, 400, "{name}: {:?}", reply.body);
        assert_eq!(reply.code(), "VALIDATION_FAILED", "{name}");
        assert!(reply.fields().contains(&field.to_owned()), "{name}: expected {field} in {:?}", reply.body);
        assert!(reply.body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }

    let reply = h
        .api
        .put(
            &format!("/v1/companies/{}/subscription", Uuid::now_v7()),
            Some(&h.admin),
            &json!({"packageCode": "standard", "status": "paused"}),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.fields(), ["status"]);

    // Nothing was stored by any of it.
    let list = h.api.get("/v1/packages", Some(&h.admin)).await;
    assert_eq!(list.body["pagination"]["total"], 1);
}

#[tokio::test]
async fn wrong_media_type_size_path_and_paging_are_4xx() {
    let h = start().await;
    let reply = h.api.raw(Method::POST, "/v1/packages", Some(&h.admin), "text/plain", b"{}".to_vec()).await;
    assert_eq!(reply.status, 415);
    assert_eq!(reply.code(), "UNSUPPORTED_MEDIA_TYPE");

    let big = format!(r#"{{"code":"big","name":"{}","modules":["basic"]}}"#, "x".repeat(2 * 1024 * 1024));
    let reply = h.api.raw(Method::POST, "/v1/packages", Some(&h.admin), "application/json", big.into_bytes()).await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.code(), "PAYLOAD_TOO_LARGE");

    let reply = h.api.get("/v1/companies/not-a-uuid/entitlements", Some(&h.admin)).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.fields(), ["id"]);

    let reply = h.api.get("/v1/packages/standard/versions/first", Some(&h.admin)).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.fields(), ["version"]);

    for (query, field) in
        [("page=0", "page"), ("limit=0", "limit"), ("limit=101", "limit"), ("page=abc", "page"), ("limit=-1", "limit")]
    {
        let reply = h.api.get(&format!("/v1/packages?{query}"), Some(&h.admin)).await;
        assert_eq!(reply.status, 400, "{query}: {:?}", reply.body);
        assert_eq!(reply.fields(), [field], "{query}");
    }

    let reply = h.api.get("/v1/nothing-here", Some(&h.admin)).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.code(), "NOT_FOUND");
    let reply = h.api.raw(Method::DELETE, "/v1/packages", Some(&h.admin), "application/json", Vec::new()).await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.code(), "METHOD_NOT_ALLOWED");
}
