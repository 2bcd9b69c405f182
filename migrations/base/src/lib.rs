//! base's schema. Every tenant-scoped table carries `company_id`,
//! `created_by`, `updated_by` and timestamps. Runs on PostgreSQL and SQLite.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_directory;
mod m20261123_000002_places_and_events;
mod m20261123_000003_calendar_and_workspace;
mod m20261123_000004_ticketing;
mod m20261123_000005_offers_and_outbox;
mod m20261201_000006_media_and_crew;
mod m20261202_000007_versions;
mod m20261203_000008_orders;
mod m20261203_000009_checkin;
mod m20261203_000010_waitlist;
mod m20261203_000011_booking;
mod m20261203_000012_webhooks;
mod m20261204_000013_webhook_claims;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_directory::Migration),
            Box::new(m20261123_000002_places_and_events::Migration),
            Box::new(m20261123_000003_calendar_and_workspace::Migration),
            Box::new(m20261123_000004_ticketing::Migration),
            Box::new(m20261123_000005_offers_and_outbox::Migration),
            Box::new(m20261201_000006_media_and_crew::Migration),
            Box::new(m20261202_000007_versions::Migration),
            Box::new(m20261203_000008_orders::Migration),
            Box::new(m20261203_000009_checkin::Migration),
            Box::new(m20261203_000010_waitlist::Migration),
            Box::new(m20261203_000011_booking::Migration),
            Box::new(m20261203_000012_webhooks::Migration),
            Box::new(m20261204_000013_webhook_claims::Migration),
        ]
    }
}
