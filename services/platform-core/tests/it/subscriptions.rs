use chrono::Duration;
use serde_json::json;
use uuid::Uuid;

use crate::harness::start;

#[tokio::test]
async fn each_status_entitles_or_not() {
    let h = start().await;
    let package = h.basic_package().await;
    let in_future = (h.clock.now() + Duration::days(60)).to_rfc3339();
    let cases = [
        ("trialing", true),
        ("active", true),
        ("past_due", true), // within its grace period
        ("canceled", false),
        ("expired", false),
    ];
    for (status, entitled) in cases {
        let company = Uuid::now_v7();
        if status == "past_due" || status == "canceled" || status == "expired" {
            h.subscribe(company, json!({"packageCode": package, "status": "active"})).await;
        }
        h.subscribe(company, json!({"packageCode": package, "status": status, "currentPeriodEnd": in_future})).await;
        let e = h.entitlements(company).await;
        assert_eq!(e["entitled"], entitled, "{status}: {e}");
        assert_eq!(e["subscriptionStatus"], status);
        assert_eq!(!e["modules"].as_array().unwrap().is_empty(), entitled, "{status}");
        assert_eq!(!e["limits"].as_object().unwrap().is_empty(), entitled, "{status}: limits only while entitled");
    }

    let nobody = h.entitlements(Uuid::now_v7()).await;
    assert_eq!(nobody["entitled"], false);
    assert_eq!(nobody["revision"], 0);
}

#[tokio::test]
async fn trials_end_and_grace_runs_out() {
    let h = start().await;
    let package = h.basic_package().await;

    let trial = Uuid::now_v7();
    let trial_end = h.clock.now() + Duration::days(14);
    h.subscribe(trial, json!({"packageCode": package, "status": "trialing", "trialEndsAt": trial_end.to_rfc3339()}))
        .await;
    let late = Uuid::now_v7();
    h.subscribe(late, json!({"packageCode": package, "status": "active"})).await;
    h.subscribe(late, json!({"packageCode": package, "status": "past_due", "graceDays": 3})).await;

    let e = h.entitlements(trial).await;
    assert_eq!(e["entitled"], true);
    let valid_until = chrono::DateTime::parse_from_rfc3339(e["validUntil"].as_str().unwrap()).unwrap();
    // PostgreSQL keeps microseconds.
    assert!((valid_until.to_utc() - trial_end).num_milliseconds().abs() < 1, "{valid_until} vs {trial_end}");
    assert_eq!(h.entitlements(late).await["entitled"], true);

    h.clock.advance(Duration::days(2));
    assert_eq!(h.entitlements(late).await["entitled"], true, "day 2 of 3 days' grace");
    h.clock.advance(Duration::days(2));
    assert_eq!(h.entitlements(late).await["entitled"], false, "grace is over");
    assert_eq!(h.entitlements(trial).await["entitled"], true);
    h.clock.advance(Duration::days(11));
    assert_eq!(h.entitlements(trial).await["entitled"], false, "the trial ended");

    // Paying again restores access.
    h.subscribe(late, json!({"packageCode": package, "status": "active"})).await;
    assert_eq!(h.entitlements(late).await["entitled"], true);
}

