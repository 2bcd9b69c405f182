//! What the business services' tests stand on: real platform-core and auth
//! processes-in-process on random ports with their own databases, and helpers
//! to make people, companies and members with chosen permissions.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use marquee_config::Env;
use marquee_testkit::{TestClient, TestDb, redis_url, unique_name};
use serde_json::{Value, json};
use uuid::Uuid;

pub use marquee_testkit::{ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, SERVICE_TOKEN};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Settings from pairs, plus Redis when the tests have one.
pub fn vars(pairs: &[(&str, String)]) -> HashMap<String, String> {
    let mut map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    if let Some(url) = redis_url() {
        map.insert("REDIS_URL".into(), url);
    }
    map
}

/// platform-core and auth, running.
pub struct Peers {
    pub auth: TestClient,
    pub core: TestClient,
    pub auth_grpc_url: String,
    pub jwks_url: String,
    pub redis_prefix: String,
    pub auth_stop: Option<tokio_util::sync::DropGuard>,
    auth_env: HashMap<String, String>,
    _core_stop: tokio_util::sync::DropGuard,
    _dbs: Vec<TestDb>,
    _mail: tempfile::TempDir,
}

/// A company with its owner's token.
pub struct Tenant {
    pub company: Uuid,
    pub owner: String,
    pub owner_id: Uuid,
}

async fn boot_auth(env: HashMap<String, String>) -> (TestClient, tokio_util::sync::DropGuard) {
    try_boot_auth(env, None).await.unwrap()
}

/// auth on `listeners` bound beforehand, or on the addresses in `env`.
async fn try_boot_auth(
    env: HashMap<String, String>,
    listeners: Option<marquee_service::Listeners>,
) -> anyhow::Result<(TestClient, tokio_util::sync::DropGuard)> {
    let config = marquee_auth::Config::load(&mut Env::from_map(env))?;
    let options = marquee_auth::Options { listeners, ..Default::default() };
    let app = marquee_auth::App::build(config, options).await?;
    let client = TestClient::new(format!("http://{}", app.http_addr()));
    let stop = app.shutdown_token().drop_guard();
    tokio::spawn(async move { app.run().await.unwrap() });
    Ok((client, stop))
}

/// platform-core, running beside a test.
pub struct PlatformCore {
    pub client: TestClient,
    pub grpc_url: String,
    /// Cancelled to stop it.
    pub stop: tokio_util::sync::CancellationToken,
    pub db: TestDb,
}

/// Starts platform-core on its own fresh database, trusting tokens signed by
/// the keys at `jwks_url`, its Redis keys under `redis_prefix`.
pub async fn start_platform_core(jwks_url: &str, redis_prefix: &str) -> PlatformCore {
    let db = TestDb::fresh().await;
    let config = marquee_platform_core::Config::load(&mut Env::from_map(vars(&[
        ("DATABASE_URL", db.url.clone()),
        ("HTTP_ADDR", "127.0.0.1:0".into()),
        ("GRPC_ADDR", "127.0.0.1:0".into()),
        ("INTERNAL_SERVICE_TOKEN", SERVICE_TOKEN.into()),
        ("AUTH_JWKS_URL", jwks_url.to_owned()),
        ("HEARTBEAT_INTERVAL_MS", "100".into()),
        ("REDIS_PREFIX", redis_prefix.to_owned()),
    ])))
    .unwrap();
    let app = marquee_platform_core::App::build(config, Default::default()).await.unwrap();
    let client = TestClient::new(format!("http://{}", app.http_addr()));
    let grpc_url = format!("http://{}", app.grpc_addr());
    let stop = app.shutdown_token();
    tokio::spawn(async move { app.run().await.unwrap() });
    PlatformCore { client, grpc_url, stop, db }
}

impl Peers {
    /// Starts both; auth's listeners are bound first, since platform-core
    /// needs auth's JWKS address before auth starts.
    pub async fn start() -> Self {
        Self::try_start().await.unwrap_or_else(|e| panic!("peers did not start: {e:#}"))
    }

