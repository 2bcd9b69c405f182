//! base with real platform-core and auth beside it.

use marquee_config::Env;
pub use marquee_test_support::{ADMIN_EMAIL, ADMIN_PASSWORD, Tenant};
use marquee_test_support::{Api, Peers, Running};
use marquee_testkit::{Reply, TestClient, TestDb};
use serde_json::Value;
use uuid::Uuid;

pub struct Fleet {
    pub base: TestClient,
    api: Api,
    peers: Peers,
    /// Where this base stores media objects (and, in `mail/`, writes mail).
    pub media_dir: tempfile::TempDir,
    _stop: tokio_util::sync::DropGuard,
    _db: TestDb,
}

marquee_test_support::over_peers!(Fleet);

pub async fn fleet() -> Fleet {
    fleet_with(&[]).await
}

pub async fn fleet_with(overrides: &[(&str, &str)]) -> Fleet {
    fleet_on(overrides, marquee_kit::Clock::default()).await
}

/// base on `clock` (a manual one lets a test move time on).
pub async fn fleet_on(overrides: &[(&str, &str)], clock: marquee_kit::Clock) -> Fleet {
    let peers = Peers::start().await;
    let db = TestDb::fresh().await;
    let media_dir = tempfile::tempdir().unwrap();
    let media = media_dir.path().display().to_string();
    let mail = media_dir.path().join("mail").display().to_string();
    let mut vars = peers.service_vars(&db.url, &[("MEDIA_DIR", media.as_str()), ("MAIL_DIR", mail.as_str())]);
    vars.extend(overrides.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let config = marquee_base::Config::load(&mut Env::from_map(vars)).unwrap();
    let options = marquee_base::Options { clock, ..Default::default() };
    let app = marquee_base::App::build(config, options).await.unwrap();
    let Running { client: base, stop, .. } = marquee_test_support::serve(app);
    let api = Api(base.clone());
    api.wait_until_ready().await;
    Fleet { base, api, peers, media_dir, _stop: stop, _db: db }
}

impl Fleet {
    pub fn peers(&self) -> &Peers {
        &self.peers
    }

    /// base's database, for what no route shows.
    pub async fn database(&self) -> sea_orm::DatabaseConnection {
        sea_orm::Database::connect(self._db.url.as_str()).await.unwrap()
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        company: Option<Uuid>,
        body: Option<&Value>,
    ) -> Reply {
        self.api.call(method, path, token, company, body).await
    }

    pub async fn get(&self, tenant: &Tenant, path: &str) -> Reply {
        self.api.get(tenant, path).await
    }

    pub async fn post(&self, tenant: &Tenant, path: &str, body: &Value) -> Reply {
        self.api.post(tenant, path, body).await
    }

    /// Moves the tenant to a fresh package with `limits` and waits until auth
    /// answers with `limit`; the revision to demand of base from then on.
    pub async fn on_plan(&self, tenant: &Tenant, limits: Value, limit: &str) -> u64 {
        let code = self.package(&["basic"], limits.clone()).await;
        self.set_package(tenant.company, serde_json::json!({"packageCode": code, "status": "active"})).await;
        for _ in 0..100 {
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
            if access.data()["limits"][limit] == limits[limit] {
                return access.data()["revision"].as_u64().unwrap();
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("auth never answered with the new plan");
    }
}

/// A fresh event at a fresh venue, announced and on sale: its id.
pub async fn event_on_sale(f: &Fleet, t: &Tenant) -> String {
    let venue = f
        .post(t, "/v1/venues", &serde_json::json!({"name": "Hall", "address": {"line1": "x", "city": "Porto", "country": "PT"}, "timezone": "Europe/Lisbon", "capacity": 5000}))
        .await;
    let venue = venue.data()["id"].as_str().unwrap().to_owned();
    let event = f
        .post(t, "/v1/events", &serde_json::json!({"name": "Show", "venueId": venue, "startsAt": "2031-01-01T20:00:00Z", "endsAt": "2031-01-01T23:00:00Z"}))
        .await;
    let event = event.data()["id"].as_str().unwrap().to_owned();
    for action in ["announce", "start-sales"] {
        let moved = f.post(t, &format!("/v1/events/{event}/{action}"), &serde_json::json!({})).await;
        assert_eq!(moved.status, 200, "{:?}", moved.body);
    }
    event
}

/// financial's listeners, bound before base starts (base is told where
/// financial is), and the URL of its gRPC.
pub async fn financial_listeners() -> (marquee_service::Listeners, String) {
    let listeners = marquee_service::Listeners::loopback(true).await.unwrap();
    let url = format!("http://{}", listeners.grpc_addr().unwrap());
    (listeners, url)
}
