//! Companies (tenants), memberships, roles, direct grants, invitations, and
//! the tenant audit log. Every change raises the company's access revision
//! and is announced to watchers once committed.

pub mod model;
pub mod repo;
pub mod routes;
pub mod service;
