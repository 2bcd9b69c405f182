//! The double-entry ledger: accounts, immutable journal entries whose postings
//! balance per currency, reversals, balances (now and at a date), the trial
//! balance and account statements. Money is integer minor units of an
//! ISO-4217 currency, never floating point.

pub mod model;
pub mod repo;
pub mod routes;
pub mod service;
