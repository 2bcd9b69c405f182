//! Each company's ticket keys: Ed25519, created on first use, sealed at
//! rest with `TICKET_KEY_ENCRYPTION_KEY`. Every key ever used stays
//! published, so a ticket stays checkable for as long as it exists.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use super::model::{TicketClaims, TicketKey, TicketKeys};
use super::repo::{self, key_row};
use crate::domains::orders::model::Ticket;
use crate::error::Error;
use crate::state::AppState;

/// The key a company signs its tickets with now.
pub struct Signer {
    kid: String,
    key: EncodingKey,
}

impl Signer {
    /// A ticket's token: a compact JWS (EdDSA) of its ticket, event and type.
    pub fn token(&self, ticket: &Ticket) -> Result<String, Error> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        header.typ = None;
        let claims = TicketClaims { t: ticket.id, e: ticket.event_id, y: ticket.ticket_type_id };
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| Error::TicketSigningUnavailable(format!("a ticket could not be signed: {e}")))
    }
}

fn broken(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("a ticket key is not usable: {e}"))
}

fn new_key(state: &AppState, company: Uuid, generation: i32) -> Result<key_row::Model, DbErr> {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let pem = key.to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF).map_err(broken)?;
    Ok(key_row::Model {
        kid: format!("t{}", Uuid::now_v7().simple()),
        company_id: company,
        generation,
        public_key: URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes()),
        private_sealed: state.ticket_sealer.seal(pem.as_bytes()),
        created_at: state.clock.now(),
    })
}

/// The company's current signer, creating its first key on first use.
/// Kept per company once read: a key never changes once stored (a new
/// generation would have to forget the company's entry). Read outside any
/// transaction, so what is kept is committed.
pub async fn signer(state: &AppState, company: Uuid) -> Result<Arc<Signer>, Error> {
    if let Some(kept) = state.signers.get(&company) {
        return Ok(kept);
    }
    let db = &state.db;
    let mut keys = repo::keys(db, company).await?;
    if keys.is_empty() {
        // Two first uses at once store one key: the other insert does nothing.
        repo::insert_key(db, new_key(state, company, 1).map_err(unusable)?).await?;
        keys = repo::keys(db, company).await?;
    }
    let current = keys.pop().ok_or_else(|| unusable("none stored"))?;
    let pem = state
        .ticket_sealer
        .open(&current.private_sealed)
        .map_err(|_| unusable("it cannot be opened: is TICKET_KEY_ENCRYPTION_KEY the one it was sealed with?"))?;
    let key = EncodingKey::from_ed_pem(&pem).map_err(unusable)?;
    let signer = Arc::new(Signer { kid: current.kid, key });
    state.signers.insert(company, signer.clone());
    Ok(signer)
}

fn unusable(e: impl std::fmt::Display) -> Error {
    Error::TicketSigningUnavailable(format!("a ticket key is not usable: {e}"))
}

fn jwk(k: &key_row::Model) -> TicketKey {
    TicketKey {
        kty: "OKP".to_owned(),
        crv: "Ed25519".to_owned(),
        x: k.public_key.clone(),
        kid: k.kid.clone(),
        alg: "EdDSA".to_owned(),
        use_: "sig".to_owned(),
    }
}

/// Every public key of the company (its first created if it had none).
pub async fn published(state: &AppState, company: Uuid) -> Result<TicketKeys, Error> {
    signer(state, company).await?;
    Ok(TicketKeys { keys: repo::keys(&state.db, company).await?.iter().map(jwk).collect() })
}

/// The claims of a token signed by one of the company's keys; None for
/// anything else (malformed, unknown key, bad signature).
pub async fn verify(db: &impl ConnectionTrait, company: Uuid, token: &str) -> Result<Option<TicketClaims>, Error> {
    let Ok(header) = jsonwebtoken::decode_header(token) else { return Ok(None) };
    if header.alg != Algorithm::EdDSA {
        return Ok(None);
    }
    let Some(kid) = header.kid else { return Ok(None) };
    let Some(stored) = repo::key(db, company, &kid).await? else { return Ok(None) };
    let jwk: Jwk = serde_json::from_value(serde_json::to_value(jwk(&stored)).map_err(broken)?).map_err(broken)?;
    let key = DecodingKey::from_jwk(&jwk).map_err(broken)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    Ok(jsonwebtoken::decode::<TicketClaims>(token, &key, &validation).ok().map(|d| d.claims))
}
