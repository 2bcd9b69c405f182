//! Sealing data at rest: AES-256-GCM with a key from the environment.

use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore;

use marquee_config::Env;

/// Sealed data that cannot be opened with this key (or is not sealed data).
#[derive(Debug, thiserror::Error)]
#[error("sealed data cannot be opened")]
pub struct Unsealable;

/// Seals data at rest with AES-256-GCM; the 96-bit nonce is random per seal.
#[derive(Clone)]
pub struct Sealer {
    cipher: Arc<Aes256Gcm>,
}

/// The key never shows in logs or debug output.
impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(…)")
    }
}

impl Sealer {
    /// From 32 key bytes, given base64-encoded.
    pub fn from_base64(key: &str) -> Result<Self, String> {
        let bytes = STANDARD
            .decode(key.trim())
            .or_else(|_| URL_SAFE_NO_PAD.decode(key.trim()))
            .map_err(|_| "must be base64".to_owned())?;
        if bytes.len() != 32 {
            return Err(format!("must decode to 32 bytes, not {}", bytes.len()));
        }
        let cipher = Aes256Gcm::new_from_slice(&bytes).map_err(|_| "not a valid AES-256 key".to_owned())?;
        Ok(Self { cipher: Arc::new(cipher) })
    }

    /// The key named `name`, required: base64 of 32 bytes. A missing or bad
    /// key is a problem of `env` (the start stops there, naming it).
    pub fn required(env: &mut Env, name: &str) -> Self {
        let key = env.required_secret(name);
        match Self::from_base64(key.expose()) {
            Ok(sealer) => sealer,
            Err(problem) => {
                if !key.expose().is_empty() {
                    env.problem(name, problem);
                }
                Self::throwaway()
            }
        }
    }

    /// A random key that nothing else knows (never used to keep data).
    pub fn throwaway() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self { cipher: Arc::new(Aes256Gcm::new(&key.into())) }
    }

    pub fn seal(&self, plain: &[u8]) -> String {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        // Encryption with a valid key and a fresh nonce does not fail.
        let sealed = self.cipher.encrypt(&Nonce::from(nonce), plain).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(sealed);
        STANDARD.encode(out)
    }

    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, Unsealable> {
        let bytes = STANDARD.decode(sealed).map_err(|_| Unsealable)?;
        if bytes.len() < 12 {
            return Err(Unsealable);
        }
        let (nonce, body) = bytes.split_at(12);
        let nonce = <[u8; 12]>::try_from(nonce).map_err(|_| Unsealable)?;
        self.cipher.decrypt(&Nonce::from(nonce), body).map_err(|_| Unsealable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealing_round_trips_and_detects_tampering() {
        let key = STANDARD.encode([7u8; 32]);
        let Ok(sealer) = Sealer::from_base64(&key) else { unreachable!() };
        let sealed = sealer.seal(b"private key");
        assert_eq!(sealer.open(&sealed).ok().as_deref(), Some(&b"private key"[..]));
        let mut tampered = STANDARD.decode(&sealed).unwrap_or_default();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(sealer.open(&STANDARD.encode(tampered)).is_err());
        assert!(Sealer::from_base64("short").is_err());
    }
}
