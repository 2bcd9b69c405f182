//! Every row of the guard table (DESIGN §3), failing closed.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::fleet::{fleet, fleet_with};

async fn metric(f: &crate::fleet::Fleet, name: &str) -> u64 {
    let text = f.base.http.get(f.base.url("/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

#[tokio::test]
async fn the_guard_table_in_order() {
    let f = fleet().await;
    let t = f.tenant().await;
    let path = "/v1/artists";

    let r = f.call(Method::GET, path, None, Some(t.company), None).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "MISSING_TOKEN"));
    let r = f.call(Method::GET, path, Some(&t.owner), None, None).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "MISSING_ORG"));
    let r = f.base.send(f.base.http.get(f.base.url(path)).bearer_auth(&t.owner).header("x-org", "acme")).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "MALFORMED_ORG"));
    let r = f.call(Method::GET, path, Some("not.a.token"), Some(t.company), None).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "INVALID_TOKEN"));

    // A stranger to the company.
    let (_, _, stranger) = f.person().await;
    let r = f.call(Method::GET, path, Some(&stranger), Some(t.company), None).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "NO_MEMBERSHIP"));

    // A member without the route's permission.
    let (_, viewer) = f.member_with(&t, &["basic.artist.view"]).await;
    let r = f.call(Method::POST, path, Some(&viewer), Some(t.company), Some(&json!({"name": "X"}))).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "PERMISSION_DENIED"));
    let r = f.call(Method::GET, path, Some(&viewer), Some(t.company), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    // A plan without the basic module.
    let (_, admin) = f.login(crate::fleet::ADMIN_EMAIL, crate::fleet::ADMIN_PASSWORD).await;
    let code = format!("money-{}", &Uuid::now_v7().simple().to_string()[24..]);
    assert_eq!(
        f.core
            .post("/v1/packages", Some(&admin), &json!({"code": code, "name": "Money only", "modules": ["financial"]}))
            .await
            .status,
        201
    );
    f.set_package(t.company, json!({"packageCode": code, "status": "active"})).await;
    let r = f.call(Method::GET, path, Some(&t.owner), Some(t.company), None).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "MODULE_NOT_ENABLED"), "{:?}", r.body);
    f.set_package(t.company, json!({"packageCode": "standard", "status": "active"})).await;

    // A session that ended.
    let r = f.auth.post("/v1/auth/logout", Some(&viewer), &json!({})).await;
    assert_eq!(r.status, 200);
    let r = f.call(Method::GET, path, Some(&viewer), Some(t.company), None).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "SESSION_REVOKED"));
}

