//! Password change and reset, email verification, and hash upgrades.

use serde_json::json;

use crate::harness::{boot, start, unique_email};

#[tokio::test]
async fn a_password_change_ends_every_other_session() {
    let a = start().await;
    let email = unique_email();
    a.signup(&email, "first password").await;
    let (here, here_refresh) = a.tokens(&email, "first password").await;
    let (elsewhere, elsewhere_refresh) = a.tokens(&email, "first password").await;

    let wrong = a
        .api
        .post("/v1/auth/password", Some(&here), &json!({"currentPassword": "not it", "newPassword": "second password"}))
        .await;
    assert_eq!(wrong.status, 403);
    assert_eq!(wrong.code(), "WRONG_PASSWORD");

    let changed = a
        .api
        .post(
            "/v1/auth/password",
            Some(&here),
            &json!({"currentPassword": "first password", "newPassword": "second password"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!(changed.data()["otherSessionsRevoked"], 1);

    assert_eq!(a.api.get("/v1/auth/me", Some(&elsewhere)).await.status, 401);
    assert_eq!(a.refresh(&elsewhere_refresh).await.status, 401);
    assert_eq!(a.api.get("/v1/auth/me", Some(&here)).await.status, 200, "the session that changed it stays");
    assert_eq!(a.refresh(&here_refresh).await.status, 200);
    assert_eq!(a.login(&email, "first password").await.status, 401);
    assert_eq!(a.login(&email, "second password").await.status, 200);
}

#[tokio::test]
async fn a_reset_link_sets_the_password_and_ends_every_session() {
    let a = start().await;
    let email = unique_email();
    a.signup(&email, "forgotten password").await;
    let (access, refresh) = a.tokens(&email, "forgotten password").await;

    let known = a.api.post("/v1/auth/password/reset", None, &json!({"email": email})).await;
    let unknown = a.api.post("/v1/auth/password/reset", None, &json!({"email": unique_email()})).await;
    assert_eq!(known.status, 202);
    assert_eq!(unknown.status, 202);
    assert_eq!(known.body, unknown.body, "the answer does not tell whether the account exists");

    let token = a.mailed_token(&email, "reset-password").await;
    let weak = a.api.post("/v1/auth/password/reset/confirm", None, &json!({"token": token, "password": "short"})).await;
    assert_eq!(weak.status, 400);
    let done = a
        .api
        .post("/v1/auth/password/reset/confirm", None, &json!({"token": token, "password": "brand new password"}))
        .await;
    assert_eq!(done.status, 200, "{:?}", done.body);

    assert_eq!(a.api.get("/v1/auth/me", Some(&access)).await.status, 401);
    assert_eq!(a.refresh(&refresh).await.status, 401);
    assert_eq!(a.login(&email, "brand new password").await.status, 200);

    let again = a
        .api
        .post("/v1/auth/password/reset/confirm", None, &json!({"token": token, "password": "third password!"}))
        .await;
    assert_eq!(again.status, 400, "a reset link works once");
    assert_eq!(again.code(), "INVALID_TOKEN");

    // An expired link does nothing.
    a.api.post("/v1/auth/password/reset", None, &json!({"email": email})).await;
    let later = a.mailed_token_except(&email, "reset-password", &token).await;
    assert_ne!(later, token);
    a.clock.advance(chrono::Duration::hours(1));
    let expired = a
        .api
        .post("/v1/auth/password/reset/confirm", None, &json!({"token": later, "password": "too late password"}))
        .await;
    assert_eq!(expired.status, 400);
}

#[tokio::test]
async fn the_emailed_link_verifies_the_address_once() {
    let a = start().await;
    let email = unique_email();
    a.signup(&email, marquee_testkit::PASSWORD).await;
    let token = a.mailed_token(&email, "verify-email").await;
    let (access, _) = a.tokens(&email, marquee_testkit::PASSWORD).await;
    assert_eq!(
        a.api.get("/v1/auth/me", Some(&access)).await.data()["emailVerified"],
        false,
        "unverified users can sign in"
    );

    let verified = a.api.post("/v1/auth/email/verify", None, &json!({"token": token})).await;
    assert_eq!(verified.status, 200);
    assert_eq!(a.api.get("/v1/auth/me", Some(&access)).await.data()["emailVerified"], true);
    assert_eq!(a.api.post("/v1/auth/email/verify", None, &json!({"token": token})).await.status, 400);
    assert_eq!(a.api.post("/v1/auth/email/verify", None, &json!({"token": "made-up"})).await.status, 400);
}

#[tokio::test]
async fn hashes_made_with_old_parameters_are_upgraded_at_login() {
    use sea_orm::{ConnectionTrait, Statement};
    let a = start().await;
    let email = unique_email();
    a.signup(&email, marquee_testkit::PASSWORD).await;
    let stored = || async {
        let db = marquee_db::connect(&a.db.url, 1).await.unwrap();
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT password_hash FROM users WHERE email = '{email}'"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<String>("", "password_hash").unwrap()
    };
    assert!(stored().await.contains("m=1024,t=1"));

    // The same database served with stronger parameters.
    let mut vars = a.base_env.clone();
    vars.insert("PASSWORD_HASH_MEMORY_KIB".into(), "2048".into());
    vars.insert("PASSWORD_HASH_ITERATIONS".into(), "2".into());
    let (stronger, _stop) = boot(vars, a.clock.clone()).await;
    let login =
        stronger.post("/v1/auth/login", None, &json!({"email": email, "password": marquee_testkit::PASSWORD})).await;
    assert_eq!(login.status, 200);
    assert!(stored().await.contains("m=2048,t=2"), "upgraded on a successful login");
    let wrong = stronger.post("/v1/auth/login", None, &json!({"email": email, "password": "wrong"})).await;
    assert_eq!(wrong.status, 401);
}
