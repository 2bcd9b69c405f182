//! The whole life of a session.

use chrono::Duration;
use serde_json::json;

use crate::harness::{pair, start, unique_email};

#[tokio::test]
async fn signup_login_me_refresh_retry_reuse_logout() {
    let a = start().await;
    let email = unique_email();
    let user = a.signup(&email.to_uppercase(), marquee_testkit::PASSWORD).await;
    assert_eq!(user["email"], email, "stored normalised");
    assert_eq!(user["emailVerified"], false);
    assert_eq!(user["baseRole"], "user");

    let login = a.login(&email, marquee_testkit::PASSWORD).await;
    assert_eq!(login.status, 200);
    assert_eq!(login.data()["tokenType"], "Bearer");
    assert_eq!(login.data()["expiresIn"], 900);
    let (access, refresh1) = pair(&login);

    let me = a.api.get("/v1/auth/me", Some(&access)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.data()["id"], user["id"]);
    assert_eq!(me.data()["profile"]["name"], "Test Person");

    // Rotation: a new pair; the old refresh token is spent.
    let first = a.refresh(&refresh1).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let (access2, refresh2) = pair(&first);
    assert_ne!(refresh2, refresh1);

    // A retry of the old token within the grace gets the very same pair.
    let retry = a.refresh(&refresh1).await;
    assert_eq!(retry.status, 200);
    assert_eq!(pair(&retry), (access2.clone(), refresh2.clone()));

    let second = a.refresh(&refresh2).await;
    assert_eq!(second.status, 200);
    let (access3, refresh3) = pair(&second);
    assert_eq!(a.api.get("/v1/auth/me", Some(&access3)).await.status, 200);

    // After the grace, presenting a spent token is reuse: the session ends.
    a.clock.advance(Duration::seconds(3));
    let reuse = a.refresh(&refresh1).await;
    assert_eq!(reuse.status, 401);
    assert_eq!(reuse.code(), "REFRESH_TOKEN_REUSED");
    let after = a.refresh(&refresh3).await;
    assert_eq!(after.status, 401, "the live token of a revoked session is refused too");
    let me = a.api.get("/v1/auth/me", Some(&access3)).await;
    assert_eq!(me.status, 401);
    assert_eq!(me.code(), "SESSION_REVOKED");

    // A fresh login, then logout ends it.
    let (access, refresh) = a.tokens(&email, marquee_testkit::PASSWORD).await;
    let out = a.api.post("/v1/auth/logout", Some(&access), &json!({})).await;
    assert_eq!(out.status, 200);
    assert_eq!(a.refresh(&refresh).await.status, 401);
    assert_eq!(a.api.get("/v1/auth/me", Some(&access)).await.status, 401);

    // Everything that mattered is in the audit log, for operators.
    let admin = a.admin().await;
    let audit =
        a.api.get(&format!("/v1/admin/audit?userId={}&limit=100", user["id"].as_str().unwrap()), Some(&admin)).await;
    assert_eq!(audit.status, 200);
    let actions: Vec<&str> = audit.data().as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for expected in ["signup", "login.success", "refresh.reuse_detected", "session.revoked"] {
        assert!(actions.contains(&expected), "{expected} missing from {actions:?}");
    }
    assert!(audit.data()[0]["ip"].as_str().is_some(), "the caller's address is recorded");
    let user_token = a.tokens(&email, marquee_testkit::PASSWORD).await.0;
    assert_eq!(a.api.get("/v1/admin/audit", Some(&user_token)).await.status, 403);
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_get_one_pair() {
    let a = start().await;
    let email = unique_email();
    a.signup(&email, marquee_testkit::PASSWORD).await;
    let (_, refresh) = a.tokens(&email, marquee_testkit::PASSWORD).await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let api = a.api.clone();
        let token = refresh.clone();
        tasks.push(tokio::spawn(
            async move { api.post("/v1/auth/refresh", None, &json!({"refreshToken": token})).await },
        ));
    }
    let mut pairs = Vec::new();
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        pairs.push(pair(&reply));
    }
    pairs.dedup();
    assert_eq!(pairs.len(), 1, "every concurrent retry sees the same new pair");
}

