//! Event settlements: gross ticket revenue (sales less refunds) against the
//! event's costs and the artist fee, the net split between parties exactly to
//! the minor unit, frozen and posted when finalized; payouts against it.

pub mod model;
pub mod repo;
pub mod routes;
pub mod service;
