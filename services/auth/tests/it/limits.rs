//! Brute force and floods: lockout, parallel guesses, rate limits, and what
//! happens when the counter store is away.

use std::time::Duration;

use crate::harness::{start, start_with, unique_email};

/// One hashing thread, one waiting place, and a hash slow enough to pile up behind.
const NARROW_HASHING: [(&str, &str); 4] = [
    ("PASSWORD_HASH_CONCURRENCY", "1"),
    ("PASSWORD_HASH_QUEUE", "1"),
    ("PASSWORD_HASH_MEMORY_KIB", "16384"),
    ("PASSWORD_HASH_ITERATIONS", "3"),
];

#[tokio::test]
async fn five_failures_lock_the_account_until_the_window_passes() {
    let a = start_with(&[("LOGIN_LOCKOUT_WINDOW_SECS", "2")]).await;
    let email = unique_email();
    a.signup(&email, marquee_testkit::PASSWORD).await;
    for _ in 0..5 {
        let reply = a.login(&email, "wrong guess").await;
        assert_eq!(reply.status, 401);
        assert_eq!(reply.code(), "INVALID_CREDENTIALS");
    }
    let locked = a.login(&email, marquee_testkit::PASSWORD).await;
    assert_eq!(locked.status, 429, "even the right password waits");
    assert_eq!(locked.code(), "ACCOUNT_LOCKED");
    let retry_after: u64 = locked.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");

    // The window is real time in the counter store (Redis or in-process).
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(a.login(&email, marquee_testkit::PASSWORD).await.status, 200);
    // A success clears the count.
    for _ in 0..4 {
        assert_eq!(a.login(&email, "wrong guess").await.status, 401);
    }
    assert_eq!(a.login(&email, marquee_testkit::PASSWORD).await.status, 200);
}

#[tokio::test]
async fn fifty_parallel_guesses_get_at_most_five_password_checks() {
    let a = start().await;
    let email = unique_email();
    a.signup(&email, marquee_testkit::PASSWORD).await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(50));
    let mut tasks = Vec::new();
    for i in 0..50 {
        let api = a.api.clone();
        let email = email.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            api.post("/v1/auth/login", None, &serde_json::json!({"email": email, "password": format!("guess {i}")}))
                .await
                .status
                .as_u16()
        }));
    }
    let mut checked = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            401 => checked += 1,
            // Locked out, or turned away before reaching the hashing pool.
            429 | 503 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((checked, refused), (5, 45));
}

#[tokio::test]
async fn unknown_accounts_lock_too_and_cost_a_hash() {
    let a = start().await;
    let ghost = unique_email();
    for _ in 0..5 {
        assert_eq!(a.login(&ghost, "anything at all").await.status, 401);
    }
    assert_eq!(
        a.login(&ghost, "anything at all").await.status,
        429,
        "no difference between known and unknown accounts"
    );
}

#[tokio::test]
async fn per_ip_rate_limits_answer_429_with_retry_after() {
    let a = start_with(&[("AUTH_RATE_LIMIT_PER_IP", "8")]).await;
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let reply = a.api.post("/v1/auth/refresh", None, &serde_json::json!({"refreshToken": "nonsense"})).await;
        statuses.push(reply.status.as_u16());
        if reply.status == 429 {
            assert_eq!(reply.code(), "RATE_LIMITED");
            assert!(reply.headers.contains_key("retry-after"));
        }
    }
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 8);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 2);
}

#[tokio::test]
async fn per_account_rate_limits_apply_across_addresses() {
    let a = start_with(&[("AUTH_RATE_LIMIT_PER_ACCOUNT", "3")]).await;
    let email = unique_email();
    for _ in 0..3 {
        let reply = a.api.post("/v1/auth/password/reset", None, &serde_json::json!({"email": email})).await;
        assert_eq!(reply.status, 202);
    }
    let reply = a.api.post("/v1/auth/password/reset", None, &serde_json::json!({"email": email})).await;
    assert_eq!(reply.status, 429);
}

