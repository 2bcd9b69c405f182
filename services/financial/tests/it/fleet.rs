//! financial with real platform-core and auth beside it.

use std::ops::{Deref, DerefMut};

use marquee_config::Env;
use marquee_kit::grpc::ServiceCredentials;
use marquee_proto::financial::v1::facts_client::FactsClient;
pub use marquee_test_support::Tenant;
use marquee_test_support::{Api, Peers};
use marquee_testkit::{Reply, TestClient, TestDb};
use serde_json::Value;
use uuid::Uuid;

pub struct Fleet {
    pub api: TestClient,
    pub grpc: String,
    /// financial's own database pool, for setting up data the API no longer
    /// lets anyone write (rows from before a rule) and for taking it away.
    pub db: sea_orm::DatabaseConnection,
    client: Api,
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
    let peers = Peers::start().await;
    let db = TestDb::fresh().await;
    let config = marquee_financial::Config::load(&mut Env::from_map(peers.service_vars(&db.url, &[]))).unwrap();
    let app = marquee_financial::App::build(config, Default::default()).await.unwrap();
    let api = TestClient::new(format!("http://{}", app.http_addr()));
    let grpc = format!("http://{}", app.grpc_addr());
    let pool = app.state().db.clone();
    let stop = app.shutdown_token().drop_guard();
    tokio::spawn(async move { app.run().await.unwrap() });
    let client = Api(api.clone());
    client.wait_until_ready().await;
    Fleet { api, grpc, db: pool, client, peers, _stop: stop, _db: db }
}

impl Fleet {
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        company: Option<Uuid>,
        body: Option<&Value>,
    ) -> Reply {
        self.client.call(method, path, token, company, body).await
    }

    pub async fn get(&self, tenant: &Tenant, path: &str) -> Reply {
        self.client.get(tenant, path).await
    }

    pub async fn post(&self, tenant: &Tenant, path: &str, body: &Value) -> Reply {
        self.client.post(tenant, path, body).await
    }
}

pub type Facts =
    FactsClient<tonic::service::interceptor::InterceptedService<tonic::transport::Channel, ServiceCredentials>>;

impl Fleet {
    /// A client of the facts receiver, as base calls it.
    pub async fn facts(&self) -> Facts {
        let channel = tonic::transport::Endpoint::from_shared(self.grpc.clone()).unwrap().connect().await.unwrap();
        FactsClient::with_interceptor(channel, ServiceCredentials::new(marquee_test_support::SERVICE_TOKEN).unwrap())
    }

    /// A call in `tenant` as the member holding `token`.
    pub async fn as_member(
        &self,
        tenant: &Tenant,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Reply {
        self.client.call(method, path, Some(token), Some(tenant.company), body).await
    }
}
