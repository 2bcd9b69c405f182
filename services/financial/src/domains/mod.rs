pub mod ledger;
pub mod records;