/// Rotations sent at once are committed together (group commit), yet each
/// is answered on its own: a reused token amid them ends only its own
/// session, a token sent several times gets one pair, and every other chain
/// goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reused_token_amid_rotations_ends_only_its_own_session() {
    let a = std::sync::Arc::new(start().await);
    let mut chains = Vec::new();
    for _ in 0..8 {
        let email = unique_email();
        a.signup(&email, marquee_testkit::PASSWORD).await;
        chains.push(a.tokens(&email, marquee_testkit::PASSWORD).await.1);
    }
    // The first chain's token is spent, and its grace is over.
    let spent = chains[0].clone();
    let successor = pair(&a.refresh(&spent).await).1;
    a.clock.advance(Duration::seconds(11));

    let mut sends: Vec<(usize, String)> = vec![(0, spent)];
    sends.extend(chains.iter().enumerate().skip(1).map(|(i, t)| (i, t.clone())));
    sends.extend((0..4).map(|_| (1, chains[1].clone())));
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(sends.len()));
    let mut tasks = Vec::new();
    for (chain, token) in sends {
        let (a, barrier) = (a.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            (chain, a.refresh(&token).await)
        }));
    }
    let mut next: Vec<std::collections::BTreeSet<String>> = vec![Default::default(); chains.len()];
    for task in tasks {
        let (chain, reply) = task.await.unwrap();
        if chain == 0 {
            assert_eq!((reply.status.as_u16(), reply.code()), (401, "REFRESH_TOKEN_REUSED"), "{:?}", reply.body);
        } else {
            assert_eq!(reply.status, 200, "chain {chain}: {:?}", reply.body);
            next[chain].insert(pair(&reply).1);
        }
    }
    assert_eq!(a.refresh(&successor).await.status, 401, "the reused chain's session ended");
    for (chain, tokens) in next.iter().enumerate().skip(1) {
        assert_eq!(tokens.len(), 1, "chain {chain}: one pair, however often its token was sent");
        let token = tokens.first().unwrap();
        assert_eq!(a.refresh(token).await.status, 200, "chain {chain} goes on");
    }
}

#[tokio::test]
async fn sessions_are_listed_and_revocable_and_end_by_lifetime() {
    let a = start().await;
    let email = unique_email();
    a.signup(&email, marquee_testkit::PASSWORD).await;
    let (phone, _) = a.tokens(&email, marquee_testkit::PASSWORD).await;
    let (laptop, laptop_refresh) = a.tokens(&email, marquee_testkit::PASSWORD).await;

    let list = a.api.get("/v1/auth/sessions", Some(&phone)).await;
    assert_eq!(list.status, 200);
    let sessions = list.data().as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2);
    let laptop_id = sessions.iter().find(|s| s["current"] == false).unwrap()["id"].as_str().unwrap().to_owned();

    let revoke =
        a.api.send(a.api.http.delete(a.api.url(&format!("/v1/auth/sessions/{laptop_id}"))).bearer_auth(&phone)).await;
    assert_eq!(revoke.status, 200);
    assert_eq!(a.api.get("/v1/auth/me", Some(&laptop)).await.status, 401);
    assert_eq!(a.refresh(&laptop_refresh).await.status, 401);
    let again =
        a.api.send(a.api.http.delete(a.api.url(&format!("/v1/auth/sessions/{laptop_id}"))).bearer_auth(&phone)).await;
    assert_eq!(again.status, 404);

    // The absolute lifetime (7 days) ends a session however active it is.
    let (_, refresh) = a.tokens(&email, marquee_testkit::PASSWORD).await;
    let mut token = refresh;
    for _ in 0..7 {
        a.clock.advance(Duration::hours(23));
        let reply = a.refresh(&token).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        token = pair(&reply).1;
    }
    a.clock.advance(Duration::hours(23));
    let expired = a.refresh(&token).await;
    assert_eq!(expired.status, 401);
    assert_eq!(expired.code(), "SESSION_REVOKED");
}

