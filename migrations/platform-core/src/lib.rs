//! platform-core's schema and the catalog it starts with. Runs on PostgreSQL
//! and SQLite alike.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_schema;
mod m20261122_000002_catalog;
mod m20261202_000003_ended_sessions;
mod m20261203_000004_checkin_scan;
mod m20261203_000005_webhooks;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_schema::Migration),
            Box::new(m20261122_000002_catalog::Migration),
            Box::new(m20261202_000003_ended_sessions::Migration),
            Box::new(m20261203_000004_checkin_scan::Migration),
            Box::new(m20261203_000005_webhooks::Migration),
        ]
    }
}
