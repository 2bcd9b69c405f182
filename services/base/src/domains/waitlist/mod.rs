//! The waiting list of orders. An entry waits for seats of one ticket type;
//! when seats free up (a reservation runs out, an order is canceled or
//! refunded, a voucher's block ends) the first entry that fits is offered a
//! reservation held for `WAITLIST_OFFER_HOURS`, with a one-time link mailed.
//! An offer that runs out unused passes to the next entry. An entry is
//! offered once: after its offer is used, declined or runs out it never
//! waits again, whatever later happens to its order.

pub mod model;
pub mod repo;
pub mod routes;
pub mod service;
