pub mod catalog;
pub mod operators;
pub mod plans;
pub mod subscriptions;
