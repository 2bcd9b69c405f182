//! Signing keys: Ed25519, stored sealed, rotated on a schedule or on command.
//! A new key is first published as the next one and signs only once every
//! replica and every cached JWKS has had time to learn it; the JWKS then keeps
//! the previous key, so tokens signed before a rotation stay valid until they
//! expire.

pub mod repo;
pub mod routes;

use std::sync::{Arc, RwLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use ed25519_dalek::Signer;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, Header};
use marquee_guard::{TokenSettings, TokenValidator, ed25519_jwk};
use sea_orm::{DatabaseConnection, DbErr};
use serde::Serialize;

use crate::crypto::Sealer;

struct Ring {
    kid: String,
    has_next: bool,
    created_at: DateTime<Utc>,
    /// Parsed once: the JWT crate parses the key again for every signature,
    /// deriving its public half each time, which doubled a signature's cost.
    signer: SigningKey,
    /// The current key's JOSE header, base64url-encoded once.
    header: String,
    jwks: serde_json::Value,
}

/// The keys this replica signs with and publishes.
#[derive(Clone)]
pub struct KeyRing {
    ring: Arc<RwLock<Ring>>,
    validator: TokenValidator,
}

fn custom(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(e.to_string())
}

/// A fresh key, as stored.
pub fn generate(sealer: &Sealer) -> Result<repo::NewKey, DbErr> {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let pem = key.to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF).map_err(custom)?;
    Ok(repo::NewKey {
        kid: format!("k{}", uuid::Uuid::now_v7().simple()),
        private_sealed: sealer.seal(pem.as_bytes()),
        public_key: key.verifying_key().to_bytes(),
    })
}

fn build(keys: &[repo::StoredKey], sealer: &Sealer) -> Result<Ring, DbErr> {
    let current = keys.iter().find(|k| k.current).ok_or_else(|| custom("no current signing key"))?;
    let pem = sealer.open(&current.private_sealed).map_err(|_| {
        custom("the current signing key cannot be opened: is SIGNING_KEY_ENCRYPTION_KEY the one it was sealed with?")
    })?;
    let pem = std::str::from_utf8(&pem).map_err(custom)?;
    let signer = SigningKey::from_pkcs8_pem(pem).map_err(custom)?;
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(current.kid.clone());
    let header = B64.encode(serde_json::to_vec(&header).map_err(custom)?);
    let jwks = serde_json::json!({
        "keys": keys.iter().map(|k| ed25519_jwk(&k.kid, &k.public_key)).collect::<Vec<_>>()
    });
    Ok(Ring {
        kid: current.kid.clone(),
        has_next: keys.iter().any(|k| k.next),
        created_at: current.created_at,
        signer,
        header,
        jwks,
    })
}

fn jwk_set(jwks: &serde_json::Value) -> Result<JwkSet, DbErr> {
    serde_json::from_value(jwks.clone()).map_err(custom)
}

impl KeyRing {
    /// Loads the published keys, creating the first one on a fresh database.
    pub async fn load(
        db: &DatabaseConnection,
        sealer: &Sealer,
        settings: TokenSettings,
        now: DateTime<Utc>,
    ) -> Result<Self, DbErr> {
        let mut keys = repo::published(db).await?;
        if !keys.iter().any(|k| k.current) {
            // Another replica may win this race; either way there is one current key.
            let _ = repo::insert_current(db, &generate(sealer)?, now).await;
            keys = repo::published(db).await?;
        }
        let ring = build(&keys, sealer)?;
        let validator = TokenValidator::from_jwks(&jwk_set(&ring.jwks)?, settings);
        Ok(Self { ring: Arc::new(RwLock::new(ring)), validator })
    }

    /// Re-reads the keys (another replica may have rotated them).
    pub async fn reload(&self, db: &DatabaseConnection, sealer: &Sealer) -> Result<(), DbErr> {
        let ring = build(&repo::published(db).await?, sealer)?;
        self.validator.set_keys(&jwk_set(&ring.jwks)?).await;
        *self.ring.write().unwrap_or_else(|p| p.into_inner()) = ring;
        Ok(())
    }

    /// Publishes a new key as the next one (or keeps the one already
    /// waiting); it signs once [`promote_due`](Self::promote_due) promotes it.
    /// The waiting key's kid and when it was published.
    pub async fn rotate(
        &self,
        db: &DatabaseConnection,
        sealer: &Sealer,
        now: DateTime<Utc>,
    ) -> Result<(String, DateTime<Utc>), DbErr> {
        let published = repo::publish_next(db, &generate(sealer)?, now).await?;
        self.reload(db, sealer).await?;
        Ok(published)
    }

    /// Promotes the next key once it has been published for `lead`; the
    /// promoted kid, if this replica did it.
    pub async fn promote_due(
        &self,
        db: &DatabaseConnection,
        sealer: &Sealer,
        now: DateTime<Utc>,
        lead: std::time::Duration,
    ) -> Result<Option<String>, DbErr> {
        let lead = chrono::Duration::from_std(lead).unwrap_or(chrono::Duration::MAX);
        let promoted = repo::promote_due(db, now - lead, now).await?;
        if promoted.is_some() {
            self.reload(db, sealer).await?;
        }
        Ok(promoted)
    }

    /// Whether a next key is already published and waiting.
    pub fn has_next(&self) -> bool {
        self.ring.read().unwrap_or_else(|p| p.into_inner()).has_next
    }

    pub fn validator(&self) -> TokenValidator {
        self.validator.clone()
    }

    pub fn current_kid(&self) -> String {
        self.ring.read().unwrap_or_else(|p| p.into_inner()).kid.clone()
    }

    pub fn current_created_at(&self) -> DateTime<Utc> {
        self.ring.read().unwrap_or_else(|p| p.into_inner()).created_at
    }

    pub fn jwks(&self) -> serde_json::Value {
        self.ring.read().unwrap_or_else(|p| p.into_inner()).jwks.clone()
    }

    /// Signs claims with the current key: a compact JWS (RFC 7515),
    /// `header.claims.signature`, each part base64url without padding.
    pub fn sign(&self, claims: &impl Serialize) -> Result<String, serde_json::Error> {
        let claims = B64.encode(serde_json::to_vec(claims)?);
        let ring = self.ring.read().unwrap_or_else(|p| p.into_inner());
        let mut token = String::with_capacity(ring.header.len() + claims.len() + 88);
        token.push_str(&ring.header);
        token.push('.');
        token.push_str(&claims);
        let signature = ring.signer.sign(token.as_bytes());
        token.push('.');
        B64.encode_string(signature.to_bytes(), &mut token);
        Ok(token)
    }
}
