//! Signed tickets and check-in. Each ticket is a compact JWS signed with its
//! company's Ed25519 ticket key, so a scanner without network can tell a
//! real ticket from a forged one with the keys of `GET
//! /v1/events/{id}/ticket-keys`. Check-in lists say which ticket types they
//! admit and whether a ticket may leave and come back; a scan is answered
//! once per nonce, and the scans a scanner made offline come in as a batch.

pub mod keys;
pub mod model;
pub mod repo;
pub mod routes;
pub mod service;
