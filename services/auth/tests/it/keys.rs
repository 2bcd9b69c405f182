//! Signing-key rotation: old tokens keep verifying, new ones carry the new kid.

use serde_json::json;

use crate::harness::{kid_of, start, unique_email};

#[tokio::test]
async fn rotation_keeps_old_tokens_valid_and_publishes_both_keys() {
    let a = start().await;
    let email = unique_email();
    a.signup(&email, "correct horse battery").await;
    let (before, _) = a.tokens(&email, "correct horse battery").await;
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

    let jwks = a.api.get("/.well-known/jwks.json", None).await;
    let kids: Vec<&str> = jwks.body["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, [new_kid.as_str(), old_kid.as_str()]);

    assert_eq!(a.api.get("/v1/auth/me", Some(&before)).await.status, 200, "signed before the rotation");
    let (after, _) = a.tokens(&email, "correct horse battery").await;
    assert_eq!(kid_of(&after), new_kid);
    assert_eq!(a.api.get("/v1/auth/me", Some(&after)).await.status, 200);

    // A second rotation retires the first key.
    let admin = a.admin().await;
    a.api.post("/v1/admin/keys/rotate", Some(&admin), &json!({})).await;
    let jwks = a.api.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks.body["keys"].as_array().unwrap().len(), 2);
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
