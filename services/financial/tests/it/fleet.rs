//! financial with real platform-core and auth beside it.

use marquee_kit::grpc::ServiceCredentials;
use marquee_proto::financial::v1::facts_client::FactsClient;
use marquee_proto::financial::v1::{Money, SaleKind, TicketSale};
pub use marquee_test_support::Tenant;
use marquee_test_support::{Api, Financial, Peers, Running, start_financial};
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

marquee_test_support::over_peers!(Fleet);

pub async fn fleet() -> Fleet {
    let peers = Peers::start().await;
    let Financial { running: Running { client: api, grpc_url: grpc, stop }, pool, db } =
        start_financial(&peers, None).await;
    Fleet { api: api.clone(), grpc, db: pool, client: Api(api), peers, _stop: stop, _db: db }
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

/// A sale of one ticket for `amount` EUR.
pub fn ticket_sale(company: Uuid, event: Uuid, source: String, amount: i64) -> TicketSale {
    TicketSale {
        source_id: source,
        company_id: company.to_string(),
        event_id: event.to_string(),
        registration_id: Uuid::now_v7().to_string(),
        kind: SaleKind::Sale as i32,
        amount: Some(Money { amount_minor: amount, currency: "EUR".into() }),
        quantity: 1,
        occurred_at_unix_ms: 0,
        order_id: String::new(),
    }
}

/// Writes an account squatting the system code `income:EUR` for the
/// tenant, as one could make before codes were reserved; its id.
pub async fn squat_income(f: &Fleet, t: &Tenant) -> Uuid {
    use marquee_financial::domains::ledger::model::{Account, Kind};
    let squatter = Account {
        id: Uuid::now_v7(),
        code: "income:EUR".into(),
        name: "my income".into(),
        kind: Kind::Asset,
        currency: "EUR".into(),
        no_negative: true,
        balance: 0,
        created_at: chrono::Utc::now(),
    };
    marquee_financial::domains::ledger::repo::insert_account(&f.db, t.company, &squatter, t.owner_id).await.unwrap();
    squatter.id
}
