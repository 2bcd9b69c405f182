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
