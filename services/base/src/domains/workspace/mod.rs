//! The workspace: boards of tasks (status, priority, due date, assignees who
//! must be members of the company, comments), optionally tied to an event.

pub mod model;
pub mod repo;
pub mod routes;
pub mod service;
