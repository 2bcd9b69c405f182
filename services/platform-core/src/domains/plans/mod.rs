//! Packages (plans) and add-ons. Both bundle modules, permissions and limits,
//! and both are versioned: a revision creates a new version and subscribers
//! keep the version they are on until they are moved.

pub mod model;
pub mod repo;
pub mod routes;
pub mod service;

pub use model::{Plan, PlanKind};