#[tokio::test]
async fn an_unreachable_counter_store_refuses_logins_with_503() {
    let a = start_with(&[("REDIS_URL", "redis://127.0.0.1:1")]).await;
    let reply = a.login(&unique_email(), marquee_testkit::PASSWORD).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.code(), "RATE_LIMIT_UNAVAILABLE");
    assert!(reply.headers.contains_key("retry-after"));
    assert_eq!(a.api.get("/readyz", None).await.status, 503, "not ready without its counter store");
}

#[tokio::test]
async fn hostile_bodies_and_tokens_are_4xx() {
    let a = start().await;
    for body in [
        &b"{"[..],
        b"[]",
        b"{\"email\": 5, \"password\": \"x\"}",
        b"{\"email\":\"a@b.co\",\"password\":\"x\",\"admin\":true}",
    ] {
        let reply = a.api.raw(reqwest::Method::POST, "/v1/auth/login", None, "application/json", body.to_vec()).await;
        assert_eq!(reply.status, 400, "{:?}", String::from_utf8_lossy(body));
    }
    for token in ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30."] {
        let reply = a.api.get("/v1/auth/me", Some(token)).await;
        assert_eq!(reply.status, 401);
        assert_eq!(reply.code(), "INVALID_TOKEN");
    }
    assert_eq!(a.api.get("/v1/auth/me", None).await.code(), "MISSING_TOKEN");
}

#[tokio::test]
async fn sign_ins_beyond_the_hashing_capacity_are_turned_away_at_once_without_locking_anyone_out() {
    let a = start_with(&NARROW_HASHING).await;
    let email = unique_email();
    a.signup(&email, marquee_testkit::PASSWORD).await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(12));
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (api, email, barrier) = (a.api.clone(), email.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let sent = std::time::Instant::now();
            let guess = serde_json::json!({"email": email, "password": format!("guess {i}")});
            let reply = api.post("/v1/auth/login", None, &guess).await;
            (reply, sent.elapsed())
        }));
    }
    let (mut checked, mut shed) = (0, 0);
    for task in tasks {
        let (reply, took) = task.await.unwrap();
        match reply.status.as_u16() {
            401 => checked += 1,
            503 => {
                shed += 1;
                assert_eq!(reply.code(), "BUSY", "{:?}", reply.body);
                assert_eq!(reply.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
                assert!(took < Duration::from_millis(500), "turned away at once, not after {took:?}");
            }
            // 429 would mean more than five guesses were counted: the pool let too many in.
            other => panic!("unexpected status {other}: {:?}", reply.body),
        }
    }
    assert!(checked >= 1 && shed >= 7, "checked {checked}, shed {shed}: only what fits is checked");
    // What was turned away did not count: fewer than five failures, so no lockout.
    assert_eq!(a.login(&email, marquee_testkit::PASSWORD).await.status, 200);
}

#[tokio::test]
async fn made_up_reset_tokens_never_reach_the_hashing_threads() {
    // Any hash of a made-up token would crowd this pool.
    let a = start_with(&NARROW_HASHING).await;
    let email = unique_email();
    a.signup(&email, marquee_testkit::PASSWORD).await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(12));
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (api, barrier) = (a.api.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let body = serde_json::json!({"token": format!("made-up-{i}"), "password": "a brand new password"});
            api.post("/v1/auth/password/reset/confirm", None, &body).await
        }));
    }
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!(reply.status, 400, "refused before any hashing: {:?}", reply.body);
    }
    assert_eq!(a.login(&email, marquee_testkit::PASSWORD).await.status, 200, "sign-ins are not starved");
}

