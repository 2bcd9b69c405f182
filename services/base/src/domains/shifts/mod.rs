//! Shifts: each belongs to an event and needs a headcount with given skills;
//! an assignment is refused with its reason when the person is unavailable,
//! lacks a skill, or already works an overlapping shift.

pub mod model;
pub mod repo;
pub mod routes;
pub mod service;
