#![allow(clippy::unwrap_used, clippy::panic)]

mod boundaries;
mod client;
mod deploy;
mod faults;
mod fuzz;
mod harness;
mod openapi;
mod rollout;
mod story;
mod tracing;
