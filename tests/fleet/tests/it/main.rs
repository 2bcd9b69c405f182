#![allow(clippy::unwrap_used, clippy::panic)]

mod boundaries;
mod deploy;
mod faults;
mod harness;
mod openapi;
mod story;
mod tracing;
