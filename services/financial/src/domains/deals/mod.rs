//! Deals and settlement sheets: how an artist is paid from what a show really
//! sold and spent. base sends each accepted offer's deal and each event's
//! ticket manifest as facts; the sheet is computed here, from financial's own
//! records, so financial stays the authority on money.

pub mod model;
pub mod repo;
pub mod service;
pub mod sheet;
