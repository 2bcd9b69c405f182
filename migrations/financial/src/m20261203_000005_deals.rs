//! Deals and ticket manifests, for settlement sheets: the deal of each
//! accepted offer as base sent it, the latest manifest of each event's ticket
//! types (for the gross potential), and the tickets each sale or refund counts.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Deals {
    Table,
    OfferId,
    CompanyId,
    EventId,
    ArtistId,
    Currency,
    Terms,
    AcceptedAt,
}

#[derive(DeriveIden)]
enum TicketManifests {
    Table,
    CompanyId,
    EventId,
    Revision,
    Lines,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Records {
    Table,
    Quantity,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Deals::Table)
                    .col(ColumnDef::new(Deals::OfferId).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Deals::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(Deals::EventId).uuid().not_null())
                    .col(ColumnDef::new(Deals::ArtistId).uuid().not_null())
                    .col(ColumnDef::new(Deals::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(Deals::Terms).text().not_null())
                    .col(ColumnDef::new(Deals::AcceptedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("deals_company_event")
                    .table(Deals::Table)
                    .col(Deals::CompanyId)
                    .col(Deals::EventId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TicketManifests::Table)
                    .col(ColumnDef::new(TicketManifests::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(TicketManifests::EventId).uuid().not_null())
                    .col(ColumnDef::new(TicketManifests::Revision).big_integer().not_null())
                    .col(ColumnDef::new(TicketManifests::Lines).text().not_null())
                    .col(ColumnDef::new(TicketManifests::UpdatedAt).timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col(TicketManifests::CompanyId).col(TicketManifests::EventId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Records::Table)
                    .add_column(ColumnDef::new(Records::Quantity).integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        // Ticket facts recorded before: their count is in their description
        // ("3 ticket(s) sold").
        let count = match manager.get_database_backend() {
            sea_orm_migration::sea_orm::DatabaseBackend::Postgres => "CAST(split_part(description, ' ', 1) AS INTEGER)",
            _ => "CAST(substr(description, 1, instr(description, ' ') - 1) AS INTEGER)",
        };
        let starts_with_a_count = match manager.get_database_backend() {
            sea_orm_migration::sea_orm::DatabaseBackend::Postgres => "description ~ '^[0-9]+ ticket'",
            _ => "description GLOB '[0-9]* ticket*'",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "UPDATE records SET quantity = {count} WHERE source_id IS NOT NULL \
                 AND category IN ('ticket_sale', 'ticket_refund') AND {starts_with_a_count}"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Records::Table).drop_column(Records::Quantity).to_owned()).await?;
        manager.drop_table(Table::drop().table(TicketManifests::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Deals::Table).to_owned()).await?;
        Ok(())
    }
}
