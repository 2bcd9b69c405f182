//! Signing-key rotation: old tokens keep verifying, new ones carry the new kid.

use std::time::Duration;

use serde_json::json;

use crate::harness::{Auth, boot, kid_of, start, start_with, unique_email};

/// Replicas re-read the keys every second here; a new key signs three
/// seconds (on the manual clock, kept within the tokens' leeway) after it is
/// published. The tests sign in often.
const FAST_KEYS: [(&str, &str); 3] =
    [("SIGNING_KEY_RELOAD_SECS", "1"), ("SIGNING_KEY_PUBLISH_LEAD_SECS", "3"), ("AUTH_RATE_LIMIT_PER_ACCOUNT", "1000")];

fn kids(jwks: &serde_json::Value) -> Vec<String> {
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

/// Lets the published key's lead pass, then waits until `a` signs with `kid`.
async fn promoted(a: &Auth, email: &str, kid: &str) -> String {
    a.clock.advance(chrono::Duration::seconds(3));
    for _ in 0..60 {
        let (token, _) = a.tokens(email, marquee_testkit::PASSWORD).await;
        if kid_of(&token) == kid {
            return token;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{kid} never came to sign");
}

#[tokio::test]
async fn rotation_keeps_old_tokens_valid_and_publishes_both_keys() {
    let a = start_with(&FAST_KEYS).await;
    let email = unique_email();
    a.signup(&email, marquee_testkit::PASSWORD).await;
    let (before, _) = a.tokens(&email, marquee_testkit::PASSWORD).await;
    let old_kid = kid_of(&before);

    let jwks = a.api.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks.status, 200);
    assert_eq!(jwks.body["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks.body["keys"][0]["kid"], old_kid.as_str());
    assert_eq!(jwks.body["keys"][0]["alg"], "EdDSA");
    assert!(jwks.body["keys"][0].get("d").is_none(), "no private part is published");

    let admin = a.admin().await;
    assert_eq!(a.api.post("/v1/admin/keys/rotate", Some(&before), &json!({})).await.status, 403);
    let rotated = a.api.post("/v1/admin/keys/rotate", Some(&admin), &json!({})).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let new_kid = rotated.data()["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    assert!(rotated.data()["signsFrom"].is_string());

    // Published at once, signing only later.
    let jwks = a.api.get("/.well-known/jwks.json", None).await;
    assert_eq!(kids(&jwks.body), [old_kid.clone(), new_kid.clone()]);
    let (still_old, _) = a.tokens(&email, marquee_testkit::PASSWORD).await;
    assert_eq!(kid_of(&still_old), old_kid, "the new key does not sign before its lead has passed");
    let again = a.api.post("/v1/admin/keys/rotate", Some(&admin), &json!({})).await;
    assert_eq!(again.data()["kid"], new_kid.as_str(), "a key already waiting is not replaced");

    let after = promoted(&a, &email, &new_kid).await;
    let jwks = a.api.get("/.well-known/jwks.json", None).await;
    assert_eq!(kids(&jwks.body), [new_kid.clone(), old_kid.clone()]);
    let old = a.api.get("/v1/auth/me", Some(&before)).await;
    assert_eq!(old.status, 200, "signed before the rotation: {:?}", old.body);
    assert_eq!(a.api.get("/v1/auth/me", Some(&after)).await.status, 200);

    // A second rotation retires the first key once the third signs.
    let admin = a.admin().await;
    let third = a.api.post("/v1/admin/keys/rotate", Some(&admin), &json!({})).await;
    let third_kid = third.data()["kid"].as_str().unwrap().to_owned();
    assert_eq!(kids(&a.api.get("/.well-known/jwks.json", None).await.body).len(), 3);
    promoted(&a, &email, &third_kid).await;
    let jwks = a.api.get("/.well-known/jwks.json", None).await;
    assert_eq!(kids(&jwks.body), [third_kid, new_kid.clone()]);
    assert_eq!(a.api.get("/v1/auth/me", Some(&before)).await.status, 401, "its key is retired");

    // Other services verify with the shared validator against this JWKS.
    let validator = marquee_guard::TokenValidator::from_jwks_url(
        a.api.url("/.well-known/jwks.json"),
        marquee_guard::TokenSettings::default(),
    );
    let claims = validator.validate(&after).await.unwrap();
    assert_eq!(claims.typ, "access");
    assert_eq!(claims.role, "user");
}

/// Every token any replica signs verifies at every replica, through a
/// rotation made on one of them.
#[tokio::test]
async fn a_new_key_is_known_to_every_replica_before_any_signs_with_it() {
    let a = start_with(&FAST_KEYS).await;
    let (b, _b_stop) = boot(a.base_env.clone(), a.clock.clone()).await;
    let email = unique_email();
    a.signup(&email, marquee_testkit::PASSWORD).await;
    let login = |api: &marquee_testkit::TestClient| {
        let api = api.clone();
        let body = json!({"email": email, "password": marquee_testkit::PASSWORD});
        async move { api.post("/v1/auth/login", None, &body).await.data()["accessToken"].as_str().unwrap().to_owned() }
    };
    let admin = a.admin().await;
    let rotated = a.api.post("/v1/admin/keys/rotate", Some(&admin), &json!({})).await;
    let new_kid = rotated.data()["kid"].as_str().unwrap().to_owned();
    let mut promoted_at_a = false;
    for step in 0..60 {
        if step == 20 {
            // Both replicas have reloaded by now; let the lead pass.
            a.clock.advance(chrono::Duration::seconds(3));
        }
        for (signer, verifier) in [(&a.api, &b), (&b, &a.api)] {
            let token = login(signer).await;
            promoted_at_a |= signer.url("") == a.api.url("") && kid_of(&token) == new_kid;
            let me = verifier.get("/v1/auth/me", Some(&token)).await;
            assert_eq!(me.status, 200, "step {step}: a token signed with {} is refused elsewhere", kid_of(&token));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(promoted_at_a, "the new key came to sign");
    assert!(kids(&b.get("/.well-known/jwks.json", None).await.body).contains(&new_kid));
}

#[tokio::test]
async fn signing_keys_are_stored_sealed() {
    use sea_orm::{ConnectionTrait, Statement};
    let a = start().await;
    let db = marquee_db::connect(&a.db.url, 1).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT private_sealed FROM signing_keys".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    let sealed: String = row.try_get("", "private_sealed").unwrap();
    assert!(!sealed.contains("PRIVATE KEY"), "the private key is encrypted at rest");
}
