use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use marquee_guard::AccessClaims;
use serde_json::Value;
use tokio::net::TcpListener;
use uuid::Uuid;

pub const ISSUER: &str = "marquee-auth";
pub const AUDIENCE: &str = "marquee";

/// An Ed25519 signing key with its `kid`, standing in for Auth's.
pub struct TestKeys {
    pub kid: String,
    signing: SigningKey,
    encoding: EncodingKey,
}

impl Default for TestKeys {
    fn default() -> Self {
        Self::generate()
    }
}

impl TestKeys {
    pub fn generate() -> Self {
        let signing = SigningKey::generate(&mut rand::rngs::OsRng);
        let pem = signing.to_pkcs8_pem(Default::default()).expect("encode test key");
        let encoding = EncodingKey::from_ed_pem(pem.as_bytes()).expect("test key");
        Self { kid: unique_name_kid(), signing, encoding }
    }

    /// The public JWKS document.
    pub fn jwks(&self) -> Value {
        serde_json::json!({
            "keys": [marquee_guard::ed25519_jwk(&self.kid, &self.signing.verifying_key().to_bytes())]
        })
    }

    /// Claims of a valid access token for `user` with `role`, valid 15 minutes.
    pub fn claims(&self, user: Uuid, role: &str) -> AccessClaims {
        let now = chrono::Utc::now().timestamp();
        AccessClaims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: user,
            sid: Uuid::now_v7(),
            jti: Uuid::now_v7(),
            iat: now,
            nbf: now,
            exp: now + 900,
            typ: "access".to_owned(),
            role: role.to_owned(),
        }
    }

    /// Signs any claims (valid or deliberately not) with this key.
    pub fn sign(&self, claims: &impl serde::Serialize) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("sign")
    }

    /// A valid token for a fresh user with `role`.
    pub fn token(&self, role: &str) -> (Uuid, String) {
        let user = Uuid::now_v7();
        (user, self.sign(&self.claims(user, role)))
    }
}

fn unique_name_kid() -> String {
    format!("test-{}", Uuid::now_v7().simple())
}

/// Serves a JWKS on a random loopback port and counts how often it is asked.
pub struct JwksServer {
    pub url: String,
    hits: Arc<AtomicU64>,
    _shutdown: tokio_util::sync::DropGuard,
}

impl JwksServer {
    pub async fn start(jwks: Value) -> Self {
        let hits = Arc::new(AtomicU64::new(0));
        let counter = hits.clone();
        let app = axum::Router::new().route(
            "/.well-known/jwks.json",
            axum::routing::get(move || {
                counter.fetch_add(1, Ordering::Relaxed);
                let body = jwks.clone();
                async move { axum::Json(body) }
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let token = tokio_util::sync::CancellationToken::new();
        let stop = token.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).with_graceful_shutdown(async move { stop.cancelled().await }).await;
        });
        Self { url: format!("http://{addr}/.well-known/jwks.json"), hits, _shutdown: token.drop_guard() }
    }

    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }
}
