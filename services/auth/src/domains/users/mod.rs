//! Identity: accounts (a small core), profiles, email verification, password
//! change and reset, admin disable, and the platform-admin bootstrap.

pub mod model;
pub mod repo;
pub mod routes;
pub mod service;
