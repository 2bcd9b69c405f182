//! base over real sockets, with real auth and platform-core beside it, on a
//! fresh database each (SQLite, or PostgreSQL with TEST_DATABASE_URL) and
//! Redis when TEST_REDIS_URL is set.

#![allow(clippy::unwrap_used, clippy::panic)]

mod api_keys;
mod artists;
mod booking;
mod checkin;
mod crew;
mod events;
mod fleet;
mod guard;
mod media;
mod offers;
mod orders;
mod orders_property;
mod probes;
mod ticketing;
mod waitlist;
mod webhooks;
mod workspace;
