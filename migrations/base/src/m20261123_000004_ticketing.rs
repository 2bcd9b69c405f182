//! Ticket types and registrations.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TicketTypes {
    Table,
    Id,
    CompanyId,
    EventId,
    Name,
    PriceMinor,
    Currency,
    Capacity,
    Sold,
    PerOrderMax,
    SaleStartsAt,
    SaleEndsAt,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Registrations {
    Table,
    Id,
    CompanyId,
    EventId,
    TicketTypeId,
    AttendeeName,
    AttendeeEmail,
    Quantity,
    Status,
    IdempotencyKey,
    CheckInCode,
    CheckedInAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TicketTypes::Table)
                    .col(ColumnDef::new(TicketTypes::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(TicketTypes::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(TicketTypes::EventId).uuid().not_null())
                    .col(ColumnDef::new(TicketTypes::Name).string_len(200).not_null())
                    .col(ColumnDef::new(TicketTypes::PriceMinor).big_integer().not_null())
                    .col(ColumnDef::new(TicketTypes::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(TicketTypes::Capacity).integer().not_null())
                    .col(ColumnDef::new(TicketTypes::Sold).integer().not_null())
                    .col(ColumnDef::new(TicketTypes::PerOrderMax).integer().not_null())
                    .col(ColumnDef::new(TicketTypes::SaleStartsAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(TicketTypes::SaleEndsAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(TicketTypes::CreatedBy).uuid().not_null())
                    .col(ColumnDef::new(TicketTypes::UpdatedBy).uuid().not_null())
                    .col(ColumnDef::new(TicketTypes::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(TicketTypes::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ticket_types_event")
                    .table(TicketTypes::Table)
                    .col(TicketTypes::CompanyId)
                    .col(TicketTypes::EventId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Registrations::Table)
                    .col(ColumnDef::new(Registrations::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Registrations::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(Registrations::EventId).uuid().not_null())
                    .col(ColumnDef::new(Registrations::TicketTypeId).uuid().not_null())
                    .col(ColumnDef::new(Registrations::AttendeeName).string_len(200).not_null())
                    .col(ColumnDef::new(Registrations::AttendeeEmail).string_len(254).not_null())
                    .col(ColumnDef::new(Registrations::Quantity).integer().not_null())
                    .col(ColumnDef::new(Registrations::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Registrations::IdempotencyKey).string_len(200).null())
                    .col(ColumnDef::new(Registrations::CheckInCode).string_len(32).null())
                    .col(ColumnDef::new(Registrations::CheckedInAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Registrations::CreatedBy).uuid().not_null())
                    .col(ColumnDef::new(Registrations::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Registrations::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("registrations_company_idempotency")
                    .table(Registrations::Table)
                    .col(Registrations::CompanyId)
                    .col(Registrations::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("registrations_type_status")
                    .table(Registrations::Table)
                    .col(Registrations::TicketTypeId)
                    .col(Registrations::Status)
                    .col(Registrations::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Registrations::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(TicketTypes::Table).to_owned()).await?;
        Ok(())
    }
}