    async fn try_start() -> anyhow::Result<Self> {
        let prefix = unique_name("fleet");
        let listeners = marquee_service::Listeners::loopback(true).await?;
        let (auth_http, auth_grpc) = (listeners.http_addr()?.port(), listeners.grpc_addr()?.port());
        let jwks_url = format!("http://127.0.0.1:{auth_http}/.well-known/jwks.json");
        let PlatformCore { client: core, grpc_url: core_grpc, stop: core_stop, db: core_db } =
            start_platform_core(&jwks_url, &prefix).await;
        let core_stop = core_stop.drop_guard();

        let auth_db = TestDb::fresh().await;
        let mail = tempfile::tempdir().unwrap();
        let auth_env = vars(&[
            ("DATABASE_URL", auth_db.url.clone()),
            ("HTTP_ADDR", format!("127.0.0.1:{auth_http}")),
            ("GRPC_ADDR", format!("127.0.0.1:{auth_grpc}")),
            ("INTERNAL_SERVICE_TOKEN", SERVICE_TOKEN.into()),
            ("SIGNING_KEY_ENCRYPTION_KEY", base64::engine::general_purpose::STANDARD.encode([7u8; 32])),
            ("PASSWORD_HASH_MEMORY_KIB", "1024".into()),
            ("PASSWORD_HASH_ITERATIONS", "1".into()),
            ("MARQUEE_ADMIN_EMAIL", ADMIN_EMAIL.into()),
            ("MARQUEE_ADMIN_PASSWORD", ADMIN_PASSWORD.into()),
            ("MAIL_DIR", mail.path().display().to_string()),
            ("PLATFORM_CORE_GRPC_URL", core_grpc),
            ("HEARTBEAT_INTERVAL_MS", "100".into()),
            ("STREAM_STALE_AFTER_MS", "600".into()),
            ("REDIS_PREFIX", prefix.clone()),
        ]);
        let (auth, auth_stop) = try_boot_auth(auth_env.clone(), Some(listeners)).await?;
        Ok(Self {
            auth,
            core,
            auth_grpc_url: format!("http://127.0.0.1:{auth_grpc}"),
            jwks_url,
            redis_prefix: prefix,
            auth_stop: Some(auth_stop),
            auth_env,
            _core_stop: core_stop,
            _dbs: vec![core_db, auth_db],
            _mail: mail,
        })
    }

