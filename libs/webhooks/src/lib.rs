//! Outgoing webhooks, as the Standard Webhooks specification describes them:
//! each message signed with HMAC-SHA256 over its id, timestamp and body; a
//! retry schedule that gives a receiver about three days; and delivery that
//! never reaches loopback, private, link-local or metadata addresses unless
//! configuration allows them. Storage stays with each service.

mod address;
mod schedule;
mod sender;
mod signing;

pub use address::{AddressPolicy, check_url};
pub use schedule::{RETRY_DELAYS, next_delay};
pub use sender::{Attempt, Delivery, Sender};
pub use signing::{SECRET_PREFIX, Secret, signature_header};
