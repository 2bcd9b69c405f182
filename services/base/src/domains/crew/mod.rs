//! Crew: the staff and volunteers who work events. A profile may be linked
//! one-to-one to a member's account, and holds skills, certifications and
//! weekly availability (UTC). Shifts belong to an event and need a headcount
//! with given skills; an assignment is refused with its reason when the
//! person is unavailable, lacks a skill, or already works an overlapping shift.

pub mod model;
pub mod repo;
pub mod routes;
pub mod service;