#[tokio::test]
async fn an_idle_session_ends() {
    let a = start().await;
    let email = unique_email();
    a.signup(&email, marquee_testkit::PASSWORD).await;
    let (_, refresh) = a.tokens(&email, marquee_testkit::PASSWORD).await;
    a.clock.advance(Duration::hours(25));
    assert_eq!(a.refresh(&refresh).await.status, 401, "idle for longer than a day");
}

#[tokio::test]
async fn each_refresh_marks_the_session_seen() {
    let a = start().await;
    let email = unique_email();
    a.signup(&email, marquee_testkit::PASSWORD).await;
    let (_, mut refresh) = a.tokens(&email, marquee_testkit::PASSWORD).await;
    // Three days in all, never a day without a refresh: the session lives.
    for day in 1..=4 {
        a.clock.advance(Duration::hours(18));
        let renewed = a.refresh(&refresh).await;
        assert_eq!(renewed.status, 200, "refresh {day}: {:?}", renewed.body);
        refresh = renewed.data()["refreshToken"].as_str().expect("a refresh token").to_owned();
    }
}

#[tokio::test]
async fn profiles_are_edited_and_validated() {
    let a = start().await;
    let email = unique_email();
    a.signup(&email, marquee_testkit::PASSWORD).await;
    let (access, _) = a.tokens(&email, marquee_testkit::PASSWORD).await;
    let patch = |body: serde_json::Value| {
        let api = a.api.clone();
        let token = access.clone();
        async move { api.send(api.http.patch(api.url("/v1/auth/me")).bearer_auth(token).json(&body)).await }
    };
    let ok = patch(json!({"name": "Ana Lima", "phone": "+351 912 345 678", "locale": "pt-PT"})).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.data()["profile"]["phone"], "+351 912 345 678");
    let cleared = patch(json!({"phone": null})).await;
    assert_eq!(cleared.data()["profile"]["phone"], serde_json::Value::Null);
    assert_eq!(cleared.data()["profile"]["name"], "Ana Lima");
    let bad = patch(json!({"phone": "call me maybe", "locale": "x"})).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.fields(), ["phone", "locale"]);
    let bad = patch(json!({"email": "new@example.com"})).await;
    assert_eq!(bad.status, 400, "the identity core is not a profile field");
}

#[tokio::test]
async fn a_disabled_account_is_signed_out_everywhere() {
    let a = start().await;
    let email = unique_email();
    let user = a.signup(&email, marquee_testkit::PASSWORD).await;
    let (access, refresh) = a.tokens(&email, marquee_testkit::PASSWORD).await;
    let admin = a.admin().await;
    let path = format!("/v1/admin/users/{}/disable", user["id"].as_str().unwrap());
    assert_eq!(a.api.post(&path, Some(&access), &json!({})).await.status, 403, "users cannot disable anyone");
    assert_eq!(a.api.post(&path, Some(&admin), &json!({})).await.status, 200);
    assert_eq!(a.api.get("/v1/auth/me", Some(&access)).await.status, 401);
    assert_eq!(a.refresh(&refresh).await.status, 401);
    let login = a.login(&email, marquee_testkit::PASSWORD).await;
    assert_eq!(login.status, 403);
    assert_eq!(login.code(), "ACCOUNT_DISABLED");
}

#[tokio::test]
async fn signup_is_validated_and_emails_are_unique() {
    let a = start().await;
    let email = unique_email();
    a.signup(&email, marquee_testkit::PASSWORD).await;
    let again = a
        .api
        .post("/v1/auth/signup", None, &json!({"email": email, "password": "another password", "name": "X"}))
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.code(), "EMAIL_TAKEN");
    let bad =
        a.api.post("/v1/auth/signup", None, &json!({"email": "not-an-email", "password": "short", "name": ""})).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.fields(), ["email", "password", "name"]);
    let long = a
        .api
        .post("/v1/auth/signup", None, &json!({"email": unique_email(), "password": "x".repeat(129), "name": "X"}))
        .await;
    assert_eq!(long.status, 400, "a bound on length stops hash-DoS");
    assert_eq!(long.fields(), ["password"]);
}
