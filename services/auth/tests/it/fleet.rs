//! auth with a real platform-core beside it, for companies and access.

use std::collections::HashMap;

use marquee_kit::Clock;
use marquee_kit::grpc::ServiceCredentials;
use marquee_proto::auth::v1::access_client::AccessClient;
use marquee_proto::auth::v1::{AccessDecision, ResolveAccessRequest};
use marquee_test_support::{PeerOptions, Peers, start_auth};
use marquee_testkit::Reply;
use serde_json::{Value, json};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;

use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, pair, unique_email};

pub use marquee_testkit::SERVICE_TOKEN;

pub type Access = AccessClient<InterceptedService<Channel, ServiceCredentials>>;

/// auth with a real platform-core beside it: the shared [`Peers`], with
/// auth on a manual clock and the settings these tests need.
pub struct Fleet {
    peers: Peers,
}

marquee_test_support::over_peers!(Fleet);

pub async fn fleet() -> Fleet {
    fleet_with(&[]).await
}

pub async fn fleet_with(overrides: &[(&str, &str)]) -> Fleet {
    let mut auth_env = vec![("REFRESH_RETRY_GRACE_SECS", "2")];
    auth_env.extend_from_slice(overrides);
    let clock = Clock::manual(chrono::Utc::now());
    let fleet = Fleet { peers: Peers::start_with(PeerOptions { clock, auth_env: &auth_env }).await };
    // auth hears platform-core's stream before the test begins.
    let admin = fleet.token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for _ in 0..100 {
        if fleet.auth.get("/readyz", None).await.status == 200
            && fleet.core.get("/v1/modules", Some(&admin)).await.status == 200
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    fleet
}

/// A signed-up, verified user.
pub struct Person {
    pub id: Uuid,
    pub email: String,
    pub token: String,
}

impl Fleet {
    /// Another auth replica on the same database (and Redis, when set): its
    /// gRPC URL and the guard that stops it.
    pub async fn replica(&self) -> (String, tokio_util::sync::DropGuard) {
        let listeners = marquee_service::Listeners::loopback(true).await.unwrap();
        let replica = start_auth(self.auth_env.clone(), self.clock.clone(), Some(listeners)).await.unwrap();
        (replica.grpc_url, replica.stop)
    }

    pub async fn token(&self, email: &str, password: &str) -> String {
        let reply = self.auth.post("/v1/auth/login", None, &json!({"email": email, "password": password})).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        pair(&reply).0
    }

    pub async fn admin(&self) -> String {
        self.token(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// Signs up and verifies a new person.
    pub async fn person(&self) -> Person {
        let email = unique_email();
        let reply = self
            .auth
            .post(
                "/v1/auth/signup",
                None,
                &json!({"email": email, "password": marquee_testkit::PASSWORD, "name": "Pat"}),
            )
            .await;
        assert_eq!(reply.status, 201);
        let id = Uuid::parse_str(reply.data()["id"].as_str().unwrap()).unwrap();
        let token = self.mailed(&email, "verify-email").await;
        let verified = self.auth.post("/v1/auth/email/verify", None, &json!({"token": token})).await;
        assert_eq!(verified.status, 200);
        let token = self.token(&email, marquee_testkit::PASSWORD).await;
        Person { id, email, token }
    }

    /// A company owned by a new person.
    pub async fn company(&self) -> (Uuid, Person) {
        let owner = self.person().await;
        let reply = self.auth.post("/v1/companies", Some(&owner.token), &json!({"name": "Acme Live"})).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        assert_eq!(reply.data()["subscriptionReady"], true);
        (Uuid::parse_str(reply.data()["id"].as_str().unwrap()).unwrap(), owner)
    }

    pub async fn roles(&self, company: Uuid, token: &str) -> HashMap<String, String> {
        let reply = self.auth.get(&format!("/v1/companies/{company}/roles"), Some(token)).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply
            .data()
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["name"].as_str().unwrap().to_owned(), r["id"].as_str().unwrap().to_owned()))
            .collect()
    }

    pub async fn custom_role(&self, company: Uuid, token: &str, name: &str, permissions: &[&str]) -> String {
        let reply = self
            .auth
            .post(
                &format!("/v1/companies/{company}/roles"),
                Some(token),
                &json!({"name": name, "permissions": permissions}),
            )
            .await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply.data()["id"].as_str().unwrap().to_owned()
    }

    /// An admin adds `person` with `roles` (role ids).
    pub async fn add(&self, company: Uuid, admin: &str, person: &Person, roles: &[&str]) -> Reply {
        self.auth
            .post(
                &format!("/v1/companies/{company}/members"),
                Some(admin),
                &json!({"email": person.email, "roleIds": roles}),
            )
            .await
    }

    pub async fn patch_member(&self, company: Uuid, admin: &str, user: Uuid, body: Value) -> Reply {
        self.auth
            .send(
                self.auth
                    .http
                    .patch(self.auth.url(&format!("/v1/companies/{company}/members/{user}")))
                    .bearer_auth(admin)
                    .json(&body),
            )
            .await
    }

    pub async fn my_access(&self, company: Uuid, token: &str) -> Reply {
        self.auth
            .send(
                self.auth
                    .http
                    .get(self.auth.url("/v1/me/access"))
                    .bearer_auth(token)
                    .header("x-org", company.to_string()),
            )
            .await
    }

    pub async fn set_package(&self, company: Uuid, body: Value) {
        let admin = self.admin().await;
        let reply = self.core.put(&format!("/v1/companies/{company}/subscription"), Some(&admin), &body).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
    }

    pub async fn grpc(&self) -> Access {
        let channel =
            tonic::transport::Endpoint::from_shared(self.auth_grpc_url.clone()).unwrap().connect().await.unwrap();
        AccessClient::with_interceptor(channel, ServiceCredentials::new(SERVICE_TOKEN).unwrap())
    }

    pub async fn resolve(
        &self,
        token: &str,
        company: Uuid,
        min_revision: u64,
    ) -> Result<AccessDecision, tonic::Status> {
        self.grpc()
            .await
            .resolve_access(ResolveAccessRequest {
                access_token: token.to_owned(),
                company_id: company.to_string(),
                min_revision,
            })
            .await
            .map(|r| r.into_inner())
    }

    pub async fn mailed(&self, to: &str, path: &str) -> String {
        for _ in 0..100 {
            if let Some(token) = crate::harness::find_token(&self.mail_dir, to, path) {
                return token;
            }
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        }
        panic!("no mail to {to}");
    }
}
