//! auth's schema. Runs on PostgreSQL and SQLite alike.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_identity;
mod m20261122_000002_tenancy;
mod m20261202_000003_entitlements_revision;
mod m20261203_000004_api_keys;
mod m20261203_000005_integration_events;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_identity::Migration),
            Box::new(m20261122_000002_tenancy::Migration),
            Box::new(m20261202_000003_entitlements_revision::Migration),
            Box::new(m20261203_000004_api_keys::Migration),
            Box::new(m20261203_000005_integration_events::Migration),
        ]
    }
}
