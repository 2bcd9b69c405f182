//! An integration that holds only an API key: it reads orders through the
//! same guard as a person, no further than its key allows, at its own rate,
//! and its key's revocation stops it within a second.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::fleet::{Fleet, Tenant, event_on_sale, fleet, fleet_with};

/// A key of the tenant's owner naming `permissions`, exchanged for a token:
/// (key id, token).
async fn key_token(f: &Fleet, t: &Tenant, permissions: &[&str]) -> (String, String) {
    let created = f
        .auth
        .post(
            &format!("/v1/companies/{}/api-keys", t.company),
            Some(&t.owner),
            &json!({"name": "Box office sync", "permissions": permissions}),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let (id, secret) = (created.data()["id"].as_str().unwrap(), created.data()["secret"].as_str().unwrap());
    let grant = f
        .auth
        .post(
            "/v1/auth/token",
            None,
            &json!({"grantType": "client_credentials", "clientId": id, "clientSecret": secret}),
        )
        .await;
    assert_eq!(grant.status, 200, "{:?}", grant.body);
    assert_eq!(grant.data()["companyId"], t.company.to_string());
    (id.to_owned(), grant.data()["accessToken"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_key_reads_orders_within_its_permissions_until_it_is_revoked() {
    let f = fleet().await;
    let t = f.tenant().await;
    let event = event_on_sale(&f, &t).await;
    let orders = format!("/v1/events/{event}/orders");
    let (id, token) = key_token(&f, &t, &["basic.event.view", "basic.ticketing.view"]).await;

    let r = f.call(Method::GET, &orders, Some(&token), Some(t.company), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = f.call(Method::GET, &format!("/v1/events/{event}"), Some(&token), Some(t.company), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // Not what the key does not name, though its creator may.
    let r = f.call(Method::POST, &orders, Some(&token), Some(t.company), Some(&json!({}))).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "PERMISSION_DENIED"));
    let r = f.call(Method::GET, "/v1/artists", Some(&token), Some(t.company), None).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "PERMISSION_DENIED"));
    // Not in another company.
    let other = f.tenant().await;
    let r = f.call(Method::GET, "/v1/artists", Some(&token), Some(other.company), None).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "NO_MEMBERSHIP"));

    // Revoked: refused within a second, though base had the answer cached.
    let revoked = f.auth.delete(&format!("/v1/companies/{}/api-keys/{id}", t.company), Some(&t.owner)).await;
    assert_eq!(revoked.status, 200, "{:?}", revoked.body);
    let since = Instant::now();
    loop {
        let r = f.call(Method::GET, &orders, Some(&token), Some(t.company), None).await;
        if r.status == 401 {
            assert_eq!(r.code(), "SESSION_REVOKED");
            break;
        }
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert!(since.elapsed() < Duration::from_secs(1), "still served {:?} after the revocation", since.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn each_key_has_its_own_rate() {
    let f = fleet_with(&[("RATE_LIMIT_PER_USER", "5")]).await;
    let t = f.tenant().await;
    let (_, first) = key_token(&f, &t, &["basic.event.view"]).await;
    let (_, second) = key_token(&f, &t, &["basic.event.view"]).await;
    for _ in 0..5 {
        assert_eq!(f.call(Method::GET, "/v1/events", Some(&first), Some(t.company), None).await.status, 200);
    }
    let r = f.call(Method::GET, "/v1/events", Some(&first), Some(t.company), None).await;
    assert_eq!((r.status.as_u16(), r.code()), (429, "RATE_LIMITED"));
    assert!(r.headers.contains_key("retry-after"));
    // Another key of the same company, and the owner, go on.
    assert_eq!(f.call(Method::GET, "/v1/events", Some(&second), Some(t.company), None).await.status, 200);
    assert_eq!(f.call(Method::GET, "/v1/events", Some(&t.owner), Some(t.company), None).await.status, 200);
}
