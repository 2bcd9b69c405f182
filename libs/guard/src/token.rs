//! Access-token validation. Only asymmetric algorithms that the key itself
//! declares are accepted (never `none`, never HMAC with a public key); `exp`,
//! `nbf`, `iss`, `aud` and `typ` are checked with a small leeway. Keys come
//! from a JWKS URL, are cached, and an unknown `kid` triggers a refetch at most
//! once per `refetch_floor`, so a flood of made-up `kid`s cannot storm Auth.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, RwLock};
use uuid::Uuid;

pub const ACCESS_TOKEN_TYPE: &str = "access";
pub const PLATFORM_ADMIN_ROLE: &str = "platform_admin";

/// The claims of an access token issued by Auth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user.
    pub sub: Uuid,
    /// The session the token belongs to.
    pub sid: Uuid,
    pub jti: Uuid,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub typ: String,
    /// The user's base role (`user`, `platform_admin`).
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's algorithm is not accepted")]
    AlgorithmRejected,
    #[error("the token was signed by an unknown key")]
    UnknownKey,
    #[error("the token's signature is invalid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued by someone else")]
    WrongIssuer,
    #[error("the token is meant for someone else")]
    WrongAudience,
    #[error("the token is not an access token")]
    WrongType,
    /// The signing keys could not be fetched: the token cannot be verified.
    #[error("signing keys are unavailable")]
    KeysUnavailable,
}

#[derive(Debug, Clone)]
pub struct TokenSettings {
    pub issuer: String,
    pub audience: String,
    pub leeway: Duration,
    /// An unknown `kid` refetches the JWKS at most this often.
    pub refetch_floor: Duration,
    /// Known keys are refreshed when older than this.
    pub max_key_age: Duration,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            issuer: "marquee-auth".to_owned(),
            audience: "marquee".to_owned(),
            leeway: Duration::from_secs(5),
            refetch_floor: Duration::from_secs(10),
            max_key_age: Duration::from_secs(300),
        }
    }
}

enum KeySource {
    Url {
        url: String,
        http: reqwest::Client,
    },
    /// Keys handed over in process (Auth verifying its own tokens).
    Fixed,
}

/// A token already checked: the key that signed it, the key set it was
/// checked under, and its claims.
#[derive(Clone)]
struct Verified {
    kid: String,
    key_set: u64,
    claims: Arc<AccessClaims>,
}

struct KeyCache {
    keys: HashMap<String, (DecodingKey, Algorithm)>,
    /// The set `keys` were read from, to tell a real change from a reload.
    published: JwkSet,
    fetched_at: Option<Instant>,
}

/// Validates access tokens. Cheap to clone.
#[derive(Clone)]
pub struct TokenValidator {
    inner: Arc<Inner>,
}

struct Inner {
    settings: TokenSettings,
    source: KeySource,
    cache: RwLock<KeyCache>,
    /// Tokens whose signature and claims were checked, by the token's SHA-256
    /// (32 bytes instead of the whole token), with the key that signed them: a
    /// token seen again costs a digest, a lookup and a clock check instead of a
    /// signature verification, for as long as that key is still published.
    verified: moka::sync::Cache<[u8; 32], Arc<Verified>>,
    /// Bumped whenever the published keys are replaced: a token verified
    /// under the keys still current needs no look at them.
    key_set: AtomicU64,
    fetching: Mutex<()>,
    fetches: AtomicU64,
}

