//! Orders: reservations that hold seats for a while (`RESERVATION_MINUTES`),
//! paid orders that issue one ticket per seat, cancellations and refunds,
//! with quotas shared by ticket types and vouchers whose uses are exact.

pub mod model;
pub mod quotas;
pub mod repo;
pub mod routes;
pub mod seats;
pub mod service;
pub mod vouchers;