#[tokio::test]
async fn reset_confirmations_are_rate_limited_per_address() {
    let a = start_with(&[("AUTH_RATE_LIMIT_PER_IP", "5")]).await;
    let mut statuses = Vec::new();
    for i in 0..7 {
        let body = serde_json::json!({"token": format!("made-up-{i}"), "password": "a brand new password"});
        statuses.push(a.api.post("/v1/auth/password/reset/confirm", None, &body).await.status.as_u16());
    }
    assert_eq!(statuses, [400, 400, 400, 400, 400, 429, 429]);
}

#[tokio::test]
async fn wrong_current_passwords_count_toward_the_lockout() {
    let a = start().await;
    let email = unique_email();
    a.signup(&email, marquee_testkit::PASSWORD).await;
    let signed_in = a.login(&email, marquee_testkit::PASSWORD).await;
    let token = signed_in.data()["accessToken"].as_str().unwrap().to_owned();
    let change = |current: &str| {
        let body = serde_json::json!({"currentPassword": current, "newPassword": "another horse battery"});
        let api = a.api.clone();
        let token = token.clone();
        async move { api.post("/v1/auth/password", Some(&token), &body).await }
    };
    for _ in 0..5 {
        assert_eq!(change("a guess").await.status, 403);
    }
    let locked = change(marquee_testkit::PASSWORD).await;
    assert_eq!((locked.status.as_u16(), locked.code()), (429, "ACCOUNT_LOCKED"), "{:?}", locked.body);
    assert!(locked.headers.contains_key("retry-after"));
    assert_eq!(a.login(&email, marquee_testkit::PASSWORD).await.status, 429, "sign-in waits out the same window");
}

/// A refresh with a made-up token (401 while within budget) sent as if
/// through a proxy that says it forwards for `forwarded_for`.
async fn refresh_via(a: &crate::harness::Auth, forwarded_for: &str) -> u16 {
    let request = a
        .api
        .http
        .post(a.api.url("/v1/auth/refresh"))
        .header("x-forwarded-for", forwarded_for)
        .json(&serde_json::json!({"refreshToken": "nonsense"}));
    a.api.send(request).await.status.as_u16()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_budget_and_forged_addresses_do_not_help() {
    // The test's requests arrive from loopback: loopback is the ingress here.
    let a = start_with(&[("AUTH_RATE_LIMIT_PER_IP", "3"), ("TRUSTED_PROXIES", "127.0.0.0/8,::1")]).await;
    // One client forges a new leftmost address every time; the proxy appended the real one.
    let mut statuses = Vec::new();
    for i in 0..5 {
        statuses.push(refresh_via(&a, &format!("198.51.100.{i}, 203.0.113.1")).await);
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429], "the rightmost untrusted address is the client");
    // Another client behind the same proxy is not locked out by the first.
    assert_eq!(refresh_via(&a, "203.0.113.2").await, 401);
}

#[tokio::test]
async fn without_trusted_proxies_a_forwarded_header_names_no_one() {
    let a = start_with(&[("AUTH_RATE_LIMIT_PER_IP", "3")]).await;
    let mut statuses = Vec::new();
    for i in 0..4 {
        statuses.push(refresh_via(&a, &format!("203.0.113.{i}")).await);
    }
    assert_eq!(statuses, [401, 401, 401, 429], "every request counts against the connection's own address");
}

#[tokio::test]
async fn the_old_forwarded_for_switch_and_bad_proxy_ranges_stop_the_start_with_their_names() {
    let db = marquee_testkit::TestDb::fresh().await;
    let mail = tempfile::tempdir().unwrap();
    let vars = crate::harness::settings(
        &db,
        mail.path(),
        &[("TRUST_FORWARDED_FOR", "true"), ("TRUSTED_PROXIES", "10.0.0.0/8, not-a-range")],
    );
    let Err(err) = marquee_auth::Config::load(&mut marquee_config::Env::from_map(vars)) else {
        panic!("the configuration was accepted")
    };
    let err = err.to_string();
    assert!(err.contains("TRUST_FORWARDED_FOR") && err.contains("TRUSTED_PROXIES"), "{err}");
    assert!(err.contains("not-a-range"), "{err}");
}
