use std::collections::HashMap;
use std::path::PathBuf;

use base64::Engine;
use marquee_kit::Clock;
use marquee_testkit::{Reply, TestClient, TestDb, redis_url, unique_name};
use serde_json::{Value, json};

pub use marquee_testkit::{ADMIN_EMAIL, ADMIN_PASSWORD};

pub struct Auth {
    pub api: TestClient,
    pub clock: Clock,
    pub mail_dir: PathBuf,
    pub db: TestDb,
    pub base_env: HashMap<String, String>,
    _mail: tempfile::TempDir,
    _stop: tokio_util::sync::DropGuard,
}

/// Settings every test instance shares; `overrides` change or add some.
pub fn settings(db: &TestDb, mail_dir: &std::path::Path, overrides: &[(&str, &str)]) -> HashMap<String, String> {
    let key = base64::engine::general_purpose::STANDARD.encode([42u8; 32]);
    let mut vars: HashMap<String, String> = [
        ("DATABASE_URL", db.url.as_str()),
        ("HTTP_ADDR", "127.0.0.1:0"),
        ("GRPC_ADDR", "127.0.0.1:0"),
        ("INTERNAL_SERVICE_TOKEN", marquee_testkit::SERVICE_TOKEN),
        ("SIGNING_KEY_ENCRYPTION_KEY", key.as_str()),
        ("PASSWORD_HASH_MEMORY_KIB", "1024"),
        ("PASSWORD_HASH_ITERATIONS", "1"),
        ("REFRESH_RETRY_GRACE_SECS", "2"),
        ("MARQUEE_ADMIN_EMAIL", ADMIN_EMAIL),
        ("MARQUEE_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("MAIL_DIR", mail_dir.to_str().unwrap()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    if let Some(url) = redis_url() {
        vars.insert("REDIS_URL".into(), url);
        vars.insert("REDIS_PREFIX".into(), unique_name("auth"));
    }
    for (k, v) in overrides {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    vars
}

pub async fn start() -> Auth {
    start_with(&[]).await
}

pub async fn start_with(overrides: &[(&str, &str)]) -> Auth {
    let db = TestDb::fresh().await;
    let mail = tempfile::tempdir().unwrap();
    let vars = settings(&db, mail.path(), overrides);
    let clock = Clock::manual(chrono::Utc::now());
    let (api, stop) = boot(vars.clone(), clock.clone()).await;
    Auth { api, clock, mail_dir: mail.path().to_owned(), db, base_env: vars, _mail: mail, _stop: stop }
}

pub async fn boot(vars: HashMap<String, String>, clock: Clock) -> (TestClient, tokio_util::sync::DropGuard) {
    let auth = marquee_test_support::start_auth(vars, clock, None).await.expect("auth starts");
    (auth.client, auth.stop)
}

pub fn unique_email() -> String {
    format!("{}@example.com", unique_name("user"))
}

impl Auth {
    pub async fn signup(&self, email: &str, password: &str) -> Value {
        let reply = self
            .api
            .post("/v1/auth/signup", None, &json!({"email": email, "password": password, "name": "Test Person"}))
            .await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply.data().clone()
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.api.post("/v1/auth/login", None, &json!({"email": email, "password": password})).await
    }

    /// Logs in and returns (access token, refresh token).
    pub async fn tokens(&self, email: &str, password: &str) -> (String, String) {
        let reply = self.login(email, password).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        pair(&reply)
    }

    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        self.api.post("/v1/auth/refresh", None, &json!({"refreshToken": refresh_token})).await
    }

    pub async fn admin(&self) -> String {
        self.tokens(ADMIN_EMAIL, ADMIN_PASSWORD).await.0
    }

    /// The token of the newest mail to `to` whose link goes to `path`, waiting
    /// for the outbox relay to deliver it.
    pub async fn mailed_token(&self, to: &str, path: &str) -> String {
        self.mailed_token_except(to, path, "").await
    }

    /// Like `mailed_token`, but waits for a token other than `seen`.
    pub async fn mailed_token_except(&self, to: &str, path: &str, seen: &str) -> String {
        for _ in 0..100 {
            if let Some(token) = find_token(&self.mail_dir, to, path).filter(|t| t != seen) {
                return token;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no mail to {to} with a /{path} link arrived");
    }
}

pub fn pair(reply: &Reply) -> (String, String) {
    (
        reply.data()["accessToken"].as_str().unwrap().to_owned(),
        reply.data()["refreshToken"].as_str().unwrap().to_owned(),
    )
}

pub use marquee_testkit::mail::find_token;

/// The `kid` in a token's header.
pub fn kid_of(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap();
    let value: Value = serde_json::from_slice(&bytes).unwrap();
    value["kid"].as_str().unwrap().to_owned()
}
