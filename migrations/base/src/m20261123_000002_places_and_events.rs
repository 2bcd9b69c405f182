//! Venues, vendors, events with their lineup, and per-company locks.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Venues {
    Table,
    Id,
    CompanyId,
    Name,
    Address,
    Timezone,
    Capacity,
    Spaces,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Vendors {
    Table,
    Id,
    CompanyId,
    Name,
    Category,
    Contacts,
    Services,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    CompanyId,
    Name,
    VenueId,
    StartsAt,
    EndsAt,
    Timezone,
    Status,
    Lineup,
    Description,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TenantLocks {
    Table,
    CompanyId,
    Version,
}

fn tenant_table(table: impl IntoIden, cols: [DynIden; 6]) -> TableCreateStatement {
    let [id, company, created_by, updated_by, created_at, updated_at] = cols;
    Table::create()
        .table(table)
        .col(ColumnDef::new(id).uuid().not_null().primary_key())
        .col(ColumnDef::new(company).uuid().not_null())
        .col(ColumnDef::new(created_by).uuid().not_null())
        .col(ColumnDef::new(updated_by).uuid().not_null())
        .col(ColumnDef::new(created_at).timestamp_with_time_zone().not_null())
        .col(ColumnDef::new(updated_at).timestamp_with_time_zone().not_null())
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut venues = tenant_table(
            Venues::Table,
            [
                Venues::Id.into_iden(),
                Venues::CompanyId.into_iden(),
                Venues::CreatedBy.into_iden(),
                Venues::UpdatedBy.into_iden(),
                Venues::CreatedAt.into_iden(),
                Venues::UpdatedAt.into_iden(),
            ],
        );
        venues
            .col(ColumnDef::new(Venues::Name).string_len(200).not_null())
            .col(ColumnDef::new(Venues::Address).text().not_null())
            .col(ColumnDef::new(Venues::Timezone).string_len(64).not_null())
            .col(ColumnDef::new(Venues::Capacity).integer().not_null())
            .col(ColumnDef::new(Venues::Spaces).text().not_null());
        manager.create_table(venues).await?;
        manager
            .create_index(
                Index::create()
                    .name("venues_company_name")
                    .table(Venues::Table)
                    .col(Venues::CompanyId)
                    .col(Venues::Name)
                    .to_owned(),
            )
            .await?;

        let mut vendors = tenant_table(
            Vendors::Table,
            [
                Vendors::Id.into_iden(),
                Vendors::CompanyId.into_iden(),
                Vendors::CreatedBy.into_iden(),
                Vendors::UpdatedBy.into_iden(),
                Vendors::CreatedAt.into_iden(),
                Vendors::UpdatedAt.into_iden(),
            ],
        );
        vendors
            .col(ColumnDef::new(Vendors::Name).string_len(200).not_null())
            .col(ColumnDef::new(Vendors::Category).string_len(50).not_null())
            .col(ColumnDef::new(Vendors::Contacts).text().not_null())
            .col(ColumnDef::new(Vendors::Services).text().not_null());
        manager.create_table(vendors).await?;
        manager
            .create_index(
                Index::create()
                    .name("vendors_company_name")
                    .table(Vendors::Table)
                    .col(Vendors::CompanyId)
                    .col(Vendors::Name)
                    .to_owned(),
            )
            .await?;

        let mut events = tenant_table(
            Events::Table,
            [
                Events::Id.into_iden(),
                Events::CompanyId.into_iden(),
                Events::CreatedBy.into_iden(),
                Events::UpdatedBy.into_iden(),
                Events::CreatedAt.into_iden(),
                Events::UpdatedAt.into_iden(),
            ],
        );
        events
            .col(ColumnDef::new(Events::Name).string_len(200).not_null())
            .col(ColumnDef::new(Events::VenueId).uuid().not_null())
            .col(ColumnDef::new(Events::StartsAt).timestamp_with_time_zone().not_null())
            .col(ColumnDef::new(Events::EndsAt).timestamp_with_time_zone().not_null())
            .col(ColumnDef::new(Events::Timezone).string_len(64).not_null())
            .col(ColumnDef::new(Events::Status).string_len(16).not_null())
            .col(ColumnDef::new(Events::Lineup).text().not_null())
            .col(ColumnDef::new(Events::Description).text().not_null());
        manager.create_table(events).await?;
        manager
            .create_index(
                Index::create()
                    .name("events_company_starts")
                    .table(Events::Table)
                    .col(Events::CompanyId)
                    .col(Events::StartsAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("events_venue_starts")
                    .table(Events::Table)
                    .col(Events::VenueId)
                    .col(Events::StartsAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TenantLocks::Table)
                    .col(ColumnDef::new(TenantLocks::CompanyId).uuid().not_null().primary_key())
                    .col(ColumnDef::new(TenantLocks::Version).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TenantLocks::Table.into_iden(),
            Events::Table.into_iden(),
            Vendors::Table.into_iden(),
            Venues::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
