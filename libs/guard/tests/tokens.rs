//! A token checked once is not checked again from scratch, but the shortcut
//! never outlives the token's own time or the key that signed it.

use std::time::Duration;

use marquee_guard::{TokenError, TokenSettings, TokenValidator};
use marquee_testkit::keys::TestKeys;
use uuid::Uuid;

fn jwks(keys: &TestKeys) -> jsonwebtoken::jwk::JwkSet {
    serde_json::from_value(keys.jwks()).expect("a JWKS")
}

fn strict() -> TokenSettings {
    TokenSettings { leeway: Duration::ZERO, ..TokenSettings::default() }
}

#[tokio::test]
async fn a_token_seen_before_still_expires_on_time() {
    let keys = TestKeys::generate();
    let validator = TokenValidator::from_jwks(&jwks(&keys), strict());
    let mut claims = keys.claims(Uuid::now_v7(), "user");
    claims.exp = chrono::Utc::now().timestamp() + 1;
    let token = keys.sign(&claims);
    assert_eq!(validator.validate(&token).await.map(|c| c.sub), Ok(claims.sub));
    assert_eq!(validator.validate(&token).await.map(|c| c.sub), Ok(claims.sub), "the second time too");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(validator.validate(&token).await, Err(TokenError::Expired));
}

#[tokio::test]
async fn a_token_seen_before_is_refused_once_its_key_is_withdrawn() {
    let (old, new) = (TestKeys::generate(), TestKeys::generate());
    let validator = TokenValidator::from_jwks(&jwks(&old), strict());
    let (_, token) = old.token("user");
    assert!(validator.validate(&token).await.is_ok());
    validator.set_keys(&jwks(&new)).await;
    assert_eq!(validator.validate(&token).await, Err(TokenError::UnknownKey));
    let (_, fresh) = new.token("user");
    assert!(validator.validate(&fresh).await.is_ok());
}

#[tokio::test]
async fn a_tampered_copy_of_a_token_seen_before_is_checked_and_refused() {
    let keys = TestKeys::generate();
    let validator = TokenValidator::from_jwks(&jwks(&keys), strict());
    let (_, token) = keys.token("user");
    assert!(validator.validate(&token).await.is_ok());
    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('A') { 'B' } else { 'A' });
    assert!(validator.validate(&forged).await.is_err());
}

/// A JWKS endpoint whose published set the test changes.
async fn jwks_endpoint(published: serde_json::Value) -> (String, std::sync::Arc<std::sync::Mutex<serde_json::Value>>) {
    let served = std::sync::Arc::new(std::sync::Mutex::new(published));
    let shared = served.clone();
    let app = axum::Router::new().route(
        "/.well-known/jwks.json",
        axum::routing::get(move || {
            let served = shared.clone();
            async move { axum::Json(served.lock().expect("the published set").clone()) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let url = format!("http://{}/.well-known/jwks.json", listener.local_addr().expect("an address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, served)
}

#[tokio::test]
async fn a_key_auth_stops_publishing_is_refused_at_the_next_fetch_for_new_and_seen_tokens_alike() {
    let (old, new) = (TestKeys::generate(), TestKeys::generate());
    let (url, served) = jwks_endpoint(old.jwks()).await;
    // Keys are refetched whenever a token needs one: every check sees what Auth publishes now.
    let settings = TokenSettings { max_key_age: Duration::ZERO, refetch_floor: Duration::ZERO, ..strict() };
    let validator = TokenValidator::from_jwks_url(url, settings);
    let (_, seen) = old.token("user");
    assert!(validator.validate(&seen).await.is_ok());
    assert!(validator.validate(&seen).await.is_ok(), "a token seen before, its key still published");

    *served.lock().unwrap() = new.jwks();
    let (_, unseen) = old.token("user");
    assert_eq!(validator.validate(&unseen).await, Err(TokenError::UnknownKey), "the stale key is not used");
    assert_eq!(validator.validate(&seen).await, Err(TokenError::UnknownKey), "nor is the shortcut");
    let (_, fresh) = new.token("user");
    assert!(validator.validate(&fresh).await.is_ok());
}

#[tokio::test]
async fn a_reload_of_the_same_keys_keeps_a_seen_token_and_a_new_set_refuses_it() {
    let keys = TestKeys::generate();
    let validator = TokenValidator::from_jwks(&jwks(&keys), strict());
    let (_, token) = keys.token("user");
    assert!(validator.validate(&token).await.is_ok());
    // Auth reloads its keys every few seconds; the same set is no change.
    validator.set_keys(&jwks(&keys)).await;
    assert!(validator.validate(&token).await.is_ok());
    let other = TestKeys::generate();
    validator.set_keys(&jwks(&other)).await;
    assert_eq!(validator.validate(&token).await, Err(TokenError::UnknownKey));
}
