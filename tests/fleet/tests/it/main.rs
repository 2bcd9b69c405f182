#![allow(clippy::unwrap_used, clippy::panic)]

mod boundaries;
mod deploy;
mod faults;
mod fuzz;
mod harness;
mod openapi;
mod story;
mod tracing;
