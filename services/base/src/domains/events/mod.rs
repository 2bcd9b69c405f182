//! Events: a venue, dates and times, a lineup, and a status that moves
//! `draft → announced → on_sale → sold_out → completed` (or `canceled`).
//! A venue is never double-booked, and a company never passes its `maxEvents`.

pub mod model;
pub mod repo;
pub mod routes;
pub mod service;
