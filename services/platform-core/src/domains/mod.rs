pub mod catalog;
pub mod plans;
pub mod subscriptions;