#[tokio::test]
async fn auth_stopped_is_503_never_2xx_and_recovery_is_automatic() {
    let mut f = fleet().await;
    let t = f.tenant().await;
    let (_, reader) = f.member_with(&t, &["basic.artist.view"]).await;
    assert_eq!(f.call(Method::GET, "/v1/artists", Some(&reader), Some(t.company), None).await.status, 200);

    f.stop_auth().await;
    // The stream is gone: the cache is not trusted, and every request asks.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let before = metric(&f, "access_resolutions_total").await;
    for token in [&t.owner, &reader, &t.owner] {
        let r = f.call(Method::GET, "/v1/artists", Some(token), Some(t.company), None).await;
        assert_eq!((r.status.as_u16(), r.code()), (503, "ACCESS_UNAVAILABLE"), "{:?}", r.body);
        assert!(r.headers.contains_key("retry-after"));
    }
    assert_eq!(metric(&f, "access_resolutions_total").await - before, 3, "each request asked auth");
    assert_eq!(f.base.get("/readyz", None).await.status, 503);

    f.restart_auth().await;
    let mut recovered = false;
    for _ in 0..100 {
        if f.call(Method::GET, "/v1/artists", Some(&reader), Some(t.company), None).await.status == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(recovered, "base recovers by itself when auth returns");
}

/// While the stream is up, repeated requests use the cache; a change is
/// refused within a second.
#[tokio::test]
async fn revocations_reach_base_within_a_second() {
    let f = fleet().await;
    let t = f.tenant().await;
    let check = |token: String| {
        let base = f.base.clone();
        let company = t.company;
        async move {
            base.send(base.http.get(base.url("/v1/artists")).bearer_auth(token).header("x-org", company.to_string()))
                .await
                .status
                .as_u16()
        }
    };
    let refused_within_a_second = |token: String, expected: u16| async move {
        let start = tokio::time::Instant::now();
        while start.elapsed() < Duration::from_secs(1) {
            if check(token.clone()).await == expected {
                return start.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("still allowed after a second");
    };

    // Cached while the stream is up.
    let (member, token) = f.member_with(&t, &["basic.artist.view"]).await;
    assert_eq!(check(token.clone()).await, 200);
    let before = metric(&f, "access_resolutions_total").await;
    for _ in 0..5 {
        assert_eq!(check(token.clone()).await, 200);
    }
    assert_eq!(metric(&f, "access_resolutions_total").await, before, "answered from the cache");

    // Permission revoked: the member's roles are taken away.
    let patch = |user: Uuid, body: serde_json::Value| {
        let auth = f.auth.clone();
        let owner = t.owner.clone();
        let company = t.company;
        async move {
            let r = auth
                .send(
                    auth.http
                        .patch(auth.url(&format!("/v1/companies/{company}/members/{user}")))
                        .bearer_auth(owner)
                        .json(&body),
                )
                .await;
            assert_eq!(r.status, 200, "{:?}", r.body);
        }
    };
    patch(member, json!({"roleIds": []})).await;
    refused_within_a_second(token.clone(), 403).await;

    // Member suspended.
    let (member, token) = f.member_with(&t, &["basic.artist.view"]).await;
    assert_eq!(check(token.clone()).await, 200);
    patch(member, json!({"status": "suspended"})).await;
    refused_within_a_second(token, 403).await;

    // Session logged out.
    let (_, token) = f.member_with(&t, &["basic.artist.view"]).await;
    assert_eq!(check(token.clone()).await, 200);
    f.auth.post("/v1/auth/logout", Some(&token), &json!({})).await;
    refused_within_a_second(token, 401).await;

    // Subscription canceled.
    assert_eq!(check(t.owner.clone()).await, 200);
    f.set_package(t.company, json!({"packageCode": "standard", "status": "canceled"})).await;
    refused_within_a_second(t.owner.clone(), 403).await;
}

#[tokio::test]
async fn every_protected_route_declares_a_catalog_permission() {
    let f = fleet().await;
    let t = f.tenant().await;
    let table = f.base.get("/v1/meta/permissions", None).await;
    assert_eq!(table.status, 200);
    let entries = table.data().as_array().unwrap().clone();
    assert!(!entries.is_empty());
    let (_, admin) = f.login(crate::fleet::ADMIN_EMAIL, crate::fleet::ADMIN_PASSWORD).await;
    let catalog = f.core.get("/v1/modules", Some(&admin)).await;
    let known: Vec<String> = catalog
        .data()
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["permissions"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap().to_owned()))
        .collect();
    // A member with no permission at all is refused on every declared route.
    let (_, nobody) = f.member_with(&t, &[]).await;
    for entry in entries {
        let permission = entry["permission"].as_str().unwrap();
        assert!(permission.starts_with("basic.") && known.contains(&permission.to_owned()), "{entry}");
        let path = entry["path"].as_str().unwrap().replace("{id}", &Uuid::now_v7().to_string());
        let method: Method = entry["method"].as_str().unwrap().parse().unwrap();
        let body = json!({});
        let r = f.call(method.clone(), &path, Some(&nobody), Some(t.company), Some(&body)).await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "PERMISSION_DENIED"), "{method} {path}");
    }
}

#[tokio::test]
async fn rate_limits_per_user_answer_429() {
    let f = fleet_with(&[("RATE_LIMIT_PER_USER", "5")]).await;
    let t = f.tenant().await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let r = f.get(&t, "/v1/artists").await;
        if r.status == 429 {
            assert_eq!(r.code(), "RATE_LIMITED");
            assert!(r.headers.contains_key("retry-after"));
        }
        statuses.push(r.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429]);
}

#[tokio::test]
async fn rate_limits_per_company_answer_429() {
    let f = fleet_with(&[("RATE_LIMIT_PER_COMPANY", "4")]).await;
    let t = f.tenant().await;
    let (_, colleague) = f.member_with(&t, &["basic.artist.view"]).await;
    let mut statuses = Vec::new();
    for token in [&t.owner, &colleague, &t.owner, &colleague, &t.owner, &colleague] {
        statuses.push(f.call(Method::GET, "/v1/artists", Some(token), Some(t.company), None).await.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429], "the company's budget is shared by its members");
    let other = f.tenant().await;
    assert_eq!(f.get(&other, "/v1/artists").await.status, 200, "other companies are unaffected");
}