impl TokenValidator {
    /// Keys from Auth's JWKS URL, fetched on first use.
    pub fn from_jwks_url(url: impl Into<String>, settings: TokenSettings) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(3)).build().unwrap_or_default();
        Self::new(KeySource::Url { url: url.into(), http }, JwkSet::default(), settings)
    }

    /// Keys given directly.
    pub fn from_jwks(jwks: &JwkSet, settings: TokenSettings) -> Self {
        Self::new(KeySource::Fixed, jwks.clone(), settings)
    }

    fn new(source: KeySource, published: JwkSet, settings: TokenSettings) -> Self {
        let keys = keys_of(&published);
        Self {
            inner: Arc::new(Inner {
                settings,
                source,
                cache: RwLock::new(KeyCache { keys, published, fetched_at: None }),
                verified: moka::sync::Cache::builder()
                    .max_capacity(50_000)
                    .time_to_live(Duration::from_secs(300))
                    .build(),
                key_set: AtomicU64::new(0),
                fetching: Mutex::new(()),
                fetches: AtomicU64::new(0),
            }),
        }
    }

    /// Replaces fixed keys (Auth after a rotation).
    pub async fn set_keys(&self, jwks: &JwkSet) {
        let mut cache = self.inner.cache.write().await;
        self.publish(&mut cache, jwks);
    }

    /// Takes `jwks` as the published keys. Only a set that differs counts as
    /// a change (a reload of the same keys keeps the tokens checked under
    /// them), and the change is counted before any key goes.
    fn publish(&self, cache: &mut KeyCache, jwks: &JwkSet) {
        if cache.published != *jwks {
            self.inner.key_set.fetch_add(1, Ordering::AcqRel);
            cache.keys = keys_of(jwks);
            cache.published = jwks.clone();
        }
        cache.fetched_at = Some(Instant::now());
    }

    /// How many times the JWKS has been fetched.
    pub fn fetch_count(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// Checks the token and returns its claims.
    pub async fn validate(&self, token: &str) -> Result<Arc<AccessClaims>, TokenError> {
        if token.len() > 8 * 1024 {
            return Err(TokenError::Malformed);
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(seen) = self.inner.verified.get(&digest) {
            let (now, claims) = (jsonwebtoken::get_current_timestamp(), &seen.claims);
            let leeway = self.inner.settings.leeway.as_secs();
            let in_time = now < claims.exp.unsigned_abs().saturating_add(leeway)
                && claims.nbf.unsigned_abs() <= now.saturating_add(leeway);
            if !in_time {
                self.inner.verified.invalidate(&digest);
                return Err(TokenError::Expired);
            }
            let key_set = self.inner.key_set.load(Ordering::Acquire);
            if seen.key_set == key_set {
                return Ok(seen.claims.clone());
            }
            if self.inner.cache.read().await.keys.contains_key(&seen.kid) {
                // Its key is still published: the shortcut holds under these keys.
                let claims = seen.claims.clone();
                self.inner.verified.insert(digest, Arc::new(Verified { key_set, ..Verified::clone(&seen) }));
                return Ok(claims);
            }
            // Its key is no longer published: check it from scratch.
            self.inner.verified.invalidate(&digest);
        }
        let header = decode_header(token).map_err(|_| TokenError::Malformed)?;
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        // Read before the key: keys replaced meanwhile count as a change.
        let key_set = self.inner.key_set.load(Ordering::Acquire);
        let (key, alg) = self.key_for(&kid).await?;
        if header.alg != alg {
            return Err(TokenError::AlgorithmRejected);
        }
        let settings = &self.inner.settings;
        let mut validation = Validation::new(alg);
        validation.algorithms = vec![alg];
        validation.leeway = settings.leeway.as_secs();
        validation.validate_nbf = true;
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        let data = decode::<AccessClaims>(token, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::ExpiredSignature => TokenError::Expired,
                K::ImmatureSignature => TokenError::NotYetValid,
                K::InvalidIssuer => TokenError::WrongIssuer,
                K::InvalidAudience => TokenError::WrongAudience,
                K::InvalidSignature => TokenError::BadSignature,
                K::InvalidAlgorithm | K::InvalidAlgorithmName => TokenError::AlgorithmRejected,
                _ => TokenError::Malformed,
            }
        })?;
        if data.claims.typ != ACCESS_TOKEN_TYPE {
            return Err(TokenError::WrongType);
        }
        let claims = Arc::new(data.claims);
        self.inner.verified.insert(digest, Arc::new(Verified { kid, key_set, claims: claims.clone() }));
        Ok(claims)
    }

    async fn key_for(&self, kid: &str) -> Result<(DecodingKey, Algorithm), TokenError> {
        let (known, fresh_enough, may_refetch) = {
            let cache = self.inner.cache.read().await;
            let age = cache.fetched_at.map(|t| t.elapsed());
            (
                cache.keys.get(kid).cloned(),
                age.is_some_and(|a| a < self.inner.settings.max_key_age),
                age.is_none_or(|a| a >= self.inner.settings.refetch_floor),
            )
        };
        if matches!(self.inner.source, KeySource::Fixed) {
            return known.ok_or(TokenError::UnknownKey);
        }
        match known {
            Some(key) if fresh_enough => Ok(key),
            Some(key) => {
                // Stale but known: refresh, and keep using what we had only
                // while Auth is away; a key Auth no longer publishes is refused.
                match self.refetch().await {
                    Ok(()) => self.lookup(kid).await.ok_or(TokenError::UnknownKey),
                    Err(_) => Ok(key),
                }
            }
            None if may_refetch => {
                self.refetch().await?;
                self.lookup(kid).await.ok_or(TokenError::UnknownKey)
            }
            None => Err(TokenError::UnknownKey),
        }
    }

    async fn lookup(&self, kid: &str) -> Option<(DecodingKey, Algorithm)> {
        self.inner.cache.read().await.keys.get(kid).cloned()
    }

    async fn refetch(&self) -> Result<(), TokenError> {
        let KeySource::Url { url, http } = &self.inner.source else {
            return Ok(());
        };
        let _single_flight = self.inner.fetching.lock().await;
        // Someone else may have fetched while we waited.
        let fetched_at = self.inner.cache.read().await.fetched_at;
        if fetched_at.is_some_and(|at| at.elapsed() < self.inner.settings.refetch_floor) {
            return Ok(());
        }
        self.inner.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = async {
            let response = http.get(url).send().await.ok()?;
            if !response.status().is_success() {
                return None;
            }
            response.json::<JwkSet>().await.ok()
        }
        .await;
        let mut cache = self.inner.cache.write().await;
        match fetched {
            Some(jwks) => {
                self.publish(&mut cache, &jwks);
                Ok(())
            }
            None => {
                tracing::warn!(jwks_url = %url, "cannot fetch signing keys");
                // Count the failed attempt too, so failures are not retried per request.
                cache.fetched_at = Some(Instant::now());
                if cache.keys.is_empty() {
                    cache.fetched_at = None;
                }
                Err(TokenError::KeysUnavailable)
            }
        }
    }
}

fn keys_of(jwks: &JwkSet) -> HashMap<String, (DecodingKey, Algorithm)> {
    jwks.keys.iter().filter_map(|jwk| Some((jwk.common.key_id.clone()?, key_of(jwk)?))).collect()
}

/// Only asymmetric keys, and only the algorithm that fits the key.
fn key_of(jwk: &Jwk) -> Option<(DecodingKey, Algorithm)> {
    let alg = match &jwk.algorithm {
        AlgorithmParameters::OctetKeyPair(_) => Algorithm::EdDSA,
        AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
        // RSA, symmetric (HMAC) and any future kind: never accepted.
        _ => return None,
    };
    DecodingKey::from_jwk(jwk).ok().map(|k| (k, alg))
}

/// The public JWK of an Ed25519 signing key, as published in a JWKS.
pub fn ed25519_jwk(kid: &str, public_key: &[u8; 32]) -> serde_json::Value {
    use base64::Engine;
    serde_json::json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "x": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public_key),
        "kid": kid,
        "alg": "EdDSA",
        "use": "sig",
    })
}
