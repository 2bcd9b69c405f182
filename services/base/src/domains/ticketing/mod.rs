//! Ticketing: ticket types per event with capacity, sale window and order
//! limit; registrations that never oversell (each claim is one conditional
//! update of the type's sold count), replayable by idempotency key, with a
//! waitlist promoted in order when seats free up, and check-in once by code.

pub mod model;
pub mod repo;
pub mod routes;
pub mod service;