#[tokio::test]
async fn transitions_are_validated_and_recorded() {
    let h = start().await;
    let package = h.basic_package().await;
    let company = Uuid::now_v7();
    let path = format!("/v1/companies/{company}/subscription");
    let put = |body: serde_json::Value| {
        let api = h.api.clone();
        let token = h.admin.clone();
        let path = path.clone();
        async move { api.put(&path, Some(&token), &body).await }
    };

    let refused = put(json!({"packageCode": package, "status": "past_due"})).await;
    assert_eq!(refused.status, 409);
    assert_eq!(refused.code(), "INVALID_TRANSITION");

    assert_eq!(put(json!({"packageCode": package, "status": "trialing"})).await.status, 200);
    let refused = put(json!({"packageCode": package, "status": "past_due"})).await;
    assert_eq!(refused.status, 409, "a trial cannot be past due");
    assert_eq!(put(json!({"packageCode": package, "status": "active"})).await.status, 200);
    assert_eq!(put(json!({"packageCode": package, "status": "expired"})).await.status, 200);

    let refused = put(json!({"packageCode": package, "status": "active"})).await;
    assert_eq!(refused.status, 409, "expired → active needs a new period");
    assert!(refused.body["message"].as_str().unwrap().contains("new period"));
    let refused = put(json!({"packageCode": package, "status": "past_due"})).await;
    assert_eq!(refused.status, 409);

    let start = h.clock.now();
    let renewed = put(json!({
        "packageCode": package,
        "status": "active",
        "currentPeriodStart": start.to_rfc3339(),
        "currentPeriodEnd": (start + Duration::days(365)).to_rfc3339(),
    }))
    .await;
    assert_eq!(renewed.status, 200, "{:?}", renewed.body);
    assert_eq!(renewed.data()["revision"], 4);

    let bad_period = put(json!({
        "packageCode": package, "status": "active",
        "currentPeriodStart": start.to_rfc3339(),
        "currentPeriodEnd": (start - Duration::days(1)).to_rfc3339(),
    }))
    .await;
    assert_eq!(bad_period.status, 400);
    assert_eq!(bad_period.fields(), ["currentPeriodEnd"]);

    let history = h.api.get(&format!("{path}/history?limit=10"), Some(&h.admin)).await;
    assert_eq!(history.status, 200);
    let changes = history.data().as_array().unwrap();
    let statuses: Vec<(&str, &str)> =
        changes.iter().map(|c| (c["fromStatus"].as_str().unwrap_or("-"), c["toStatus"].as_str().unwrap())).collect();
    assert_eq!(statuses, [("expired", "active"), ("active", "expired"), ("trialing", "active"), ("-", "trialing")]);
    for change in changes {
        assert_eq!(change["actor"], h.admin_id.to_string(), "the operator who made it");
        assert!(change["at"].as_str().is_some());
    }
    assert_eq!(history.body["pagination"]["total"], 4);
}

#[tokio::test]
async fn the_default_subscription_is_created_once() {
    use marquee_proto::platform_core::v1::EnsureDefaultSubscriptionRequest;
    let h = start().await;
    let company = Uuid::now_v7();
    let mut calls = Vec::new();
    for _ in 0..8 {
        let mut grpc = h.grpc().await;
        calls.push(tokio::spawn(async move {
            grpc.ensure_default_subscription(EnsureDefaultSubscriptionRequest {
                company_id: company.to_string(),
                requested_by: "someone".into(),
            })
            .await
            .map(|r| r.into_inner())
        }));
    }
    for call in calls {
        let e = call.await.unwrap().unwrap();
        assert_eq!(e.subscription_status, "trialing");
        assert_eq!(e.package_code, "standard");
        assert_eq!(e.revision, 1);
        assert!(e.entitled);
        assert!(e.modules.contains(&"financial".to_owned()));
        assert_eq!(e.limits.get("maxMembers"), Some(&25));
        assert!(e.valid_until_unix_ms > 0, "a trial has an end");
    }
    let history = h.api.get(&format!("/v1/companies/{company}/subscription/history"), Some(&h.admin)).await;
    assert_eq!(history.body["pagination"]["total"], 1, "created exactly once");

    // An existing subscription is left alone.
    h.subscribe(company, json!({"packageCode": "standard", "status": "active"})).await;
    let mut grpc = h.grpc().await;
    let e = grpc
        .ensure_default_subscription(EnsureDefaultSubscriptionRequest {
            company_id: company.to_string(),
            requested_by: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(e.subscription_status, "active");
    assert_eq!(e.revision, 2);
}
