//! Artists: who plays, their genres, contacts, representation and fee range.

pub mod model;
pub mod repo;
pub mod routes;
pub mod service;
