//! Only platform operators get in; hostile tokens are refused by the shared validator.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use marquee_testkit::TestKeys;
use serde_json::json;

use crate::harness::start;

#[tokio::test]
async fn no_token_is_401_and_a_non_admin_is_403() {
    let h = start().await;
    let reply = h.api.get("/v1/modules", None).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.code(), "MISSING_TOKEN");

    let (_, user) = h.keys.token("user");
    let reply = h.api.get("/v1/packages", Some(&user)).await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.code(), "PLATFORM_ADMIN_REQUIRED");

    let reply = h.api.get("/v1/packages", Some(&h.admin)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}

#[tokio::test]
async fn hostile_tokens_are_refused() {
    let h = start().await;
    let now = chrono::Utc::now().timestamp();
    let user = uuid::Uuid::now_v7();
    let valid = h.keys.claims(user, "platform_admin");

    let mut cases: Vec<(&str, String)> = Vec::new();

    // Payload changed after signing: a user promoting themselves.
    let signed_user = h.keys.sign(&h.keys.claims(user, "user"));
    let parts: Vec<&str> = signed_user.split('.').collect();
    let forged = B64.encode(serde_json::to_vec(&valid).unwrap());
    cases.push(("tampered payload", format!("{}.{}.{}", parts[0], forged, parts[2])));

    let mut c = valid.clone();
    c.exp = now - 3600;
    c.iat = now - 7200;
    c.nbf = now - 7200;
    cases.push(("expired", h.keys.sign(&c)));

    let mut c = valid.clone();
    c.nbf = now + 3600;
    cases.push(("not yet valid", h.keys.sign(&c)));

    let mut c = valid.clone();
    c.iss = "someone-else".into();
    cases.push(("wrong issuer", h.keys.sign(&c)));

    let mut c = valid.clone();
    c.aud = "another-product".into();
    cases.push(("wrong audience", h.keys.sign(&c)));

    let mut c = valid.clone();
    c.typ = "refresh".into();
    cases.push(("not an access token", h.keys.sign(&c)));

    let header_none = B64.encode(json!({"alg": "none", "typ": "JWT", "kid": h.keys.kid}).to_string());
    let payload = B64.encode(serde_json::to_vec(&valid).unwrap());
    cases.push(("alg none", format!("{header_none}.{payload}.")));

    // HS256 keyed with the published public key (the classic confusion attack).
    let jwks = h.keys.jwks();
    let public_x = jwks["keys"][0]["x"].as_str().unwrap().to_owned();
    let public_bytes = B64.decode(&public_x).unwrap();
    for (name, secret) in
        [("HS256 with public key bytes", public_bytes), ("HS256 with public key text", public_x.into_bytes())]
    {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(h.keys.kid.clone());
        let token = jsonwebtoken::encode(&header, &valid, &EncodingKey::from_secret(&secret)).unwrap();
        cases.push((name, token));
    }

    let stranger = TestKeys::generate();
    cases.push(("unknown kid", stranger.sign(&stranger.claims(user, "platform_admin"))));

    let mut c = serde_json::to_value(&valid).unwrap();
    c.as_object_mut().unwrap().remove("exp");
    cases.push(("no exp", h.keys.sign(&c)));

    cases.push(("garbage", "not-a-token".into()));
    cases.push(("three garbage parts", "a.b.c".into()));
    cases.push(("huge", "a".repeat(20_000)));

    for (name, token) in cases {
        let reply = h.api.get("/v1/modules", Some(&token)).await;
        assert_eq!(reply.status, 401, "{name}: {:?}", reply.body);
        assert_eq!(reply.code(), "INVALID_TOKEN", "{name}");
    }

    // The genuine token still works.
    let reply = h.api.get("/v1/modules", Some(&h.keys.sign(&valid))).await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn a_flood_of_unknown_kids_does_not_storm_the_jwks() {
    let h = start().await;
    // First use fetches the keys once.
    assert_eq!(h.api.get("/v1/modules", Some(&h.admin)).await.status, 200);
    let before = h.jwks.hits();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let stranger = TestKeys::generate();
        let token = stranger.token("platform_admin").1;
        let api = h.api.clone();
        tasks.push(tokio::spawn(async move { api.get("/v1/modules", Some(&token)).await.status }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 401);
    }
    assert!(
        h.jwks.hits() - before <= 1,
        "an unknown kid may refetch at most once per floor, got {} fetches",
        h.jwks.hits() - before
    );
}

#[tokio::test]
async fn grpc_refuses_anonymous_and_wrong_credentials() {
    use marquee_proto::platform_core::v1::GetEntitlementsRequest;
    use marquee_proto::platform_core::v1::platform_core_client::PlatformCoreClient;
    let h = start().await;
    let request = || GetEntitlementsRequest { company_id: uuid::Uuid::now_v7().to_string() };

    let mut anonymous = PlatformCoreClient::connect(h.grpc_url.clone()).await.unwrap();
    let err = anonymous.get_entitlements(request()).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated);

    let mut wrong = crate::harness::grpc_client(&h.grpc_url, "not-the-service-token").await;
    let err = wrong.get_entitlements(request()).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated);

    let mut right = h.grpc().await;
    let answer = right.get_entitlements(request()).await.unwrap().into_inner();
    assert!(!answer.entitled);
}
