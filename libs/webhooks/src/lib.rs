//! Outgoing webhooks, as the Standard Webhooks specification describes them:
//! each message signed with HMAC-SHA256 over its id, timestamp and body; a
//! retry schedule that gives a receiver about three days; and delivery that
//! never reaches loopback, private, link-local or metadata addresses unless
//! configuration allows them. base keeps the endpoints and delivers; auth
//! and financial record their events in a feed base takes them from
//! ([`feed`]).

mod address;
pub mod feed;
mod schedule;
mod sender;
mod signing;

pub use address::{AddressPolicy, check_url};
pub use schedule::{RETRY_DELAYS, next_delay};
pub use sender::{Attempt, Delivery, Sender};
pub use signing::{SECRET_PREFIX, Secret, signature_header};

/// A message's body as receivers get it: its type, when it happened, and
/// what it is about.
pub fn message_body(
    event_type: &str,
    data: &impl serde::Serialize,
    at: chrono::DateTime<chrono::Utc>,
) -> serde_json::Result<String> {
    serde_json::to_string(&serde_json::json!({"type": event_type, "timestamp": at, "data": data}))
}