#[tokio::test]
async fn strangers_never_spend_a_company_budget() {
    let f = fleet_with(&[("RATE_LIMIT_PER_COMPANY", "3")]).await;
    let victim = f.tenant().await;
    let (_, _, stranger) = f.person().await;
    for _ in 0..10 {
        let r = f.call(Method::GET, "/v1/artists", Some(&stranger), Some(victim.company), None).await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "NO_MEMBERSHIP"));
    }
    // Nor does a member who lacks the route's permission.
    let (_, viewer) = f.member_with(&victim, &["basic.venue.view"]).await;
    for _ in 0..5 {
        let r = f.call(Method::GET, "/v1/artists", Some(&viewer), Some(victim.company), None).await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "PERMISSION_DENIED"));
    }
    for _ in 0..3 {
        assert_eq!(f.get(&victim, "/v1/artists").await.status, 200, "the company's own budget is whole");
    }
    assert_eq!(f.get(&victim, "/v1/artists").await.status, 429);
}

/// A write's revision, demanded at base, is never answered from a cached
/// decision that misses the write, even while that decision is still cached.
#[tokio::test]
async fn a_grant_demanded_by_its_revision_is_seen_at_once() {
    let f = fleet().await;
    let t = f.tenant().await;
    let (member, token) = f.member_with(&t, &["basic.artist.view"]).await;
    let create = |revision: Option<u64>| {
        let mut request = f
            .base
            .http
            .post(f.base.url("/v1/artists"))
            .bearer_auth(&token)
            .header("x-org", t.company.to_string())
            .json(&json!({"name": "Nova"}));
        if let Some(r) = revision {
            request = request.header("x-access-revision", r.to_string());
        }
        f.base.send(request)
    };
    assert_eq!(create(None).await.code(), "PERMISSION_DENIED");
    let granted = f
        .auth
        .patch(
            &format!("/v1/companies/{}/members/{member}", t.company),
            Some(&t.owner),
            &json!({"grants": ["basic.artist.create"]}),
        )
        .await;
    assert_eq!(granted.status, 200, "{:?}", granted.body);
    let revision = granted.data()["revision"].as_u64().unwrap();
    assert_eq!(f.revision(&t).await, revision, "auth answers with the number the write returned");
    let created = create(Some(revision)).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
}

/// A request that names a revision is never decided on an older cached answer.
#[tokio::test]
async fn a_demanded_revision_bypasses_older_cached_answers() {
    let f = fleet().await;
    let t = f.tenant().await;
    assert_eq!(f.get(&t, "/v1/artists").await.status, 200);
    let access = f
        .auth
        .send(f.auth.http.get(f.auth.url("/v1/me/access")).bearer_auth(&t.owner).header("x-org", t.company.to_string()))
        .await;
    let revision = access.data()["revision"].as_u64().unwrap();
    let ask = |r: u64| {
        let request = f
            .base
            .http
            .get(f.base.url("/v1/artists"))
            .bearer_auth(&t.owner)
            .header("x-org", t.company.to_string())
            .header("x-access-revision", r.to_string());
        f.base.send(request)
    };
    assert_eq!(ask(revision).await.status, 200);
    let future = ask(revision + 1000).await;
    assert_eq!(
        (future.status.as_u16(), future.code()),
        (409, "REVISION_NOT_REACHED"),
        "never answered from older state, and never told to retry what cannot succeed: {:?}",
        future.body
    );
    assert!(!future.headers.contains_key("retry-after"));
    let bad = f
        .base
        .send(
            f.base
                .http
                .get(f.base.url("/v1/artists"))
                .bearer_auth(&t.owner)
                .header("x-org", t.company.to_string())
                .header("x-access-revision", "soon"),
        )
        .await;
    assert_eq!(bad.status, 400);
}

/// Paging beyond what a database can bind is a 400 naming the field, never a
/// dropped connection.
#[tokio::test]
async fn out_of_range_paging_is_a_field_error() {
    let f = fleet().await;
    let t = f.tenant().await;
    for (query, field) in [
        ("page=18446744073709551615", "page"),
        ("page=9223372036854775807", "page"),
        ("page=1000001", "page"),
        ("page=0", "page"),
        ("limit=18446744073709551615", "limit"),
        ("page=-1", "page"),
    ] {
        for list in ["/v1/artists", "/v1/events", "/v1/activity", "/v1/tasks"] {
            let r = f.get(&t, &format!("{list}?{query}")).await;
            assert_eq!((r.status.as_u16(), r.code()), (400, "VALIDATION_FAILED"), "{list}?{query}: {:?}", r.body);
            assert_eq!(r.fields(), [field], "{list}?{query}");
        }
    }
    let last = f.get(&t, "/v1/artists?page=1000000&limit=100").await;
    assert_eq!(last.status, 200, "{:?}", last.body);
    assert_eq!(last.data(), &json!([]));
}
