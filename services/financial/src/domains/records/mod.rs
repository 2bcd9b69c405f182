//! Expense and income records: `draft → submitted → approved | rejected →
//! paid`, a reviewer assigned at submission, nobody approving their own, every
//! transition recorded; approval and payment post to the ledger.

pub mod model;
pub mod repo;
pub mod routes;
pub mod service;