    /// Stops auth (its listeners close).
    pub async fn stop_auth(&mut self) {
        drop(self.auth_stop.take());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    /// Starts auth again on the same addresses and database.
    pub async fn restart_auth(&mut self) {
        let (client, stop) = boot_auth(self.auth_env.clone()).await;
        self.auth = client;
        self.auth_stop = Some(stop);
    }

    pub async fn login(&self, email: &str, password: &str) -> (Uuid, String) {
        let reply = self.auth.post("/v1/auth/login", None, &json!({"email": email, "password": password})).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        let token = reply.data()["accessToken"].as_str().unwrap().to_owned();
        let me = self.auth.get("/v1/auth/me", Some(&token)).await;
        (Uuid::parse_str(me.data()["id"].as_str().unwrap()).unwrap(), token)
    }

    pub async fn admin(&self) -> String {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.1
    }

    /// A new account: (email, id, token).
    pub async fn person(&self) -> (String, Uuid, String) {
        let email = format!("{}@example.com", unique_name("p"));
        let reply = self
            .auth
            .post(
                "/v1/auth/signup",
                None,
                &json!({"email": email, "password": marquee_testkit::PASSWORD, "name": "Pat"}),
            )
            .await;
        assert_eq!(reply.status, 201);
        let (id, token) = self.login(&email, marquee_testkit::PASSWORD).await;
        (email, id, token)
    }

    pub async fn tenant(&self) -> Tenant {
        let (_, owner_id, owner) = self.person().await;
        let reply = self.auth.post("/v1/companies", Some(&owner), &json!({"name": "Acme Live"})).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        Tenant { company: Uuid::parse_str(reply.data()["id"].as_str().unwrap()).unwrap(), owner, owner_id }
    }

    /// A member of `tenant` holding exactly `permissions` (through a custom role).
    pub async fn member_with(&self, tenant: &Tenant, permissions: &[&str]) -> (Uuid, String) {
        let (email, id, token) = self.person().await;
        let role = self
            .auth
            .post(
                &format!("/v1/companies/{}/roles", tenant.company),
                Some(&tenant.owner),
                &json!({"name": unique_name("role"), "permissions": permissions}),
            )
            .await;
        assert_eq!(role.status, 201, "{:?}", role.body);
        let added = self
            .auth
            .post(
                &format!("/v1/companies/{}/members", tenant.company),
                Some(&tenant.owner),
                &json!({"email": email, "roleIds": [role.data()["id"]]}),
            )
            .await;
        assert_eq!(added.status, 201, "{:?}", added.body);
        (id, token)
    }

    pub async fn set_package(&self, company: Uuid, body: Value) {
        let admin = self.admin().await;
        let reply = self.core.put(&format!("/v1/companies/{company}/subscription"), Some(&admin), &body).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
    }

    /// A package of `modules` with `limits`, under a fresh code.
    pub async fn package(&self, modules: &[&str], limits: Value) -> String {
        let admin = self.admin().await;
        let code = format!("pkg-{}", &Uuid::now_v7().simple().to_string()[20..]);
        let reply = self
            .core
            .post(
                "/v1/packages",
                Some(&admin),
                &json!({"code": code, "name": "Test", "modules": modules, "limits": limits}),
            )
            .await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        code
    }

    /// Settings for a business service (base, financial) beside these peers.
    pub fn service_vars(&self, database_url: &str, overrides: &[(&str, &str)]) -> HashMap<String, String> {
        let mut pairs = vec![
            ("DATABASE_URL", database_url.to_owned()),
            ("HTTP_ADDR", "127.0.0.1:0".into()),
            ("GRPC_ADDR", "127.0.0.1:0".into()),
            ("INTERNAL_SERVICE_TOKEN", SERVICE_TOKEN.into()),
            ("AUTH_GRPC_URL", self.auth_grpc_url.clone()),
            ("AUTH_JWKS_URL", self.jwks_url.clone()),
            ("STREAM_STALE_AFTER_MS", "600".into()),
            ("REDIS_PREFIX", self.redis_prefix.clone()),
            ("TICKET_KEY_ENCRYPTION_KEY", base64::engine::general_purpose::STANDARD.encode([9u8; 32])),
        ];
        for (k, v) in overrides {
            pairs.push((k, (*v).to_owned()));
        }
        vars(&pairs)
    }

    /// The company's current access revision as auth answers it for `token`.
    pub async fn revision(&self, tenant: &Tenant) -> u64 {
        let access = self
            .auth
            .send(
                self.auth
                    .http
                    .get(self.auth.url("/v1/me/access"))
                    .bearer_auth(&tenant.owner)
                    .header("x-org", tenant.company.to_string()),
            )
            .await;
        access.data()["revision"].as_u64().unwrap()
    }
}

/// A business service's REST edge, called as a member of a company.
#[derive(Clone)]
pub struct Api(pub TestClient);

impl Api {
    /// Until the service hears auth's stream (so a test starts from a steady state).
    pub async fn wait_until_ready(&self) {
        for _ in 0..200 {
            if self.0.get("/readyz", None).await.status == 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the service never became ready");
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        company: Option<Uuid>,
        body: Option<&Value>,
    ) -> marquee_testkit::Reply {
        let mut request = self.0.http.request(method, self.0.url(path));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if let Some(c) = company {
            request = request.header("x-org", c.to_string());
        }
        if let Some(b) = body {
            request = request.json(b);
        }
        self.0.send(request).await
    }

    pub async fn get(&self, tenant: &Tenant, path: &str) -> marquee_testkit::Reply {
        self.call(reqwest::Method::GET, path, Some(&tenant.owner), Some(tenant.company), None).await
    }

    pub async fn post(&self, tenant: &Tenant, path: &str, body: &Value) -> marquee_testkit::Reply {
        self.call(reqwest::Method::POST, path, Some(&tenant.owner), Some(tenant.company), Some(body)).await
    }
}
