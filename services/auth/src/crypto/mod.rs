//! The secrets auth handles: password hashes (argon2id on a few hashing
//! threads with a bounded queue, so load beyond what the cores can hash is
//! turned away at once instead of waiting ever longer), high-entropy tokens
//! (random, stored as SHA-256), and sealing of data at rest (AES-256-GCM with
//! a key from the environment).

mod passwords;

pub use marquee_kit::Sealer;
pub use marquee_kit::tokens::{random_token, token_hash};
pub use passwords::{HashCost, Passwords, Ticket, Verified};

impl From<marquee_kit::sealing::Unsealable> for CryptoError {
    fn from(_: marquee_kit::sealing::Unsealable) -> Self {
        Self::Unseal
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("sealed data cannot be opened")]
    Unseal,
    #[error("the hashing pool is gone")]
    Closed,
    #[error("every hashing slot is taken and the queue is full")]
    Busy,
}
