use std::collections::HashMap;

use marquee_config::Env;
use marquee_kit::Clock;
use marquee_kit::grpc::ServiceCredentials;
use marquee_platform_core::{App, Config, Options};
use marquee_proto::platform_core::v1::platform_core_client::PlatformCoreClient;
use marquee_testkit::{JwksServer, TestClient, TestDb, TestKeys, redis_url, unique_name};
use serde_json::{Value, json};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;

pub use marquee_testkit::SERVICE_TOKEN;

pub type Grpc = PlatformCoreClient<InterceptedService<Channel, ServiceCredentials>>;

pub struct Harness {
    pub api: TestClient,
    pub grpc_url: String,
    pub keys: TestKeys,
    pub jwks: JwksServer,
    pub admin: String,
    pub admin_id: Uuid,
    pub clock: Clock,
    _db: TestDb,
    _stop: tokio_util::sync::DropGuard,
}

/// Settings shared by every instance of one test's platform-core.
pub struct Shared {
    pub db: TestDb,
    pub redis_prefix: String,
}

impl Shared {
    pub async fn new() -> Self {
        Self { db: TestDb::fresh().await, redis_prefix: unique_name("pc") }
    }
}

pub async fn start() -> Harness {
    let shared = Shared::new().await;
    let keys = TestKeys::generate();
    let jwks = JwksServer::start(keys.jwks()).await;
    let clock = Clock::manual(chrono::Utc::now());
    let (api, grpc_url, stop) = boot(&shared, &jwks.url, clock.clone()).await;
    let (admin_id, admin) = keys.token("platform_admin");
    Harness { api, grpc_url, keys, jwks, admin, admin_id, clock, _db: shared.db, _stop: stop }
}

/// Starts one instance against `shared` and returns its REST client, its gRPC
/// URL and the guard that stops it.
pub async fn boot(shared: &Shared, jwks_url: &str, clock: Clock) -> (TestClient, String, tokio_util::sync::DropGuard) {
    let mut vars: HashMap<String, String> = [
        ("DATABASE_URL", shared.db.url.as_str()),
        ("HTTP_ADDR", "127.0.0.1:0"),
        ("GRPC_ADDR", "127.0.0.1:0"),
        ("INTERNAL_SERVICE_TOKEN", SERVICE_TOKEN),
        ("AUTH_JWKS_URL", jwks_url),
        ("HEARTBEAT_INTERVAL_MS", "100"),
        ("REDIS_PREFIX", shared.redis_prefix.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    if let Some(url) = redis_url() {
        vars.insert("REDIS_URL".to_owned(), url);
    }
    let config = Config::load(&mut Env::from_map(vars)).expect("test configuration is valid");
    let app = App::build(config, Options { clock, ..Options::default() }).await.expect("platform-core starts");
    let running = marquee_test_support::serve(app);
    (running.client, running.grpc_url, running.stop)
}

impl Harness {
    pub async fn grpc(&self) -> Grpc {
        grpc_client(&self.grpc_url, SERVICE_TOKEN).await
    }

    /// Creates a package or add-on and returns its data.
    pub async fn create(&self, path: &str, body: Value) -> Value {
        let reply = self.api.post(path, Some(&self.admin), &body).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply.data().clone()
    }

    /// Sets a company's subscription and returns its data.
    pub async fn subscribe(&self, company: Uuid, body: Value) -> Value {
        let reply = self.api.put(&format!("/v1/companies/{company}/subscription"), Some(&self.admin), &body).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply.data().clone()
    }

    pub async fn entitlements(&self, company: Uuid) -> Value {
        let reply = self.api.get(&format!("/v1/companies/{company}/entitlements"), Some(&self.admin)).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply.data().clone()
    }

    /// A basic-only package with a unique code.
    pub async fn basic_package(&self) -> String {
        let code = format!("basic-{}", &Uuid::now_v7().simple().to_string()[20..]);
        self.create(
            "/v1/packages",
            json!({"code": code, "name": "Basic", "modules": ["basic"], "limits": {"maxMembers": 5, "maxEvents": 10}}),
        )
        .await;
        code
    }
}

pub async fn grpc_client(url: &str, token: &str) -> Grpc {
    let channel = tonic::transport::Endpoint::from_shared(url.to_owned()).unwrap().connect().await.unwrap();
    PlatformCoreClient::with_interceptor(channel, ServiceCredentials::new(token).unwrap())
}

pub fn strings(value: &Value) -> Vec<String> {
    value.as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}
