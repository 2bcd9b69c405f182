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

/// A service running inside the test's process.
pub struct Running {
    pub client: TestClient,
    /// `http://` and where its gRPC listens (port 0 for a service without it).
    pub grpc_url: String,
    /// Stops it when dropped.
    pub stop: tokio_util::sync::DropGuard,
}

/// Serves `app` in this process until [`Running::stop`] is dropped.
pub fn serve<S: marquee_service::Service + Send + 'static>(app: S) -> Running {
    let client = TestClient::new(format!("http://{}", app.http_addr()));
    let grpc_url = format!("http://{}", app.grpc_addr());
    let stop = app.shutdown_token().drop_guard();
    tokio::spawn(async move { app.serve().await.unwrap() });
    Running { client, grpc_url, stop }
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
    /// auth's clock: a manual one when the test asked for it.
    pub clock: marquee_kit::Clock,
    /// Where auth writes its mail (`.eml` files).
    pub mail_dir: std::path::PathBuf,
    /// auth's settings, for a restart or another replica.
    pub auth_env: HashMap<String, String>,
    /// Each stops its service when dropped.
    pub auth_stop: Option<tokio_util::sync::DropGuard>,
    pub core_stop: Option<tokio_util::sync::DropGuard>,
    _dbs: Vec<TestDb>,
    _mail: tempfile::TempDir,
}

/// Lets a test's own fleet, a struct with a `peers: Peers` field, be used
/// as its [`Peers`] (people, companies, auth and platform-core).
#[macro_export]
macro_rules! over_peers {
    ($fleet:ty) => {
        impl ::std::ops::Deref for $fleet {
            type Target = $crate::Peers;
            fn deref(&self) -> &$crate::Peers {
                &self.peers
            }
        }

        impl ::std::ops::DerefMut for $fleet {
            fn deref_mut(&mut self) -> &mut $crate::Peers {
                &mut self.peers
            }
        }
    };
}

/// How a test wants auth beside it.
#[derive(Default)]
pub struct PeerOptions<'a> {
    /// auth's clock (a manual one lets a test move time on).
    pub clock: marquee_kit::Clock,
    /// auth's settings changed or added.
    pub auth_env: &'a [(&'a str, &'a str)],
}

/// A company with its owner's token.
pub struct Tenant {
    pub company: Uuid,
    pub owner: String,
    pub owner_id: Uuid,
}

/// auth with `env` on `clock`, on `listeners` bound beforehand or else on
/// the addresses in `env`.
pub async fn start_auth(
    env: HashMap<String, String>,
    clock: marquee_kit::Clock,
    listeners: Option<marquee_service::Listeners>,
) -> anyhow::Result<Running> {
    let config = marquee_auth::Config::load(&mut Env::from_map(env))?;
    let options = marquee_auth::Options { clock, listeners, ..Default::default() };
    Ok(serve(marquee_auth::App::build(config, options).await?))
}

/// platform-core, running beside a test.
pub struct PlatformCore {
    pub client: TestClient,
    pub grpc_url: String,
    /// Stops it when dropped.
    pub stop: tokio_util::sync::DropGuard,
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
    let Running { client, grpc_url, stop } = serve(app);
    PlatformCore { client, grpc_url, stop, db }
}

/// financial, running beside a test's peers.
pub struct Financial {
    pub running: Running,
    /// Its own pool, for rows the API no longer lets anyone write (rows from
    /// before a rule) and for taking the database away.
    pub pool: sea_orm::DatabaseConnection,
    pub db: TestDb,
}

/// Starts financial beside `peers` on its own fresh database, on
/// `listeners` bound beforehand (when base needs its address first) or on
/// free ports; returns once it is ready.
pub async fn start_financial(peers: &Peers, listeners: Option<marquee_service::Listeners>) -> Financial {
    let db = TestDb::fresh().await;
    let config = marquee_financial::Config::load(&mut Env::from_map(peers.service_vars(&db.url, &[]))).unwrap();
    let options = marquee_financial::Options { listeners, ..Default::default() };
    let app = marquee_financial::App::build(config, options).await.unwrap();
    let pool = app.state().db.clone();
    let running = serve(app);
    Api(running.client.clone()).wait_until_ready().await;
    Financial { running, pool, db }
}

impl Peers {
    /// Starts both; auth's listeners are bound first, since platform-core
    /// needs auth's JWKS address before auth starts.
    pub async fn start() -> Self {
        Self::start_with(PeerOptions::default()).await
    }

    pub async fn start_with(options: PeerOptions<'_>) -> Self {
        Self::try_start(options).await.unwrap_or_else(|e| panic!("peers did not start: {e:#}"))
    }

    async fn try_start(options: PeerOptions<'_>) -> anyhow::Result<Self> {
        let prefix = unique_name("fleet");
        let listeners = marquee_service::Listeners::loopback(true).await?;
        let (auth_http, auth_grpc) = (listeners.http_addr()?.port(), listeners.grpc_addr()?.port());
        let jwks_url = format!("http://127.0.0.1:{auth_http}/.well-known/jwks.json");
        let PlatformCore { client: core, grpc_url: core_grpc, stop: core_stop, db: core_db } =
            start_platform_core(&jwks_url, &prefix).await;

        let auth_db = TestDb::fresh().await;
        let mail = tempfile::tempdir().unwrap();
        let mut auth_env = vars(&[
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
        auth_env.extend(options.auth_env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let auth = start_auth(auth_env.clone(), options.clock.clone(), Some(listeners)).await?;
        Ok(Self {
            auth: auth.client,
            core,
            auth_grpc_url: auth.grpc_url,
            jwks_url,
            redis_prefix: prefix,
            clock: options.clock,
            mail_dir: mail.path().to_owned(),
            auth_env,
            auth_stop: Some(auth.stop),
            core_stop: Some(core_stop),
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
        let auth = start_auth(self.auth_env.clone(), self.clock.clone(), None).await.unwrap();
        self.auth = auth.client;
        self.auth_stop = Some(auth.stop);
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
