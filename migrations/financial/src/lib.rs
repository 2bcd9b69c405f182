//! financial's schema. Runs on PostgreSQL and SQLite alike.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_ledger;
mod m20261123_000002_records;
mod m20261123_000003_settlements;
mod m20261201_000004_safeguards;
mod m20261203_000005_deals;
mod m20261203_000006_integration_events;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_ledger::Migration),
            Box::new(m20261123_000002_records::Migration),
            Box::new(m20261123_000003_settlements::Migration),
            Box::new(m20261201_000004_safeguards::Migration),
            Box::new(m20261203_000005_deals::Migration),
            Box::new(m20261203_000006_integration_events::Migration),
        ]
    }
}
