pub mod deals;
pub mod ledger;
pub mod records;
pub mod reports;
pub mod settlements;
