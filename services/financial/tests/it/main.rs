//! financial over real sockets, with real auth and platform-core beside it.

#![allow(clippy::unwrap_used, clippy::panic)]

mod fleet;
mod ledger;
mod probes;
mod records;
mod settlements;
mod sheets;
