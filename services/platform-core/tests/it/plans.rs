use serde_json::json;
use uuid::Uuid;

use crate::harness::{start, strings};

#[tokio::test]
async fn a_package_revision_is_a_new_version_and_subscribers_keep_theirs() {
    let h = start().await;
    let created = h
        .create(
            "/v1/packages",
            json!({"code": "touring", "name": "Touring", "modules": ["basic"],
                   "permissions": ["basic.event.view", "basic.event.create"], "limits": {"maxEvents": 3}}),
        )
        .await;
    assert_eq!(created["version"], 1);

    let again = h
        .api
        .post("/v1/packages", Some(&h.admin), &json!({"code": "touring", "name": "Again", "modules": ["basic"]}))
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.code(), "PLAN_EXISTS");

    let early = Uuid::now_v7();
    h.subscribe(early, json!({"packageCode": "touring", "status": "active"})).await;

    let revised = h
        .api
        .put(
            "/v1/packages/touring",
            Some(&h.admin),
            &json!({"name": "Touring", "modules": ["basic", "financial"], "limits": {"maxEvents": 50}}),
        )
        .await;
    assert_eq!(revised.status, 201, "{:?}", revised.body);
    assert_eq!(revised.data()["version"], 2);

    let shown = h.api.get("/v1/packages/touring", Some(&h.admin)).await;
    assert_eq!(shown.data()["version"], 2);
    assert_eq!(shown.data()["versions"], json!([2, 1]));
    let v1 = h.api.get("/v1/packages/touring/versions/1", Some(&h.admin)).await;
    assert_eq!(v1.data()["limits"]["maxEvents"], 3);

    // The early subscriber is still on version 1, even after an unrelated edit.
    h.subscribe(early, json!({"packageCode": "touring", "status": "active", "note": "renewal"})).await;
    let e = h.entitlements(early).await;
    assert_eq!(e["packageVersion"], 1);
    assert_eq!(strings(&e["permissions"]), ["basic.event.create", "basic.event.view"]);
    assert_eq!(e["limits"]["maxEvents"], 3);

    // A new subscriber gets version 2.
    let late = Uuid::now_v7();
    h.subscribe(late, json!({"packageCode": "touring", "status": "active"})).await;
    let e = h.entitlements(late).await;
    assert_eq!(e["packageVersion"], 2);
    assert_eq!(strings(&e["modules"]), ["basic", "financial"]);
    assert_eq!(e["limits"]["maxEvents"], 50);

    // Moving the early subscriber is explicit.
    h.subscribe(early, json!({"packageCode": "touring", "packageVersion": 2, "status": "active"})).await;
    assert_eq!(h.entitlements(early).await["packageVersion"], 2);

    let list = h.api.get("/v1/packages?page=1&limit=100", Some(&h.admin)).await;
    assert_eq!(list.status, 200);
    let codes: Vec<&str> = list.data().as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["standard", "touring"], "one entry per package, its latest version");
    assert_eq!(list.body["pagination"]["total"], 2);
}

#[tokio::test]
async fn add_ons_extend_modules_permissions_and_limits() {
    let h = start().await;
    let package = h.basic_package().await;
    h.create(
        "/v1/addons",
        json!({"code": "money", "name": "Money", "modules": ["financial"], "limits": {"maxMembers": 10}}),
    )
    .await;
    h.create(
        "/v1/addons",
        json!({"code": "bigger", "name": "Bigger", "limits": {"maxEvents": 100, "storageBytes": 1000}}),
    )
    .await;

    let company = Uuid::now_v7();
    h.subscribe(company, json!({"packageCode": package, "addonCodes": ["money", "bigger"], "status": "active"})).await;
    let e = h.entitlements(company).await;
    assert_eq!(strings(&e["modules"]), ["basic", "financial"]);
    assert!(strings(&e["permissions"]).contains(&"financial.ledger.post".to_owned()));
    assert_eq!(e["limits"]["maxMembers"], 15, "5 from the package + 10 from the add-on");
    assert_eq!(e["limits"]["maxEvents"], 110);
    assert_eq!(e["limits"]["storageBytes"], 1000);
    assert_eq!(strings(&e["addonCodes"]), ["money", "bigger"]);

    // Without the add-on, financial is gone again.
    h.subscribe(company, json!({"packageCode": package, "status": "active"})).await;
    let e = h.entitlements(company).await;
    assert_eq!(strings(&e["modules"]), ["basic"]);
    assert!(!strings(&e["permissions"]).iter().any(|p| p.starts_with("financial.")));
    assert_eq!(e["limits"]["maxMembers"], 5);

    let unknown = h
        .api
        .put(
            &format!("/v1/companies/{company}/subscription"),
            Some(&h.admin),
            &json!({"packageCode": package, "addonCodes": ["nope"], "status": "active"}),
        )
        .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.fields(), ["addonCodes[0]"]);
}

#[tokio::test]
async fn plans_must_name_catalog_modules_and_permissions() {
    let h = start().await;
    let cases = [
        (json!({"code": "x1", "name": "X", "modules": ["karaoke"]}), "modules"),
        (json!({"code": "x2", "name": "X", "modules": ["basic"], "permissions": ["basic.event.fly"]}), "permissions"),
        (
            json!({"code": "x3", "name": "X", "modules": ["basic"], "permissions": ["financial.ledger.post"]}),
            "permissions",
        ),
        (json!({"code": "x4", "name": "X", "modules": []}), "modules"),
    ];
    for (body, field) in cases {
        let reply = h.api.post("/v1/packages", Some(&h.admin), &body).await;
        assert_eq!(reply.status, 400, "{body}: {:?}", reply.body);
        assert_eq!(reply.fields(), [field], "{body}");
    }
    let missing = h.api.get("/v1/packages/ghost", Some(&h.admin)).await;
    assert_eq!(missing.status, 404);
    let revise_missing =
        h.api.put("/v1/addons/ghost", Some(&h.admin), &json!({"name": "Ghost", "limits": {"maxMembers": 1}})).await;
    assert_eq!(revise_missing.status, 404);
}
