//! financial with real platform-core and auth beside it.

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use marquee_config::Env;
pub use marquee_test_support::Tenant;
use marquee_test_support::{Peers, SERVICE_TOKEN, vars};
use marquee_testkit::{Reply, TestClient, TestDb};
use serde_json::Value;
use uuid::Uuid;

pub struct Fleet {
    pub api: TestClient,
    pub grpc: String,
    peers: Peers,
    _stop: tokio_util::sync::DropGuard,
    _db: TestDb,
}

impl Deref for Fleet {
    type Target = Peers;
    fn deref(&self) -> &Peers {
        &self.peers
    }
}

impl DerefMut for Fleet {
    fn deref_mut(&mut self) -> &mut Peers {
        &mut self.peers
    }
}

pub async fn fleet() -> Fleet {
    fleet_with(&[]).await
}

pub async fn fleet_with(overrides: &[(&str, &str)]) -> Fleet {
    let peers = Peers::start().await;
    let db = TestDb::fresh().await;
    let mut pairs = vec![
        ("DATABASE_URL", db.url.clone()),
        ("HTTP_ADDR", "127.0.0.1:0".into()),
        ("GRPC_ADDR", "127.0.0.1:0".into()),
        ("INTERNAL_SERVICE_TOKEN", SERVICE_TOKEN.into()),
        ("AUTH_GRPC_URL", peers.auth_grpc_url.clone()),
        ("AUTH_JWKS_URL", peers.jwks_url.clone()),
        ("STREAM_STALE_AFTER_MS", "600".into()),
        ("REDIS_PREFIX", peers.redis_prefix.clone()),
    ];
    for (k, v) in overrides {
        pairs.push((*k, (*v).to_owned()));
    }
    let config = marquee_financial::Config::load(&mut Env::from_map(vars(&pairs))).unwrap();
    let app = marquee_financial::App::build(config, Default::default()).await.unwrap();
    let api = TestClient::new(format!("http://{}", app.http_addr()));
    let grpc = format!("http://{}", app.grpc_addr());
    let stop = app.shutdown_token().drop_guard();
    tokio::spawn(async move { app.run().await.unwrap() });
    let fleet = Fleet { api, grpc, peers, _stop: stop, _db: db };
    fleet.wait_until_ready().await;
    fleet
}

impl Fleet {
    /// Until financial hears auth's stream (so the test starts from a steady state).
    pub async fn wait_until_ready(&self) {
        for _ in 0..200 {
            if self.api.get("/readyz", None).await.status == 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("financial never became ready");
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        company: Option<Uuid>,
        body: Option<&Value>,
    ) -> Reply {
        let mut request = self.api.http.request(method, self.api.url(path));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if let Some(c) = company {
            request = request.header("x-org", c.to_string());
        }
        if let Some(b) = body {
            request = request.json(b);
        }
        self.api.send(request).await
    }

    pub async fn get(&self, tenant: &Tenant, path: &str) -> Reply {
        self.call(reqwest::Method::GET, path, Some(&tenant.owner), Some(tenant.company), None).await
    }

    pub async fn post(&self, tenant: &Tenant, path: &str, body: &Value) -> Reply {
        self.call(reqwest::Method::POST, path, Some(&tenant.owner), Some(tenant.company), Some(body)).await
    }
}
