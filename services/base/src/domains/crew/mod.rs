//! Crew: the staff and volunteers who work events. A profile may be linked
//! one-to-one to a member's account, and holds skills, certifications and
//! weekly availability (UTC). Their shifts are the `shifts` domain.

pub mod model;
pub mod repo;
pub mod routes;
pub mod service;
