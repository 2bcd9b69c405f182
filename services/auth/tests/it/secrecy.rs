//! No password, token or hash ever reaches the logs: the real binary runs at
//! the most verbose level while a user goes through every flow, and its whole
//! output is searched for each secret.

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use tokio::io::AsyncReadExt;

use crate::harness::{ADMIN_PASSWORD, pair, settings, unique_email};

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    let db = marquee_testkit::TestDb::fresh().await;
    let mail = tempfile::tempdir().unwrap();
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let mut vars = settings(&db, mail.path(), &[("LOG_LEVEL", "trace"), ("LOG_FORMAT", "json")]);
    vars.insert("HTTP_ADDR".into(), format!("127.0.0.1:{port}"));
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_marquee-auth"))
        .env_clear()
        .envs(&vars)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Drain the output while it runs, or a full pipe would stall the service.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text).await;
        text
    });
    let err = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let api = marquee_testkit::TestClient::new(format!("http://127.0.0.1:{port}"));
    let mut up = false;
    for _ in 0..100 {
        if api.http.get(api.url("/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the auth binary came up");

    let email = unique_email();
    let password = "s3cret-Pa55word-xyz";
    let signup = api
        .post("/v1/auth/signup", None, &json!({"email": email, "password": password, "name": "Secret Keeper"}))
        .await;
    assert_eq!(signup.status, 201);
    let wrong = api.post("/v1/auth/login", None, &json!({"email": email, "password": "wr0ng-Guess-abc"})).await;
    assert_eq!(wrong.status, 401);
    let login = api.post("/v1/auth/login", None, &json!({"email": email, "password": password})).await;
    let (access, refresh) = pair(&login);
    let refreshed = api.post("/v1/auth/refresh", None, &json!({"refreshToken": refresh})).await;
    let (access2, refresh2) = pair(&refreshed);
    api.post(
        "/v1/auth/password",
        Some(&access2),
        &json!({"currentPassword": password, "newPassword": "n3w-Pa55word-xyz"}),
    )
    .await;
    api.post("/v1/auth/password/reset", None, &json!({"email": email})).await;
    api.post("/v1/auth/refresh", None, &json!({"refreshToken": refresh})).await; // reuse
    tokio::time::sleep(Duration::from_millis(500)).await;
    let reset_token = std::fs::read_dir(mail.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .find_map(|m| m.split("reset-password?token=").nth(1).map(|t| t.chars().take(43).collect::<String>()))
        .expect("a reset mail");

    let _ = child.start_kill();
    let _ = child.wait().await;
    let logs = out.await.unwrap() + &err.await.unwrap();
    assert!(logs.contains("auth serving"), "the logs were captured: {logs}");

    let secrets = [
        ("password", password.to_owned()),
        ("wrong password", "wr0ng-Guess-abc".to_owned()),
        ("new password", "n3w-Pa55word-xyz".to_owned()),
        ("admin password", ADMIN_PASSWORD.to_owned()),
        ("access token", access),
        ("second access token", access2),
        ("refresh token", refresh),
        ("second refresh token", refresh2),
        ("reset token", reset_token),
        ("password hash", "$argon2id$".to_owned()),
        ("signing key encryption key", vars["SIGNING_KEY_ENCRYPTION_KEY"].clone()),
        ("service token", vars["INTERNAL_SERVICE_TOKEN"].clone()),
        ("private key", "PRIVATE KEY".to_owned()),
    ];
    for (what, secret) in secrets {
        assert!(!logs.contains(&secret), "the {what} appears in the logs");
    }
}
